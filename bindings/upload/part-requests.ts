/**
 * The two requests of an encrypted multipart upload that both the low-level API (parts-api.ts) and the managed
 * upload (upload-run.ts) send: Initiate with a fresh content key and the V2 headers, and one encrypted part with
 * retries, each retry encrypting again from the part's own offset (docs/FORMAT.md §2, §5, §6).
 *
 * Deliberately not here: plans, checkpoints and the part loop.
 * @module
 */
import { metaFromEnvelope } from '../envelope/codec.js';
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
 * Draws a content key and sends Initiate with the V2 headers (plus `data-size` / `part-size` when the size is
 * known: a stream of unknown size leaves both out, and readers need neither). `opts` are the caller's ali-oss
 * options, already copied and checked.
 * @example
 *   const { result, content, wrapped } = await initiate(ctx, name, opts, { dataSize, partSize: 1 << 20 }, signal);
 */
export async function initiate(
  ctx: ClientContext,
  name: string,
  opts: Record<string, any>,
  sizes: { dataSize?: number; partSize: number },
  signal: AbortSignal | undefined,
): Promise<{ result: any; content: ContentKey; wrapped: WrappedContentKey }> {
  const { content, wrapped } = await ctx.keyring.createContentKey();
  const multipart = sizes.dataSize === undefined ? {} : { dataSize: sizes.dataSize, partSize: sizes.partSize };
  const env = { format: 'v2' as const, cekAlg: CEK_ALG.ctr, wrapped, ...multipart };
  const withMeta = { ...opts, meta: { ...(opts.meta ?? {}), ...metaFromEnvelope(env), ...(await commitmentMeta(ctx.commitment, content, env)) } };
  const result = await withRetry<any>(() => ctx.store.initiateMultipartUpload(name, copyOptions(withMeta)), ctx.retry, { signal });
  return { result, content, wrapped };
}

/**
 * Sends one encrypted part with retries; `encrypt` runs again for every attempt, so a re-sent part is encrypted
 * afresh from its own offset.
 * @example
 *   const { part } = await sendPart(ctx, name, uploadId, 1, {}, signal, () => encryptPart1());
 */
export async function sendPart(
  ctx: ClientContext,
  name: string,
  uploadId: string,
  partNo: number,
  opts: Record<string, any>,
  signal: AbortSignal | undefined,
  encrypt: (attempt: number) => Uint8Array | Promise<Uint8Array>,
): Promise<UploadPartResult> {
  const r = await withRetry<any>(
    async (attempt) => {
      return ctx.store.uploadPart(name, uploadId, partNo, await encrypt(attempt), copyOptions(opts));
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
