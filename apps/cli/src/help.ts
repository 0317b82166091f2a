/** `tether --help`: every command, the global options and the exit codes. */
export const HELP = `tether: chat with a Tether server from a terminal or a script

Usage: tether <command> [arguments] [options]

Commands:
  login [USERNAME] [--new]            sign in; the password is prompted, or read from stdin
                                      (--new creates the account)
  logout                              end this server's session here
  whoami                              the signed-in user
  rooms ls                            rooms you can see
  rooms create NAME [--private]       create a room
  rooms join|leave ROOM               join or leave a room
  rooms invite ROOM USER              add someone to a room
  rooms members ROOM                  who is in a room
  send ROOM [TEXT]                    send TEXT, or standard input when TEXT is absent
  history ROOM [--limit N] [--before SEQ]
                                      messages, oldest first
  tail ROOM [--since SEQ]             follow a room live; survives server restarts; Ctrl-C ends
  call [PROCEDURE] [--input JSON | --FIELD VALUE ...]
                                      any procedure of the contract; \`call PROCEDURE --help\` lists its fields
  import FILE.ndjson ROOM             send one message per line; re-running skips what was sent
  status                              server health, version, latency and protocol support
  tokens create --name NAME --scope SCOPE... [--room ROOM...]
                                      create a service token (admins); also: tokens ls, tokens revoke ID
  completion bash|zsh                 print a shell completion script

Options:
  --url URL     the server (default: $TETHER_URL, then http://127.0.0.1:3000)
  --json        JSON for scripts (one value per line; streams are NDJSON)
  -h, --help    help for tether, or for a command
  --version     the CLI's version and protocol version

Environment: TETHER_URL (the server), TETHER_TOKEN (act with this token, e.g. a service token,
instead of the saved session), NO_COLOR.
Output has colours on a terminal, none when piped or when NO_COLOR is set.

Exit codes:
  0  success
  1  server error
  2  usage (wrong arguments or input)
  3  not authenticated, or forbidden
  4  cannot connect to the server
`;
