/**
 * Object operations that move no plaintext: `head`, `copy` / `putMeta` (which must keep the encryption
 * metadata), and the source checks of `uploadPartCopy` / `multipartCopy`. docs/FORMAT.md §2, §3.
 *
 * Copy decision: with OSS's default `x-oss-metadata-directive: COPY` the server copies the metadata, key
 * included, so copy is a passthrough. A `REPLACE` (ali-oss sets it when `meta` or a content header such as
 * `Content-Type` is given, and `putMeta` always does) would drop the wrapped key and make the copy
 * undecryptable, so we HEAD the source first and re-attach its encryption headers exactly as stored (never
 * re-encoded: an oss2 KMS blob keeps its double base64), with `x-oss-copy-source-if-match` on the source's ETag
 * so a source replaced in between makes the copy fail (412) rather than pair an old key with new bytes.
 * The caller can never set or change encryption metadata (typed error).
 *
 * Deliberately not here: anything that reads or writes object content (put.ts, get.ts).
 * @module
 */
import { decodeEnvelope } from '../envelope/codec.js';
import { describeEnvelope, type EnvelopeDescription } from '../envelope/describe.js';
import type { ClientContext } from '../transfer/context.js';
import { encryptionMetaOf, refuseEncryptionMetaOverride } from '../transfer/metadata.js';
import { copyOptions, signalOf } from '../transfer/request-options.js';
import { rewriteCiphertext } from '../upload/ciphertext-rewrite.js';
import type { HeadObjectResult } from '../oss/object-store.js';
import { withRetry } from '../util/retry.js';
import { REFUSED_REASONS, refuse } from './refused.js';

/**
 * ali-oss's `head()` result with what this client adds.
 * @example
 *   const { encrypted, envelope }: HeadResult = await client.head('a.bin');
 *   if (envelope) console.log(envelope.wrapAlg, envelope.matdesc, envelope.unencryptedContentLength);
 */
export interface HeadResult {
  /** ali-oss: user metadata without the `x-oss-meta-` prefix (encryption metadata included, as stored). */
  meta: Record<string, string> | null;
  /** ali-oss: the HTTP response (`status`, `headers`, ...). */
  res: any;
  /** ali-oss: the HTTP status (200, or 304 for a matched If-None-Match). */
  status: number;
  /** True when the object carries encryption metadata. */
  encrypted: boolean;
  /** How the object is encrypted (no key material), or null for a plain object or a 304 answer. */
  envelope: EnvelopeDescription | null;
}

/** ali-oss sets REPLACE on copy when one of these headers is given (lib/common/object/copyObject.js). */
const REPLACE_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-disposition', 'cache-control', 'expires'];

/**
 * ali-oss `head()` plus `encrypted` and `envelope` (a description without key material). Transient failures
 * are retried. A plain object is returned whatever the plaintext policy (HEAD reveals no content) and says
 * `encrypted: false`.
 * @param ctx the client context
 * @param name the object key
 * @param options ali-oss head options (`versionId`, `headers`, `timeout`...)
 * @returns ali-oss's result with `encrypted` and `envelope`
 * @throws {MetadataError} when the object's encryption metadata is malformed or unsupported
 * @example
 *   const { envelope } = await head(ctx, 'a.bin');
 *   console.log(envelope?.wrapAlg, envelope?.unencryptedContentLength);
 */
export async function head(ctx: ClientContext, name: string, options?: Record<string, unknown>): Promise<HeadResult> {
  const result = await withRetry(() => ctx.store.headObject(name, copyOptions(options)), ctx.retry, { signal: signalOf(options) });
  const env = result.status === 200 ? decodeEnvelope(result.res.headers) : null;
  // A HEAD of the client's own bucket always carries ali-oss's `meta`.
  return { ...(result as typeof result & { meta: Record<string, string> | null }), encrypted: env !== null, envelope: env === null ? null : describeEnvelope(env) };
}

