/**
 * The byte sizes of AES-256-CTR's inputs, defined once: every layer that checks, generates or wraps a content
 * key reads them from here (docs/FORMAT.md §1).
 * @module
 */

/**
 * AES-256 key length in bytes.
 * @example
 *   const key = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
 */
export const KEY_BYTES = 32;
/**
 * CTR initial counter block (IV) length in bytes.
 * @example
 *   if (iv.length !== IV_BYTES) throw new RangeError(`"iv" expected ${IV_BYTES} bytes, got ${iv.length}`);
 */
export const IV_BYTES = 16;
