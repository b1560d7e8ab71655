/**
 * A small `worker_threads` pool that runs AES-256-CTR (docs/FORMAT.md §1) off the main thread, for Node callers that
 * decrypt or encrypt several parts at once: each worker (ctr-worker.ts) has its own engine instance (its own
 * WebAssembly core, or node:crypto), so parts are transformed on as many cores as there are workers while the
 * main thread keeps serving sockets.
 *
 * A job is "XOR the keystream of (key, iv) at byte `offset` into these bytes". A buffer the bytes cover exactly is
 * transferred to the worker and back (never copied); a view into a larger buffer is copied once, so that no other
 * view is detached. The content key travels by structured clone, as an exact 32-byte copy (cloning a view would
 * send its whole backing buffer), and the worker zeroes its copy when the job ends (best effort: JS gives no
 * guarantee that no other copy exists). Workers start lazily, are reused, and end with `close()`; an idle pool
 * does not keep the process alive.
 *
 * Deliberately not here: choosing when a pool pays (the caller decides; small objects stay single-threaded) and
 * validation beyond aes-ctr.ts's, which each worker applies. Node only: it imports `node:worker_threads`.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../util/worker-thread.js';

/**
 * Options of {@link createCtrPool}.
 * @example
 *   const options: CtrPoolOptions = { workers: 2, engine: 'wasm' };
 */
export interface CtrPoolOptions {
  /** Worker threads. Default: `availableParallelism() - 1`, at least 1, at most 4. */
  workers?: number;
  /** The engine each worker runs: the WebAssembly core (default, as in `aesCtr`) or node:crypto. */
  engine?: 'wasm' | 'native';
}

/**
 * AES-256-CTR on worker threads.
 * @example
 *   const pool = createCtrPool({ workers: 2 });
 *   const plain = await pool.xorAt(key, iv, part.offset, cipherBytes);
 *   await pool.close();
 */
export interface CtrPool {
  /** Number of worker threads the pool runs at most (started on first use). */
  readonly size: number;
  /**
   * XORs the keystream of (`key`, `iv`) starting at byte `offset` into `data` on a worker. When `data` covers its
   * whole ArrayBuffer, that buffer is transferred (detached here) and the result comes back in it; otherwise a
   * copy goes and `data` is left as it was. Either way, use the returned array.
   * @throws {TypeError} / {RangeError} as `aesCtr` for a bad key, IV or offset; {Error} after `close()`
   */
  xorAt(key: Uint8Array, iv: Uint8Array, offset: number, data: Uint8Array): Promise<Uint8Array>;
  /** Ends every worker; pending jobs reject. */
  close(): Promise<void>;
}

/**
 * Creates a pool of AES-256-CTR workers.
 * @param options worker count and engine
 * @returns the pool; no thread starts before the first job
 * @throws {RangeError} `"workers" expected an integer from 1 to 64, got 0`
 * @example
 *   const pool = createCtrPool();
 *   const parts = await Promise.all(cipherParts.map((p) => pool.xorAt(key, iv, p.offset, p.bytes)));
 *   await pool.close();
 */
export function createCtrPool(options: CtrPoolOptions = {}): CtrPool {
  const size = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  if (!Number.isSafeInteger(size) || size < 1 || size > 64) throw new RangeError(`"workers" expected an integer from 1 to 64, got ${size}`);
  const engine = options.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'native') throw new RangeError(`"engine" expected 'wasm' or 'native', got ${String(engine)}`);
  return new Pool(size, engine);
}

interface Job {
  readonly id: number;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly offset: number;
  readonly data: Uint8Array;
  resolve(data: Uint8Array): void;
  reject(err: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

interface Reply {
  id: number;
  buffer: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  error?: { name: string; message: string };
}

class Pool implements CtrPool {
  readonly size: number;
  readonly #engine: 'wasm' | 'native';
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(size: number, engine: 'wasm' | 'native') {
    this.size = size;
    this.#engine = engine;
  }

  xorAt(key: Uint8Array, iv: Uint8Array, offset: number, data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error('this CTR pool was closed'));
    if (!(data instanceof Uint8Array)) return Promise.reject(new TypeError(`"data" expected a Uint8Array, got ${typeof data}`));
    // Only a buffer the view covers exactly is transferred; a slice of a larger (or pooled) buffer goes as a copy.
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const own = whole ? data : new Uint8Array(data);
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, key, iv, offset, data: own, resolve, reject });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closed = () => new Error('this CTR pool was closed');
    for (const job of this.#queue.splice(0)) job.reject(closed());
    await Promise.all(
      this.#slots.splice(0).map((slot) => {
        slot.job?.reject(closed());
        return slot.worker.terminate();
      }),
    );
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (slot === undefined && this.#slots.length < this.size) slot = this.#start();
      if (slot === undefined) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const key = new Uint8Array(job.key);
      const iv = new Uint8Array(job.iv);
      const { buffer, byteOffset, byteLength } = job.data;
      try {
        slot.worker.postMessage({ id: job.id, key, iv, offset: job.offset, buffer, byteOffset, byteLength }, [buffer as ArrayBuffer]);
      } catch (err) {
        slot.job = undefined;
        slot.worker.unref();
        job.reject(err);
      } finally {
        // The message holds its own clone now.
        key.fill(0);
        iv.fill(0);
      }
    }
  }

  #start(): Slot {
    const worker = startWorkerBeside(import.meta.url, 'ctr-worker', { engine: this.#engine });
    const slot: Slot = { worker, job: undefined };
    worker.unref();
    worker.on('message', (m: Reply) => {
      const job = slot.job;
      if (job === undefined || job.id !== m.id) return;
      slot.job = undefined;
      worker.unref();
      if (m.error !== undefined) {
        const Ctor = m.error.name === 'RangeError' ? RangeError : m.error.name === 'TypeError' ? TypeError : Error;
        job.reject(new Ctor(m.error.message));
      } else {
        job.resolve(new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
      }
      this.#pump();
    });
    worker.on('error', (err) => {
      slot.job?.reject(err);
      slot.job = undefined;
      const i = this.#slots.indexOf(slot);
      if (i !== -1) this.#slots.splice(i, 1);
      this.#pump();
    });
    this.#slots.push(slot);
    return slot;
  }
}
