/**
 * The envelope codec: an object's client-side-encryption metadata to an {@link Envelope} and back
 * (docs/FORMAT.md §2, §2.3, §3, §5). Pure: no I/O, no key material (only wrapped keys pass through).
 *
 * Decoding reads both generations: V1 (`x-oss-meta-oss-crypto-*`, oss2 2.5.0–2.10.0) exactly when
 * `x-oss-meta-oss-crypto-key` is present, else V2 (`x-oss-meta-client-side-encryption-*`). It checks the
 * algorithms first (`META_UNSUPPORTED`), then that the required headers are there (`META_MISSING`), then
 * every value (`META_MALFORMED`): strict base64, matdesc a JSON object of strings, decimal sizes, a part size
 * that is a multiple of 16. Encoding writes V2 only; V1 is never written.
 *
 * Deliberately not here: unwrapping (keys/), and whether a plain object may be read (a client policy):
 * {@link decodeEnvelope} returns `null` for it and lets the caller decide.
 * @module
 */
import { BLOCK_BYTES } from '../cipher/counter.js';
import { MetadataError } from '../errors.js';
import type { Matdesc, WrappedContentKey } from './types.js';
import { base64Problem } from '../util/base64.js';
import { CEK_ALG, ENVELOPE_HEADERS, META_PREFIX, metaKey, V2_WRAP_ALGS, WRAP_ALG } from './headers.js';
import { describe } from '../util/describe.js';
import { checkMatdesc } from './checks.js';

/**
 * The decoded encryption metadata of one object. Holds wrapped keys only.
 * @example
 *   const env: Envelope = { format: 'v2', cekAlg: CEK_ALG.ctr, wrapped, unencryptedContentLength: body.length };
 *   const headers = encodeEnvelope(env);
 */
export interface Envelope {
  /** Which metadata generation the object carries. */
  readonly format: 'v1' | 'v2';
  /**
   * The body cipher: always `AES/CTR/NoPadding` (V1's stored label `AES/GCM/NoPadding` is false, docs/FORMAT.md §3,
   * and is reported as what the body really is).
   */
  readonly cekAlg: string;
  /** The wrapped content key, its wrap algorithm and matdesc. V1: wrapAlg `rsa` or `kms`, matdesc `{}`. */
  readonly wrapped: WrappedContentKey;
  /** Plaintext length as recorded by the writer (optional). */
  readonly unencryptedContentLength?: number;
  /** Plaintext MD5 as recorded by the writer (optional; oss2 copies whatever the caller gave, often hex). */
  readonly unencryptedContentMd5?: string;
  /** Multipart only: total plaintext size. Always together with `partSize`. */
  readonly dataSize?: number;
  /** Multipart only: the part size, a positive multiple of 16. Always together with `dataSize`. */
  readonly partSize?: number;
}

/**
 * A header value as HTTP libraries hand it over.
 * @example
 *   const values: HeaderValue[] = ['AES/CTR/NoPadding', ['a', 'a'], 1048576, undefined];
 */
export type HeaderValue = string | readonly string[] | number | undefined;

/**
 * Response headers: a plain object (any name case) or anything with `entries()` (fetch `Headers`, `Map`).
 * @example
 *   decodeEnvelope(result.res.headers);              // ali-oss: a plain object
 *   decodeEnvelope((await fetch(signedUrl)).headers); // fetch: a Headers instance
 */
export type HeadersInput =
  | Readonly<Record<string, HeaderValue>>
  | { entries(): IterableIterator<[string, HeaderValue]> };

/**
 * Encodes a V2 envelope as the full, lower-case metadata headers OSS stores (docs/FORMAT.md §2). The matdesc is
 * written as compact JSON with sorted keys (as Go and C++ write it), every non-ASCII character as a `\uXXXX`
 * escape (as oss2's `json.dumps` writes it), and left out when empty; optional fields are written only when
 * present.
 * @param env a V2 envelope (`format: 'v2'`)
 * @returns header name → value
 * @throws {RangeError} when `env` is V1 or any field is invalid (this is a programmer mistake: the caller built it)
 * @example
 *   const headers = encodeEnvelope({ format: 'v2', cekAlg: CEK_ALG.ctr, wrapped });
 *   // { 'x-oss-meta-client-side-encryption-key': '…', '…-start': '…', '…-cek-alg': 'AES/CTR/NoPadding', … }
 *   await client.put(name, body, { meta: metaFromEnvelope(env) });
 */
