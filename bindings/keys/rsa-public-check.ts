/**
 * Sanity checks of an RSA public key before it is used (issue 12 §3), for every engine: the checks run on the
 * numbers, not in an engine.
 *
 * A public key with e = 1 "encrypts" to the plaintext itself, so the wrapped content key would sit in the object's
 * metadata in the clear; e = 2 is Rabin, not RSA; small odd exponents (3, 17) invite Håstad/Coppersmith attacks on
 * structured plaintexts; an even modulus or one with a small prime factor cannot be the product of two large
 * primes. None of these comes out of a real key generator, so each is refused (`KEY_INVALID`) instead of being
 * used. Separately, keys under 2048 bits (oss2's 1024-bit test keys) may still *read* old objects but never wrap a
 * new content key (NIST SP 800-131A disallows RSA-1024 for key transport since 2014).
 *
 * Deliberately not here: proving that n is a product of two primes (impossible without the factors) or any
 * check of the private half (the engine's import does that).
 * @module
 */
import { KeyInvalidError, KeyWrapError } from '../errors.js';

/**
 * Smallest public exponent accepted: 65537 (F4), what every generator this project knows uses.
 * @example
 *   if (e < RSA_MIN_PUBLIC_EXPONENT) refuse();
 */
export const RSA_MIN_PUBLIC_EXPONENT = 65537n;

/**
 * Smallest modulus that may wrap a new content key.
 * @example
 *   const canWrite = wrapper.bits >= RSA_MIN_WRITE_BITS;
 */
export const RSA_MIN_WRITE_BITS = 2048;

/** Odd primes below 1000: a real RSA modulus has no factor this small. */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: bigint[] = [];
  for (let p = 3; p < 1000; p += 2) {
    let prime = true;
    for (let d = 3; d * d <= p; d += 2) if (p % d === 0) prime = false;
    if (prime) out.push(BigInt(p));
  }
  return out;
})();

/**
 * Refuses a public key that no real RSA key generator produces.
 * @param n the modulus
 * @param e the public exponent
 * @param name the option the key came from, for the message (`publicKey`, `privateKey`)
 * @throws {KeyInvalidError} `KEY_INVALID` for e < 65537, an even e, e ≥ n, an even n, or n with a factor below 1000
 * @example
 *   checkRsaPublicNumbers(n, 65537n, 'publicKey'); // returns
 *   checkRsaPublicNumbers(n, 3n, 'publicKey');     // throws KEY_INVALID
 */
export function checkRsaPublicNumbers(n: bigint, e: bigint, name: string): void {
  const refuse = (why: string): never => {
    throw new KeyInvalidError('KEY_INVALID', `"${name}" is not a usable RSA public key: ${why}`);
  };
  if (e < RSA_MIN_PUBLIC_EXPONENT) refuse(`its public exponent is ${e}; at least 65537 is required (a small exponent leaks or weakens the wrapped key)`);
  if (e % 2n === 0n) refuse('its public exponent is even, so it has no inverse: this is not an RSA key');
  if (e >= n) refuse('its public exponent is not smaller than its modulus');
  if (n % 2n === 0n) refuse('its modulus is even; an RSA modulus is the product of two large odd primes');
  for (const p of SMALL_PRIMES) {
    if (n % p === 0n) refuse(`its modulus is divisible by ${p}; an RSA modulus has no small prime factor`);
  }
}

/**
 * {@link checkRsaPublicNumbers} for a node-forge public key (`n` and `e` as jsbn BigIntegers).
 * @example
 *   checkForgeRsaPublicKey(forge.pki.publicKeyFromPem(pem), 'publicKey');
 */
export function checkForgeRsaPublicKey(key: { n: { toString(radix: number): string }; e: { toString(radix: number): string } }, name: string): void {
  checkRsaPublicNumbers(BigInt('0x' + key.n.toString(16)), BigInt('0x' + key.e.toString(16)), name);
}

/**
 * Refuses a key ring's default material when it is an RSA key under 2048 bits: the check every new object
 * (put, multipart, CLI) passes through, in `KeyRing.createContentKey`. Other materials pass.
 * @param material the default material
 * @throws {KeyWrapError} `KEY_INVALID`, as {@link refuseWeakWrapKey}
 * @example
 *   refuseWeakWrapMaterial(keyring.defaultMaterial!);
 */
export function refuseWeakWrapMaterial(material: { readonly wrapAlg: string }): void {
  const bits = (material as { bits?: unknown }).bits;
  if (material.wrapAlg.startsWith('RSA/') && typeof bits === 'number') refuseWeakWrapKey(bits);
}

/**
 * Refuses to wrap a new content key with a modulus under 2048 bits.
 * @param bits the key's modulus size
 * @throws {KeyInvalidError} `KEY_INVALID` (also `instanceof KeyWrapError`), saying that the key still reads old objects
 * @example
 *   refuseWeakWrapKey(wrapper.bits); // before wrap()
 */
export function refuseWeakWrapKey(bits: number): void {
  if (bits < RSA_MIN_WRITE_BITS) {
    throw new KeyInvalidError(
      'KEY_INVALID',
      `an RSA-${bits} key only reads objects written with it; new objects need a key of at least ${RSA_MIN_WRITE_BITS} bits ` +
        `(generate one with: oss-crypto keygen --bits ${RSA_MIN_WRITE_BITS}), and this key can stay among the read materials`,
    );
  }
}
