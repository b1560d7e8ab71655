/**
 * RSAES-PKCS1-v1_5 block padding and unpadding (RFC 8017 §7.2.1 step 2, §7.2.2 step 3), the padding of
 * `RSA/NONE/PKCS1Padding` wrapped content keys (docs/FORMAT.md §2.1). Pure byte code, no RSA arithmetic: an
 * engine does the modular exponentiation (rsa.ts, rsa-native.ts), this file builds and checks the block
 * `EM = 00 02 PS 00 M`.
 *
 * Unpadding is written to leak as little as JavaScript allows through timing: every byte of the block is read,
 * the separator position is computed with masks, the expected message length is compared with masks, and the
 * verdict is a 0/1 number that the caller branches on once, after both halves of a content key (key and IV)
 * are checked. This matters because a decoder that tells "bad padding" from "good padding" in any way (error
 * text, timing, which check failed) is Bleichenbacher's oracle (CRYPTO '98; the Marvin attack, CVE-2023-46809,
 * showed the timing side is still exploitable). JS engines give no constant-time guarantee: the JIT could in
 * principle turn these masks back into branches; all values stay small integers so that it has no reason to.
 *
 * Deliberately not here: OAEP (the engines do it), and turning a bad verdict into an error (rsa.ts, one
 * generic error for every failure).
 * @module
 */

/** Smallest padding string RFC 8017 allows (8 nonzero bytes). */
export const PKCS1_MIN_PS_BYTES = 8;

/** Result of {@link pkcs1v15Unpad}. */
export interface Pkcs1Unpadded {
  /**
   * 1 when the block is `00 02 PS 00 M` with at least 8 nonzero PS bytes and M exactly the expected length;
   * 0 otherwise. A number, not a boolean, so that callers can combine verdicts with `&` before branching.
   */
  readonly valid: number;
  /**
   * A copy of the last `expectedLength` bytes of the block: the message when `valid` is 1, meaningless bytes
   * otherwise (the caller must zero and discard it then). Always copied, whatever the verdict, so that the
   * work done does not depend on it.
   */
  readonly message: Uint8Array;
}

/**
 * Checks a decrypted PKCS#1 v1.5 type-2 block and extracts a message of a known length, with no early exit
 * and no branch on the block's content.
 * @param em the raw RSA output, modulus-length (`c^d mod n` as big-endian bytes, leading zeros kept)
 * @param expectedLength the only message length accepted (32 for a content key, 16 for an IV)
 * @returns the 0/1 verdict and the candidate message (see {@link Pkcs1Unpadded})
 * @throws {RangeError} when `expectedLength` cannot fit a valid block of `em.length` bytes (a programmer
 *   mistake: both numbers are public)
 * @example
 *   const em = await engineKey.decryptRaw(wrappedKeyBytes);
 *   const { valid, message } = pkcs1v15Unpad(em, 32);
 *   em.fill(0);
 *   if (valid !== 1) { message.fill(0); throw genericUnwrapError(); }
 */
export function pkcs1v15Unpad(em: Uint8Array, expectedLength: number): Pkcs1Unpadded {
  const k = em.length;
  if (!Number.isInteger(expectedLength) || expectedLength < 0 || expectedLength > k - 3 - PKCS1_MIN_PS_BYTES) {
    throw new RangeError(`"expectedLength" expected an integer from 0 to ${k - 3 - PKCS1_MIN_PS_BYTES} for a ${k}-byte block, got ${expectedLength}`);
  }
  let valid = isZero(em[0]) & isZero(em[1] ^ 0x02);
  // The separator is the first zero byte after the two header bytes. `searching` stays 1 until it is seen;
  // every byte is visited either way, and the position is taken with a mask, not an `if`.
  let searching = 1;
  let separator = 0;
  for (let i = 2; i < k; i++) {
    const zero = isZero(em[i]);
    const hit = zero & searching;
    separator = select(hit, i, separator);
    searching &= zero ^ 1;
  }
  // With `expectedLength <= k - 11` the length check implies the two before it; they stay so that each rule of
  // RFC 8017 is visible here and holds on its own.
  valid &= searching ^ 1; // a separator exists
  valid &= atLeast(separator, 2 + PKCS1_MIN_PS_BYTES); // PS is at least 8 bytes
  valid &= isZero((k - separator - 1) ^ expectedLength); // M has exactly the expected length
  // A fresh Uint8Array, never `em.slice()`: on a Node Buffer that is a view, and the caller zeroes `em`.
  const message = new Uint8Array(expectedLength);
  message.set(em.subarray(k - expectedLength));
  return { valid, message };
}

/**
 * Builds the PKCS#1 v1.5 type-2 encryption block `00 02 PS 00 M` for a `k`-byte modulus, PS being
 * `k - 3 - M.length` random nonzero bytes.
 * @param message the bytes to wrap (a 32-byte key or a 16-byte IV)
 * @param k the modulus length in bytes
 * @param random fills its argument with cryptographically random bytes (`crypto.getRandomValues`)
 * @returns the block, `k` bytes; it holds the message in clear, so zero it after the RSA operation
 * @throws {RangeError} when the message leaves fewer than 8 bytes of PS
 * @example
 *   const em = pkcs1v15Pad(content.key, 256, (a) => crypto.getRandomValues(a));
 *   const c = rsaPublicOp(em);
 *   em.fill(0);
 */
export function pkcs1v15Pad(message: Uint8Array, k: number, random: (bytes: Uint8Array) => unknown): Uint8Array {
  const psLength = k - 3 - message.length;
  if (psLength < PKCS1_MIN_PS_BYTES) {
    throw new RangeError(`a ${message.length}-byte message is too long for a ${k}-byte RSA modulus with PKCS#1 v1.5 (at most ${k - 3 - PKCS1_MIN_PS_BYTES})`);
  }
  const em = new Uint8Array(k);
  em[1] = 0x02;
  const ps = em.subarray(2, 2 + psLength);
  random(ps);
  // PS must contain no zero byte (the decoder takes the first zero as the separator): redraw those. The loop
  // depends only on fresh random bytes, never on the message.
  const one = new Uint8Array(1);
  for (let i = 0; i < ps.length; i++) {
    while (ps[i] === 0) {
      random(one);
      ps[i] = one[0];
    }
  }
  em.set(message, k - message.length);
  return em;
}

// ---------------------------------------------------------------------------------------------------------------
// Mask helpers over small non-negative integers (below 2^31), returning 0 or 1 without branching.

/** 1 when `x` is 0. `x - 1` is negative exactly when x is 0, so its sign bit is the answer. */
function isZero(x: number): number {
  return (x - 1) >>> 31;
}

/** 1 when `a >= b`. */
function atLeast(a: number, b: number): number {
  return ((a - b) >>> 31) ^ 1;
}

/** `a` when `bit` is 1, `b` when it is 0. */
function select(bit: number, a: number, b: number): number {
  return b ^ ((a ^ b) & -bit);
}
