/**
 * What a rewrite of an object in place needs to know about it, read once from a HEAD or a GET (its ETag, size, CRC-64, whether
 * it is encrypted, the user metadata and content headers a rewrite must keep), and the check that it has not changed
 * since: a second HEAD comparing ETags right before the write commits.
 *
 * Why a second HEAD and not a conditional write: OSS accepts no If-Match on PutObject or
 * CompleteMultipartUpload (it answers 400 NotImplemented, error 0017-00000245), and its one write condition,
 * `x-oss-forbid-overwrite`, only says "the key must not exist". So the strongest check OSS allows is to take the
 * ETag from the read itself (the GET's own headers, or a HEAD followed by a GET with `If-Match` on its ETag), so
 * every byte read is of that version, and to HEAD the object again just before committing; a writer that lands
 * between that HEAD and the commit is overwritten. README "Rotating keys"
 * states this window; rewrite.ts keeps it to one round trip for large objects by checking before Complete.
 *
 * Deliberately not here: reading and writing the bytes (rewrite.ts).
 * @module
 */
import { decodeEnvelope, type HeaderValue } from '../envelope/codec.js';
import { IntegrityError } from '../errors.js';
import { parseCrc64Decimal } from '../integrity/crc64.js';
import { headerOf } from '../oss/response.js';
import type { ClientContext } from '../transfer/context.js';
import { isEncryptionMeta } from '../transfer/metadata.js';
import { withRetry } from '../util/retry.js';

/** Content headers OSS stores with an object, which a rewrite must send again (names as OSS spells them). */
const KEPT_HEADERS: ReadonlyArray<readonly [lower: string, sent: string]> = [
  ['content-type', 'Content-Type'],
  ['cache-control', 'Cache-Control'],
  ['content-disposition', 'Content-Disposition'],
  ['content-encoding', 'Content-Encoding'],
  ['content-language', 'Content-Language'],
  ['expires', 'Expires'],
  ['x-oss-storage-class', 'x-oss-storage-class'],
];

/**
 * An object as one HEAD saw it.
 * @example
 *   const state = await readObjectState(ctx, 'a.bin');
 *   if (state.encrypted) throw ...;
 */
export interface ObjectState {
  readonly name: string;
  readonly etag: string;
  /** Stored bytes (= plaintext bytes: CTR adds none). */
  readonly size: number;
  /** OSS's CRC-64 of the stored bytes, when it sent one. */
  readonly crc64: bigint | undefined;
  /** True when any encryption metadata is present (a complete envelope or a fragment of one). */
  readonly encrypted: boolean;
  /** User metadata without `x-oss-meta-`, encryption metadata left out. */
  readonly userMeta: Record<string, string>;
  /** Content headers to send again with the rewrite. */
  readonly contentHeaders: Record<string, string>;
  /** The HEAD's response headers (lower-case names). */
  readonly headers: Readonly<Record<string, HeaderValue>>;
}

/**
 * HEADs `name` (with retries) and reads what a rewrite needs.
 * @throws {IntegrityError} OBJECT_CHANGED when `ifMatch` is given and the object's ETag is another
 * @throws {MetadataError} for malformed encryption metadata; the store's error (e.g. 404 NoSuchKey) as is
 * @example
 *   const state = await readObjectState(ctx, 'a.bin', { signal });
 */
export async function readObjectState(ctx: ClientContext, name: string, options: { signal?: AbortSignal; ifMatch?: string } = {}): Promise<ObjectState> {
  const result = await withRetry(() => ctx.store.headObject(name, {}), ctx.retry, { signal: options.signal });
  return objectState(name, (result.res.headers ?? {}) as Record<string, HeaderValue>, options.ifMatch);
}

/**
 * What a rewrite needs, read from the headers of a HEAD or of a whole-object GET (both carry the object's ETag,
 * length, CRC-64, metadata and content headers), so a rewrite can take them from the GET that reads the bytes.
 * @param name the object key
 * @param headers the response headers (lower-case names)
 * @param ifMatch the ETag the caller expects, if any
 * @throws {IntegrityError} OBJECT_CHANGED when `ifMatch` is given and the ETag is another
 * @throws {TypeError} when the response has no ETag
 * @example
 *   const state = objectState(name, opened.headers);
 */
export function objectState(name: string, headers: Readonly<Record<string, HeaderValue>>, ifMatch?: string): ObjectState {
  const etag = headerOf(headers, 'etag');
  if (etag === undefined) throw new TypeError(`the answer for ${JSON.stringify(name)} had no ETag; a rewrite in place needs one to detect concurrent writers`);
  if (ifMatch !== undefined && !sameEtag(etag, ifMatch)) {
    throw changed(name, `its ETag is ${etag}, not the expected ${ifMatch}`);
  }
  const crcText = headerOf(headers, 'x-oss-hash-crc64ecma');
  const userMeta: Record<string, string> = {};
  let cseFragment = false;
  for (const [header, value] of Object.entries(headers)) {
    if (!header.toLowerCase().startsWith('x-oss-meta-') || value === undefined) continue;
    if (isEncryptionMeta(header)) cseFragment = true;
    else userMeta[header.slice('x-oss-meta-'.length).toLowerCase()] = Array.isArray(value) ? value.join(',') : String(value);
  }
  const contentHeaders: Record<string, string> = {};
  for (const [lower, sent] of KEPT_HEADERS) {
    const value = headerOf(headers, lower);
    if (value !== undefined) contentHeaders[sent] = value;
  }
  return {
    name,
    etag,
    size: Number(headerOf(headers, 'content-length') ?? NaN),
    crc64: crcText === undefined ? undefined : parseCrc64Decimal(crcText),
    encrypted: cseFragment || decodeEnvelope(headers) !== null,
    userMeta,
    contentHeaders,
    headers,
  };
}

/**
 * HEADs the object again and refuses to go on if its ETag is no longer the one read.
 * @throws {IntegrityError} OBJECT_CHANGED when it was replaced (or deleted) since `state` was read
 * @example
 *   await checkUnchanged(ctx, state, signal); // then commit the write
 */
export async function checkUnchanged(ctx: ClientContext, state: ObjectState, signal?: AbortSignal): Promise<void> {
  let etag: string | undefined;
  try {
    const result = await withRetry(() => ctx.store.headObject(state.name, {}), ctx.retry, { signal });
    etag = headerOf(result.res.headers, 'etag');
  } catch (err) {
    if ((err as { status?: number } | null)?.status === 404) throw changed(state.name, 'it was deleted', err);
    throw err;
  }
  if (etag === undefined || !sameEtag(etag, state.etag)) throw changed(state.name, `its ETag went from ${state.etag} to ${etag ?? 'none'}`);
}

/**
 * Whether `err` is a 412 answer to `If-Match` (the object was replaced since it was read).
 * @example
 *   catch (err) { if (isPreconditionFailed(err)) throw changed(name, 'If-Match answered 412', err); }
 */
export function isPreconditionFailed(err: unknown): boolean {
  const e = err as { status?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.status === 412 || e.code === 'PreconditionFailed');
}

/**
 * The error of an object replaced under a rewrite: the other writer wins and nothing is written.
 * @example
 *   throw changed('a.bin', 'If-Match answered 412');
 */
export function changed(name: string, why: string, cause?: unknown): IntegrityError {
  return new IntegrityError('OBJECT_CHANGED', `${JSON.stringify(name)} was replaced by another writer since it was read (${why}); it was left as that writer stored it`, { cause });
}

function sameEtag(a: string, b: string): boolean {
  return a.replace(/"/g, '').toUpperCase() === b.replace(/"/g, '').toUpperCase();
}
