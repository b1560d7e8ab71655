/**
 * `decryptExisting(name, { removeEncryption: true })`: the way out of client-side encryption, one object at a
 * time. It reads the object through the decrypting, verifying stream (length, CRC-64 and MD5 checked as for any
 * whole-object get), with `If-Match` on the ETag first HEADed, and writes the plaintext back in place with the same
 * user metadata (the encryption metadata dropped) and content headers, conditional on the object being unchanged
 * (object-state.ts, rewrite.ts).
 *
 * It stores plaintext, so it refuses to run without the explicit `removeEncryption: true`; a plaintext object is
 * refused with `OBJECT_NOT_ENCRYPTED` (for a bulk job, "already done").
 * @module
 */
import { UnsupportedOperationError } from '../errors.js';
import type { StoreOptions } from '../oss/object-store.js';
import type { ClientContext } from '../transfer/context.js';
import { withRetry } from '../util/retry.js';
import type { EncryptExistingOptions, RewriteResult } from './encrypt-existing.js';
import { getStream } from './get.js';
import { changed, isPreconditionFailed, readObjectState, type ObjectState } from './object-state.js';
import { announce, rewriteObject, type RewriteSink } from './rewrite.js';

/**
 * Options of {@link decryptExisting}: those of `encryptExisting`, plus the required consent.
 * @example
 *   await client.decryptExisting('a.bin', { removeEncryption: true });
 */
export interface DecryptExistingOptions extends EncryptExistingOptions {
  /** Must be `true`: the object will be stored without encryption. */
  removeEncryption: true;
}

/**
 * Decrypts an encrypted object in place, keeping its user metadata and content headers.
 * @param ctx the client context (its key ring must open the object's key)
 * @param name the object key
 * @param options `removeEncryption: true` (required), threshold, part size, `ifMatch`, `signal`
 * @returns the new and previous ETags and the size
 * @throws {TypeError} without `removeEncryption: true`
 * @throws {UnsupportedOperationError} OBJECT_NOT_ENCRYPTED for a plaintext object
 * @throws {IntegrityError} OBJECT_CHANGED when another writer replaced it since it was read; INTEGRITY_* when the
 *   stored object does not verify (nothing is written)
 * @throws {KeyUnwrapError} when no material opens its key
 * @example
 *   await decryptExisting(ctx, 'a.bin', { removeEncryption: true });
 */
export async function decryptExisting(ctx: ClientContext, name: string, options: DecryptExistingOptions): Promise<RewriteResult> {
  if (options?.removeEncryption !== true) {
    throw new TypeError('decryptExisting stores the object without encryption; pass { removeEncryption: true } to confirm');
  }
  const { signal } = options;
  const state = await readObjectState(ctx, name, { signal, ifMatch: options.ifMatch });
  if (!state.encrypted) throw new UnsupportedOperationError('OBJECT_NOT_ENCRYPTED', `${JSON.stringify(name)} is not encrypted; nothing to do`);
  const opened = await getStream(ctx, name, { headers: { 'If-Match': state.etag }, signal }).catch((err) => {
    throw isPreconditionFailed(err) ? changed(name, 'a read with If-Match on its ETag answered 412', err) : err;
  });
  const rewrite = { multipartThreshold: options.multipartThreshold, partSize: options.partSize, signal };
  const { etag, multipart } = await rewriteObject(ctx, state, opened.stream, plainSink(ctx, state, options.uploadStarted), rewrite);
  return { name, etag, previousEtag: state.etag, bytes: state.size, multipart };
}

/** Writes plaintext straight through the object store. */
function plainSink(ctx: ClientContext, state: ObjectState, uploadStarted: EncryptExistingOptions['uploadStarted']): RewriteSink {
  const options = (): StoreOptions => ({ meta: { ...state.userMeta }, headers: { ...state.contentHeaders } });
  const retry = <T>(attempt: () => Promise<T>): Promise<T> => withRetry(attempt, ctx.retry);
  return {
    whole: async (bytes) => String((await retry(() => ctx.store.putObject(state.name, bytes, options()))).res.headers.etag),
    multipart: async () => {
      const { uploadId } = await retry(() => ctx.store.initiateMultipartUpload(state.name, options()));
      await announce(uploadStarted, uploadId, () => retry(() => ctx.store.abortMultipartUpload(state.name, uploadId, {})));
      const parts: Array<{ number: number; etag: string }> = [];
      return {
        part: async (number, bytes) => {
          parts.push({ number, etag: (await retry(() => ctx.store.uploadPart(state.name, uploadId, number, bytes, {}))).etag });
        },
        complete: async () => (await retry(() => ctx.store.completeMultipartUpload(state.name, uploadId, parts, {}))).etag,
        abort: async () => void (await retry(() => ctx.store.abortMultipartUpload(state.name, uploadId, {}))),
      };
    },
  };
}
