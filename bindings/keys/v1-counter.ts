/**
 * The V1 counter start (docs/FORMAT.md §3): V1 objects wrap the initial counter as ASCII decimal text, not as an IV.
 * Both V1 readers (RSA and KMS) turn it into the 16-byte big-endian counter block here.
 * @module
 */
import { IV_BYTES } from '../cipher/sizes.js';

/**
 * V1's start is an ASCII decimal counter; the IV is that integer as a 16-byte big-endian block (docs/FORMAT.md §3).
 * The digit check visits every byte and decides once, like the PKCS#1 unpadding.
 * @returns the IV, or `undefined` when the bytes are not 1..39 decimal digits of a value below 2^128
 */
export function counterFromDecimal(bytes: Uint8Array): Uint8Array | undefined {
  let digits = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    digits &= (((b - 0x30) >>> 31) ^ 1) & (((0x39 - b) >>> 31) ^ 1);
  }
  if ((digits & (bytes.length >= 1 ? 1 : 0) & (bytes.length <= 39 ? 1 : 0)) !== 1) return undefined;
  let value = 0n;
  for (const b of bytes) value = value * 10n + BigInt(b - 0x30);
  if (value >> 128n !== 0n) return undefined;
  const iv = new Uint8Array(IV_BYTES);
  for (let i = IV_BYTES - 1; i >= 0; i--, value >>= 8n) iv[i] = Number(value & 0xffn);
  return iv;
}
