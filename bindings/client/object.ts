/**
 * Object operations that move no plaintext: `head`, `copy` / `putMeta` (which must keep the encryption
 * metadata), the source checks of `uploadPartCopy` / `multipartCopy`, and the metadata helpers that put.ts
 * and get.ts share (which names are encryption metadata, MD5 text forms). FORMATS.md §2, §3.
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
import { COMMITMENT_HEADER } from '../envelope/commitment.js';
import { describeEnvelope, type EnvelopeDescription } from '../envelope/describe.js';
import { ENVELOPE_HEADERS, META_PREFIX } from '../envelope/headers.js';
import { UnsupportedOperationError } from '../errors.js';
import type { ClientContext } from './context.js';
import { REFUSED_REASONS, refuse } from './refused.js';
import { withRetry } from './retry.js';

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

/** Every metadata name (without `x-oss-meta-`) that belongs to the encryption envelope, V1 and V2. */
const CSE_META_NAMES: ReadonlySet<string> = new Set(
  [...Object.values(ENVELOPE_HEADERS.v2), ...Object.values(ENVELOPE_HEADERS.v1), COMMITMENT_HEADER].map((h) => h.slice(META_PREFIX.length)),
);
// Any future V2 field shares this prefix; reserve all of it.
const CSE_META_PREFIX = 'client-side-encryption-';

/** ali-oss sets REPLACE on copy when one of these headers is given (lib/common/object/copyObject.js). */
const REPLACE_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-disposition', 'cache-control', 'expires'];

/**
 * True when `name` (a full header name `x-oss-meta-…`, or an ali-oss `meta` key without the prefix) is part of
 * the encryption metadata.
 * @example
 *   isEncryptionMeta('client-side-encryption-key')          // true
 *   isEncryptionMeta('x-oss-meta-oss-crypto-start')         // true
 *   isEncryptionMeta('x-oss-meta-owner')                    // false
 */
export function isEncryptionMeta(name: string): boolean {
  let n = name.toLowerCase();
  if (n.startsWith(META_PREFIX)) n = n.slice(META_PREFIX.length);
  return CSE_META_NAMES.has(n) || n.startsWith(CSE_META_PREFIX);
}

/**
 * Refuses caller options that would set or change encryption metadata, through `meta` or `headers`.
 * @param operation the method name, for the message
 * @param options the caller's ali-oss options
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED naming the offending key
 * @example
 *   refuseEncryptionMetaOverride('put', { meta: { 'client-side-encryption-key': 'x' } }); // throws
 */
export function refuseEncryptionMetaOverride(operation: string, options: Record<string, any> | undefined): void {
  if (!options) return;
  const check = (where: string, names: string[]) => {
    for (const k of names) {
      const asHeader = where === 'meta' ? META_PREFIX + k : k;
      if (asHeader.toLowerCase().startsWith(META_PREFIX) && isEncryptionMeta(asHeader)) {
        throw new UnsupportedOperationError(
          'OPERATION_UNSUPPORTED',
          `${operation}: ${where} ${JSON.stringify(k)} is encryption metadata, written only by the encryption client ` +
            '(setting or changing it would make the object undecryptable); use another metadata name',
        );
      }
    }
  };
  if (options.meta && typeof options.meta === 'object') check('meta', Object.keys(options.meta));
  if (options.headers && typeof options.headers === 'object') check('headers', Object.keys(options.headers));
}

/**
 * The encryption metadata of a response, as an ali-oss `meta` object (names without `x-oss-meta-`, values
 * exactly as stored).
 * @example
 *   const meta = encryptionMetaOf(headResult.res.headers); // { 'client-side-encryption-key': '…', … }
 */
export function encryptionMetaOf(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const lower = k.toLowerCase();
    if (lower.startsWith(META_PREFIX) && isEncryptionMeta(lower) && v !== undefined) {
      out[lower.slice(META_PREFIX.length)] = Array.isArray(v) ? String(v[0]) : String(v);
    }
  }
  return out;
}

/**
 * An MD5 as stored in `unencrypted-content-md5` (FORMATS.md §2: oss2 copies what the caller gave, often hex;
 * others store base64) or a `Content-MD5` header, as 16 bytes; `undefined` when it is neither form.
 * @example
 *   md5Bytes('900150983cd24fb0d6963f7d28e17f72')  // 16 bytes (hex)
 *   md5Bytes('kAFQmDzST7DWlj99KOF/cg==')          // the same 16 bytes (base64)
 */
