/**
 * Fresh content keys from the platform CSPRNG (`globalThis.crypto.getRandomValues`: browsers, Deno, Bun, and
 * Node 19+ or Node 18 where `globalThis.crypto` is set), FORMATS.md §1.
 *
 * A new object gets a random 32-byte AES-256 key and a random 16-byte IV whose bytes 8..11 are zero, as every
 * official SDK writes it (the Java SDK's range code assumes it; readers here never rely on it). Nothing here
 * logs or keeps what it returns.
 * @module
 */
import { OssCryptoError } from '../errors.js';
import type { ContentKey } from './types.js';

/** Size of a content key (AES-256) in bytes. */
export const CONTENT_KEY_BYTES = 32;
/** Size of the initial counter block in bytes. */
export const CONTENT_IV_BYTES = 16;

// getRandomValues refuses more than 65,536 bytes per call (Web Crypto §10.1.1).
const MAX_RANDOM_CHUNK = 65_536;

/**
 * `length` bytes from the platform CSPRNG.
 * @throws {RangeError} when `length` is not a non-negative safe integer
 * @throws {OssCryptoError} `KEY_INVALID` when the runtime has no `globalThis.crypto.getRandomValues`
 * @example
 *   const salt = randomBytes(16);
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`"length" expected a non-negative safe integer, got ${length}`);
  }
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new OssCryptoError(
      'KEY_INVALID',
      'no CSPRNG: globalThis.crypto.getRandomValues is missing (on Node 18 run with --experimental-global-webcrypto, ' +
        "or set globalThis.crypto = (await import('node:crypto')).webcrypto before creating keys)",
    );
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += MAX_RANDOM_CHUNK) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + MAX_RANDOM_CHUNK)));
  }
  return out;
}

/**
 * A fresh content key for one object (or one multipart upload): 32 random key bytes and a random 16-byte IV
 * with bytes 8..11 set to zero (FORMATS.md §1).
 * @throws {OssCryptoError} `KEY_INVALID` when the runtime has no CSPRNG
 * @example
 *   const content = generateContentKey();
 *   const wrapped = await wrapper.wrap(content);
 */
export function generateContentKey(): ContentKey {
  const key = randomBytes(CONTENT_KEY_BYTES);
  const iv = randomBytes(CONTENT_IV_BYTES);
  // Every official SDK zeroes these four bytes and the Java SDK's range code assumes it: write what they write.
  iv.fill(0, 8, 12);
  return { key, iv };
}
