/**
 * RSA key wrapping of content keys, byte-compatible with the official OSS SDKs (docs/FORMAT.md §2.1, §3).
 *
 * Writes `RSA/NONE/PKCS1Padding` (PKCS#1 v1.5, what oss2 `RsaProvider`, Go, Java and C++ write and read) by
 * default, or `RSA/NONE/OAEPWithSHA-1AndMGF1Padding` (oss2 `LocalRsaProvider`). Reads both V2 labels whatever
 * the padding chosen for writing, and V1 `rsa` (OAEP-SHA1, where the start wraps an ASCII decimal counter).
 * The CEK and the IV are wrapped separately; each wrapped value is modulus-length, stored as base64.
 *
 * The RSA arithmetic is an {@link RsaEngine}, as the CTR cipher has backends. The default,
 * {@link portableRsaEngine}, runs anywhere: node-forge for private operations, the runtime's Web Crypto for
 * RSA-OAEP when it has one, native BigInt for the PKCS#1 v1.5 public operation. Node services that read many
 * objects pass `nodeRsaEngine` (rsa-native.ts, node:crypto: ~70× faster unwrapping). Whatever the engine, a
 * PKCS#1 v1.5 unwrap asks it only for raw RSA (`c^d mod n`) and removes the padding here (pkcs1.ts), with
 * masks instead of branches, checking key and IV before a single verdict and a single error message, so no
 * engine and no failure mode tells *why* an unwrap failed. That it failed still shows; `pkcs1:
 * 'implicit-rejection'` (rsa-read-policy.ts) removes that too. (Node 20 refuses v1.5 private decryption,
 * CVE-2023-46809, and Web Crypto has no RSAES-PKCS1-v1_5, so doing it ourselves is also the only portable way.)
 * No `node:` import: this file runs in browsers.
 *
 * This file is the wrapper itself (the wrap format, options, the unwrap verdict). Deliberately not here: PEM
 * parsing and key generation (rsa-pem.ts), the engine contract and the portable engines (rsa-engine.ts), choosing
 * which key pair reads an object (keyring.ts, by matdesc). node-forge's private exponentiation is blinded but not
 * constant-time; a reader exposed to attackers who can time many unwraps of forged objects should use
 * `nodeRsaEngine` (OpenSSL) where it can.
 * @module
 */
