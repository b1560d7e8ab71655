/**
 * The two requests of an encrypted multipart upload that both the low-level API (parts-api.ts) and the managed
 * upload (upload-run.ts) send: Initiate with a fresh content key and the V2 headers, and one encrypted part with
 * retries, each retry encrypting again from the part's own offset (docs/FORMAT.md §2, §5, §6).
 *
 * Every UploadPart carries the upload's full V2 header set (key, start, cek-alg, wrap-alg, matdesc, data-size,
 * part-size, exactly as Initiate sent them), as the Go v2 SDK does: OSS compares them with Initiate's and refuses a
 * part for another key or another plan (0005-00000412…418), so a part can never join an upload under a key this
 * client did not start it with (a planted checkpoint or upload id fails at the first part, not at read time).
 *
 * Deliberately not here: plans, checkpoints and the part loop.
 * @module
 */
import { encodeEnvelope, metaFromEnvelope } from '../envelope/codec.js';
import { CEK_ALG } from '../envelope/headers.js';
import type { ContentKey, WrappedContentKey } from '../keys/types.js';
import { responseFacts } from '../oss/response.js';
import { commitmentMeta } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { copyOptions } from '../transfer/request-options.js';
import { withRetry } from '../util/retry.js';
import type { UploadedPart } from './checkpoint.js';

/**
 * What UploadPart answers, plus the record to hand to `completeMultipartUpload`.
 * @example
 *   const r: UploadPartResult = await client.uploadPart('big.bin', uploadId, 1, bytes, context);
 *   parts.push(r.part);
 */
export interface UploadPartResult {
  name: string;
  etag: string;
  res: any;
  /** `{ number, etag, crc64 }`: push it into the list of parts to complete. */
  part: UploadedPart;
}

/**
 * The sizes an upload declares at Initiate: OSS requires both for a client-side-encrypted multipart upload
 * (0005-00000406/407), so the total must be known before Initiate.
 */
export interface UploadSizes {
  readonly dataSize: number;
  readonly partSize: number;
}

/**
 * The V2 headers (full `x-oss-meta-client-side-encryption-*` names) every request of one upload carries:
 * Initiate's `meta` and each UploadPart's `headers`.
 * @example
 *   const headers = uploadEnvelopeHeaders(wrapped, { dataSize, partSize });
 */
export function uploadEnvelopeHeaders(wrapped: WrappedContentKey, sizes: UploadSizes): Record<string, string> {
  return encodeEnvelope({ format: 'v2', cekAlg: CEK_ALG.ctr, wrapped, dataSize: sizes.dataSize, partSize: sizes.partSize });
}

/**
 * Sends Initiate with the V2 headers, `data-size` and `part-size` included, under a content key drawn here or,
 * with `key`, under one the caller drew (a spooled stream is encrypted before Initiate), plus the key commitment
 * under a writing policy. `opts` are the caller's ali-oss options, already copied and checked.
 * @example
 *   const { result, content, wrapped } = await initiate(ctx, name, opts, { dataSize, partSize: 1 << 20 }, signal);
 */
export async function initiate(
  ctx: ClientContext,
  name: string,
  opts: Record<string, any>,
  sizes: UploadSizes,
  signal: AbortSignal | undefined,
  key?: { content: ContentKey; wrapped: WrappedContentKey },
): Promise<{ result: any; content: ContentKey; wrapped: WrappedContentKey }> {
  const { content, wrapped } = key ?? (await ctx.keyring.createContentKey());
  const env = { format: 'v2' as const, cekAlg: CEK_ALG.ctr, wrapped, dataSize: sizes.dataSize, partSize: sizes.partSize };
  const withMeta = { ...opts, meta: { ...(opts.meta ?? {}), ...metaFromEnvelope(env), ...(await commitmentMeta(ctx.commitment, content, env)) } };
  const result = await withRetry<any>(() => ctx.store.initiateMultipartUpload(name, copyOptions(withMeta)), ctx.retry, { signal });
  return { result, content, wrapped };
}

/**
 * Sends one encrypted part with retries, carrying `envelopeHeaders` (see {@link uploadEnvelopeHeaders});
 * `encrypt` runs again for every attempt, so a re-sent part is encrypted afresh from its own offset.
 * @example
 *   const { part } = await sendPart(ctx, name, uploadId, 1, {}, headers, signal, () => encryptPart1());
 */
export async function sendPart(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  partNo: number,
  opts: Record<string, any>,
  envelopeHeaders: Readonly<Record<string, string>>,
  signal: AbortSignal | undefined,
  encrypt: (attempt: number) => Uint8Array | Promise<Uint8Array>,
): Promise<UploadPartResult> {
  const withHeaders = { ...opts, headers: { ...(opts.headers ?? {}), ...envelopeHeaders } };
  const r = await withRetry<any>(
    async (attempt) => {
      return ctx.store.uploadPart(name, uploadId, partNo, await encrypt(attempt), copyOptions(withHeaders));
    },
    ctx.retry,
    { signal },
  );
  const crc = responseFacts(r.res).crc64;
  const part: UploadedPart = {
    number: partNo,
    etag: r.etag,
    ...(crc !== undefined && /^(0|[1-9][0-9]{0,19})$/.test(crc) ? { crc64: crc } : {}),
  };
  return { name: r.name ?? name, etag: r.etag, res: r.res, part };
}