/**
 * ali-oss `copy(name, sourceName, [sourceBucket], options)` that keeps the encryption metadata: a passthrough
 * with the default COPY directive; with REPLACE (`meta`, a content header, or an explicit directive) the
 * source's encryption headers are re-attached as stored and the copy is conditioned on the source's ETag.
 * @param ctx the client context
 * @param name the target key
 * @param sourceName the source key, or `/bucket/key`
 * @param sourceBucket the source bucket (optional; ali-oss also accepts options in this place)
 * @param options ali-oss copy options (`meta`, `headers`, `versionId`, `timeout`)
 * @returns ali-oss's result (`{ data: { etag, lastModified }, res }`)
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when `meta`/`headers` name encryption metadata
 * @example
 *   await copy(ctx, 'b.bin', 'a.bin', undefined, { meta: { owner: 'me' } }); // still decryptable
 */
export async function copy(
  ctx: ClientContext,
  name: string,
  sourceName: string,
  sourceBucket?: string | Record<string, unknown>,
  options?: Record<string, unknown>,
  operation: 'copy' | 'putMeta' = 'copy',
): Promise<any> {
  let bucket: string | undefined;
  if (sourceBucket !== null && typeof sourceBucket === 'object') {
    options = sourceBucket; // ali-oss's older signature copy(name, sourceName, options)
  } else if (typeof sourceBucket === 'string') {
    bucket = sourceBucket;
  }
  const opts = copyOptions(options);
  refuseEncryptionMetaOverride(operation, opts);
  const headers: Record<string, unknown> = { ...((opts.headers as Record<string, unknown>) ?? {}) };
  const directive = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-oss-metadata-directive')?.[1];
  const replace =
    opts.meta !== undefined ||
    Object.keys(headers).some((k) => REPLACE_HEADERS.includes(k.toLowerCase())) ||
    String(directive ?? '').toUpperCase() === 'REPLACE';
  if (!replace) delete opts.rewrite;
  if (replace) {
    let key = sourceName;
    if (bucket === undefined && sourceName.startsWith('/')) {
      // ali-oss's '/bucket/key' form (lib/common/object/copyObject.js _getSourceName).
      const m = /^\/([^/]+)\/(.*)$/.exec(sourceName);
      if (m) [bucket, key] = [m[1], m[2]];
    }
    const sameObject = key === name && (bucket === undefined || bucket === ctx.store.bucket) && opts.versionId === undefined;
    const rewrite = opts.rewrite === true;
    delete opts.rewrite;
    const src = await headIn(ctx, bucket, key, opts.versionId ? { versionId: opts.versionId, timeout: opts.timeout } : { timeout: opts.timeout });
    if (sameObject && decodeEnvelope(src.res.headers) !== null) {
      if (!rewrite) refuse(operation, REFUSED_REASONS.changeMetaInPlace);
      return rewriteCiphertext(ctx, name, {
        source: key,
        meta: (opts.meta ?? {}) as Record<string, string>,
        headers: contentHeadersOf(headers),
        signal: signalOf(options),
      });
    }
    if (decodeEnvelope(src.res.headers) !== null) {
      opts.meta = { ...((opts.meta as Record<string, unknown>) ?? {}), ...encryptionMetaOf(src.res.headers) };
      const etag = src.res.headers.etag;
      if (etag && !Object.keys(headers).some((k) => k.toLowerCase() === 'x-oss-copy-source-if-match')) {
        headers['x-oss-copy-source-if-match'] = etag;
      }
      opts.headers = headers;
    }
  }
  return withRetry(
    () => ctx.store.copyObject(name, sourceName, bucket, { ...opts, headers: { ...((opts.headers as object) ?? {}) } }),
    ctx.retry,
    { signal: signalOf(options) },
  );
}

/**
 * ali-oss `putMeta(name, meta, options)`: replaces the user metadata and keeps the encryption metadata
 * (ali-oss's own putMeta is a REPLACE copy that would drop the wrapped key).
 * @example
 *   await putMeta(ctx, 'a.bin', { owner: 'me' });
 */
export function putMeta(ctx: ClientContext, name: string, meta: Record<string, unknown> | null, options?: Record<string, unknown>): Promise<any> {
  const rewrite = options?.rewrite === true ? { rewrite: true } : {};
  return copy(ctx, name, name, undefined, { meta: meta ?? {}, timeout: options?.timeout, ctx: options?.ctx, signal: options?.signal, ...rewrite }, 'putMeta');
}

