/**
 * The harness of the bulk-command tests (test/rotate.cli.test.ts, test/rewrap.cli.test.ts): runs `oss-crypto` from
 * source as a child process against the OSS stand-in (credentials and endpoint in its environment only), seeds
 * plaintext objects straight into the stand-in, counts successful writes per key at the stand-in, and reads a
 * `--report` file.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ReportEntry } from '../../bindings/jobs/report.js';
import { pseudoRandomBytes } from '../_util.js';
import { TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './oss-server.js';

const MAIN = fileURLToPath(new URL('../../bindings/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a child process ended, and what it printed. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The helpers bound to a suite's stand-in (read at call time, so `env.oss` may be filled by a `before` hook).
 * @example
 *   const { cli, seed, writesByKey } = bulkCli(env, 'bulk-bucket');
 */
export function bulkCli(env: { oss: OssServer }, bucket: string) {
  function start(argv: string[]): { child: ChildProcess; done: Promise<Run> } {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        OSS_ENDPOINT: env.oss.endpoint,
        OSS_REGION: env.oss.region,
        OSS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
        OSS_ACCESS_KEY_SECRET: TEST_ACCESS_KEY_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c));
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, done };
  }

  /** Puts `count` plaintext objects under `prefix` directly into the stand-in; returns their bodies by key. */
  function seed(prefix: string, count: number, size: (i: number) => number): Map<string, Buffer> {
    const bodies = new Map<string, Buffer>();
    for (let i = 0; i < count; i++) {
      const key = `${prefix}${String(i).padStart(4, '0')}.bin`;
      const body = Buffer.from(pseudoRandomBytes(size(i), i + 11));
      env.oss.putObjectRaw(bucket, key, body, { 'Content-Type': 'application/x-test', 'x-oss-meta-n': String(i) });
      bodies.set(key, body);
    }
    return bodies;
  }

  /** Successful writes (PutObject or CompleteMultipartUpload answered 200) per key, counted at the stand-in. */
  function writesByKey(prefix: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const e of env.oss.log) {
      if (e.key?.startsWith(prefix) && (e.kind === 'put' || e.kind === 'complete') && e.status === 200) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    }
    return counts;
  }

  async function readReport(path: string): Promise<ReportEntry[]> {
    const text = await readFile(path, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ReportEntry);
  }

  return { start, cli: (argv: string[]) => start(argv).done, seed, writesByKey, readReport };
}
