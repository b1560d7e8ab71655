/**
 * Fresh content keys from the platform CSPRNG (bindings/util/random.ts), docs/FORMAT.md §1.
 *
 * A new object gets a random 32-byte AES-256 key and a random 16-byte IV whose bytes 8..11 are zero, as every
 * official SDK writes it (the Java SDK's range code assumes it; readers here never rely on it). Nothing here
 * logs or keeps what it returns.
 * @module
 */
import { IV_BYTES, KEY_BYTES } from '../cipher/sizes.js';
import { randomBytes } from '../util/random.js';
import type { ContentKey } from './types.js';

export { randomBytes } from '../util/random.js';

/**
 * A fresh content key for one object (or one multipart upload): 32 random key bytes and a random 16-byte IV
 * with bytes 8..11 set to zero (docs/FORMAT.md §1).
 * @throws {KeyInvalidError} `KEY_INVALID` when the runtime has no CSPRNG
 * @example
 *   const content = generateContentKey();
 *   const wrapped = await wrapper.wrap(content);
 */
export function generateContentKey(): ContentKey {
  return { key: randomBytes(KEY_BYTES), iv: generateContentIv() };
}

/**
 * A fresh 16-byte IV for a new object: random, with bytes 8..11 set to zero (docs/FORMAT.md §1). Also used alone
 * where the key comes from elsewhere (KMS GenerateDataKey).
 * @throws {KeyInvalidError} `KEY_INVALID` when the runtime has no CSPRNG
 * @example
 *   const iv = generateContentIv();
 */
export function generateContentIv(): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  // Every official SDK zeroes these four bytes and the Java SDK's range code assumes it: write what they write.
  iv.fill(0, 8, 12);
  return iv;
}
