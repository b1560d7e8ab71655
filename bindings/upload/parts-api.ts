/**
 * The low-level encrypted multipart API (the parts API): ali-oss's `initMultipartUpload` / `uploadPart` /
 * `completeMultipartUpload` / `abortMultipartUpload` / `listParts`, plus a serialisable crypto context that lets
 * any process (or machine) encrypt any part of the same upload (docs/FORMAT.md §5, §2, §6).
 *
 * Initiate draws one content key for the whole upload and sends every V2 header plus `data-size` and
 * `part-size`; OSS copies that metadata onto the final object. The returned `context`
 * ({@link MultipartCryptoContext}, schema in checkpoint.ts) holds the *wrapped* key only: it can be sent to
 * another process as JSON, and the first `uploadPart` there unwraps the key once and caches the plain
 * {@link ContentKey} in memory, beside the context object, never inside it. Part `n` is encrypted with
 * `aesCtr(key, iv, (n-1) × partSize)`, so parts go in any order and in parallel; `checkPart` (plan.ts) refuses a
 * part of the wrong length before anything is encrypted, because a wrong length would put later bytes under the
 * wrong counter or reuse keystream.
 *
 * Every request is retried on transient failures (client retry policy); a retried part is encrypted again from
 * its own offset, so the bytes sent are the same. Completing with the context checks that every planned part
 * is listed, then checks the CRC-64 OSS reports for the object against the combination of the parts' CRC-64s
 * (`IntegrityError` INTEGRITY_CRC64 on a mismatch).
 *
 * Deliberately not here: reading files and the part loop (managed-upload.ts, upload-run.ts), checkpoint files, the
 * context cache (context-cache.ts) and the two requests the managed upload shares (part-requests.ts).
 * @module
 */
import { aesCtrXor } from '../cipher/aes-ctr.js';
import { CheckpointError, IntegrityError, PartError } from '../errors.js';
import { crc64Combine, crc64ToDecimal, parseCrc64Decimal } from '../integrity/crc64.js';
import type { ListPartsResult } from '../oss/object-store.js';
import { CRC64_HEADER, headerOf } from '../oss/response.js';
import type { ClientContext } from '../transfer/context.js';
import { refuseEncryptionMetaOverride } from '../transfer/metadata.js';
import { copyOptions, signalOf } from '../transfer/request-options.js';
import { describe, describeValue } from '../util/describe.js';
import { withRetry } from '../util/retry.js';
import { createMultipartCryptoContext, planOf, wrappedKeyFields, wrappedKeyOf, type MultipartCryptoContext, type UploadedPart } from './checkpoint.js';
import { contentKeyOf, contextOf, disposeMultipartCryptoContext, rememberContentKey } from './context-cache.js';
import { initiate, sendPart, uploadEnvelopeHeaders, type UploadPartResult } from './part-requests.js';
import { checkPart, choosePartSize, planParts, type PartPlan } from './plan.js';

export type { MultipartCryptoContext, UploadedPart } from './checkpoint.js';
export { disposeMultipartCryptoContext } from './context-cache.js';
export type { UploadPartResult } from './part-requests.js';

/**
 * Options of {@link initMultipartUpload}: ali-oss's, plus the plan.
 * @example
 *   const opts: InitMultipartUploadOptions = { dataSize: file.size, partSize: 8 << 20 };
 *   const { uploadId, context } = await client.initMultipartUpload('big.bin', opts);
 */
export type InitMultipartUploadOptions = {
  /** Total plaintext size of the object, in bytes. Required: it fixes the plan and goes into `data-size`. */
  dataSize: number;
  /**
   * Part size: a multiple of 16, at least 100 KiB unless the object fits in one part. Default: the client's
   * `partSize`, raised if needed to stay within 10,000 parts (`choosePartSize`).
   */
  partSize?: number;
  /** ali-oss: user metadata (names without `x-oss-meta-`). Encryption metadata names are refused. */
  meta?: { readonly [name: string]: string | number };
  /** ali-oss: request headers. */
  headers?: object;
  /** ali-oss: Content-Type of the final object. */
  mime?: string;
  /** Aborts waiting between retries. */
  signal?: AbortSignal;
  /** ali-oss: milliseconds (or `[connect, response]`). */
  timeout?: number | readonly [number, number];
  /** ali-oss: a Koa context, passed through. */
  ctx?: unknown;
};