import type forge from 'node-forge';
import { IV_BYTES, KEY_BYTES } from '../cipher/sizes.js';
import { checkContentKey, checkMatdesc } from '../envelope/checks.js';
import { WRAP_ALG } from '../envelope/headers.js';
import { KeyInvalidError, KeyUnwrapError, KeyWrapError, MetadataError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../util/base64.js';
import { describe } from '../util/describe.js';
import { pkcs1v15Unpad } from './pkcs1.js';
import { checkForgeRsaPublicKey } from './rsa-public-check.js';
import { createRsaReadPolicy, type RsaReadPolicy, type RsaReadPolicyOptions } from './rsa-read-policy.js';
import {
  forgeRsaEngine,
  importInto,
  isEngine,
  oaepOrUndefined,
  portableRsaEngine,
  rawOrFailure,
  type RsaEngine,
  type RsaPrivateKeyOps,
  type RsaPublicKeyOps,
} from './rsa-engine.js';
import { checkBits, parsePrivateKey, parsePublicKey, pkcs8Der, publicHalf, scrubCause, spkiDer } from './rsa-pem.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';
import { counterFromDecimal } from './v1-counter.js';

export { forgeRsaEngine, portableRsaEngine, type RsaEngine, type RsaPrivateKeyOps, type RsaPublicKeyOps } from './rsa-engine.js';
export { generateRsaKeyPair, RSA_MAX_BITS, RSA_MIN_BITS } from './rsa-keygen.js';

/**
 * Which padding {@link RsaKeyWrapper.wrap} writes: `pkcs1` (`RSA/NONE/PKCS1Padding`, what every official SDK
 * writes and reads) or `oaep` (`RSA/NONE/OAEPWithSHA-1AndMGF1Padding`). Reading accepts both.
 * @example
 *   const padding: RsaPadding = 'oaep';
 *   const wrapper = rsaKeyWrapper({ publicKey, padding });
 */
export type RsaPadding = 'pkcs1' | 'oaep';

/**
 * Options of {@link rsaKeyWrapper}. Give a public key, a private key, or both halves of one pair.
 * @example
 *   const options: RsaKeyWrapperOptions = { privateKey: pem, padding: 'pkcs1', matdesc: { owner: 'ingest' } };
 *   const wrapper = rsaKeyWrapper(options);
 */
export interface RsaKeyWrapperOptions extends RsaReadPolicyOptions {
  /** PEM (`PUBLIC KEY` = SubjectPublicKeyInfo, or `RSA PUBLIC KEY` = PKCS#1), as a string or bytes. Enough to write. */
  publicKey?: string | Uint8Array;
  /**
   * PEM (`RSA PRIVATE KEY` = PKCS#1, `PRIVATE KEY` = PKCS#8, or `ENCRYPTED PRIVATE KEY` with `passphrase`), as a
   * string or bytes. Enough to read and write (the public half is derived from it).
   */
  privateKey?: string | Uint8Array;
  /** Passphrase of an encrypted private key. */
  passphrase?: string;
  /** Padding for new objects: `pkcs1` (default; every SDK reads it) or `oaep` (oss2 LocalRsaProvider). */
  padding?: RsaPadding;
  /** Material description written with new objects and used by a KeyRing to pick this key. Default `{}`. */
  matdesc?: Matdesc;
  /**
   * The RSA arithmetic. Default {@link portableRsaEngine}; in Node, `nodeRsaEngine` (from the main entry) is
   * much faster at unwrapping. Every engine writes and reads the same formats.
   */
  engine?: RsaEngine;
  /**
   * Kept for compatibility: `false` selects {@link forgeRsaEngine} (node-forge even where Web Crypto exists),
   * `true` the default. Give either this or `engine`, not both.
   */
  webCrypto?: boolean;
}

/** Lets {@link RsaKeyWrapper.withEngine} reuse parsed keys; not exported, so options from outside cannot carry it. */
const ADOPT = Symbol('RsaKeyWrapper.adopt');
interface AdoptedKeys {
  readonly pub: forge.pki.rsa.PublicKey;
  readonly priv: forge.pki.rsa.PrivateKey | undefined;
}

/**
 * An RSA master key as a {@link KeyWrapper}. Create it with {@link rsaKeyWrapper}.
 *
 * `unwrap()` returns `null` for a non-RSA wrap algorithm ("not mine"); it throws `KeyUnwrapError` when the
 * object is RSA-wrapped but this key cannot unwrap it (another key pair, altered metadata), never garbage.
 * @example
 *   const wrapper: RsaKeyWrapper = rsaKeyWrapper({ privateKey: pem });
 *   const client = new CryptoClient(oss, { material: wrapper });
 */
export class RsaKeyWrapper implements KeyWrapper {
  /** The V2 wrap algorithm {@link wrap} writes. */
  readonly wrapAlg: string;
  readonly matdesc: Matdesc;
  /** Always true: the public half is known (given or derived). */
  readonly canWrap = true;
  /** True when a private key was given. */
  readonly canUnwrap: boolean;
  /** Modulus size in bits. */
  readonly bits: number;
  /** The engine doing the RSA arithmetic. */
  readonly engine: RsaEngine;

  readonly #padding: RsaPadding;
  readonly #engineChosen: boolean;
  // The parsed keys stay with the wrapper so that withEngine() can import them into another engine.
  readonly #public: forge.pki.rsa.PublicKey;
  readonly #private: forge.pki.rsa.PrivateKey | undefined;
  readonly #publicOps: RsaPublicKeyOps;
  readonly #privateOps: RsaPrivateKeyOps | undefined;
  readonly #readPolicy: RsaReadPolicy;

  /** Prefer {@link rsaKeyWrapper}; the constructor takes the same options. */
  constructor(options: RsaKeyWrapperOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`"options" expected an object, got ${describe(options)}`);
    }
    const { publicKey, privateKey, passphrase, padding = 'pkcs1', matdesc = {}, engine, webCrypto } = options;
    const adopted = (options as { [ADOPT]?: AdoptedKeys })[ADOPT];
    if (padding !== 'pkcs1' && padding !== 'oaep') {
      throw new RangeError(`"padding" expected 'pkcs1' or 'oaep', got ${JSON.stringify(padding)}`);
    }
    if (passphrase !== undefined && typeof passphrase !== 'string') {
      throw new TypeError(`"passphrase" expected a string, got ${describe(passphrase)}`);
    }
    if (engine !== undefined && !isEngine(engine)) {
      throw new TypeError(`"engine" expected an RsaEngine (name, importPublicKey(), importPrivateKey()), got ${describe(engine)}`);
    }
    if (webCrypto !== undefined && typeof webCrypto !== 'boolean') {
      throw new TypeError(`"webCrypto" expected a boolean, got ${describe(webCrypto)}`);
    }
    if (engine !== undefined && webCrypto !== undefined) {
      throw new TypeError(`"webCrypto" only chooses between the default engines; it cannot be combined with "engine" (${engine.name})`);
    }
    if (publicKey === undefined && privateKey === undefined && adopted === undefined) {
      throw new TypeError('"publicKey" or "privateKey" is required (a public key can write, a private key can read and write)');
    }
    this.#padding = padding;
    this.wrapAlg = padding === 'pkcs1' ? WRAP_ALG.rsaPkcs1 : WRAP_ALG.rsaOaep;
    this.matdesc = checkMatdesc(matdesc);
    this.engine = engine ?? (webCrypto === false ? forgeRsaEngine : portableRsaEngine);
    this.#engineChosen = engine !== undefined || webCrypto !== undefined;

    let pub: forge.pki.rsa.PublicKey | undefined;
    let priv: forge.pki.rsa.PrivateKey | undefined;
    if (adopted !== undefined) {
      ({ pub, priv } = adopted);
    } else {
      priv = privateKey === undefined ? undefined : parsePrivateKey(privateKey, passphrase);
      pub = publicKey === undefined ? undefined : parsePublicKey(publicKey);
      if (priv !== undefined) {
        if (pub !== undefined && (pub.n.compareTo(priv.n) !== 0 || pub.e.compareTo(priv.e) !== 0)) {
          throw new KeyInvalidError('KEY_INVALID', 'publicKey and privateKey are not the two halves of one RSA key pair (their moduli differ)');
        }
        pub ??= publicHalf(priv);
      }
    }
    this.#public = pub!;
    this.#private = priv;
    this.canUnwrap = priv !== undefined;
    this.bits = checkBits(this.#public.n.bitLength(), priv !== undefined ? 'privateKey' : 'publicKey');
    checkForgeRsaPublicKey(this.#public, priv !== undefined ? 'privateKey' : 'publicKey');
    // A public half derived from the private key is reported under the option the user gave.
    this.#publicOps = importInto(this.engine, priv !== undefined ? 'privateKey' : 'publicKey', spkiDer(this.#public), (der) =>
      this.engine.importPublicKey(der),
    );
    this.#privateOps =
      priv === undefined ? undefined : importInto(this.engine, 'privateKey', pkcs8Der(priv), (der) => this.engine.importPrivateKey(der));
    this.#readPolicy = createRsaReadPolicy(options, priv === undefined ? undefined : pkcs8Der(priv));
  }

  /**
   * The same key pair, padding and matdesc on another engine (keys are not parsed again).
   * @param engine the engine for the new wrapper
   * @returns a new wrapper; this one is unchanged
   * @throws {TypeError} when `engine` is not an RsaEngine
   * @throws {KeyInvalidError} `KEY_INVALID` when the engine does not accept the key
   * @example
   *   import { nodeRsaEngine } from 'ali-oss-crypto';
   *   const fast = rsaKeyWrapper({ privateKey: pem }).withEngine(nodeRsaEngine);
   */
  withEngine(engine: RsaEngine): RsaKeyWrapper {
    if (!isEngine(engine)) {
      throw new TypeError(`"engine" expected an RsaEngine (name, importPublicKey(), importPrivateKey()), got ${describe(engine)}`);
    }
    const options = { ...this.#readPolicy.options, padding: this.#padding, matdesc: this.matdesc, engine, [ADOPT]: { pub: this.#public, priv: this.#private } };
    return new RsaKeyWrapper(options as RsaKeyWrapperOptions);
  }

  /**
   * {@link withEngine}, unless this wrapper's engine was chosen explicitly (option `engine` or `webCrypto`), in
   * which case this wrapper itself. For hosts (a Node client, the CLI) that have a better engine to offer
   * without overriding a user's choice.
   * @param engine the engine to use when the user chose none
   * @example
   *   const material = wrapper.preferEngine(nodeRsaEngine);
   */
  preferEngine(engine: RsaEngine): RsaKeyWrapper {
    return this.#engineChosen ? this : this.withEngine(engine);
  }

  /**
   * Wraps a content key for a new V2 object: the 32-byte key and the 16-byte IV each encrypted to the public
   * key with this wrapper's padding, base64-encoded.
   * @throws {TypeError|RangeError} when `content` is not a 32-byte key and a 16-byte IV
   * @throws {KeyWrapError} `KEY_WRAP_FAILED` when the RSA operation fails
   * @example
   *   const wrapped = await rsaKeyWrapper({ publicKey: pem }).wrap(content);
   *   // wrapped.wrapAlg === 'RSA/NONE/PKCS1Padding'
   */
  async wrap(content: ContentKey): Promise<WrappedContentKey> {
    checkContentKey(content);
    const k = Math.ceil(this.bits / 8);
    const encrypt = async (data: Uint8Array): Promise<Uint8Array> => {
      const ops = this.#publicOps;
      const out = await (this.#padding === 'oaep' ? ops.encryptOaep(data) : ops.encryptPkcs1(data));
      if (!(out instanceof Uint8Array) || out.length !== k) {
        throw new Error(`the ${this.engine.name} engine returned ${out instanceof Uint8Array ? `${out.length} bytes` : describe(out)}, expected ${k}`);
      }
      return out;
    };
    try {
      const [wrappedKey, wrappedStart] = await Promise.all([encrypt(content.key), encrypt(content.iv)]);
      return Object.freeze({
        format: 'v2' as const,
        wrapAlg: this.wrapAlg,
        wrappedKey: encodeBase64(wrappedKey),
        wrappedStart: encodeBase64(wrappedStart),
        matdesc: this.matdesc,
      });
    } catch (err) {
      throw new KeyWrapError('KEY_WRAP_FAILED', `RSA-${this.bits} ${this.#padding} encryption of the content key failed`, { cause: scrubCause(err) });
    }
  }

  /**
   * Unwraps a stored content key: V2 `RSA/NONE/PKCS1Padding` or `RSA/NONE/OAEPWithSHA-1AndMGF1Padding`, or V1
   * `rsa` (OAEP-SHA1 key; the start is a decimal counter, returned as a 16-byte big-endian IV).
   *
   * Every failure of the private operation or of the padding gives one and the same `KEY_UNWRAP_FAILED`
   * message for a given object and key, so that the error cannot serve as a padding oracle; only facts an
   * attacker already has get their own message (a wrapped value of the wrong size for this key, not base64,
   * or a well-formed OAEP message of the wrong length, which only the holder of the public key can make).
   * @returns the content key, or `null` when the object is not RSA-wrapped (e.g. KMS)
   * @throws {KeyUnwrapError} `KEY_INVALID` when this wrapper has no private key; `KEY_UNWRAP_FAILED` when the
   *   private key does not unwrap it (another key pair, or altered metadata)
   * @throws {MetadataError} `META_MALFORMED` when a wrapped value is not base64
   * @example
   *   const content = await wrapper.unwrap(decodeEnvelope(headers)!.wrapped);
   *   const plain = aesCtrXor(content!.key, content!.iv, body);
   */
  async unwrap(wrapped: WrappedContentKey): Promise<ContentKey | null> {
    checkWrapped(wrapped);
    const scheme = schemeOf(wrapped);
    if (scheme === undefined) return null;
    this.#readPolicy.checkWrapAlg(wrapped);
    if (this.#privateOps === undefined) {
      throw new KeyInvalidError(
        'KEY_INVALID',
        `this RSA-${this.bits} material${describeMatdesc(this.matdesc)} holds only a public key: it can write objects but not read them; give its privateKey to read`,
      );
    }
    const what = wrapped.format === 'v1' ? 'V1 rsa (OAEP-SHA1)' : wrapped.wrapAlg;
    const keyBytes = this.#wrappedBytes(wrapped.wrappedKey, 'key', what);
    const startBytes = this.#wrappedBytes(wrapped.wrappedStart, 'start', what);
    if (scheme === 'pkcs1') return this.#unwrapPkcs1(this.#privateOps, keyBytes, startBytes, what);
    return this.#unwrapOaep(this.#privateOps, keyBytes, startBytes, what, wrapped.format);
  }

  /** Base64 and length checks: facts about the stored value, not about the private key, so they say what they found. */
  #wrappedBytes(text: string, field: 'key' | 'start', what: string): Uint8Array {
    const bytes = decodeBase64(text);
    if (bytes === undefined) {
      throw new MetadataError('META_MALFORMED', `the wrapped ${field} is not standard padded base64`);
    }
    const modulusBytes = Math.ceil(this.bits / 8);
    if (bytes.length !== modulusBytes) {
      // The length alone tells which key size wrote it: the most useful hint when the wrong key is configured.
      throw this.#failed(
        what,
        `the wrapped ${field} is ${bytes.length} bytes, but this RSA-${this.bits} key expects ${modulusBytes} (it was written with an RSA-${bytes.length * 8} key?)`,
      );
    }
    return bytes;
  }

  /**
   * Both raw private operations run and both blocks are checked before one verdict, whatever the first one
   * gave: which half failed, and why, shows neither in the error nor in the work done.
   */
  async #unwrapPkcs1(ops: RsaPrivateKeyOps, keyBytes: Uint8Array, startBytes: Uint8Array, what: string): Promise<ContentKey> {
    const k = keyBytes.length;
    const [emKey, emStart] = await Promise.all([rawOrFailure(ops, keyBytes, k), rawOrFailure(ops, startBytes, k)]);
    const key = pkcs1v15Unpad(emKey.em, KEY_BYTES);
    const iv = pkcs1v15Unpad(emStart.em, IV_BYTES);
    emKey.em.fill(0);
    emStart.em.fill(0);
    if (this.#readPolicy.implicitRejection) return this.#readPolicy.choose(emKey.ok & emStart.ok & key.valid & iv.valid, key.message, iv.message, keyBytes, startBytes);
    if ((emKey.ok & emStart.ok & key.valid & iv.valid) !== 1) {
      key.message.fill(0);
      iv.message.fill(0);
      throw this.#failed(what);
    }
    return { key: key.message, iv: iv.message };
  }

  async #unwrapOaep(ops: RsaPrivateKeyOps, keyBytes: Uint8Array, startBytes: Uint8Array, what: string, format: 'v1' | 'v2'): Promise<ContentKey> {
    const [key, start] = await Promise.all([oaepOrUndefined(ops, keyBytes), oaepOrUndefined(ops, startBytes)]);
    if (key === undefined || start === undefined) {
      key?.fill(0);
      start?.fill(0);
      throw this.#failed(what);
    }
    // From here on the messages are valid OAEP (the engine checked the hash and the padding): only someone with
    // the public key could make them, and that someone knows their length, so saying it reveals nothing.
    const fail = (detail: string): never => {
      key.fill(0);
      start.fill(0);
      throw this.#failed(what, detail);
    };
    if (key.length !== KEY_BYTES) fail(`the unwrapped key is ${key.length} bytes, expected ${KEY_BYTES}`);
    if (format === 'v1') {
      const iv = counterFromDecimal(start);
      start.fill(0);
      if (iv === undefined) fail('the unwrapped V1 start is not a decimal counter below 2^128');
      return { key, iv: iv! };
    }
    if (start.length !== IV_BYTES) fail(`the unwrapped IV is ${start.length} bytes, expected ${IV_BYTES}`);
    return { key, iv: start };
  }

  #failed(what: string, detail?: string): KeyUnwrapError {
    return new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `cannot unwrap this ${what} object with the RSA-${this.bits} private key${describeMatdesc(this.matdesc)}: ` +
        (detail === undefined ? '' : `${detail}; `) +
        'the object was written with another key pair, or its metadata was altered',
    );
  }
}

