/**
 * `encryptExisting(name)`: turns a plaintext object into an encrypted one in place (docs/FORMAT.md §1, §2). It
 * reads the object with one GET, whose headers give the state a rewrite needs (ETag, size, CRC-64, metadata; so
 * every byte read is of the version whose ETag the write is conditioned on), checking length and OSS's CRC-64 of
 * what it read, encrypts under a fresh content key from the key ring, and writes it back with
 * the same user metadata and content headers (Content-Type, Cache-Control, Content-Disposition, Content-Encoding,
 * Content-Language, Expires, storage class), conditional on the object being unchanged (object-state.ts,
 * rewrite.ts). The plaintext MD5 is recorded for single-request writes, so `verify` can check the content later.
 *
 * An object that already carries encryption metadata is refused (`OBJECT_ENCRYPTED`): encrypting it again would
 * lose it, and a bulk job relies on this refusal to make a repeat after a crash a skip.
 *
 * Not kept: ACLs, tags and object version history (a rewrite is a new object version); see README "Rotating keys".
 * @module
 */
import { Readable } from 'node:stream';
import type { HeaderValue } from '../envelope/codec.js';
import { UnsupportedOperationError } from '../errors.js';
import type { ClientContext } from '../transfer/context.js';
import { withRetry } from '../util/retry.js';
import { abortMultipartUpload, completeMultipartUpload, initMultipartUpload, uploadPart } from '../upload/parts-api.js';
import type { UploadedPart } from '../upload/checkpoint.js';
import { changed, isPreconditionFailed, objectState, type ObjectState } from './object-state.js';
import { put } from './put.js';
import { announce, rewriteObject, type RewriteOptions, type RewriteSink } from './rewrite.js';

/**
 * Options of {@link encryptExisting}.
 * @example
 *   await client.encryptExisting('a.bin', { multipartThreshold: 64 << 20, signal });
 */
export interface EncryptExistingOptions {
  /** Objects at least this large are rewritten by multipart upload (default: the client's `multipartThreshold`, at most 16 MiB). */
  multipartThreshold?: number;
  /** Preferred part size of a multipart rewrite (default: the client's `partSize`). */
  partSize?: number;
  /** Refuse (`OBJECT_CHANGED`) unless the object's ETag is this one when first read. */
  ifMatch?: string;
  /** Told the id of a multipart rewrite before its first part (a job journals it, to abort it after a crash). */
  uploadStarted?: (uploadId: string) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * What {@link encryptExisting} did.
 * @example
 *   const { etag, previousEtag, bytes } = await client.encryptExisting('a.bin');
 */
export interface RewriteResult {
  readonly name: string;
  /** The ETag of the object written. */
  readonly etag: string;
  /** The ETag of the object it replaced. */
  readonly previousEtag: string;
  /** The object's size (plaintext = ciphertext size). */
  readonly bytes: number;
  /** True when it was written by multipart upload. */
  readonly multipart: boolean;
}

/**
 * Encrypts a plaintext object in place, keeping its metadata.
 * @param ctx the client context (its key ring's default material wraps the new content key)
 * @param name the object key
 * @param options threshold, part size, `ifMatch`, `signal`
 * @returns the new and previous ETags and the size
 * @throws {UnsupportedOperationError} OBJECT_ENCRYPTED when the object already carries encryption metadata
 * @throws {IntegrityError} OBJECT_CHANGED when another writer replaced it since it was read (that writer's object
 *   is kept); INTEGRITY_LENGTH / INTEGRITY_CRC64 when what was read is not what OSS stored
 * @throws {KeyWrapError} when the key ring cannot wrap; the store's error (e.g. NoSuchKey) as is
 * @example
 *   const { etag } = await encryptExisting(ctx, 'reports/2024.csv');
 */
export async function encryptExisting(ctx: ClientContext, name: string, options: EncryptExistingOptions = {}): Promise<RewriteResult> {
  const { signal } = options;
  // One GET gives both the bytes and the state (ETag, size, CRC-64, metadata): no HEAD before it. With ifMatch, the
  // GET itself is conditional, so a replaced object answers 412 before a byte is sent.
  const headers = options.ifMatch === undefined ? {} : { 'If-Match': options.ifMatch };
  const opened = await withRetry(() => ctx.store.openObject(name, { headers }), ctx.retry, { signal }).catch((err) => {
    throw isPreconditionFailed(err) ? changed(name, `its ETag is not the expected ${options.ifMatch}`, err) : err;
  });
  // Node's client: the ali-oss store answers a Readable; another store may answer a WHATWG stream.
  const body: Readable = opened.body instanceof Readable ? opened.body : Readable.fromWeb(opened.body as never);
  let state: ObjectState;
  try {
    state = objectState(name, opened.headers as Record<string, HeaderValue>);
    if (opened.status !== 200) throw new TypeError(`a GET of ${JSON.stringify(name)} answered ${opened.status}, not 200`);
    if (state.encrypted) {
      throw new UnsupportedOperationError('OBJECT_ENCRYPTED', `${JSON.stringify(name)} is already encrypted (it carries client-side-encryption metadata); nothing to do`);
    }
  } catch (err) {
    body.destroy();
    throw err;
  }
  const rewrite: RewriteOptions = { multipartThreshold: options.multipartThreshold, partSize: options.partSize, sourceCrc64: state.crc64, signal };
  const { etag, multipart } = await rewriteObject(ctx, state, body, encryptingSink(ctx, state, options), rewrite);
  return { name, etag, previousEtag: state.etag, bytes: state.size, multipart };
}

/** Writes through the client's encrypting put and parts API, with the object's metadata and content headers. */
function encryptingSink(ctx: ClientContext, state: ObjectState, options: EncryptExistingOptions): RewriteSink {
  const { signal, uploadStarted } = options;
  const meta = { ...state.userMeta };
  const headers = { ...state.contentHeaders };
  return {
    whole: async (bytes) => {
      const result = await put(ctx, state.name, bytes, { meta, headers, contentMd5: true, signal });
      return String(result.res.headers.etag);
    },
    multipart: async (size, partSize) => {
      const { uploadId, context } = await initMultipartUpload(ctx, state.name, { dataSize: size, partSize, meta, headers, signal });
      await announce(uploadStarted, uploadId, () => abortMultipartUpload(ctx, state.name, uploadId));
      const parts: UploadedPart[] = [];
      return {
        part: async (partNumber, bytes) => {
          parts.push((await uploadPart(ctx, state.name, uploadId, partNumber, bytes, context)).part);
        },
        complete: async () => (await completeMultipartUpload(ctx, state.name, uploadId, parts, { context, signal })).etag,
        abort: async () => void (await abortMultipartUpload(ctx, state.name, uploadId)),
      };
    },
  };
}
