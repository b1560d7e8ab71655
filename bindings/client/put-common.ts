/**
 * What every encrypting single-request put shares, whatever its stream library (Node's put.ts, the web's
 * web-put.ts): the options (`contentMd5`, a Content-MD5 header read as the plaintext's MD5, encryption metadata
 * refused), the envelope headers of a new object, and the retry rule that recognises our own earlier write
 * behind a 409 `FileAlreadyExists` (docs/FORMAT.md §2, §5).
 *
 * Deliberately not here: reading sources and encrypting them (the put modules).
 * @module
 */
import { aesCtrXor } from '../cipher/aes-ctr.js';
import { metaFromEnvelope, type Envelope } from '../envelope/codec.js';
import { CEK_ALG, ENVELOPE_HEADERS } from '../envelope/headers.js';
import { IntegrityError } from '../errors.js';
import type { ContentKey } from '../keys/types.js';
import { commitmentMeta } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { md5Bytes, refuseEncryptionMetaOverride } from '../transfer/metadata.js';
import { copyOptions, signalOf } from '../transfer/request-options.js';
import { describe } from '../util/describe.js';
import { withRetry } from '../util/retry.js';
import { REFUSED_REASONS, refuse } from './refused.js';

/**
 * Options of {@link put} / {@link putStream}: ali-oss's, plus the ones this client adds.
 * @example
 *   const options: PutOptions = { meta: { owner: 'me' }, mime: 'text/csv', contentMd5: true, signal };
 *   await client.put('report.csv', '/data/report.csv', options);
 */
export type PutOptions = {
  /** ali-oss: user metadata (names without `x-oss-meta-`). Encryption metadata names are refused. */
  meta?: { readonly [name: string]: string | number };
  /** ali-oss: request headers. A `Content-MD5` is read as the MD5 of the **plaintext** (verified, recorded). */
  headers?: object;
  /** ali-oss: Content-Type, or an extension to look it up from. */
  mime?: string;
  /** ali-oss (putStream): the stream's length; recorded as `unencrypted-content-length` and checked. */
  contentLength?: number;
  /**
   * Record `unencrypted-content-md5`: `true` computes it (Buffer and path sources), a string (hex or base64) is
   * the caller's MD5 of the plaintext, verified while uploading. Default: the client's `contentMd5` option.
   */
  contentMd5?: boolean | string;
  /** Aborts the upload (between retries, and mid-stream). */
  signal?: AbortSignal;
  /** ali-oss: milliseconds (or `[connect, response]`). */
  timeout?: number | readonly [number, number];
  /** ali-oss: a Koa context, passed through. */
  ctx?: unknown;
  /** ali-oss: an upload callback OSS calls after the object is written (its answer is the result's `data`). */
  callback?: { url: string; host?: string; body: string; contentType?: string; customValue?: object };
  /** ali-oss: skip the Content-MD5 ali-oss computes of the body (it is ciphertext; the plaintext MD5 is `contentMd5`). */
  disabledMD5?: boolean;
};

/** `compute`: hash the plaintext and record it. A Uint8Array: the caller's claim, to verify and record. */
export type Md5Request = 'compute' | Uint8Array | undefined;

export function prepare(operation: string, ctx: ClientContext, options: PutOptions | undefined) {
  const signal = signalOf(options);
  const opts = copyOptions(options);
  const subres = opts.subres;
  if ((subres && typeof subres === 'object' && 'append' in subres) || String(opts.method ?? 'PUT').toUpperCase() !== 'PUT') {
    refuse(operation, REFUSED_REASONS.append);
  }
  refuseEncryptionMetaOverride(operation, opts);
  let md5: Md5Request;
  const asked = opts.contentMd5 ?? ctx.contentMd5;
  delete opts.contentMd5;
  if (typeof asked === 'string') {
    md5 = parseClaimedMd5('contentMd5', asked);
  } else if (asked === true) {
    md5 = 'compute';
  } else if (asked !== false && asked !== undefined) {
    throw new TypeError(`"contentMd5" expected a boolean or an MD5 string, got ${describe(asked)}`);
  }
  // A Content-MD5 header would be checked by OSS against the ciphertext; the caller meant the plaintext.
  const headers = (opts.headers ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() !== 'content-md5') continue;
    const claimed = parseClaimedMd5(`headers.${k}`, String(headers[k]));
    if (md5 instanceof Uint8Array && !equalBytes(md5, claimed)) {
      throw new TypeError(`"contentMd5" and "headers.${k}" name different MD5s of the same plaintext`);
    }
    md5 = claimed;
    delete headers[k];
  }
  opts.headers = headers;
  return { opts, md5, signal };
}

