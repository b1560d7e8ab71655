/**
 * What a decrypting read decides before the first byte, for every read path (Node's get.ts and the web's
 * web-read.ts): the request's Range planned as sent (never widened; `x-oss-range-behavior: standard`), and from
 * the answer's headers, what the body must be: the envelope decoded (a plain object meets the plaintext
 * policy), `Content-Range` exactly the range asked for, the size equal to any recorded length, the CRC-64 and
 * MD5 to check for a whole object, and the keystream positioned where the body really starts
 * (docs/FORMAT.md §1, §4, §6). The object's key is unwrapped once per operation ({@link KeyCache}).
 *
 * Deliberately not here: streams of any library, and retries (the read paths own both).
 * @module
 */
import { aesCtr } from '../cipher/aes-ctr.js';
import { decodeEnvelope, type Envelope } from '../envelope/codec.js';
import { IntegrityError, PlaintextObjectError } from '../errors.js';
import { parseCrc64Decimal } from '../integrity/crc64.js';
import type { ContentKey } from '../keys/types.js';
import { unwrapCommitted } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { applyRangeHeaders, checkRangedResponse, planRangedRead, rangeFromHeaders, type RangedReadPlan } from '../transfer/range.js';
import { copyOptions } from '../transfer/request-options.js';
import { checkRecorded } from '../transfer/verify-policy.js';
import type { BodyCheckOptions } from './body-check.js';

/**
 * What the body of an answer must be, and whether it is encrypted.
 * @example
 *   const { spec, encrypted } = await checkReadResponse(ctx, name, plan, res, keys);
 */
export interface ReadCheck {
  readonly spec: BodyCheckOptions;
  readonly encrypted: boolean;
  /** A 304: no body. */
  readonly notModified: boolean;
}

/**
 * The caller's options copied for the store, with the Range planned and its headers applied.
 * @example
 *   const { base, plan } = planRead(options);
 *   await ctx.store.openObject(name, copyOptions(base));
 */
export function planRead(options: Record<string, unknown> | undefined): { base: Record<string, any>; plan: RangedReadPlan | undefined } {
  const base = copyOptions(options);
  const range = rangeFromHeaders(base.headers);
  const plan: RangedReadPlan | undefined = range === undefined ? undefined : planRangedRead(range);
  if (plan) base.headers = applyRangeHeaders(base.headers, plan);
  return { base, plan };
}

/** Unwraps each distinct wrapped key once per operation (docs/FORMAT.md §7: oss2 unwraps per range). */
export class KeyCache {
  #id: string | undefined;
  #content: ContentKey | undefined;

  async get(ctx: ClientContext, env: Envelope): Promise<ContentKey> {
    const id = `${env.wrapped.wrapAlg}\n${env.wrapped.wrappedKey}\n${env.wrapped.wrappedStart}`;
    if (this.#content === undefined || this.#id !== id) {
      this.wipe();
      this.#content = await ctx.keyring.unwrap(env.wrapped);
      this.#id = id;
    }
    return this.#content;
  }

  wipe(): void {
    // Best effort: JS gives no guarantee that no other copy exists.
    this.#content?.key.fill(0);
    this.#content?.iv.fill(0);
    this.#content = undefined;
    this.#id = undefined;
  }
}

/**
 * Checks an answer's headers against the request and the envelope, and says what its body must be.
 * @throws {PlaintextObjectError} PLAINTEXT_REJECTED for a plain object under the `reject` policy
 * @throws {IntegrityError} INTEGRITY_RANGE / INTEGRITY_LENGTH
 * @throws {MetadataError} / {KeyUnwrapError} for broken metadata or a key that no material opens
 * @example
 *   const check = await checkReadResponse(ctx, 'a.bin', plan, { status, headers }, new KeyCache());
 */
export async function checkReadResponse(
  ctx: ClientContext,
  name: string,
  plan: RangedReadPlan | undefined,
  res: { status: number; headers: Record<string, any> },
  keys: KeyCache,
): Promise<ReadCheck> {
  const headers = res.headers;
  if (res.status === 304) {
    // Not modified (If-None-Match / If-Modified-Since): no body, nothing to decrypt.
    return { spec: { name, expected: 0 }, encrypted: decodeEnvelope(headers) !== null, notModified: true };
  }
  const env = decodeEnvelope(headers);
  if (env === null && ctx.plaintext === 'reject') {
    throw new PlaintextObjectError(
      'PLAINTEXT_REJECTED',
      `object ${JSON.stringify(name)} has no client-side-encryption metadata (it was stored unencrypted, or its ` +
        `metadata was removed); the client's plaintext policy is 'reject'. Use plaintext: 'allow' to read plain objects`,
    );
  }
  let cipherOffset = 0;
  let expected: number;
  let total: number;
  if (plan) {
    const sel = checkRangedResponse(plan, res);
    cipherOffset = sel.cipherOffset;
    expected = sel.keepLength;
    total = sel.totalSize;
  } else {
    if (res.status !== 200) {
      throw new IntegrityError(
        'INTEGRITY_RANGE',
        `get ${JSON.stringify(name)}: the server answered ${res.status} to a request for the whole object (no Range was sent)`,
      );
    }
    const length = Number(headerOf(headers, 'content-length'));
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new IntegrityError(
        'INTEGRITY_LENGTH',
        `get ${JSON.stringify(name)}: the response has no usable Content-Length (${JSON.stringify(headerOf(headers, 'content-length'))}); cannot verify the body is complete`,
      );
    }
    expected = length;
    total = length;
  }
  const whole = !plan || (cipherOffset === 0 && expected === total);
  let crc: bigint | undefined;
  const crcText = headerOf(headers, 'x-oss-hash-crc64ecma');
  // OSS sends the whole object's CRC even on a ranged GET (docs/FORMAT.md §8): only a whole body can be checked.
  if (whole && crcText !== undefined) crc = parseCrc64Decimal(String(crcText));

  if (env === null) return { spec: { name, expected, crc }, encrypted: false, notModified: false };
  const recorded = [
    ['unencrypted-content-length', env.unencryptedContentLength],
    ['data-size', env.dataSize],
  ] as const;
  for (const [field, value] of recorded) {
    if (value !== undefined && value !== total) {
      throw new IntegrityError(
        'INTEGRITY_LENGTH',
        `get ${JSON.stringify(name)}: the object's metadata records ${field} ${value}, but the server reports ` +
          `${total} bytes (${plan ? 'Content-Range total' : 'Content-Length'}); the object was truncated or replaced`,
      );
    }
  }
  // Before the unwrap: a required field that is absent, or an MD5 that can never be checked, refuses the object.
  const recordedMd5 = checkRecorded(ctx.verify, name, env);
  const md5 = whole ? recordedMd5 : undefined;
  const content = await unwrapCommitted(ctx.commitment, name, headers, env, () => keys.get(ctx, env), false);
  const ctr = aesCtr(content.key, content.iv, cipherOffset, { backend: ctx.backend });
  return { spec: { name, expected, crc, md5, ctr }, encrypted: true, notModified: false };
}

function headerOf(headers: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}