/**
 * ali-oss's `initMultipartUpload` result, plus the crypto context of the upload.
 * @example
 *   const r: InitMultipartUploadResult = await client.initMultipartUpload('big.bin', { dataSize });
 *   queue.send(JSON.stringify({ uploadId: r.uploadId, context: r.context }));
 */
export interface InitMultipartUploadResult {
  res: any;
  bucket: string;
  name: string;
  uploadId: string;
  /** What `uploadPart` needs, in this process or another (send it as JSON; it holds no plain key). */
  context: MultipartCryptoContext;
}

/**
 * Options of {@link completeMultipartUpload}: ali-oss's, plus the context that enables the checks.
 * @example
 *   const opts: CompleteMultipartUploadOptions = { context };
 *   await client.completeMultipartUpload('big.bin', uploadId, parts, opts);
 */
export type CompleteMultipartUploadOptions = {
  /**
   * The upload's crypto context. With it, the parts are checked against the plan (every planned part once)
   * before the request, and the object's CRC-64 against the parts' afterwards.
   */
  context?: MultipartCryptoContext;
  /** Aborts waiting between retries. */
  signal?: AbortSignal;
  /** ali-oss: milliseconds (or `[connect, response]`). */
  timeout?: number | readonly [number, number];
  /** ali-oss: a Koa context, passed through. */
  ctx?: unknown;
  /** ali-oss: a callback OSS calls after Complete (its answer is the result's `data`). */
  callback?: { url: string; host?: string; body: string; contentType?: string; customValue?: object };
  /** ali-oss: request headers of Complete (e.g. `x-oss-forbid-overwrite`). */
  headers?: object;
};

/**
 * ali-oss's `completeMultipartUpload` result.
 * @example
 *   const r: CompleteMultipartUploadResult = await client.completeMultipartUpload('big.bin', uploadId, parts, { context });
 *   console.log(r.etag);
 */
export interface CompleteMultipartUploadResult {
  res: any;
  bucket: string;
  name: string;
  etag: string;
  data?: unknown;
}

/**
 * Starts an encrypted multipart upload: a fresh content key wrapped by the client's default material, and an
 * Initiate request carrying every V2 header plus `data-size` and `part-size` (docs/FORMAT.md §2, §5).
 * @param ctx the client context
 * @param name the object key
 * @param options `dataSize` (required), `partSize`, and ali-oss's `meta`, `headers`, `mime`, `timeout`...
 * @returns ali-oss's result plus `context`, the crypto context of the upload
 * @throws {RangeError} when `dataSize` / `partSize` are not valid sizes (e.g. a part size that is not a multiple of 16)
 * @throws {PartError} PART_INVALID when the plan breaks an OSS rule (more than 10,000 parts, parts below 100 KiB)
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when `meta`/`headers` name encryption metadata
 * @throws {KeyWrapError} when the default material cannot wrap; the ali-oss error when OSS refuses
 * @example
 *   const { uploadId, context } = await initMultipartUpload(ctx, 'big.bin', { dataSize: size, partSize: 1 << 20 });
 *   const r = await uploadPart(ctx, 'big.bin', uploadId, 1, firstMiB, context);
 *   await completeMultipartUpload(ctx, 'big.bin', uploadId, [r.part, ...], { context });
 */
export async function initMultipartUpload(
  ctx: ClientContext,
  name: string,
  options: InitMultipartUploadOptions,
): Promise<InitMultipartUploadResult> {
  checkName(name);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`"options" expected an object with "dataSize", got ${options === null ? 'null' : typeof options}`);
  }
  const dataSize = options.dataSize;
  if (typeof dataSize !== 'number' || !Number.isSafeInteger(dataSize) || dataSize < 0) {
    throw new RangeError(`"dataSize" expected a non-negative safe integer (the plaintext size), got ${describeValue(dataSize)}`);
  }
  const partSize = options.partSize ?? choosePartSize(dataSize, { preferred: ctx.partSize });
  // Validates the part size (multiple of 16, ≤ 5 GiB) and the OSS rules before a key is drawn or a request sent.
  planParts(dataSize, partSize);
  const signal = signalOf(options);
  const opts = copyOptions(options);
  delete opts.dataSize;
  delete opts.partSize;
  refuseEncryptionMetaOverride('initMultipartUpload', opts);

  const { result, content, wrapped } = await initiate(ctx, name, opts, { dataSize, partSize }, signal);
  const context = createMultipartCryptoContext({
    ...(typeof result.bucket === 'string' && result.bucket !== '' ? { bucket: result.bucket } : {}),
    name,
    uploadId: result.uploadId,
    dataSize,
    partSize,
    ...wrappedKeyFields(wrapped),
  });
  // This process drew the key: no unwrap is ever needed for this context here.
  rememberContentKey(context, ctx.keyring, content!);
  return { res: result.res, bucket: result.bucket, name: result.name ?? name, uploadId: result.uploadId, context };
}