export function encodeEnvelope(env: Envelope): Record<string, string> {
  if (env === null || typeof env !== 'object') throw new TypeError(`"env" expected an Envelope, got ${describe(env)}`);
  if (env.format !== 'v2') {
    throw new RangeError(`"env.format" expected 'v2' (V1 metadata is read, never written), got ${JSON.stringify(env.format)}`);
  }
  if (env.cekAlg !== CEK_ALG.ctr) {
    throw new RangeError(`"env.cekAlg" expected ${JSON.stringify(CEK_ALG.ctr)}, got ${JSON.stringify(env.cekAlg)}`);
  }
  const w = env.wrapped;
  if (w === null || typeof w !== 'object') throw new TypeError(`"env.wrapped" expected a WrappedContentKey, got ${describe(w)}`);
  if (w.format !== 'v2') throw new RangeError(`"env.wrapped.format" expected 'v2', got ${JSON.stringify(w.format)}`);
  if (!V2_WRAP_ALGS.includes(w.wrapAlg)) {
    throw new RangeError(`"env.wrapped.wrapAlg" expected one of ${V2_WRAP_ALGS.join(', ')}, got ${JSON.stringify(w.wrapAlg)}`);
  }
  for (const field of ['wrappedKey', 'wrappedStart'] as const) {
    const value = w[field];
    if (typeof value !== 'string') throw new TypeError(`"env.wrapped.${field}" expected a string, got ${describe(value)}`);
    const problem = value === '' ? 'it is empty' : base64Problem(value);
    if (problem !== undefined) throw new RangeError(`"env.wrapped.${field}" expected standard padded base64: ${problem}`);
  }
  const matdesc = checkMatdesc(w.matdesc, 'env.wrapped.matdesc');

  const h = ENVELOPE_HEADERS.v2;
  const out: Record<string, string> = {
    [h.key]: w.wrappedKey,
    [h.start]: w.wrappedStart,
    [h.cekAlg]: env.cekAlg,
    [h.wrapAlg]: w.wrapAlg,
  };
  if (Object.keys(matdesc).length > 0) out[h.matdesc] = asciiJson(canonicalMatdesc(matdesc));
  if (env.unencryptedContentLength !== undefined) {
    out[h.unencryptedContentLength] = String(checkSize('env.unencryptedContentLength', env.unencryptedContentLength));
  }
  if (env.unencryptedContentMd5 !== undefined) {
    if (typeof env.unencryptedContentMd5 !== 'string' || env.unencryptedContentMd5 === '') {
      throw new TypeError(`"env.unencryptedContentMd5" expected a non-empty string, got ${describe(env.unencryptedContentMd5)}`);
    }
    out[h.unencryptedContentMd5] = env.unencryptedContentMd5;
  }
  if ((env.dataSize === undefined) !== (env.partSize === undefined)) {
    throw new RangeError(
      `"env.dataSize" and "env.partSize" go together (multipart objects carry both), got dataSize=${env.dataSize} partSize=${env.partSize}`,
    );
  }
  if (env.dataSize !== undefined && env.partSize !== undefined) {
    out[h.dataSize] = String(checkSize('env.dataSize', env.dataSize));
    const partSize = checkSize('env.partSize', env.partSize);
    if (partSize === 0 || partSize % BLOCK_BYTES !== 0) {
      throw new RangeError(`"env.partSize" expected a positive multiple of 16, got ${partSize}`);
    }
    out[h.partSize] = String(partSize);
  }
  return out;
}

