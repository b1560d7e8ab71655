/**
 * RSAES-OAEP encoding and decoding with SHA-1, MGF1-SHA-1 and an empty label (RFC 8017 §7.1.1 step 2,
 * §7.1.2 step 3), the padding of `RSA/NONE/OAEPWithSHA-1AndMGF1Padding` wrapped keys and of V1 `rsa` objects
 * (docs/FORMAT.md §2.1, §3). Pure byte code for the WebAssembly engine (rsa-wasm.ts): the core does `c^d mod n`,
 * this file builds and checks the block `EM = 00 || maskedSeed || maskedDB`.
 *
 * Decoding is written like pkcs1.ts's unpadding: every byte of the block is read, the `01` separator is found
 * with masks, and the verdict (first byte zero, label hash equal, separator present, nothing but zeros before
 * it) is one 0/1 number decided after all checks, so that no check can be told from another by timing or by
 * error (Manger, CRYPTO 2001, is the attack on a decoder that does). Only the returned message's length
 * depends on the block, and only once the block was found valid.
 * @module
 */
import { SHA1_BYTES, sha1 } from './sha1.js';

/** SHA-1 of the empty label. */
const EMPTY_LABEL_HASH = sha1(new Uint8Array(0));

/**
 * Builds the OAEP block for a `k`-byte modulus.
 * @param message the bytes to wrap (at most k - 42)
 * @param k the modulus length in bytes
 * @param random fills its argument with cryptographically random bytes
 * @returns the block, `k` bytes; it holds the message masked with a seed it also holds: zero it after use
 * @throws {RangeError} when the message is too long for the modulus
 * @example
 *   const em = oaepEncode(content.key, 256, (a) => crypto.getRandomValues(a));
 */
export function oaepEncode(message: Uint8Array, k: number, random: (bytes: Uint8Array) => unknown): Uint8Array {
  const h = SHA1_BYTES;
  if (message.length > k - 2 * h - 2) {
    throw new RangeError(`a ${message.length}-byte message is too long for a ${k}-byte RSA modulus with OAEP-SHA1 (at most ${k - 2 * h - 2})`);
  }
  const em = new Uint8Array(k);
  const seed = em.subarray(1, 1 + h);
  const db = em.subarray(1 + h);
  db.set(EMPTY_LABEL_HASH);
  db[db.length - message.length - 1] = 0x01;
  db.set(message, db.length - message.length);
  random(seed);
  xorInto(db, mgf1(seed, db.length));
  xorInto(seed, mgf1(db, h));
  return em;
}

/**
 * Decodes an OAEP block with no early exit and no branch on its content.
 * @param em the raw RSA output, modulus-length (leading zeros kept)
 * @returns the 0/1 verdict and, when it is 1, the message (empty otherwise)
 * @example
 *   const { valid, message } = oaepDecode(em);
 *   em.fill(0);
 *   if (valid !== 1) throw genericUnwrapError();
 */
export function oaepDecode(em: Uint8Array): { valid: number; message: Uint8Array } {
  const h = SHA1_BYTES;
  const k = em.length;
  if (k < 2 * h + 2) return { valid: 0, message: new Uint8Array(0) }; // public: the modulus length
  const seed = em.slice(1, 1 + h);
  const db = em.slice(1 + h);
  xorInto(seed, mgf1(db, h));
  xorInto(db, mgf1(seed, db.length));
  let valid = isZero(em[0]);
  let hashDiff = 0;
  for (let i = 0; i < h; i++) hashDiff |= db[i] ^ EMPTY_LABEL_HASH[i];
  valid &= isZero(hashDiff);
  // After the label hash: zeros, then 01, then the message. `looking` stays 1 until the first nonzero byte.
  let looking = 1;
  let separator = 0;
  let bad = 0;
  for (let i = h; i < db.length; i++) {
    const zero = isZero(db[i]);
    const one = isZero(db[i] ^ 1);
    separator = select(looking & one, i, separator);
    bad |= looking & (zero ^ 1) & (one ^ 1);
    looking &= zero;
  }
  valid &= (looking ^ 1) & (bad ^ 1);
  const message = valid === 1 ? db.slice(separator + 1) : new Uint8Array(0);
  seed.fill(0);
  db.fill(0);
  return { valid, message };
}

// ---------------------------------------------------------------------------------------------------------------

/** MGF1 with SHA-1 (RFC 8017 §B.2.1): `length` bytes from `seed`. */
function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / SHA1_BYTES) * SHA1_BYTES);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, at = 0; at < length; counter++, at += SHA1_BYTES) {
    new DataView(input.buffer).setUint32(seed.length, counter);
    out.set(sha1(input), at);
  }
  input.fill(0);
  const mask = out.slice(0, length);
  out.fill(0);
  return mask;
}

function xorInto(target: Uint8Array, mask: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] ^= mask[i];
  mask.fill(0);
}

/** 1 when `x` (0..255) is 0. */
function isZero(x: number): number {
  return (x - 1) >>> 31;
}

/** `a` when `bit` is 1, `b` when it is 0. */
function select(bit: number, a: number, b: number): number {
  return b ^ ((a ^ b) & -bit);
}
