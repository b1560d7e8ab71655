/**
 * {@link nodeRsaWorkerEngine}: node:crypto's RSA private-key operations (rsa-native.ts's, same bytes) on a small
 * pool of worker threads (rsa-worker.ts), for Node services and bulk jobs that unwrap many content keys at once.
 *
 * Why: one RSA-2048 unwrap is two private operations (the key and the IV are wrapped apart, docs/FORMAT.md §2.1),
 * about 0.7 ms of CPU with OpenSSL. For small objects that is most of the client's work (a rewrap of a 4 KiB object
 * spent 56% of its CPU in `privateDecrypt`), and with `nodeRsaEngine` it runs on the event loop, one core. Here the
 * main thread only posts the ciphertext and receives the raw result (then unpads it as for every engine, pkcs1.ts),
 * so unwraps spread over the workers while the main thread keeps serving sockets.
 *
 * The private key travels to each worker once, when the wrapper imports it, as a PKCS#8 DER copy by structured
 * clone (memory only, never disk; each copy is zeroed once imported, best effort as ever in JS). The key is first
 * imported on the calling thread too, so a bad key throws there, at once. Public-key operations (wrapping) stay
 * on the calling thread: they are cheap. Idle workers do not keep the process alive; `close()` ends them.
 *
 * Deliberately not here: unpadding and its constant-time discipline (pkcs1.ts, rsa.ts), node:crypto's calls
 * themselves (rsa-worker.ts). Node only: it imports `node:worker_threads`.
 * @module
 */
import { createPrivateKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { RsaEngine, RsaPrivateKeyOps, RsaPublicKeyOps } from './rsa-engine.js';
import { nodeRsaEngine } from './rsa-native.js';
import { startWorkerBeside } from '../util/worker-thread.js';

/**
 * Options of {@link nodeRsaWorkerEngine}.
 * @example
 *   const options: RsaWorkerEngineOptions = { workers: 3 };
 */
export interface RsaWorkerEngineOptions {
  /** Worker threads. Default: `availableParallelism() - 1`, at least 1, at most 8. */
  workers?: number;
}

/**
 * An {@link RsaEngine} whose private-key operations run on worker threads; `close()` ends the threads.
 * @example
 *   const engine: RsaWorkerEngine = nodeRsaWorkerEngine();
 *   await engine.close();
 */
export interface RsaWorkerEngine extends RsaEngine {
  /** Worker threads the engine runs. */
  readonly workers: number;
  /** Ends the threads; operations still pending reject, and later ones fail as unwrap failures. */
  close(): Promise<void>;
}

/**
 * node:crypto RSA with the private-key operations on `workers` threads.
 * @param options the number of threads
 * @returns the engine; its threads start with the first private key imported
 * @throws {RangeError} `"workers" expected an integer from 1 to 64, got 0`
 * @example
 *   import { nodeRsaWorkerEngine } from 'ali-oss-crypto/native';
 *   const engine = nodeRsaWorkerEngine({ workers: 3 });
 *   const reader = rsaKeyWrapper({ privateKey: pem, engine });
 *   // ... many unwraps in parallel (e.g. a bulk rewrap with parallel: 16) ...
 *   await engine.close();
 */
export function nodeRsaWorkerEngine(options: RsaWorkerEngineOptions = {}): RsaWorkerEngine {
  const size = options.workers ?? Math.min(8, Math.max(1, availableParallelism() - 1));
  if (!Number.isSafeInteger(size) || size < 1 || size > 64) throw new RangeError(`"workers" expected an integer from 1 to 64, got ${size}`);
  return new WorkerEngine(size);
}

interface Pending {
  resolve(result: Uint8Array): void;
  reject(err: Error): void;
}

interface Slot {
  readonly worker: Worker;
  /** Operations posted and not answered. */
  readonly pending: Map<number, Pending>;
}

type Reply = { id: number; result: Uint8Array; error?: undefined } | { id: number; error: string; result?: undefined };

class WorkerEngine implements RsaWorkerEngine {
  readonly name = 'node-workers';
  readonly workers: number;
  readonly #slots: Slot[] = [];
  #nextKey = 0;
  #nextJob = 0;
  #closed = false;

  constructor(size: number) {
    this.workers = size;
  }

  importPublicKey(spki: Uint8Array): RsaPublicKeyOps {
    return nodeRsaEngine.importPublicKey(spki);
  }

  importPrivateKey(pkcs8: Uint8Array): RsaPrivateKeyOps {
    if (this.#closed) throw new Error('this RSA worker engine was closed');
    // Imported here first: a bad key throws now, on the caller's thread, as with nodeRsaEngine.
    const check = Buffer.from(pkcs8);
    try {
      createPrivateKey({ key: check, format: 'der', type: 'pkcs8' });
    } finally {
      check.fill(0);
    }
    if (this.#slots.length === 0) for (let i = 0; i < this.workers; i++) this.#slots.push(this.#start());
    const keyId = this.#nextKey++;
    for (const slot of this.#slots) {
      const copy = new Uint8Array(pkcs8);
      try {
        slot.worker.postMessage({ kind: 'key', keyId, pkcs8: copy });
      } finally {
        // The message holds its own clone now.
        copy.fill(0);
      }
    }
    return {
      decryptRaw: (data) => this.#run('raw', keyId, data),
      decryptOaep: (data) => this.#run('oaep', keyId, data),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.splice(0).map((slot) => {
        for (const p of slot.pending.values()) p.reject(new Error('this RSA worker engine was closed'));
        slot.pending.clear();
        return slot.worker.terminate();
      }),
    );
  }

  #run(kind: 'raw' | 'oaep', keyId: number, data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed || this.#slots.length === 0) return Promise.reject(new Error('this RSA worker engine was closed'));
    // The least busy thread; ties go to the first.
    let slot = this.#slots[0];
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextJob++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      try {
        slot.worker.postMessage({ kind, id, keyId, data });
      } catch (err) {
        this.#settled(slot, id);
        reject(err as Error);
      }
    });
  }

  #settled(slot: Slot, id: number): Pending | undefined {
    const p = slot.pending.get(id);
    slot.pending.delete(id);
    if (slot.pending.size === 0) slot.worker.unref();
    return p;
  }

  #start(): Slot {
    const slot: Slot = { worker: startWorkerBeside(import.meta.url, 'rsa-worker'), pending: new Map() };
    slot.worker.on('message', (m: Reply) => {
      const p = this.#settled(slot, m.id);
      if (p === undefined) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    slot.worker.on('error', (err) => {
      // A thread that died takes its pending operations with it; the others carry on, and so does a new one.
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      const i = this.#slots.indexOf(slot);
      if (i !== -1) this.#slots.splice(i, 1);
    });
    // After the listeners: adding a 'message' listener refs the worker's port again, and a thread that never gets
    // an operation must not keep the process alive.
    slot.worker.unref();
    return slot;
  }
}