/**
 * Encrypts and uploads part `partNo` of an encrypted multipart upload. Parts may be sent in any order, in
 * parallel, from any process holding the context.
 * @param ctx the client context
 * @param name the object key (must be the context's)
 * @param uploadId the upload id (must be the context's)
 * @param partNo 1-based part number
 * @param data the part's plaintext: exactly `partSize` bytes, or the rest of the object for the last part
 * @param context the upload's crypto context: as `initMultipartUpload` returned it, or parsed from JSON
 *   (`parseMultipartCryptoContext`, or a plain `JSON.parse` result, validated here)
 * @param options ali-oss's uploadPart options (`timeout`, `headers`...), plus `signal`
 * @returns ali-oss's result plus `part` (`{ number, etag, crc64 }`) for `completeMultipartUpload`
 * @throws {PartError} PART_INVALID: a part number outside the plan, or a length other than the plan's
 * @throws {CheckpointError} CHECKPOINT_MALFORMED for a malformed context; CHECKPOINT_MISMATCH when `name` or
 *   `uploadId` is not the context's
 * @throws {KeyUnwrapError} when the context's key cannot be unwrapped by this client's material
 * @example
 *   const context = parseMultipartCryptoContext(messageFromCoordinator);
 *   const { part } = await uploadPart(ctx, context.name, context.uploadId, 7, bytesOfPart7, context);
 *   reply(JSON.stringify(part));
 */
export async function uploadPart(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  partNo: number,
  data: Uint8Array,
  context: MultipartCryptoContext,
  options?: Record<string, unknown>,
): Promise<UploadPartResult> {
  checkName(name);
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`"data" expected a Buffer or Uint8Array (the part's plaintext), got ${describe(data)}`);
  }
  const c = contextOf(context);
  checkSameUpload(c, name, uploadId);
  const part = checkPart(planOf(c), partNo, data.length, { name });
  const content = await contentKeyOf(ctx, context);
  const signal = signalOf(options);
  const opts = copyOptions(options);
  const headers = uploadEnvelopeHeaders(wrappedKeyOf(c), c);
  return sendPart(ctx, name, uploadId, partNo, opts, headers, signal, () => aesCtrXor(content.key, content.iv, data, part.start, { backend: ctx.backend }));
}

/**
 * Completes an encrypted multipart upload. With `options.context`: refuses a part list that does not hold every
 * planned part exactly once (the object would silently lose bytes), and after completion compares OSS's CRC-64
 * of the object with the combination of the parts' CRC-64s, when OSS sent one and every part carries its
 * `crc64` (as `uploadPart` returns it).
 * @param ctx the client context
 * @param name the object key
 * @param uploadId the upload id
 * @param parts `{ number, etag, crc64? }` for every part (any order)
 * @param options `context`, and ali-oss's complete options (`callback`, `headers`, `progress`...)
 * @returns ali-oss's result (`res`, `bucket`, `name`, `etag`, and `data` with a callback)
 * @throws {PartError} PART_INVALID when, with a context, parts are missing, repeated or outside the plan
 * @throws {IntegrityError} INTEGRITY_CRC64 when the object's CRC-64 is not the parts' combined CRC-64 (the
 *   object exists, but its stored bytes are not the ones sent)
 * @example
 *   await completeMultipartUpload(ctx, name, uploadId, parts, { context });
 */