/**
 * Decodes an object's encryption metadata (docs/FORMAT.md §2, §3). Header names match in any case; a value may be
 * a string or an array of equal strings. Unrelated headers are ignored.
 * @param headers the object's response headers (e.g. ali-oss `result.res.headers`), or
 *   `headersFromMeta(result.meta)` for ali-oss's `meta`
 * @returns the envelope, or `null` when none of key/start/cek-alg/wrap-alg (V1 or V2) is present: a plain object
 * @throws {MetadataError} `META_UNSUPPORTED` for an unknown cek-alg or V2 wrap-alg (checked first);
 *   `META_MISSING` when a required header is absent (key without start, start without key, a V2 object without
 *   cek-alg or wrap-alg, data-size without part-size); `META_MALFORMED` for a bad value
 * @example
 *   const env = decodeEnvelope(result.res.headers);
 *   if (env === null) { ... plain object: apply the plaintext policy ... }
 *   else { const content = await keyring.unwrap(env.wrapped); }
 */
export function decodeEnvelope(headers: HeadersInput): Envelope | null {
  const get = headerReader(headers);
  const v1 = ENVELOPE_HEADERS.v1;
  const v2 = ENVELOPE_HEADERS.v2;
  // V1 wins whenever its key header is there, even next to V2 headers (docs/FORMAT.md §3).
  if (get(v1.key) !== undefined) return decodeV1(get);
  if ([v2.key, v2.start, v2.cekAlg, v2.wrapAlg].some((n) => get(n) !== undefined)) return decodeV2(get);
  if ([v1.start, v1.cekAlg, v1.wrapAlg].some((n) => get(n) !== undefined)) return decodeV1(get);
  return null;
}

/**
 * Compares two matdescs as parsed maps: same keys, same values, in any order (docs/FORMAT.md §2.3). Writers differ
 * in spacing and key order, so the stored text is never compared.
 * @example
 *   matdescEquals({ a: '1', b: '2' }, { b: '2', a: '1' }) // true
 *   matdescEquals({}, { a: '1' })                           // false
 */
export function matdescEquals(a: Matdesc, b: Matdesc): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || a[k] !== b[k]) return false;
  }
  return true;
}

/**
 * A matdesc as compact JSON with sorted keys: how we write it, and how messages show it.
 * @example
 *   canonicalMatdesc({ b: '2', a: '1' }) // '{"a":"1","b":"2"}'
 */
export function canonicalMatdesc(matdesc: Matdesc): string {
  const keys = Object.keys(matdesc).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + JSON.stringify(matdesc[k])).join(',') + '}';
}

/**
 * JSON text with every character outside printable ASCII written as a `\uXXXX` escape (surrogate pairs as two).
 * A header value must be ASCII to reach every reader intact: Node refuses characters above U+00FF in a header,
 * and sends U+0080..U+00FF as single Latin-1 bytes, which Go and C++ readers decode as invalid UTF-8. Every JSON
 * parser turns the escapes back into the same string, so the parsed map is unchanged.
 */
function asciiJson(json: string): string {
  return json.replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * The envelope as an ali-oss `meta` object (names without `x-oss-meta-`, which ali-oss adds itself).
 * @example
 *   await client.put(name, ciphertext, { meta: { ...userMeta, ...metaFromEnvelope(env) } });
 */
export function metaFromEnvelope(env: Envelope): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(encodeEnvelope(env))) out[metaKey(name)] = value;
  return out;
}

/**
 * ali-oss `meta` (as `head()`/`get()` return it: names without `x-oss-meta-`) back to full header names, for
 * {@link decodeEnvelope}.
 * @example
 *   const { meta } = await client.head(name);
 *   const env = decodeEnvelope(headersFromMeta(meta ?? {}));
 */
export function headersFromMeta(meta: Readonly<Record<string, HeaderValue>>): Record<string, HeaderValue> {
  if (meta === null || typeof meta !== 'object') throw new TypeError(`"meta" expected an object, got ${describe(meta)}`);
  const out: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(meta)) out[META_PREFIX + name] = value;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

type Reader = (name: string) => string | undefined;