/**
 * Creates an RSA key wrapper.
 * @param options the key(s), padding for new objects, matdesc, engine
 * @throws {KeyInvalidError} `KEY_INVALID` for a malformed PEM, a key that is not RSA, a wrong passphrase, a size
 *   outside 1024–4096 bits, or a public and private key that do not match
 * @throws {TypeError|RangeError} for options of the wrong type
 * @example
 *   const writer = rsaKeyWrapper({ publicKey: readFileSync('pub.pem', 'utf8') });
 *   const reader = rsaKeyWrapper({ privateKey: readFileSync('key.pem', 'utf8'), matdesc: { owner: 'ops' } });
 *   const oaep = rsaKeyWrapper({ privateKey: pem, padding: 'oaep' });
 *   const fast = rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine }); // Node
 *   const content2 = await reader.unwrap(await writer.wrap(content));
 */
export function rsaKeyWrapper(options: RsaKeyWrapperOptions): RsaKeyWrapper {
  return new RsaKeyWrapper(options);
}

// ---------------------------------------------------------------------------------------------------------------

function schemeOf(wrapped: WrappedContentKey): 'pkcs1' | 'oaep' | undefined {
  if (wrapped.format === 'v1') return wrapped.wrapAlg === WRAP_ALG.v1Kms ? undefined : 'oaep';
  if (wrapped.wrapAlg === WRAP_ALG.rsaPkcs1) return 'pkcs1';
  if (wrapped.wrapAlg === WRAP_ALG.rsaOaep) return 'oaep';
  return undefined;
}

function checkWrapped(wrapped: WrappedContentKey): void {
  if (wrapped === null || typeof wrapped !== 'object') throw new TypeError(`"wrapped" expected a WrappedContentKey, got ${describe(wrapped)}`);
  for (const field of ['wrapAlg', 'wrappedKey', 'wrappedStart'] as const) {
    if (typeof wrapped[field] !== 'string') throw new TypeError(`"wrapped.${field}" expected a string, got ${describe(wrapped[field])}`);
  }
  if (wrapped.format !== 'v1' && wrapped.format !== 'v2') {
    throw new TypeError(`"wrapped.format" expected 'v1' or 'v2', got ${JSON.stringify(wrapped.format)}`);
  }
}

function describeMatdesc(matdesc: Matdesc): string {
  return Object.keys(matdesc).length === 0 ? '' : ` (matdesc ${JSON.stringify(matdesc)})`;
}
