/**
 * Big-endian bytes ⇄ BigInt at a fixed length, for the RSA public-key operation of the PKCS#1 v1.5 encrypt path
 * (keys/rsa.ts), whose input block holds the plain content key (issue 12 §4).
 *
 * The former conversion went through a hex string built with a branch on `b < 16` and parsed back two characters
 * at a time: the branch depended on key bytes, and the string left one more copy of the key in memory that
 * nothing could wipe. Here every byte takes the same operations whatever its value, and the only intermediate is
 * the BigInt itself. BigInt arithmetic is not constant time in any engine; this removes the data-dependent branch
 * and the string, not that.
 *
 * Deliberately not here: modular arithmetic (rsa.ts `modPow`, public exponent only).
 * @module
 */

/**
 * The unsigned big-endian integer of `bytes` (leading zeros allowed).
 * @example
 *   bytesToBigInt(new Uint8Array([0x01, 0x00])) // 256n
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/**
 * `n` as exactly `length` big-endian bytes (leading zeros kept).
 * @throws {RangeError} when `n` is negative or does not fit in `length` bytes
 * @example
 *   bigIntToBytes(256n, 4) // Uint8Array [0, 0, 1, 0]
 */
export function bigIntToBytes(n: bigint, length: number): Uint8Array {
  if (n < 0n || n >> BigInt(length * 8) !== 0n) {
    throw new RangeError(`"n" expected a non-negative integer below 2^${length * 8}`);
  }
  const out = new Uint8Array(length);
  let rest = n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}