function decodeV2(get: Reader): Envelope {
  const h = ENVELOPE_HEADERS.v2;
  const cekAlg = get(h.cekAlg);
  const wrapAlg = get(h.wrapAlg);
  // Algorithms first: an unknown one makes every other check moot, and is the most useful thing to report.
  if (cekAlg !== undefined && cekAlg !== CEK_ALG.ctr) {
    throw new MetadataError(
      'META_UNSUPPORTED',
      `${h.cekAlg} is ${quote(cekAlg)}; only ${CEK_ALG.ctr} is defined for OSS client-side encryption (V2)`,
    );
  }
  if (wrapAlg !== undefined && !V2_WRAP_ALGS.includes(wrapAlg)) {
    throw new MetadataError(
      'META_UNSUPPORTED',
      `${h.wrapAlg} is ${quote(wrapAlg)}; supported: ${V2_WRAP_ALGS.join(', ')}`,
    );
  }
  const { key, start } = requireKeyAndStart(get, h.key, h.start, 'V2');
  if (cekAlg === undefined) throw missing(h.cekAlg, 'V2', `${h.key} is present`);
  if (wrapAlg === undefined) throw missing(h.wrapAlg, 'V2', `${h.key} is present`);
  checkWrappedValue(key, h.key);
  checkWrappedValue(start, h.start);

  const matdesc = parseMatdesc(get(h.matdesc), h.matdesc);
  const env: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    format: 'v2',
    cekAlg,
    wrapped: Object.freeze({ format: 'v2' as const, wrapAlg, wrappedKey: key, wrappedStart: start, matdesc }),
  };
  readOptionalFields(get, env, h.unencryptedContentLength, h.unencryptedContentMd5);

  const dataSize = get(h.dataSize);
  const partSize = get(h.partSize);
  if (dataSize !== undefined && partSize === undefined) {
    throw missing(h.partSize, 'V2', `${h.dataSize} is present (a multipart object carries both)`);
  }
  if (partSize !== undefined && dataSize === undefined) {
    throw missing(h.dataSize, 'V2', `${h.partSize} is present (a multipart object carries both)`);
  }
  if (dataSize !== undefined && partSize !== undefined) {
    env.dataSize = parseSize(dataSize, h.dataSize);
    const part = parseSize(partSize, h.partSize);
    if (part === 0 || part % BLOCK_BYTES !== 0) {
      throw new MetadataError(
        'META_MALFORMED',
        `${h.partSize} is ${part}; a part size must be a positive multiple of 16 (the AES block) so that every part starts on a counter boundary (docs/FORMAT.md §5)`,
      );
    }
    env.partSize = part;
  }
  return Object.freeze(env);
}

function decodeV1(get: Reader): Envelope {
  const h = ENVELOPE_HEADERS.v1;
  const cekAlg = get(h.cekAlg);
  // V1 writers stored "AES/GCM/NoPadding" over an AES-256-CTR body; either label means CTR here.
  if (cekAlg !== undefined && cekAlg !== CEK_ALG.v1GcmLabel && cekAlg !== CEK_ALG.ctr) {
    throw new MetadataError(
      'META_UNSUPPORTED',
      `${h.cekAlg} is ${quote(cekAlg)}; V1 objects say ${CEK_ALG.v1GcmLabel} (an AES-256-CTR body) and nothing else is known`,
    );
  }
  const { key, start } = requireKeyAndStart(get, h.key, h.start, 'V1');
  checkWrappedValue(key, h.key);
  checkWrappedValue(start, h.start);
  // oss2 2.5–2.10 treated anything but "kms" as its RSA-OAEP provider (docs/FORMAT.md §3).
  const wrapAlg = get(h.wrapAlg) === WRAP_ALG.v1Kms ? WRAP_ALG.v1Kms : WRAP_ALG.v1Rsa;
  const env: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    format: 'v1',
    cekAlg: CEK_ALG.ctr,
    wrapped: Object.freeze({ format: 'v1' as const, wrapAlg, wrappedKey: key, wrappedStart: start, matdesc: EMPTY_MATDESC }),
  };
  readOptionalFields(get, env, h.unencryptedContentLength, h.unencryptedContentMd5);
  return Object.freeze(env);
}

const EMPTY_MATDESC: Matdesc = Object.freeze({});

