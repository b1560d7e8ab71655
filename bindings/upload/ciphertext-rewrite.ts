/**
 * Writing an encrypted object again from its own ciphertext: the only way to change what OSS keeps beside it.
 * OSS refuses a CopyObject that changes the metadata of a client-side-encrypted object (0005-00000421), and its
 * advice is to upload the object again; this module does that without ever decrypting. The source's ciphertext is
 * read in ranged GETs (conditioned on its ETag, so a source replaced meanwhile fails the rewrite with 412) and sent
 * unchanged as the parts of a new multipart upload whose Initiate and every UploadPart carry the source's V2
 * headers as stored (never re-encoded: an oss2 KMS blob keeps its double base64) with this upload's `data-size`
 * and `part-size`. Used by `putMeta` / `copy` with `rewrite: true` (new user metadata, same wrapped key), and built
 * for key rotation (the same ciphertext under a new wrapping of the same content key: pass `envelope`).
 *
 * The key commitment (docs/FORMAT.md §10) is part of the stored envelope and is kept: copied as it is when the new
 * envelope commits to the same fields, otherwise (new `data-size` / `part-size`, a rotation) the source's is
 * verified under its unwrapped content key and one for the new envelope written; a source without one gets one
 * under a writing policy. The content key is unwrapped for that only, never used on data, and wiped.
 *
 * Checks: every part's bytes are the planned length, OSS's CRC-64 of each part is the one computed here, and the
 * parts' combined CRC-64 equals both the source's (from its HEAD, when OSS gave one) and the completed object's;
 * so the new object holds exactly the source's bytes. Memory: `parallel × partSize` at most. A failure aborts the
 * new upload; the source is untouched until Complete replaces it (for a rewrite onto the same key), and after a
 * failure stays as it was.
 *
 * Deliberately not here: the decision to rewrite (client/object.ts), plaintext anything.
 * @module
 */
import { decodeEnvelope, headersFromMeta, type Envelope, type HeadersInput } from '../envelope/codec.js';
import { commitmentFromHeaders, computeCommitment, encodeCommitmentInput, COMMITMENT_HEADER } from '../envelope/commitment.js';
import { ENVELOPE_HEADERS, META_PREFIX } from '../envelope/headers.js';
import { IntegrityError, UnsupportedOperationError } from '../errors.js';
import { crc64, crc64Combine, crc64ToDecimal, parseCrc64Decimal } from '../integrity/crc64.js';
import { CRC64_HEADER, headerOf } from '../oss/response.js';
import { unwrapCommitted } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { encryptionMetaOf } from '../transfer/metadata.js';
import { withRetry } from '../util/retry.js';
import { choosePartSize, planParts, type PlannedPart } from './plan.js';

/** What a rewrite keeps of the source unless told otherwise (OSS's object content headers). */
const CONTENT_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-disposition', 'cache-control', 'expires'];

/** The V2 headers every UploadPart of the rewrite repeats from Initiate (as the Go v2 SDK sends them). */
const PART_HEADERS = ['key', 'start', 'cekAlg', 'wrapAlg', 'matdesc', 'dataSize', 'partSize'] as const;

/**
 * Options of {@link rewriteCiphertext}.
 * @example
 *   const options: CiphertextRewriteOptions = { source: 'a.bin', meta: { owner: 'me' } };
 */
export interface CiphertextRewriteOptions {
  /** The encrypted object to read, in the client's bucket. */
  readonly source: string;
  /** User metadata of the new object (names without `x-oss-meta-`); default: none. */
  readonly meta?: Readonly<Record<string, string | number>>;
  /** Headers of Initiate (`Content-Type`, `Cache-Control`...), replacing the source's; `x-oss-meta-*` ones are not allowed here. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Replacement envelope fields (short meta names, e.g. `client-side-encryption-key`) for key rotation: the same
   * content key wrapped anew. Default: the source's, as stored.
   */
  readonly envelope?: Readonly<Record<string, string>>;
  /** Part size (a multiple of 16); default the client's, raised to fit 10,000 parts. */
  readonly partSize?: number;
  /** Parts in flight; default the client's `parallel`. */
  readonly parallel?: number;
  readonly signal?: AbortSignal;
}