/** The content headers a caller gave (ali-oss names them in `headers`), for a rewrite's Initiate. */
function contentHeadersOf(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (REPLACE_HEADERS.includes(k.toLowerCase()) && v !== undefined) out[k] = String(v);
  return out;
}

/**
 * ali-oss `uploadPartCopy(...)`, refused when the source is encrypted (one HEAD of the source first).
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when the source carries encryption metadata
 * @example
 *   await uploadPartCopy(ctx, 'big', uploadId, 1, '0-102399', { sourceKey: 'plain.bin', sourceBucketName: 'b' });
 */
export async function uploadPartCopy(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  partNo: number,
  range: string,
  sourceData: { sourceKey: string; sourceBucketName?: string },
  options: Record<string, unknown> = {},
): Promise<any> {
  await refuseEncryptedSource(ctx, 'uploadPartCopy', sourceData, options);
  return ctx.store.uploadPartCopy(name, uploadId, partNo, range, sourceData, options);
}

/**
 * ali-oss `multipartUploadCopy(name, sourceData, options)`, refused when the source is encrypted: ali-oss starts
 * the target upload without the source's metadata, so the copy would lose its key (and OSS refuses UploadPartCopy
 * from an encrypted source, 0042-00000309). Use `copy()` (objects up to 1 GB) instead.
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when the source carries encryption metadata
 * @example
 *   await multipartUploadCopy(ctx, 'copy.bin', { sourceKey: 'plain.bin', sourceBucketName: 'b' });
 */
export async function multipartUploadCopy(
  ctx: ClientContext,
  name: string,
  sourceData: { sourceKey: string; sourceBucketName?: string },
  options: Record<string, unknown> = {},
): Promise<any> {
  await refuseEncryptedSource(ctx, 'multipartUploadCopy', sourceData, options);
  return ctx.store.multipartUploadCopy(name, sourceData, options);
}

/**
 * ali-oss `getObjectMeta` with retries (nothing to decrypt; an encrypted object's size is its plaintext size).
 * @example
 *   const { res } = await getObjectMeta(ctx, 'a.bin');
 */
export function getObjectMeta(ctx: ClientContext, name: string, options?: Record<string, unknown>): Promise<HeadObjectResult> {
  return withRetry(() => ctx.store.getObjectMeta(name, copyOptions(options)), ctx.retry, { signal: signalOf(options) });
}

/**
 * ali-oss `listUploads` with retries.
 * @example
 *   const { uploads } = await listUploads(ctx, { prefix: 'big/' });
 */
export function listUploads(ctx: ClientContext, query?: Record<string, unknown>, options?: Record<string, unknown>): Promise<any> {
  return withRetry(() => ctx.store.listUploads(query, copyOptions(options)), ctx.retry, { signal: signalOf(options) });
}

/**
 * HEAD of `key` in `bucket` (default: the client's bucket), with retries.
 * @example
 *   const src = await headIn(ctx, 'other-bucket', 'a.bin');
 */
export async function headIn(
  ctx: ClientContext,
  bucket: string | undefined,
  key: string,
  options: Record<string, unknown> = {},
): Promise<{ res: any; status: number }> {
  // The store reaches another bucket with the same signing (ali-oss's own head() only reaches its bucket).
  return withRetry(() => ctx.store.headObject(key, copyOptions(options), bucket), ctx.retry);
}

async function refuseEncryptedSource(
  ctx: ClientContext,
  operation: 'uploadPartCopy' | 'multipartUploadCopy',
  sourceData: { sourceKey: string; sourceBucketName?: string },
  options: Record<string, unknown>,
): Promise<void> {
  if (sourceData === null || typeof sourceData !== 'object' || typeof sourceData.sourceKey !== 'string') {
    throw new TypeError(`"sourceData" expected { sourceKey, sourceBucketName }, got ${sourceData === null ? 'null' : typeof sourceData}`);
  }
  const versionId = options.versionId ?? (options.subres as Record<string, unknown> | undefined)?.versionId;
  const src = await headIn(ctx, sourceData.sourceBucketName, sourceData.sourceKey, versionId ? { versionId } : {});
  if (decodeEnvelope(src.res.headers) !== null) {
    refuse(operation, `source ${JSON.stringify(sourceData.sourceKey)} is encrypted: ${REFUSED_REASONS.uploadPartCopy}`);
  }
}
