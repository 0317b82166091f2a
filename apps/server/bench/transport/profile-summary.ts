/**
 * Summarises a V8 .cpuprofile: self time by category (garbage collector,
 * native socket writes, @trpc/server, superjson, ws, node internals, app
 * code, ...; idle excluded) and the top functions by self time. Bundled code
 * is mapped back to its sources when the bundle's .map sits beside it.
 *
 *   tsx bench/transport/profile-summary.ts <file.cpuprofile> [--from <µs>] [--to <µs>]
 *
 * --from/--to keep only samples in that window of the profile's clock
 * (CLOCK_MONOTONIC µs, i.e. `process.hrtime.bigint() / 1000n`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { count } from '../report';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  /** µs, the profile's clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export interface Window {
  from?: number;
  to?: number;
}

interface Row {
  name: string;
  ms: number;
  /** Of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  sampledMs: number;
  idleMs: number;
  samples: number;
  categories: Row[];
  top: Array<Row & { category: string; location: string }>;
}

const IDLE = '(idle)';
const NATIVE_WRITE = /^(writev|writeBuffer|write(Utf8|Latin1|Ascii|Ucs2)String)$/;
/** Packages named for themselves; superjson's own dependencies count as superjson. */
const PACKAGE_CATEGORY: Record<string, string> = {
  '@trpc/server': '@trpc/server',
  superjson: 'superjson',
  'copy-anything': 'superjson',
  'is-what': 'superjson',
  ws: 'ws',
  zod: 'zod',
  '@electric-sql/pglite': 'pglite',
  jose: 'jose',
};

/** The package a node_modules URL belongs to, and the path inside it. */
function packageOf(url: string): { name: string; path: string } | null {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return null;
  const parts = url.slice(at + '/node_modules/'.length).split('/');
  const scoped = parts[0]?.startsWith('@');
  const name = scoped ? `${parts[0]}/${parts[1]}` : (parts[0] ?? '');
  return { name, path: parts.slice(scoped ? 2 : 1).join('/') };
}

function categorise(frame: CallFrame): string {
  const { functionName: name, url } = frame;
  if (name === IDLE) return IDLE;
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)' || name === '(root)') return '(program): V8/native';
  if (url === '') return NATIVE_WRITE.test(name) ? 'native socket write' : 'V8 builtins / native';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = packageOf(url);
  if (pkg) return PACKAGE_CATEGORY[pkg.name] ?? 'other dependencies';
  return url.startsWith('file:') ? 'app code (Tether)' : 'other';
}

/** Source maps of bundles, by URL; null when there is none. */
const sourceMaps = new Map<string, SourceMap | null>();

function sourceMapOf(url: string): SourceMap | null {
  let map = sourceMaps.get(url);
  if (map === undefined) {
    map = null;
    if (url.startsWith('file:')) {
      const path = `${fileURLToPath(url)}.map`;
      if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
    }
    sourceMaps.set(url, map);
  }
  return map;
}

function locate(frame: CallFrame): string {
  const { url, lineNumber, columnNumber } = frame;
  if (url === '') return '(native)';
  const pkg = packageOf(url);
  if (pkg) return `${pkg.name}/${pkg.path}:${lineNumber + 1}`;
  const entry = sourceMapOf(url)?.findEntry(lineNumber, columnNumber);
  if (entry && 'originalSource' in entry) {
    const source = entry.originalSource.replace(/^(\.\.\/)+/, '').replace(/^file:\/\/\/?/, '');
    return `${source}:${entry.originalLine + 1}`;
  }
  return `${url.replace(/^file:\/\/.*\/(?=[^/]+\/[^/]+$)/, '')}:${lineNumber + 1}`;
}

/** Self time per category and per function, over the samples inside `window`. */
export function summariseProfile(profile: CpuProfile, window: Window = {}, topCount = 15): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  let at = profile.startTime;
  let samples = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at >= to) continue;
    // A sample stands for the time until the next one.
    const duration = profile.timeDeltas[i + 1] ?? profile.endTime - at;
    const id = profile.samples[i] ?? -1;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + duration);
    samples += 1;
  }

  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { frame: CallFrame; category: string; micros: number }>();
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const category = categorise(frame);
    byCategory.set(category, (byCategory.get(category) ?? 0) + micros);
    if (category === IDLE) continue;
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
    const entry = byFunction.get(key) ?? { frame, category, micros: 0 };
    entry.micros += micros;
    byFunction.set(key, entry);
  }
  const idleMicros = byCategory.get(IDLE) ?? 0;
  byCategory.delete(IDLE);
  const busyMicros = [...byCategory.values()].reduce((sum, micros) => sum + micros, 0);
  const row = (name: string, micros: number): Row => ({ name, ms: micros / 1000, share: micros / busyMicros });
  return {
    sampledMs: busyMicros / 1000,
    idleMs: idleMicros / 1000,
    samples,
    categories: [...byCategory].sort((a, b) => b[1] - a[1]).map(([name, micros]) => row(name, micros)),
    top: [...byFunction.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, topCount)
      .map(({ frame, category, micros }) => ({
        ...row(frame.functionName || '(anonymous)', micros),
        category,
        location: locate(frame),
      })),
  };
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** The summary as aligned text lines. */
export function formatSummary(summary: ProfileSummary): string[] {
  const lines = [
    `self time ${count(summary.sampledMs)} ms in ${count(summary.samples)} samples (idle ${count(summary.idleMs)} ms excluded)`,
    `${'category'.padEnd(22)} ${'self ms'.padStart(8)} ${'share'.padStart(6)}`,
    ...summary.categories.map((c) => `${c.name.padEnd(22)} ${count(c.ms).padStart(8)} ${percent(c.share).padStart(6)}`),
    `top ${summary.top.length} functions by self time:`,
    `${'#'.padStart(2)} ${'self ms'.padStart(8)} ${'share'.padStart(6)}  ${'category'.padEnd(22)} function @ location`,
    ...summary.top.map(
      (f, i) =>
        `${String(i + 1).padStart(2)} ${count(f.ms).padStart(8)} ${percent(f.share).padStart(6)}  ${f.category.padEnd(22)} ${f.name} @ ${f.location}`,
    ),
  ];
  return lines;
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

function cli(args: string[]): void {
  const [path, ...rest] = args;
  if (!path) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--from <µs>] [--to <µs>]');
  const window: Window = {};
  for (let i = 0; i < rest.length; i += 2) {
    const value = Number(rest[i + 1]);
    if (rest[i] === '--from') window.from = value;
    else if (rest[i] === '--to') window.to = value;
    else throw new Error(`unknown option ${rest[i]}`);
  }
  for (const line of formatSummary(summariseProfile(readProfile(path), window))) console.log(line);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) cli(process.argv.slice(2));
