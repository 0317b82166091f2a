export interface OutputOptions {
  json: boolean;
  color: boolean;
}

type Paint = (text: string) => string;
const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/** Tables and colours for people, JSON for scripts. */
export function createOutput(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, options: OutputOptions) {
  const paint = (style: Paint): Paint => (options.color ? style : (text) => text);
  const style = {
    dim: paint(ansi(2, 22)),
    bold: paint(ansi(1, 22)),
    red: paint(ansi(31, 39)),
    green: paint(ansi(32, 39)),
  };
  return {
    json: options.json,
    style,
    /** A line for people (ignored in --json mode, where only data goes to stdout). */
    line(text = ''): void {
      if (!options.json) stdout.write(`${text}\n`);
    },
    /** One JSON value per line: a document, or one item of a stream (NDJSON). */
    data(value: unknown): void {
      stdout.write(`${JSON.stringify(value)}\n`);
    },
    /** Status and progress: stderr, so stdout stays clean for pipes. */
    note(text: string): void {
      stderr.write(`${text}\n`);
    },
    table(rows: string[][], header: string[]): void {
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const format = (cells: string[]) =>
        cells
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd();
      stdout.write(`${style.bold(format(header))}\n`);
      for (const row of rows) stdout.write(`${format(row)}\n`);
    },
  };
}

export type Output = ReturnType<typeof createOutput>;