/**
 * The attempts of one put under the retry policy. `attempt` records the wrapped key it sends in `sent`.
 *
 * With `x-oss-forbid-overwrite: true`, an attempt whose response was lost (reset, timeout, 5xx after the write)
 * may have stored the object, and the retry then gets 409 `FileAlreadyExists` for our own write. Every object
 * has its own random content key, so a HEAD that finds the wrapped key of one of our earlier attempts (and the
 * planned size) proves the object is ours: the put succeeded, and its result is built from that HEAD (without
 * ali-oss's `data`, the callback answer, which was lost with the response). Anything else at the key stays
 * the 409 it is.
 */
export async function retryPut(
  ctx: ClientContext,
  name: string,
  size: number,
  attempt: (sent: string[]) => Promise<any>,
  signal: AbortSignal | undefined,
): Promise<any> {
  const sent: string[] = [];
  try {
    return await withRetry(() => attempt(sent), ctx.retry, { signal });
  } catch (err) {
    const e = err as { status?: unknown; code?: unknown } | null;
    if (sent.length < 2 || e?.status !== 409 || e.code !== 'FileAlreadyExists') throw err;
    let found: any;
    try {
      found = await withRetry(() => ctx.store.headObject(name, {}), ctx.retry, { signal });
    } catch {
      throw err;
    }
    const headers: Record<string, unknown> = found?.res?.headers ?? {};
    const stored = headers[ENVELOPE_HEADERS.v2.key];
    // The last attempt was refused, so only the earlier ones can have stored anything.
    const earlier = sent.slice(0, -1);
    if (typeof stored !== 'string' || !earlier.includes(stored) || Number(headers['content-length']) !== size) throw err;
    return { name, url: ctx.store.objectUrl(name), res: found.res };
  }
}

export async function envelopeMeta(
  ctx: ClientContext,
  opts: Record<string, any>,
  content: ContentKey,
  wrapped: Envelope['wrapped'],
  length: number | undefined,
  md5Base64: string | undefined,
) {
  const env: Envelope = {
    format: 'v2',
    cekAlg: CEK_ALG.ctr,
    wrapped,
    ...(length !== undefined ? { unencryptedContentLength: length } : {}),
    ...(md5Base64 !== undefined ? { unencryptedContentMd5: md5Base64 } : {}),
  };
  return { ...((opts.meta as Record<string, unknown>) ?? {}), ...metaFromEnvelope(env), ...(await commitmentMeta(ctx.commitment, content, env)) };
}

/**
 * Encrypts bytes already in memory under a fresh content key and sends them in one PutObject (retried by
 * {@link retryPut}), wiping the key however it ends. Both clients' byte puts share it; `toBody` adapts the
 * ciphertext to what the store takes (a Buffer view for ali-oss, the bytes as they are for fetch).
 * @example
 *   return putEncryptedBytes(ctx, name, data, opts, md5Text, signal, (ct) => ct);
 */
export async function putEncryptedBytes(
  ctx: ClientContext,
  name: string,
  data: Uint8Array,
  opts: Record<string, any>,
  md5Base64: string | undefined,
  signal: AbortSignal | undefined,
  toBody: (ciphertext: Uint8Array) => Uint8Array,
): Promise<any> {
  signal?.throwIfAborted();
  const created = await ctx.keyring.createContentKey();
  try {
    const body = toBody(aesCtrXor(created.content.key, created.content.iv, data, 0, { backend: ctx.backend }));
    const meta = await envelopeMeta(ctx, opts, created.content, created.wrapped, data.length, md5Base64);
    return await retryPut(
      ctx,
      name,
      data.length,
      (sent) => {
        sent.push(created.wrapped.wrappedKey);
        return ctx.store.putObject(name, body, { ...opts, headers: { ...opts.headers }, meta });
      },
      signal,
    );
  } finally {
    wipe(created.content);
  }
}

export function parseClaimedMd5(where: string, text: string): Uint8Array {
  const bytes = md5Bytes(text);
  if (bytes === undefined) {
    throw new TypeError(`"${where}" expected an MD5 as 32 hex digits or 24 base64 characters, got ${JSON.stringify(text)}`);
  }
  return bytes;
}

export function md5Mismatch(name: string, claimed: Uint8Array, actual: Uint8Array, what: string): IntegrityError {
  return new IntegrityError(
    'INTEGRITY_MD5',
    `put ${JSON.stringify(name)}: the MD5 of ${what} differs from the one the caller gave, ` +
      `${hex(claimed)} (contentMd5 / Content-MD5); nothing was stored`,
  );
}

export function wipe(content: ContentKey): void {
  // Best effort: JS gives no guarantee that no other copy exists.
  content.key.fill(0);
  content.iv.fill(0);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}


/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Base64 of an MD5 as `unencrypted-content-md5` records it. */
export { encodeBase64 as md5Base64 } from '../util/base64.js';
