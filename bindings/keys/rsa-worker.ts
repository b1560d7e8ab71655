/**
 * The body of one RSA worker thread (rsa-workers.ts starts it): node:crypto private-key operations on keys the
 * pool registered with it, so that many unwraps run on several cores while the main thread serves sockets.
 *
 * Messages: `{ kind: 'key', keyId, pkcs8 }` imports a PKCS#8 DER key (the copy received is zeroed once OpenSSL
 * holds it); `{ kind: 'raw' | 'oaep', id, keyId, data }` runs raw RSA (`RSA_NO_PADDING`; the PKCS#1 v1.5 unpadding
 * stays on the main thread, in pkcs1.ts) or OAEP-SHA1 decryption and answers `{ id, result }` (transferred) or
 * `{ id, error }`. The operations are rsa-native.ts's, so the bytes are the same.
 * @module
 */
import { constants, createPrivateKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** What the pool posts. */
type RsaWorkerMessage =
  | { kind: 'key'; keyId: number; pkcs8: Uint8Array }
  | { kind: 'forget'; keyId: number }
  | { kind: 'raw' | 'oaep'; id: number; keyId: number; data: Uint8Array };

const keys = new Map<number, KeyObject>();

parentPort?.on('message', (m: RsaWorkerMessage) => {
  if (m.kind === 'key') {
    try {
      keys.set(m.keyId, createPrivateKey({ key: Buffer.from(m.pkcs8.buffer, m.pkcs8.byteOffset, m.pkcs8.byteLength), format: 'der', type: 'pkcs8' }));
    } catch {
      // The pool imported the same bytes on its own thread first, so this does not happen; a job for a key that is
      // missing fails below.
    } finally {
      m.pkcs8.fill(0);
    }
    return;
  }
  if (m.kind === 'forget') {
    keys.delete(m.keyId);
    return;
  }
  try {
    const key = keys.get(m.keyId);
    if (key === undefined) throw new Error('this RSA worker holds no such key');
    const padding = m.kind === 'raw' ? { padding: constants.RSA_NO_PADDING } : { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
    const out = privateDecrypt({ key, ...padding }, m.data);
    const result = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    // A result that does not own its buffer (a slice of Node's pool) goes as a copy; one that does is moved.
    const own = result.byteOffset === 0 && result.byteLength === result.buffer.byteLength ? result : new Uint8Array(result);
    parentPort!.postMessage({ id: m.id, result: own }, [own.buffer as ArrayBuffer]);
    if (own !== result) result.fill(0);
  } catch (err) {
    // The message only: the caller (rsa-engine.ts rawOrFailure) turns any failure into one generic unwrap failure.
    parentPort!.postMessage({ id: m.id, error: String((err as Error)?.message ?? err) });
  }
});
