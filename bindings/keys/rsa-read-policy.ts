/**
 * What an RSA reader accepts, and what it does with a PKCS#1 v1.5 block that does not unpad (issue 12 §2).
 *
 * - `acceptWrapAlgs`: the RSA wrap algorithms this reader unwraps (default: all three, V2 PKCS#1 v1.5, V2 OAEP and
 *   V1 `rsa`). A reader whose writers all use OAEP lists only OAEP and then refuses a PKCS#1 v1.5 object
 *   (`META_UNSUPPORTED`) before any private-key operation; an OAEP object relabelled `RSA/NONE/PKCS1Padding` (the
 *   wrap-alg header is not authenticated) can then not be attacked as v1.5 through this reader.
 * - `pkcs1: 'implicit-rejection'`: a bad block yields a synthetic content key instead of an error, as RFC 8017's
 *   successor drafts (Kario, "Implicit Rejection for RSA PKCS#1 v1.5") and OpenSSL 3.2 do. The synthetic key and
 *   IV are HMAC-SHA256 under a secret derived from the private key, over each ciphertext, so a repeated query
 *   gets the same answer and nobody without the private key can predict it. Both are computed for every unwrap,
 *   valid or not, and the result is chosen byte by byte with masks: the two outcomes do the same work. The
 *   reader then decrypts garbage instead of failing: pair it with a key commitment (`commitment`, the client
 *   reports `COMMITMENT_MISMATCH`) or a recorded MD5 to get a clear error back. Default `reject`: one generic
 *   `KEY_UNWRAP_FAILED`.
 *
 * Construction (version 1): S = HMAC-SHA256(key = the PKCS#8 DER of the private key,
 * "ali-oss-crypto/pkcs1-implicit-rejection/v1"); synthetic key = HMAC-SHA256(S, 0x01 ‖ C_key);
 * synthetic IV = the first 16 bytes of HMAC-SHA256(S, 0x02 ‖ C_start). Web Crypto only.
 *
 * Deliberately not here: the unpadding itself (pkcs1.ts) and the RSA operations (rsa.ts, the engines).
 * @module
 */
import { WRAP_ALG } from '../envelope/headers.js';
import { KeyInvalidError, MetadataError } from '../errors.js';
import type { ContentKey, WrappedContentKey } from './types.js';

/**
 * The read-side options of an RSA wrapper (part of `RsaKeyWrapperOptions`).
 * @example
 *   rsaKeyWrapper({ privateKey, pkcs1: 'implicit-rejection', acceptWrapAlgs: ['RSA/NONE/OAEPWithSHA-1AndMGF1Padding'] });
 */
export interface RsaReadPolicyOptions {
  /** What a PKCS#1 v1.5 block that does not unpad gives: `reject` (default, KEY_UNWRAP_FAILED) or a synthetic key. */
  pkcs1?: 'reject' | 'implicit-rejection';
  /** The RSA wrap algorithms this reader unwraps. Default: all (`RSA/NONE/PKCS1Padding`, OAEP, V1 `rsa`). */
  acceptWrapAlgs?: readonly string[];
}

/** Every RSA wrap algorithm a reader can accept. */
const RSA_WRAP_ALGS: readonly string[] = [WRAP_ALG.rsaPkcs1, WRAP_ALG.rsaOaep, WRAP_ALG.v1Rsa];
const LABEL = 'ali-oss-crypto/pkcs1-implicit-rejection/v1';

/**
 * A checked read policy, one per wrapper.
 * @example
 *   const policy = createRsaReadPolicy({ pkcs1: 'implicit-rejection' }, pkcs8Der);
 *   policy.checkWrapAlg(wrapped);
 */
export interface RsaReadPolicy {
  /** The options as given (checked), to carry into a copy of the wrapper (`withEngine`). */
  readonly options: RsaReadPolicyOptions;
  readonly implicitRejection: boolean;
  /**
   * @throws {MetadataError} `META_UNSUPPORTED` when the object's RSA wrap algorithm is not accepted
   */
  checkWrapAlg(wrapped: WrappedContentKey): void;
  /**
   * The content key to return from a PKCS#1 v1.5 unwrap: the unpadded key and IV when `valid` is 1, the synthetic
   * ones when 0, chosen with masks after both are computed. Zeroes the inputs.
   */
  choose(valid: number, key: Uint8Array, iv: Uint8Array, keyCipher: Uint8Array, startCipher: Uint8Array): Promise<ContentKey>;
}

