/**
 * Shared benchmark helpers: cross-validation before timing (noble's `crossValidate` habit), timing through
 * tinybench, MB/s, a plain-text table, the machine description and `--flag value` parsing.
 *
 * Nothing here prints key material: contenders get their keys from the bench file, and only names, sizes and
 * rates are reported.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

/** One implementation under test. */
export interface Contender {
  /** Short column name (`wasm`, `native`, `node`, `noble`, `forge`). */
  readonly name: string;
  /** Encrypts `input` and returns the ciphertext as bytes; used for cross-validation. */
  encrypt(input: Uint8Array): Uint8Array;
  /**
   * The work to time for `input`, when it differs from `encrypt` (for example, when a library's native input
   * form must be prepared once, outside the timed region). Default: `() => encrypt(input)`.
   */
  prepare?(input: Uint8Array): () => unknown;
}

/** How long and how often to run one contender at one size. */
export interface Budget {
  /** Minimum timed iterations. */
  iterations: number;
  /** Time budget in ms (the run continues until both this and `iterations` are met). */
  time: number;
  /** Warm-up iterations (0 = no warm-up). */
  warmupIterations: number;
}

/**
 * Runs every contender once on `input` and throws unless all outputs equal the first contender's.
 * @throws {Error} naming the contenders that disagree and the first differing byte
 * @example
 *   crossValidate([{ name: 'a', encrypt: f }, { name: 'b', encrypt: g }], input);
 */
export function crossValidate(contenders: readonly Contender[], input: Uint8Array): void {
  const [reference, ...others] = contenders;
  const expected = reference.encrypt(input);
  for (const other of others) {
    const actual = other.encrypt(input);
    const at = firstDifference(expected, actual);
    if (at !== -1) {
      throw new Error(
        `cross-validation failed on ${input.length} bytes: ${other.name} differs from ${reference.name} ` +
          `at byte ${at} (lengths ${actual.length} and ${expected.length})`,
      );
    }
  }
}

/** Which clock times the calls: elapsed time, or the CPU time this process used. */
export type Clock = 'wall' | 'cpu';

/**
 * Milliseconds of process CPU time (all threads: JS, GC helpers, compilers). On a machine shared with other
 * work it is steadier than elapsed time; it counts GC threads too, which slightly penalises allocating code.
 */
export function cpuNow(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Mean milliseconds per call of `fn` under `budget`, measured by tinybench with `clock`.
 * @example
 *   const ms = await timeOne('wasm 1 MiB', () => aesCtrXor(key, iv, data), { iterations: 8, time: 400, warmupIterations: 2 });
 *   console.log(megabytesPerSecond(data.length, ms));
 */
export async function timeOne(name: string, fn: () => unknown, budget: Budget, clock: Clock = 'wall'): Promise<number> {
  const bench = new Bench({
    ...(clock === 'cpu' ? { now: cpuNow } : {}),
    iterations: budget.iterations,
    time: budget.time,
    warmup: budget.warmupIterations > 0,
    warmupIterations: budget.warmupIterations,
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} ended in state ${result.state}`);
  return result.period;
}

/** Decimal megabytes (10^6 bytes) per second. @example megabytesPerSecond(1e6, 10) // 100 */
export function megabytesPerSecond(bytes: number, msPerCall: number): number {
  return bytes / 1e6 / (msPerCall / 1000);
}

/** Human size: 16384 -> "16 KiB", 1048576 -> "1 MiB". */
export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/**
 * A left-aligned first column and right-aligned others, padded to the widest cell.
 * @example
 *   console.log(formatTable(['engine', 'MB/s'], [['wasm', '390.1'], ['noble', '75.3']]));
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: readonly string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Node version and CPU model, for the record. @example machine() // { node: 'v20.20.2', cpu: 'Intel(R) ...' } */
export function machine(): { node: string; cpu: string } {
  return { node: process.version, cpu: cpus()[0]?.model.trim() ?? 'unknown' };
}

/** The value after `--flag` (or in `--flag=value`) in argv, if any. @example flagValue(['--json', 'a.json'], '--json') // 'a.json' */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  return undefined;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** The credential pair the benches sign with; the stand-in child is told to accept it. */
export const BENCH_CREDENTIALS = { accessKeyId: 'bench-id', accessKeySecret: 'bench-secret' };

/**
 * The OSS stand-in (test/support/oss-server.ts) as a child process on a free loopback port, so its CPU is not
 * charged to the client being measured. `keepBodies: false` stores sizes and CRCs only (uploads of 1 GiB).
 * @example
 *   const server = await startStandInChild({ keepBodies: true });
 *   try { ... } finally { server.process.kill('SIGTERM'); }
 */
export async function startStandInChild(options: { keepBodies: boolean }): Promise<{ process: ChildProcess; endpoint: string; region: string }> {
  const script = fileURLToPath(new URL('../test/support/oss-server.ts', import.meta.url));
  const args = ['--import', 'tsx', script, '--port', '0', ...(options.keepBodies ? [] : ['--no-store-bodies'])];
  args.push('--credential', `${BENCH_CREDENTIALS.accessKeyId}:${BENCH_CREDENTIALS.accessKeySecret}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}) before it was ready`)));
  });
  const info = JSON.parse(line) as { endpoint: string; region: string };
  return { process: child, endpoint: info.endpoint, region: info.region };
}

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * Runs `run` after a forced GC (when the process runs with `--expose-gc`), sampling this process's RSS every 10 ms.
 * @returns the RSS just before `run` and its peak while `run` was in progress, in bytes
 * @example
 *   const { baseline, peak } = await sampleRss(() => client.get('a.bin', '/tmp/a.bin'));
 */
export async function sampleRss(run: () => Promise<unknown>): Promise<{ baseline: number; peak: number }> {
  collectGarbage?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return { baseline, peak: Math.max(peak, process.memoryUsage().rss) };
}

/**
 * Writes a file of `size` random bytes at `path`, 4 MiB at a time (never held in memory whole).
 * @returns `path`
 * @example
 *   const source = makeRandomFile(join(dir, 'source.bin'), 256 << 20);
 */
export function makeRandomFile(path: string, size: number): string {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(4 << 20);
  try {
    for (let written = 0; written < size; written += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - written));
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
