/**
 * The hashing and MAC primitives the fetch transports sign with, over Web Crypto (`crypto.subtle`), which every
 * target runtime has (browsers, Cloudflare Workers, Deno, Bun, Node 18+): SHA-256, HMAC-SHA256 (OSS signature
 * V4) and HMAC-SHA1 (the KMS RPC signature). Also the small text helpers signing needs (UTF-8, hex, RFC 3986).
 *
 * Deliberately not here: any Node builtin or Buffer; key material never leaves these functions except as the
 * MAC it produces.
 * @module
 */
import { encodeBase64 } from './base64.js';

const UTF8 = new TextEncoder();

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return UTF8.encode(text);
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * encodeURIComponent plus `!'()*`: the RFC 3986 form both OSS V4 and the RPC signature canonicalise with.
 * @example
 *   rfc3986("a b(c)") // 'a%20b%28c%29'
 */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** SHA-256 of `data` as lower-case hex. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  return toHex(new Uint8Array(await subtle().digest('SHA-256', bytes as BufferSource)));
}

/** HMAC-SHA256 of `data` under `key`. */
export async function hmacSha256(key: string | Uint8Array, data: string): Promise<Uint8Array> {
  return hmac('SHA-256', key, data);
}

/** HMAC-SHA1 of `data` under `key`, base64 (the RPC signature's form). */
export async function hmacSha1Base64(key: string, data: string): Promise<string> {
  return encodeBase64(await hmac('SHA-1', key, data));
}

async function hmac(hash: 'SHA-1' | 'SHA-256', key: string | Uint8Array, data: string): Promise<Uint8Array> {
  const raw = typeof key === 'string' ? utf8(key) : key;
  const cryptoKey = await subtle().importKey('raw', raw as BufferSource, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await subtle().sign('HMAC', cryptoKey, utf8(data) as BufferSource));
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (s === undefined) throw new TypeError('Web Crypto (globalThis.crypto.subtle) is not available in this runtime; request signing needs it');
  return s;
}