export async function completeMultipartUpload(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  parts: readonly UploadedPart[],
  options: CompleteMultipartUploadOptions = {},
): Promise<CompleteMultipartUploadResult> {
  checkName(name);
  if (!Array.isArray(parts)) throw new TypeError(`"parts" expected an array of { number, etag }, got ${describe(parts)}`);
  const context = options.context === undefined ? undefined : contextOf(options.context);
  let ordered = [...parts].sort((a, b) => a.number - b.number);
  if (context !== undefined) {
    checkSameUpload(context, name, uploadId);
    ordered = checkAllParts(planOf(context), name, ordered);
  }
  const signal = signalOf(options);
  const opts = copyOptions(options);
  delete opts.context;
  const list = ordered.map((p) => ({ number: p.number, etag: p.etag }));
  let attempts = 0;
  let result: any;
  try {
    result = await withRetry(() => (attempts++, ctx.store.completeMultipartUpload(name, uploadId, list, copyOptions(opts))), ctx.retry, {
      signal,
    });
  } catch (err) {
    // A retried Complete whose first attempt did reach OSS finds the upload gone: check whether the object now is
    // the one this upload made (same wrapped key, same size) before reporting a failure.
    if (attempts > 1 && context !== undefined && (err as { status?: unknown }).status === 404) {
      const done = await completedEarlier(ctx, name, context);
      if (done !== undefined) return done;
    }
    throw err;
  }
  if (context !== undefined) verifyCrc64(name, planOf(context), ordered, result.res?.headers?.[CRC64_HEADER]);
  if (options.context !== undefined) disposeMultipartCryptoContext(options.context);
  return result;
}

/**
 * Aborts a multipart upload (ali-oss passthrough with retries). The parts already uploaded are discarded.
 * @example
 *   await abortMultipartUpload(ctx, name, uploadId);
 */
export async function abortMultipartUpload(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  options?: Record<string, unknown>,
): Promise<any> {
  checkName(name);
  const signal = signalOf(options);
  const opts = copyOptions(options);
  delete opts.context;
  const result = await withRetry(() => ctx.store.abortMultipartUpload(name, uploadId, copyOptions(opts)), ctx.retry, { signal });
  if (options?.context !== undefined) disposeMultipartCryptoContext(options.context as MultipartCryptoContext);
  return result;
}

/**
 * Lists the parts uploaded so far (ali-oss passthrough with retries; one page, as ali-oss does).
 * @example
 *   const { parts } = await listParts(ctx, name, uploadId, { 'max-parts': 1000 });
 */
export async function listParts(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  query?: Record<string, unknown>,
  options?: Record<string, unknown>,
): Promise<any> {
  checkName(name);
  const signal = signalOf(options);
  const opts = copyOptions(options);
  return withRetry(() => ctx.store.listParts(name, uploadId, query, copyOptions(opts)), ctx.retry, { signal });
}

/**
 * Every part of an upload, following ListParts pages (`part-number-marker`) until the list is complete.
 * @returns the parts as ali-oss parses them (`PartNumber`, `ETag`, `Size`, `LastModified`, as strings)
 * @example
 *   const parts = await listAllParts(ctx, name, uploadId);
 */
export async function listAllParts(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  options?: Record<string, unknown>,
  firstPage?: (page: ListPartsResult) => void,
): Promise<Array<Record<string, unknown>>> {
  const all: Array<Record<string, unknown>> = [];
  let marker: unknown;
  for (let page = 0; page < 100; page++) {
    const query: Record<string, unknown> = { 'max-parts': 1000 };
    if (marker !== undefined) query['part-number-marker'] = marker;
    const r = await listParts(ctx, name, uploadId, query, options);
    if (page === 0) firstPage?.(r);
    const parts = Array.isArray(r.parts) ? r.parts : r.parts ? [r.parts] : [];
    all.push(...parts);
    const truncated = r.isTruncated === true || r.isTruncated === 'true';
    if (!truncated || r.nextPartNumberMarker === undefined || r.nextPartNumberMarker === marker) return all;
    marker = r.nextPartNumberMarker;
  }
  // 100 pages of 1000 parts exceed OSS's 10,000-part limit tenfold: the server is not behaving like OSS.
  throw new PartError('PART_INVALID', `ListParts of ${JSON.stringify(name)} did not end after 100 pages of 1000 parts`);
}