/**
 * Writes `target` from the ciphertext of `options.source`, with new user metadata (and optionally a new
 * envelope), never decrypting.
 * @param ctx the client context
 * @param target the key to write (may be the source's own key)
 * @param options see {@link CiphertextRewriteOptions}
 * @returns CompleteMultipartUpload's result (`res`, `bucket`, `name`, `etag`)
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when the source carries no encryption metadata
 * @throws {IntegrityError} INTEGRITY_CRC64 when a part or the object is not the source's bytes;
 *   INTEGRITY_LENGTH when a ranged GET returns another length
 * @throws the store's error (e.g. 412 when the source changed during the rewrite); the new upload is aborted
 * @example
 *   await rewriteCiphertext(ctx, 'a.bin', { source: 'a.bin', meta: { owner: 'me' } });
 */
export async function rewriteCiphertext(ctx: ClientContext, target: string, options: CiphertextRewriteOptions): Promise<any> {
  const { signal } = options;
  const head = await withRetry(() => ctx.store.headObject(options.source, {}), ctx.retry, { signal });
  const headers = head.res.headers;
  const sourceEnvelope = decodeEnvelope(headers);
  if (sourceEnvelope === null) {
    throw new UnsupportedOperationError('OPERATION_UNSUPPORTED', `rewrite: ${JSON.stringify(options.source)} carries no encryption metadata; nothing to rewrite`);
  }
  if (sourceEnvelope.format !== 'v2') {
    // A V1 envelope has no data-size / part-size, and OSS checks only the V2 names: the rewrite would mix both.
    throw new UnsupportedOperationError('OPERATION_UNSUPPORTED', `rewrite: ${JSON.stringify(options.source)} has a V1 envelope; only V2 objects can be rewritten`);
  }
  // Content headers stay as they were unless the caller gives new ones.
  const kept: Record<string, string> = {};
  for (const name of CONTENT_HEADERS) {
    const value = headerOf(headers, name);
    if (value !== undefined) kept[name] = value;
  }
  const size = Number(headerOf(headers, 'content-length'));
  const etag = headerOf(headers, 'etag');
  const sourceCrc = headerOf(headers, CRC64_HEADER);
  const partSize = options.partSize ?? Math.max(ctx.partSize, choosePartSize(size, { preferred: ctx.partSize }));
  const plan = planParts(size, partSize);

  // The source's envelope as stored (short meta names), this upload's sizes, and a rotation's replacements.
  const envelope: Record<string, string> = { ...encryptionMetaOf(headers), ...(options.envelope ?? {}) };
  envelope[short(ENVELOPE_HEADERS.v2.dataSize)] = String(size);
  envelope[short(ENVELOPE_HEADERS.v2.partSize)] = String(partSize);
  await commitEnvelope(ctx, options.source, headers, sourceEnvelope, envelope);
  const partHeaders: Record<string, string> = {};
  for (const field of PART_HEADERS) {
    const name = short(ENVELOPE_HEADERS.v2[field]);
    if (envelope[name] !== undefined) partHeaders[META_PREFIX + name] = envelope[name];
  }

  const init = await withRetry(
    () => ctx.store.initiateMultipartUpload(target, { meta: { ...(options.meta ?? {}), ...envelope }, headers: { ...kept, ...(options.headers ?? {}) } }),
    ctx.retry,
    { signal },
  );
  const uploadId = init.uploadId;
  try {
    const crcs: bigint[] = new Array(plan.partCount);
    const etags: string[] = new Array(plan.partCount);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.partCount) {
        const part = plan.parts[next++];
        signal?.throwIfAborted();
        const bytes = await readPart(ctx, options.source, etag, part, signal);
        crcs[part.partNumber - 1] = crc64(bytes);
        const r = await withRetry(() => ctx.store.uploadPart(target, uploadId, part.partNumber, bytes, { headers: { ...partHeaders } }), ctx.retry, { signal });
        const sent = headerOf(r.res.headers, CRC64_HEADER);
        if (sent !== undefined && parseCrc64Decimal(sent) !== crcs[part.partNumber - 1]) {
          throw new IntegrityError('INTEGRITY_CRC64', `rewrite of ${JSON.stringify(target)}: OSS stored part ${part.partNumber} with CRC-64 ${sent}, not the ${crc64ToDecimal(crcs[part.partNumber - 1])} sent`);
        }
        etags[part.partNumber - 1] = r.etag;
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.parallel ?? ctx.parallel, plan.partCount) }, worker));
    const combined = plan.parts.reduce((acc, p, i) => (i === 0 ? crcs[0] : crc64Combine(acc, crcs[i], p.length)), 0n);
    if (sourceCrc !== undefined && parseCrc64Decimal(sourceCrc) !== combined) {
      throw new IntegrityError('INTEGRITY_CRC64', `rewrite of ${JSON.stringify(options.source)}: the bytes read have CRC-64 ${crc64ToDecimal(combined)}, the source's is ${sourceCrc}`);
    }
    const parts = etags.map((e, i) => ({ number: i + 1, etag: e }));
    const result = await withRetry(() => ctx.store.completeMultipartUpload(target, uploadId, parts, {}), ctx.retry, { signal });
    const stored = headerOf(result.res.headers, CRC64_HEADER);
    if (stored !== undefined && parseCrc64Decimal(stored) !== combined) {
      throw new IntegrityError('INTEGRITY_CRC64', `rewrite of ${JSON.stringify(target)}: the object's CRC-64 is ${stored}, the parts' ${crc64ToDecimal(combined)}`);
    }
    return result;
  } catch (err) {
    await ctx.store.abortMultipartUpload(target, uploadId, {}).catch(() => {});
    throw err;
  }
}

