/** Every bench line starts with `[bench]`, so it stands out among turbo's and the server's output. */
export function say(line: string): void {
  console.log(`[bench] ${line}`);
}

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function mib(bytes: number): string {
  return `${count(bytes / (1024 * 1024))} MiB`;
}

export function ratio(value: number, baseline: number): string {
  return `ratio ${(value / baseline).toFixed(2)}`;
}

/** Runs a bench entry point: a failure is printed and sets the exit code; `cleanup` always runs. */
export async function runBench(main: () => Promise<void>, cleanup: () => Promise<unknown>): Promise<void> {
  try {
    await main();
  } catch (error) {
    console.error(`[bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
