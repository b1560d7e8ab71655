/**
 * When a parallel download decrypts its parts on worker threads (cipher/worker-pool.ts), and how many: the
 * policy, kept apart from the download loop so that it can change (or be measured) without touching it.
 *
 * By default a pool is used only where it pays: the WebAssembly engine (node:crypto's AES-NI is already cheaper
 * than moving the bytes to a worker), more than one part in flight, at least {@link PART_WORKERS_MIN_BYTES} to
 * fetch (a worker costs tens of milliseconds to start), and a spare core. The caller can force a count
 * (`workers: n`, which also lets the native engine run on workers) or turn workers off (`workers: 0`).
 * Deliberately not here: the pool itself and the streaming of parts (download/part-stream.ts).
 * @module
 */
import { availableParallelism } from 'node:os';
import type { CtrBackend } from '../cipher/backend.js';
import { createCtrPool, type CtrPool } from '../cipher/worker-pool.js';

/** Bytes still to fetch below which a download decrypts on the main thread unless `workers` says otherwise. */
export const PART_WORKERS_MIN_BYTES = 32 << 20;

/** Most workers chosen by default: beyond this the main thread's sockets, not the cipher, limit a download. */
export const PART_WORKERS_DEFAULT_MAX = 4;

/**
 * The pool a download should decrypt with, or `undefined` for the main thread.
 * @param backend the client's engine (`undefined`: the default WebAssembly core)
 * @param parallel parts in flight
 * @param bytesToFetch bytes of the parts still missing
 * @param requested the caller's `workers` option, when given (0 = none)
 * @returns a new pool (the caller closes it), or `undefined`
 * @example
 *   const pool = openPartWorkers(ctx.backend, 4, 256 << 20, options.workers);
 *   try { ... } finally { await pool?.close(); }
 */
export function openPartWorkers(backend: CtrBackend | undefined, parallel: number, bytesToFetch: number, requested?: number): CtrPool | undefined {
  const engine = backend === undefined || backend.name === 'wasm' ? 'wasm' : backend.name === 'native' ? 'native' : undefined;
  // A custom engine (or the debug core) cannot be rebuilt inside a worker from its name.
  if (engine === undefined || requested === 0) return undefined;
  if (requested !== undefined) return createCtrPool({ workers: requested, engine });
  if (engine !== 'wasm' || parallel < 2 || bytesToFetch < PART_WORKERS_MIN_BYTES) return undefined;
  const spare = availableParallelism() - 1;
  if (spare < 1) return undefined;
  return createCtrPool({ workers: Math.min(spare, parallel, PART_WORKERS_DEFAULT_MAX), engine });
}