/** The 1-based numbers of planned parts missing from a sorted list, for messages. */
function describeNumbers(numbers: readonly number[]): string {
  if (numbers.length <= 10) return numbers.join(', ');
  return `${numbers.slice(0, 10).join(', ')} and ${numbers.length - 10} more`;
}

// ---------------------------------------------------------------------------------------------------------------

function checkSameUpload(context: MultipartCryptoContext, name: string, uploadId: string): void {
  const problems: string[] = [];
  if (name !== context.name) problems.push(`the context is for object ${JSON.stringify(context.name)}, not ${JSON.stringify(name)}`);
  if (uploadId !== context.uploadId) {
    problems.push(`the context is for upload ${JSON.stringify(context.uploadId)}, not ${JSON.stringify(String(uploadId))}`);
  }
  if (problems.length > 0) {
    throw new CheckpointError('CHECKPOINT_MISMATCH', `the multipart crypto context does not match this call: ${problems.join('; ')}`);
  }
}

function checkAllParts(plan: PartPlan, name: string, sorted: UploadedPart[]): UploadedPart[] {
  const seen = new Map<number, UploadedPart>();
  for (const p of sorted) {
    if (p === null || typeof p !== 'object' || !Number.isSafeInteger(p.number) || typeof p.etag !== 'string') {
      throw new TypeError(`"parts" expected entries { number, etag }, got ${describe(p)}`);
    }
    if (p.number < 1 || p.number > plan.partCount) {
      throw new PartError('PART_INVALID', `part ${p.number} of ${JSON.stringify(name)} is outside the plan of ${plan.partCount} parts (dataSize ${plan.dataSize}, partSize ${plan.partSize})`);
    }
    const before = seen.get(p.number);
    if (before !== undefined && before.etag !== p.etag) {
      throw new PartError('PART_INVALID', `part ${p.number} of ${JSON.stringify(name)} is listed twice with different ETags`);
    }
    seen.set(p.number, p);
  }
  const missing = plan.parts.map((p) => p.partNumber).filter((n) => !seen.has(n));
  if (missing.length > 0) {
    throw new PartError(
      'PART_INVALID',
      `cannot complete ${JSON.stringify(name)}: part${missing.length > 1 ? 's' : ''} ${describeNumbers(missing)} of ${plan.partCount} ` +
        `(dataSize ${plan.dataSize} in parts of ${plan.partSize}) ${missing.length > 1 ? 'are' : 'is'} missing; completing now would store a shorter object`,
    );
  }
  return [...seen.values()];
}

function verifyCrc64(name: string, plan: PartPlan, parts: readonly UploadedPart[], reported: unknown): void {
  const text = Array.isArray(reported) ? reported[0] : reported;
  if (typeof text !== 'string' || parts.some((p) => p.crc64 === undefined)) return;
  const objectCrc = parseCrc64Decimal(text, CRC64_HEADER);
  let combined = 0n;
  for (const p of parts) combined = crc64Combine(combined, BigInt(p.crc64!), plan.parts[p.number - 1].length);
  if (combined !== objectCrc) {
    throw new IntegrityError(
      'INTEGRITY_CRC64',
      `CompleteMultipartUpload of ${JSON.stringify(name)} reported CRC-64 ${text} (${CRC64_HEADER}), but the CRC-64s OSS ` +
        `reported for its ${parts.length} parts (UploadPart responses) combine to ${crc64ToDecimal(combined)}; the stored ` +
        'object is not the concatenation of the parts that were sent',
    );
  }
}

async function completedEarlier(ctx: ClientContext, name: string, context: MultipartCryptoContext): Promise<CompleteMultipartUploadResult | undefined> {
  try {
    const h = await withRetry(() => ctx.store.headObject(name, {}), ctx.retry);
    const headers = h.res?.headers ?? {};
    const key = headerOf(headers, 'x-oss-meta-client-side-encryption-key');
    const length = Number(headerOf(headers, 'content-length'));
    if (key === context.wrappedKey && length === context.dataSize) {
      return { res: h.res, bucket: (context.bucket ?? ctx.store.bucket) as string, name, etag: headerOf(headers, 'etag') ?? '' };
    }
  } catch {
    // Fall through: report the original error.
  }
  return undefined;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`"name" expected a non-empty object key, got ${describe(name)}`);
}
