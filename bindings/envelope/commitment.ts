/**
 * Key commitment: one MAC that binds an object's whole envelope to its content key (issue 12 §5; construction
 * and test vectors in docs/FORMAT.md §10).
 *
 * No official SDK authenticates the envelope: swapping `key` and `start`, pasting another object's wrapped key,
 * editing matdesc or the recorded lengths all end in garbage or in an error that doubles as an oracle. The
 * commitment is `v1:` + base64(HMAC-SHA256(K_c, E)), stored in our own header
 * `x-oss-meta-ali-oss-crypto-commitment` (never under `client-side-encryption-`, a family OSS validates), where
 *   K_c = HKDF-SHA256(IKM = content key ‖ IV, salt = "ali-oss-crypto/key-commitment/v1", info = "mac key", 32)
 *   E   = the canonical encoding of {@link encodeCommitmentInput}: the label, then every envelope field in a fixed
 *         order, each as a presence byte and, when present, a 4-byte big-endian length and its UTF-8 bytes.
 * A reader that unwrapped a key recomputes the MAC; any difference (a field, the key, the IV, the header itself)
 * is one outcome. Official SDKs ignore the header: they read only the metadata names they know.
 *
 * Pure and portable: Web Crypto (`globalThis.crypto.subtle`) only, no `node:` import, no I/O. Deliberately not
 * here: whether to write or require a commitment (a client policy, transfer/commitment-policy.ts).
 * @module
 */
import { base64Problem, encodeBase64 } from '../util/base64.js';
import { canonicalMatdesc, type Envelope, type HeadersInput, type HeaderValue } from './codec.js';
import type { ContentKey } from './types.js';

/**
 * The full header name of the commitment (lower case, as OSS returns it).
 * @example
 *   const value = res.headers[COMMITMENT_HEADER]; // 'v1:…' or undefined
 */
export const COMMITMENT_HEADER = 'x-oss-meta-ali-oss-crypto-commitment';

/**
 * The construction's version: the prefix of the header value and part of the MAC input's label.
 * @example
 *   value.startsWith(`${COMMITMENT_VERSION}:`)
 */
export const COMMITMENT_VERSION = 'v1';

/**
 * Domain-separation label: the HKDF salt and the first field of the MAC input.
 * @example
 *   new TextEncoder().encode(COMMITMENT_LABEL) // what docs/FORMAT.md §10's MAC inputs start with (after 01 and a length)
 */
export const COMMITMENT_LABEL = 'ali-oss-crypto/key-commitment/v1';

/** HKDF `info` of the MAC key. */
const MAC_KEY_INFO = 'mac key';
const TAG_BYTES = 32;
/** `v1:` and 44 base64 characters (32 bytes). */
const VALUE_PATTERN = /^v1:[A-Za-z0-9+/]{43}=$/;

/**
 * The canonical MAC input of an envelope: injective (two different envelopes never encode alike), because
 * every field has a fixed position, says whether it is present, and carries its own length. The matdesc enters
 * as parsed (sorted-key compact JSON), so writers' spacing and key order do not matter; sizes as decimal text.
 * @param env a decoded or about-to-be-written envelope
 * @returns the bytes the MAC covers
 * @throws {RangeError} when a text field is not well-formed Unicode (a lone surrogate has no UTF-8 form)
 * @example
 *   const input = encodeCommitmentInput(decodeEnvelope(headers)!);
 */
