import { parseCommand } from '../args';
import { UsageError } from '../errors';
import type { Command } from './command';

const COMMANDS = 'login logout whoami rooms send history tail call import status tokens completion';
const ROOM_ACTIONS = 'ls create join leave invite members';

const BASH = `# tether completion for bash: eval "$(tether completion bash)"
_tether() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  case $COMP_CWORD in
    1) COMPREPLY=($(compgen -W "${COMMANDS} --help --version --url --json" -- "$cur")) ;;
    2) case \${COMP_WORDS[1]} in
         rooms) COMPREPLY=($(compgen -W "${ROOM_ACTIONS}" -- "$cur")) ;;
         completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
         import) COMPREPLY=($(compgen -f -- "$cur")) ;;
       esac ;;
  esac
}
complete -F _tether tether
`;

const ZSH = `#compdef tether
# tether completion for zsh: eval "$(tether completion zsh)"
_tether() {
  if (( CURRENT == 2 )); then
    compadd ${COMMANDS}
  elif (( CURRENT == 3 )); then
    case $words[2] in
      rooms) compadd ${ROOM_ACTIONS} ;;
      completion) compadd bash zsh ;;
      import) _files ;;
    esac
  fi
}
compdef _tether tether
`;

export const completion: Command = async (ctx, args) => {
  const parsed = parseCommand(
    args,
    {
      usage: 'Usage: tether completion bash|zsh\n  Prints a completion script: eval "$(tether completion bash)"',
      positionals: { min: 1, max: 1 },
    },
    ctx.output.line,
  );
  if (!parsed) return;
  const shell = parsed.positionals[0];
  if (shell !== 'bash' && shell !== 'zsh') throw new UsageError('completion is available for bash and zsh');
  ctx.io.stdout.write(shell === 'bash' ? BASH : ZSH);
};
