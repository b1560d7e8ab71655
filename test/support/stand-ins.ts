/**
 * A per-suite harness for tests that run against the loopback stand-ins: starts the OSS stand-in (and the KMS
 * stand-in when asked) and a scratch directory before the suite, clears injected faults after each test, and
 * closes everything after the suite. The given `env` object is filled in by the suite's `before` hook, so tests read
 * its fields, never destructure it at module load; several suites of one file can share one `env`.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { suite } from 'uvu';
import { startKmsServer, type KmsServer } from './kms-server.js';
import { startOssServer, type OssServer } from './oss-server.js';

/** What a suite gets: the running stand-ins and a scratch directory (valid inside its tests). */
export interface StandIns {
  oss: OssServer;
  /** Only when `{ kms: true }` was asked for. */
  kms: KmsServer;
  dir: string;
}

/** Wires the stand-ins into `s`'s hooks, filling `env`; call it once per suite, right after `suite()`. */
export function useStandIns<E extends Partial<StandIns>>(s: ReturnType<typeof suite>, env: E, options: { kms?: boolean; tmpPrefix: string }): E {
  s.before(async () => {
    env.oss = await startOssServer();
    if (options.kms) env.kms = await startKmsServer();
    env.dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  });
  s.after(async () => {
    await env.oss?.close();
    if (options.kms) await env.kms?.close();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  s.after.each(() => env.oss?.clearFaults());
  return env;
}