export function md5Bytes(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{32}$/.test(t)) return new Uint8Array(Buffer.from(t, 'hex'));
  if (/^[A-Za-z0-9+/]{22}==$/.test(t)) {
    const bytes = Buffer.from(t, 'base64');
    if (bytes.length === 16) return new Uint8Array(bytes);
  }
  return undefined;
}

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
  const result = await withRetry(() => ctx.oss.head(name, copyOptions(options)), ctx.retry, { signal: signalOf(options) });
  const env = result.status === 200 ? decodeEnvelope(result.res.headers) : null;
  return { ...result, encrypted: env !== null, envelope: env === null ? null : describeEnvelope(env) };
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
): Promise<any> {
  let bucket: string | undefined;
  if (sourceBucket !== null && typeof sourceBucket === 'object') {
    options = sourceBucket; // ali-oss's older signature copy(name, sourceName, options)
  } else if (typeof sourceBucket === 'string') {
    bucket = sourceBucket;
  }
  const opts = copyOptions(options);
  refuseEncryptionMetaOverride('copy', opts);
  const headers: Record<string, unknown> = { ...((opts.headers as Record<string, unknown>) ?? {}) };
  const directive = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-oss-metadata-directive')?.[1];
  const replace =
    opts.meta !== undefined ||
    Object.keys(headers).some((k) => REPLACE_HEADERS.includes(k.toLowerCase())) ||
    String(directive ?? '').toUpperCase() === 'REPLACE';
  if (replace) {
    let key = sourceName;
    if (bucket === undefined && sourceName.startsWith('/')) {
      // ali-oss's '/bucket/key' form (lib/common/object/copyObject.js _getSourceName).
      const m = /^\/([^/]+)\/(.*)$/.exec(sourceName);
      if (m) [bucket, key] = [m[1], m[2]];
    }
    const src = await headIn(ctx, bucket, key, opts.versionId ? { versionId: opts.versionId, timeout: opts.timeout } : { timeout: opts.timeout });
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
    () => ctx.oss.copy(name, sourceName, bucket, { ...opts, headers: { ...((opts.headers as object) ?? {}) } }),
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
  return copy(ctx, name, name, undefined, { meta: meta ?? {}, timeout: options?.timeout, ctx: options?.ctx });
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
  return ctx.oss.uploadPartCopy(name, uploadId, partNo, range, sourceData, options);
}

/**
 * ali-oss `multipartCopy(name, sourceData, options)`, refused when the source is encrypted: ali-oss starts the
 * target upload without the source's metadata, so the copy would lose its key. Use `copy()` (objects up to
 * 1 GB) instead.
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when the source carries encryption metadata
 * @example
 *   await multipartCopy(ctx, 'copy.bin', { sourceKey: 'plain.bin', sourceBucketName: 'b' });
 */
export async function multipartCopy(
  ctx: ClientContext,
  name: string,
  sourceData: { sourceKey: string; sourceBucketName?: string },
  options: Record<string, unknown> = {},
): Promise<any> {
  await refuseEncryptedSource(ctx, 'multipartCopy', sourceData, options);
  return ctx.oss.multipartCopy(name, sourceData, options);
}

/**
 * HEAD of `key` in `bucket` (default: the client's bucket). ali-oss's `head()` only reaches its own bucket, so
 * another bucket goes through its request layer with the same signing.
 * @example
 *   const src = await headIn(ctx, 'other-bucket', 'a.bin');
 */
export async function headIn(
  ctx: ClientContext,
  bucket: string | undefined,
  key: string,
  options: Record<string, unknown> = {},
): Promise<{ res: any; status: number }> {
  const oss = ctx.oss;
  if (bucket === undefined || bucket === oss.options?.bucket) {
    return withRetry(() => oss.head(key, copyOptions(options)), ctx.retry);
  }
  return withRetry(async () => {
    const opts = copyOptions(options);
    opts.subres = { ...(opts.versionId ? { versionId: opts.versionId } : {}) };
    const params = oss._objectRequestParams('HEAD', key, opts);
    params.bucket = bucket;
    params.successStatuses = [200];
    const result = await oss.request(params);
    return { res: result.res, status: result.status };
  }, ctx.retry);
}

async function refuseEncryptedSource(
  ctx: ClientContext,
  operation: 'uploadPartCopy' | 'multipartCopy',
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

/**
 * A copy of caller options one level deep (`headers`, `subres`, `meta` copied too), without our `signal`:
 * ali-oss mutates the options object it is given, and neither the caller nor a retry may see that.
 * @example
 *   const opts = copyOptions(options);
 *   await withRetry(() => ctx.oss.head(name, copyOptions(opts)), ctx.retry);
 */
export function copyOptions(options: Record<string, unknown> | undefined): Record<string, any> {
  const out: Record<string, any> = { ...(options ?? {}) };
  if (out.headers && typeof out.headers === 'object') out.headers = { ...out.headers };
  if (out.subres && typeof out.subres === 'object') out.subres = { ...out.subres };
  if (out.meta && typeof out.meta === 'object') out.meta = { ...out.meta };
  delete out.signal;
  return out;
}

/**
 * The caller's AbortSignal, if any (`signal` is our addition to ali-oss's options).
 * @example
 *   await withRetry(attempt, ctx.retry, { signal: signalOf(options) });
 */
export function signalOf(options: Record<string, unknown> | undefined): AbortSignal | undefined {
  const s = options?.signal;
  return s instanceof AbortSignal ? s : undefined;
}
