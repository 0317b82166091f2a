import type { CommandIo } from './context';

/** All of standard input, as text. */
export async function readAll(stdin: CommandIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** A secret typed at a terminal, not echoed; or the first line of piped input, for scripts. */
export async function readSecret(io: CommandIo, prompt: string): Promise<string> {
  const { stdin } = io;
  if (!stdin.isTTY || !stdin.setRawMode) return (await readAll(stdin)).split(/\r?\n/)[0] ?? '';
  io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let secret = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          return resolve(secret);
        }
        if (char === '\u0003') {
          finish();
          return reject(new Error('cancelled'));
        }
        secret = char === '\u007f' ? secret.slice(0, -1) : secret + char;
      }
    };
    const finish = () => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
