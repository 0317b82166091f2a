import { readdir, readFile } from 'node:fs/promises';
import { parseOpenFileLimits } from '../../src/fd-budget';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in ms, at 10 ms resolution. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The machine's CPU time so far, in USER_HZ ticks summed over cores: all of it, and the idle part. */
export async function machineTicks(): Promise<{ total: number; idle: number }> {
  const [line] = (await readFile('/proc/stat', 'utf8')).split('\n');
  const ticks = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle part.
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
  return { total, idle: (ticks[3] ?? 0) + (ticks[4] ?? 0) };
}

/** Descriptors a process holds now. */
export async function openDescriptors(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** A process's hard limit on open descriptors (RLIMIT_NOFILE), from /proc. */
export async function descriptorLimit(pid: number): Promise<number> {
  const limits = parseOpenFileLimits(await readFile(`/proc/${pid}/limits`, 'utf8'));
  if (!limits) throw new Error(`no open-files limit in /proc/${pid}/limits`);
  return limits.hard;
}

/** The `p`-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
