/**
 * `verify(name)`: proves that an object decrypts with the configured keys and is whole, without keeping the
 * plaintext. It HEADs the object, reads it whole with `If-Match` on that ETag through the decrypting, verifying
 * stream (which checks the recorded plaintext length, OSS's CRC-64 of the stored bytes, the recorded plaintext
 * MD5 when there is one, docs/FORMAT.md §6, and the key commitment when the envelope carries one, before any byte
 * is decrypted: transfer/commitment-policy.ts) and drains it. A failure is the typed error of what failed:
 * KEY_NO_MATCH / KEY_UNWRAP_FAILED (no configured key opens it), META_* (its metadata is broken), INTEGRITY_*
 * (its content is not what was recorded), COMMITMENT_MISMATCH (its envelope is not what its writer committed to;
 * COMMITMENT_MISSING under the `require` policy), PLAINTEXT_REJECTED (it is not encrypted), OBJECT_CHANGED (replaced
 * while it was read).
 *
 * What it cannot see: a ciphertext altered together with a CRC-64 that OSS recomputed, in an object that recorded
 * no MD5.
 * @module
 */
import { PlaintextObjectError } from '../errors.js';
import type { ClientContext } from '../transfer/context.js';
import { getStream } from './get.js';
import { changed, isPreconditionFailed, readObjectState } from './object-state.js';
import { decodeEnvelope } from '../envelope/codec.js';
import { commitmentFromHeaders } from '../envelope/commitment.js';

/**
 * What {@link verify} checked.
 * @example
 *   const { bytes, checked } = await client.verify('a.bin'); // checked.md5 false: no MD5 was recorded
 */
export interface VerifyResult {
  readonly name: string;
  readonly etag: string;
  /** Plaintext bytes read and checked. */
  readonly bytes: number;
  /** Which checks applied: the recorded plaintext length, OSS's CRC-64, the recorded plaintext MD5, the key commitment. */
  readonly checked: { readonly length: boolean; readonly crc64: boolean; readonly md5: boolean; readonly commitment: boolean };
}

/**
 * Reads and checks an encrypted object whole, keeping nothing.
 * @param ctx the client context (its key ring opens the object's key)
 * @param name the object key
 * @param options `signal`
 * @returns the ETag read, the bytes checked and which checks applied
 * @throws {PlaintextObjectError} PLAINTEXT_REJECTED for an object without encryption metadata
 * @throws {IntegrityError} OBJECT_CHANGED, INTEGRITY_LENGTH / _CRC64 / _MD5 / _TRUNCATED, COMMITMENT_MISMATCH / _MISSING
 * @throws {KeyUnwrapError} / {MetadataError} when no configured key opens it or its metadata is broken
 * @example
 *   await verify(ctx, 'reports/2024.csv');
 */
export async function verify(ctx: ClientContext, name: string, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
  const { signal } = options;
  const state = await readObjectState(ctx, name, { signal });
  if (!state.encrypted) throw new PlaintextObjectError('PLAINTEXT_REJECTED', `${JSON.stringify(name)} is not encrypted (it has no client-side-encryption metadata)`);
  const envelope = decodeEnvelope(state.headers);
  let bytes = 0;
  try {
    const { stream } = await getStream(ctx, name, { headers: { 'If-Match': state.etag }, signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
  } catch (err) {
    throw isPreconditionFailed(err) ? changed(name, 'a read with If-Match on its ETag answered 412', err) : err;
  }
  return {
    name,
    etag: state.etag,
    bytes,
    checked: {
      length: envelope?.unencryptedContentLength !== undefined,
      crc64: state.crc64 !== undefined,
      md5: envelope?.unencryptedContentMd5 !== undefined,
      commitment: commitmentFromHeaders(state.headers) !== undefined,
    },
  };
}