export function encodeCommitmentInput(env: Envelope): Uint8Array<ArrayBuffer> {
  const w = env.wrapped;
  const fields: Array<string | undefined> = [
    COMMITMENT_LABEL,
    env.format,
    env.cekAlg,
    w.wrapAlg,
    w.wrappedKey,
    w.wrappedStart,
    canonicalMatdesc(w.matdesc),
    sizeText(env.unencryptedContentLength),
    env.unencryptedContentMd5,
    sizeText(env.dataSize),
    sizeText(env.partSize),
  ];
  const encoded = fields.map((field, i) => {
    if (field === undefined) return undefined;
    if (!isWellFormed(field)) throw new RangeError(`commitment field ${i} is not well-formed Unicode (a lone surrogate)`);
    return UTF8.encode(field);
  });
  const total = encoded.reduce((n, bytes) => n + 1 + (bytes === undefined ? 0 : 4 + bytes.length), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const bytes of encoded) {
    if (bytes === undefined) {
      out[at++] = 0;
      continue;
    }
    out[at++] = 1;
    view.setUint32(at, bytes.length);
    at += 4;
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/**
 * The commitment header value for an envelope under its content key.
 * @param content the object's content key and IV (never stored or logged here)
 * @param env the envelope the object will carry
 * @returns `v1:` followed by 44 base64 characters
 * @throws {RangeError} as {@link encodeCommitmentInput}, or when the key is not 32 bytes / the IV not 16
 * @throws {Error} when the runtime has no Web Crypto (`globalThis.crypto.subtle`)
 * @example
 *   const value = await computeCommitment(created.content, env);
 *   meta['ali-oss-crypto-commitment'] = value;
 */
export async function computeCommitment(content: ContentKey, env: Envelope): Promise<string> {
  const input = encodeCommitmentInput(env);
  const macKey = await deriveMacKey(content, ['sign']);
  const tag = new Uint8Array(await subtle().sign('HMAC', macKey, input));
  return `${COMMITMENT_VERSION}:${encodeBase64(tag)}`;
}

/**
 * Whether `value` is the commitment of `env` under `content`. Every way of failing (a malformed value, an
 * unknown version, a field that cannot be encoded, a different MAC) answers `false`, so a caller reports one
 * outcome whatever the cause. The MAC comparison is Web Crypto's (constant time).
 * @param content the unwrapped content key and IV
 * @param env the decoded envelope
 * @param value the stored header value
 * @returns true only when the value matches
 * @example
 *   if (!(await commitmentMatches(content, env, value))) throw mismatch(name);
 */
export async function commitmentMatches(content: ContentKey, env: Envelope, value: string): Promise<boolean> {
  if (typeof value !== 'string' || !VALUE_PATTERN.test(value)) return false;
  const b64 = value.slice(COMMITMENT_VERSION.length + 1);
  if (base64Problem(b64) !== undefined) return false;
  let input: Uint8Array<ArrayBuffer>;
  try {
    input = encodeCommitmentInput(env);
  } catch {
    return false;
  }
  const macKey = await deriveMacKey(content, ['verify']);
  return subtle().verify('HMAC', macKey, decodeTag(b64), input);
}

/**
 * The commitment header of a response: `undefined` when absent; the value when present once (or repeated
 * alike); `null` when present with conflicting values (a caller treats that as a mismatch, never as absent).
 * @param headers response headers in any name case (plain object, fetch `Headers`, `Map`)
 * @example
 *   const value = commitmentFromHeaders(res.headers);
 *   if (value === undefined && policy === 'require') throw missing(name);
 */
export function commitmentFromHeaders(headers: HeadersInput): string | null | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const entries: Iterable<[string, HeaderValue]> =
    typeof (headers as { entries?: unknown }).entries === 'function' && Object.getPrototypeOf(headers) !== Object.prototype
      ? (headers as { entries(): IterableIterator<[string, HeaderValue]> }).entries()
      : Object.entries(headers as Record<string, HeaderValue>);
  let found: string | undefined;
  for (const [name, raw] of entries) {
    if (typeof name !== 'string' || name.toLowerCase() !== COMMITMENT_HEADER) continue;
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const v of values) {
      const text = String(v);
      if (found !== undefined && found !== text) return null;
      found = text;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------

/** UTF-8 bytes of `text`; TextEncoder is created on use, so that loading this module needs no global. */
const UTF8 = { encode: (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text) };

function sizeText(size: number | undefined): string | undefined {
  return size === undefined ? undefined : String(size);
}

/** A lone surrogate would become U+FFFD in UTF-8, and two different strings would encode alike. */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (s === undefined) {
    throw new Error(
      'key commitment needs Web Crypto: globalThis.crypto.subtle is missing (on Node 18 run with ' +
        "--experimental-global-webcrypto, or set globalThis.crypto = (await import('node:crypto')).webcrypto)",
    );
  }
  return s;
}

async function deriveMacKey(content: ContentKey, usages: KeyUsage[]): Promise<CryptoKey> {
  if (!(content?.key instanceof Uint8Array) || content.key.length !== 32) {
    throw new RangeError(`"content.key" expected 32 bytes, got ${content?.key?.length}`);
  }
  if (!(content.iv instanceof Uint8Array) || content.iv.length !== 16) {
    throw new RangeError(`"content.iv" expected 16 bytes, got ${content.iv?.length}`);
  }
  const ikm = new Uint8Array(48);
  ikm.set(content.key, 0);
  ikm.set(content.iv, 32);
  try {
    const s = subtle();
    const hkdf = await s.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    const bits = new Uint8Array(
      await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: UTF8.encode(COMMITMENT_LABEL), info: UTF8.encode(MAC_KEY_INFO) }, hkdf, TAG_BYTES * 8),
    );
    try {
      return await s.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, usages);
    } finally {
      bits.fill(0);
    }
  } finally {
    // Best effort: JS gives no guarantee that no other copy exists.
    ikm.fill(0);
  }
}

function decodeTag(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
