/**
 * Random bytes from the platform CSPRNG (`globalThis.crypto.getRandomValues`: browsers, Deno, Bun, and Node 19+
 * or Node 18 where `globalThis.crypto` is set): the one source of randomness of the library (content keys, IVs).
 * Nothing here logs or keeps what it returns.
 * @module
 */
import { KeyInvalidError } from '../errors.js';

// getRandomValues refuses more than 65,536 bytes per call (Web Crypto §10.1.1).
const MAX_RANDOM_CHUNK = 65_536;

/**
 * `length` bytes from the platform CSPRNG.
 * @throws {RangeError} when `length` is not a non-negative safe integer
 * @throws {KeyInvalidError} `KEY_INVALID` when the runtime has no `globalThis.crypto.getRandomValues`
 * @example
 *   const salt = randomBytes(16);
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`"length" expected a non-negative safe integer, got ${length}`);
  }
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new KeyInvalidError(
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
