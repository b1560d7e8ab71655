/**
 * 128-bit big-endian counter arithmetic for AES-CTR (docs/FORMAT.md §1, §4, §5).
 *
 * The IV is one 128-bit big-endian integer; 16-byte block `i` of an object uses `(IV + i) mod 2^128`, with the
 * carry running through all 16 bytes. A byte offset `o` uses block `floor(o / 16)` and skips `o mod 16` bytes.
 * Part `n` of a multipart upload starts at offset `(n - 1) * partSize`. Pure functions, no validation: the
 * callers in aes-ctr.ts validate once.
 * @module
 */

/**
 * Bytes per AES block: counters advance once per block, and multipart part sizes are multiples of it.
 * @example
 *   const widenedStart = start - (start % BLOCK_BYTES); // ranged reads start on a block boundary
 */
export const BLOCK_BYTES = 16;

const TWO_POW_128 = 1n << 128n;

/** `(counter + blocks) mod 2^128` as a new 16-byte big-endian block. `blocks` must be non-negative. */
export function addBlocks(counter: Uint8Array, blocks: bigint): Uint8Array {
  const out = new Uint8Array(16);
  let carry = blocks % TWO_POW_128;
  for (let i = 15; i >= 0; i--) {
    const sum = BigInt(counter[i]) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}

/** Increments a 16-byte big-endian counter block in place by `blocks` (a small non-negative integer). */
export function incrementInPlace(counter: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = 15; i >= 0 && carry !== 0; i--) {
    const sum = counter[i] + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
}

/** Block index and skip for a byte offset. */
export function splitOffset(offset: bigint): { block: bigint; skip: number } {
  return { block: offset / 16n, skip: Number(offset % 16n) };
}