/**
 * Keeps the key commitment with the rewritten envelope `envelope` (short meta names, edited in place): the source's
 * value when it still covers the same fields, else a new one computed under the source's verified content key.
 */
async function commitEnvelope(ctx: ClientContext, source: string, headers: HeadersInput, sourceEnv: Envelope, envelope: Record<string, string>): Promise<void> {
  const name = short(COMMITMENT_HEADER);
  const present = commitmentFromHeaders(headers) !== undefined;
  if (!present && ctx.commitment !== 'write' && ctx.commitment !== 'require') return;
  delete envelope[name];
  const next = decodeEnvelope(headersFromMeta(envelope));
  if (next === null) throw new UnsupportedOperationError('OPERATION_UNSUPPORTED', `rewrite: the new envelope of ${JSON.stringify(source)} does not decode`);
  if (present && equalBytes(encodeCommitmentInput(sourceEnv), encodeCommitmentInput(next))) {
    envelope[name] = String(headerOf(headers, COMMITMENT_HEADER));
    return;
  }
  const content = await unwrapCommitted(ctx.commitment, source, headers, sourceEnv, () => ctx.keyring.unwrap(sourceEnv.wrapped));
  try {
    envelope[name] = await computeCommitment(content, next);
  } finally {
    content.key.fill(0);
    content.iv.fill(0);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** One part's ciphertext: a ranged GET on the source's ETag, checked for its length. */
async function readPart(ctx: ClientContext, source: string, etag: string | undefined, part: PlannedPart, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (part.length === 0) return new Uint8Array(0);
  const range = `bytes=${part.start}-${part.start + part.length - 1}`;
  const got = await withRetry(
    () => ctx.store.getObject(source, { headers: { Range: range, ...(etag === undefined ? {} : { 'If-Match': etag }) } }),
    ctx.retry,
    { signal },
  );
  const bytes = typeof got.content === 'string' ? new TextEncoder().encode(got.content) : got.content ?? new Uint8Array(0);
  if (got.res.status !== 206 || bytes.length !== part.length) {
    throw new IntegrityError(
      'INTEGRITY_LENGTH',
      `rewrite of ${JSON.stringify(source)}: ${range} answered ${got.res.status} with ${bytes.length} bytes, not 206 with ${part.length}`,
    );
  }
  return bytes;
}

/** `x-oss-meta-client-side-encryption-key` → `client-side-encryption-key` (ali-oss `meta` names). */
function short(header: string): string {
  return header.slice(META_PREFIX.length);
}
