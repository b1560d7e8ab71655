/**
 * When a parallel download decrypts its parts on worker threads (cipher/worker-pool.ts), and how many: the
 * policy, kept apart from the download loop so that it can change (or be measured) without touching it.
 *
 * Workers are opt-in (`workers: n`; with it the native engine, too, runs on workers): on the 2-core machine where
 * bench:download ran (the OSS stand-in sharing those cores), one worker made a parallel-4 WASM download slower
 * than the main thread alone (114 vs 134 MB/s, 8.7 vs 6.4 CPU ms/MB, same run), because moving each batch to a
 * worker and back costs more than the core it frees when there is no idle core. A default (workers only for the
 * WebAssembly engine, `parallel` > 1, tens of MiB to fetch, and a spare core) waits for a measurement on machines
 * with cores to spare.
 * Deliberately not here: the pool itself and the streaming of parts (download/part-stream.ts).
 * @module
 */
import type { CtrBackend } from '../cipher/backend.js';
import { createCtrPool, type CtrPool } from '../cipher/worker-pool.js';

/**
 * The pool a download should decrypt with, or `undefined` for the main thread.
 * @param backend the client's engine (`undefined`: the default WebAssembly core)
 * @param requested the caller's `workers` option (absent or 0: none)
 * @returns a new pool (the caller closes it), or `undefined`
 * @example
 *   const pool = openPartWorkers(ctx.backend, options.workers);
 *   try { ... } finally { await pool?.close(); }
 */
export function openPartWorkers(backend: CtrBackend | undefined, requested?: number): CtrPool | undefined {
  const engine = backend === undefined || backend.name === 'wasm' ? 'wasm' : backend.name === 'native' ? 'native' : undefined;
  // A custom engine (or the debug core) cannot be rebuilt inside a worker from its name.
  if (engine === undefined || requested === undefined || requested === 0) return undefined;
  return createCtrPool({ workers: requested, engine });
}