function requireKeyAndStart(get: Reader, keyName: string, startName: string, version: string): { key: string; start: string } {
  const key = get(keyName);
  const start = get(startName);
  if (key === undefined) {
    throw missing(keyName, version, start !== undefined ? `${startName} is present` : 'other encryption headers are present');
  }
  if (start === undefined) throw missing(startName, version, `${keyName} is present (the IV is wrapped separately)`);
  return { key, start };
}

function checkWrappedValue(value: string, name: string): void {
  const problem = value === '' ? 'it is empty' : base64Problem(value);
  if (problem !== undefined) {
    throw new MetadataError('META_MALFORMED', `${name} is not standard padded base64 (${problem}); was the header altered in transit?`);
  }
}

function readOptionalFields(
  get: Reader,
  env: { unencryptedContentLength?: number; unencryptedContentMd5?: string },
  lengthName: string,
  md5Name: string,
): void {
  const length = get(lengthName);
  if (length !== undefined) env.unencryptedContentLength = parseSize(length, lengthName);
  const md5 = get(md5Name);
  if (md5 !== undefined && md5 !== '') env.unencryptedContentMd5 = md5;
}

function parseSize(text: string, name: string): number {
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new MetadataError('META_MALFORMED', `${name} is ${quote(text)}; expected a non-negative decimal integer`);
  }
  return Number(text);
}

function parseMatdesc(text: string | undefined, name: string): Matdesc {
  // Writers leave the header out when the matdesc is empty; an empty value means the same.
  if (text === undefined || text.trim() === '') return EMPTY_MATDESC;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MetadataError('META_MALFORMED', `${name} is not valid JSON: ${quote(text)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MetadataError('META_MALFORMED', `${name} must be a JSON object of strings, got ${quote(text)}`);
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') {
      throw new MetadataError(
        'META_MALFORMED',
        `${name} must be a JSON object of strings; ${JSON.stringify(k)} is ${v === null ? 'null' : typeof v}`,
      );
    }
  }
  // JSON.parse makes "__proto__" an own property, so the map keeps every key the writer stored.
  return Object.freeze(parsed as Record<string, string>);
}

function checkSize(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`"${name}" expected a non-negative safe integer, got ${typeof value === 'number' ? value : describe(value)}`);
  }
  return value;
}

function missing(name: string, version: string, why: string): MetadataError {
  return new MetadataError('META_MISSING', `${version} encryption metadata is incomplete: ${name} is missing although ${why}`);
}

/** Case-insensitive lookup over the headers; conflicting duplicates are an error, not a guess. */
function headerReader(headers: HeadersInput): Reader {
  if (headers === null || typeof headers !== 'object') throw new TypeError(`"headers" expected an object, got ${describe(headers)}`);
  const map = new Map<string, string>();
  const entries: Iterable<[string, HeaderValue]> =
    typeof (headers as { entries?: unknown }).entries === 'function' && !isPlainRecord(headers)
      ? (headers as { entries(): IterableIterator<[string, HeaderValue]> }).entries()
      : Object.entries(headers as Record<string, HeaderValue>);
  for (const [rawName, rawValue] of entries) {
    const name = rawName.toLowerCase();
    if (!name.startsWith(META_PREFIX)) continue;
    const value = singleValue(name, rawValue);
    if (value === undefined) continue;
    const seen = map.get(name);
    if (seen !== undefined && seen !== value) {
      throw new MetadataError('META_MALFORMED', `${name} appears more than once with different values`);
    }
    map.set(name, value);
  }
  return (name) => map.get(name);
}

function singleValue(name: string, value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.some((v) => typeof v !== 'string')) throw new TypeError(`"headers['${name}']" expected strings, got a non-string entry`);
    if (value.some((v) => v !== value[0])) {
      throw new MetadataError('META_MALFORMED', `${name} appears ${value.length} times with different values`);
    }
    return value[0];
  }
  throw new TypeError(`"headers['${name}']" expected a string or string[], got ${describe(value)}`);
}

function isPlainRecord(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Quotes a header value for a message, shortened: values here are algorithm names, sizes and matdescs. */
function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? text.slice(0, 117) + '...' : text);
}
