/**
 * Strict standard base64 (RFC 4648 §4, padded), the encoding of every wrapped key in OSS metadata
 * (docs/FORMAT.md §2, §3).
 *
 * Strict in age's sense: one canonical text per byte string. Decoding rejects whitespace and newlines,
 * the URL-safe alphabet, missing or extra `=`, and non-zero unused bits in the last character; a header that
 * was damaged in transit then fails here instead of unwrapping to garbage. No `Buffer`, so it runs in browsers.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/**
 * Standard padded base64 of `bytes`.
 * @example
 *   encodeBase64(new Uint8Array([0xfb, 0xff])) // '+/8='
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + '=';
  }
  return out;
}

/**
 * Why `text` is not canonical standard base64, or `undefined` when it is. The reason never quotes the text
 * (it may be a wrapped key).
 * @example
 *   base64Problem('QQ==')   // undefined
 *   base64Problem('QQ')     // 'length 2 is not a multiple of 4 (missing "=" padding?)'
 */
export function base64Problem(text: string): string | undefined {
  const n = text.length;
  // Characters first, so that a newline or a URL-safe character is named rather than the length it breaks.
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) {
      const isPadding = i === n - 1 || (i === n - 2 && text.charCodeAt(n - 1) === 0x3d);
      if (!isPadding) return `character ${describeChar(c)} at position ${i}`;
    } else if (c >= 128 || VALUES[c] < 0) {
      return `character ${describeChar(c)} at position ${i} is not in the standard base64 alphabet`;
    }
  }
  if (n % 4 !== 0) return `length ${n} is not a multiple of 4 (missing or extra "=" padding?)`;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  // The bits a padded final group does not use must be zero, so that each byte string has one encoding.
  if (pad === 2 && (VALUES[text.charCodeAt(n - 3)] & 0x0f) !== 0) return 'non-zero bits before "==" padding';
  if (pad === 1 && (VALUES[text.charCodeAt(n - 2)] & 0x03) !== 0) return 'non-zero bits before "=" padding';
  return undefined;
}

/**
 * Decodes canonical standard base64; `undefined` when `text` is not that (see {@link base64Problem}).
 * @example
 *   decodeBase64('+/8=') // Uint8Array [0xfb, 0xff]
 *   decodeBase64('+/8')  // undefined
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (base64Problem(text) !== undefined) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const a = VALUES[text.charCodeAt(i)];
    const b = VALUES[text.charCodeAt(i + 1)];
    const c = i + 2 < text.length - pad ? VALUES[text.charCodeAt(i + 2)] : 0;
    const d = i + 3 < text.length - pad ? VALUES[text.charCodeAt(i + 3)] : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

function describeChar(code: number): string {
  if (code === 0x0a) return '"\\n"';
  if (code === 0x0d) return '"\\r"';
  if (code === 0x20) return '" " (space)';
  if (code === 0x3d) return '"=" (padding inside the text)';
  if (code < 0x20 || code >= 0x7f) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(String.fromCharCode(code));
}