/**
 * Checks the options and prepares the secret (only for implicit rejection, and only with a private key).
 * @param options the wrapper's options
 * @param privateKeyDer the PKCS#8 DER of the private key (zeroed here), or undefined for a public-only wrapper
 * @throws {RangeError} for an unknown `pkcs1` value or wrap algorithm; {TypeError} for a wrong type
 * @throws {KeyInvalidError} `KEY_INVALID` when implicit rejection is asked for and the runtime has no Web Crypto
 * @example
 *   const policy = createRsaReadPolicy(options, priv && pkcs8Der(priv));
 */
export function createRsaReadPolicy(options: RsaReadPolicyOptions, privateKeyDer: Uint8Array | undefined): RsaReadPolicy {
  const pkcs1 = options.pkcs1 ?? 'reject';
  if (pkcs1 !== 'reject' && pkcs1 !== 'implicit-rejection') {
    throw new RangeError(`"pkcs1" expected 'reject' or 'implicit-rejection', got ${JSON.stringify(pkcs1)}`);
  }
  let accepted = RSA_WRAP_ALGS;
  if (options.acceptWrapAlgs !== undefined) {
    if (!Array.isArray(options.acceptWrapAlgs)) throw new TypeError('"acceptWrapAlgs" expected an array of wrap algorithms');
    for (const alg of options.acceptWrapAlgs) {
      if (!RSA_WRAP_ALGS.includes(alg)) {
        throw new RangeError(`"acceptWrapAlgs" expected RSA wrap algorithms (${RSA_WRAP_ALGS.join(', ')}), got ${JSON.stringify(alg)}`);
      }
    }
    accepted = [...options.acceptWrapAlgs];
  }
  const implicitRejection = pkcs1 === 'implicit-rejection';
  let secret: Promise<CryptoKey> | undefined;
  if (implicitRejection && privateKeyDer !== undefined) {
    const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
    if (s === undefined) {
      throw new KeyInvalidError('KEY_INVALID', "pkcs1: 'implicit-rejection' needs Web Crypto (globalThis.crypto.subtle), which this runtime lacks");
    }
    secret = deriveSecret(s, privateKeyDer);
    // An unhandled rejection here would surface at the first unwrap anyway.
    secret.catch(() => undefined);
  } else {
    privateKeyDer?.fill(0);
  }
  const frozen = Object.freeze({ pkcs1, ...(options.acceptWrapAlgs === undefined ? {} : { acceptWrapAlgs: Object.freeze([...accepted]) }) });
  return {
    options: frozen,
    implicitRejection,
    checkWrapAlg(wrapped) {
      // A V1 object is RSA-OAEP whatever its wrap-alg says, unless KMS (docs/FORMAT.md §3): it is V1 `rsa` here.
      const alg = wrapped.format === 'v1' ? WRAP_ALG.v1Rsa : wrapped.wrapAlg;
      if (!accepted.includes(alg)) {
        throw new MetadataError(
          'META_UNSUPPORTED',
          `the object's key is wrapped with ${alg}, which this RSA reader does not accept (acceptWrapAlgs: ${accepted.join(', ')})`,
        );
      }
    },
    async choose(valid, key, iv, keyCipher, startCipher) {
      if (secret === undefined) throw new Error('implicit rejection without a private key');
      const s = (globalThis as unknown as { crypto: { subtle: SubtleCrypto } }).crypto.subtle;
      const k = await secret;
      const [synthKey, synthIv] = await Promise.all([prf(s, k, 0x01, keyCipher), prf(s, k, 0x02, startCipher)]);
      const out = { key: select(valid, key, synthKey.subarray(0, 32)), iv: select(valid, iv, synthIv.subarray(0, 16)) };
      for (const b of [key, iv, synthKey, synthIv]) b.fill(0);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

async function deriveSecret(s: SubtleCrypto, der: Uint8Array): Promise<CryptoKey> {
  const derKey = await s.importKey('raw', Uint8Array.from(der), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  der.fill(0);
  const raw = new Uint8Array(await s.sign('HMAC', derKey, new TextEncoder().encode(LABEL)));
  try {
    return await s.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  } finally {
    raw.fill(0);
  }
}

async function prf(s: SubtleCrypto, key: CryptoKey, domain: number, ciphertext: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(1 + ciphertext.length);
  input[0] = domain;
  input.set(ciphertext, 1);
  return new Uint8Array(await s.sign('HMAC', key, input));
}

/** `real` when `valid` is 1, `synthetic` when 0, byte by byte with a mask (no branch on `valid`). */
function select(valid: number, real: Uint8Array, synthetic: Uint8Array): Uint8Array {
  const mask = -valid & 0xff;
  const out = new Uint8Array(real.length);
  for (let i = 0; i < real.length; i++) out[i] = synthetic[i] ^ ((real[i] ^ synthetic[i]) & mask);
  return out;
}
