/**
 * The body of one worker of worker-pool.ts: receives jobs "XOR the AES-256-CTR keystream of (key, iv) at byte
 * `offset` into these bytes" (docs/FORMAT.md §1), runs them with `aesCtr` on the engine the pool chose, and sends the
 * bytes back in the buffer they came in (transferred both ways). Zeroes its copy of the key and IV after every
 * job (best effort: JS gives no guarantee that no other copy exists).
 *
 * Deliberately not here: scheduling (worker-pool.ts). Runs only as a worker thread, never imported.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { aesCtr, type AesCtrOptions } from './aes-ctr.js';
import { nativeBackend } from './native.js';

/** One job, as worker-pool.ts posts it. */
interface CtrJob {
  id: number;
  key: Uint8Array;
  iv: Uint8Array;
  offset: number;
  buffer: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

const options: AesCtrOptions = (workerData as { engine?: string } | null)?.engine === 'native' ? { backend: nativeBackend } : {};

parentPort?.on('message', (job: CtrJob) => {
  const data = new Uint8Array(job.buffer, job.byteOffset, job.byteLength);
  let error: { name: string; message: string } | undefined;
  try {
    const stream = aesCtr(job.key, job.iv, job.offset, options);
    try {
      stream.update(data, data);
    } finally {
      stream.dispose();
    }
  } catch (err) {
    error = { name: (err as Error)?.name ?? 'Error', message: String((err as Error)?.message ?? err) };
  } finally {
    job.key.fill(0);
    job.iv.fill(0);
  }
  parentPort!.postMessage({ id: job.id, buffer: job.buffer, byteOffset: job.byteOffset, byteLength: job.byteLength, error }, [job.buffer]);
});
