/**
 * RSA key wrapping of content keys, byte-compatible with the official OSS SDKs (FORMATS.md §2.1, §3).
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
 * masks instead of branches, checking key and IV before a single verdict and a single error message: no engine
 * and no failure mode turns this wrapper into a padding oracle. (Node 20 refuses v1.5 private decryption,
 * CVE-2023-46809, and Web Crypto has no RSAES-PKCS1-v1_5, so doing it ourselves is also the only portable way.)
 * No `node:` import: this file runs in browsers.
 *
 * Deliberately not here: choosing which key pair reads an object (keyring.ts, by matdesc). node-forge's private
 * exponentiation is blinded but not constant-time; a reader exposed to attackers who can time many unwraps of
 * forged objects should use `nodeRsaEngine` (OpenSSL) where it can.
 * @module
 */
import forge from 'node-forge';
import { KeyUnwrapError, KeyWrapError, MetadataError, OssCryptoError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../envelope/base64.js';
import { WRAP_ALG } from '../envelope/headers.js';
import { pkcs1v15Pad, pkcs1v15Unpad } from './pkcs1.js';
import { wasmRsaEngine } from './rsa-wasm.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';

/**
 * Smallest RSA modulus accepted (oss2's own test keys are 1024-bit).
 * @example
 *   if (bits < RSA_MIN_BITS) throw new RangeError('key too small for OSS client-side encryption');
 */
export const RSA_MIN_BITS = 1024;
/**
 * Largest RSA modulus accepted.
 * @example
 *   const bits = Math.min(requestedBits, RSA_MAX_BITS);
 */
export const RSA_MAX_BITS = 4096;

/**
 * Which padding {@link RsaKeyWrapper.wrap} writes: `pkcs1` (`RSA/NONE/PKCS1Padding`, what every official SDK
 * writes and reads) or `oaep` (`RSA/NONE/OAEPWithSHA-1AndMGF1Padding`). Reading accepts both.
 * @example
 *   const padding: RsaPadding = 'oaep';
 *   const wrapper = rsaKeyWrapper({ publicKey, padding });
 */
export type RsaPadding = 'pkcs1' | 'oaep';

// ---- the engine contract --------------------------------------------------------------------------------------

/**
 * Public-key operations of one key, as an {@link RsaEngine} prepared them. Outputs are modulus-length.
 * @example
 *   const ops = nodeRsaEngine.importPublicKey(spkiDer);
 *   const wrappedKey = await ops.encryptPkcs1(cek);
 */
export interface RsaPublicKeyOps {
  /** RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1) with fresh random nonzero padding. */
  encryptPkcs1(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** RSAES-OAEP encryption with SHA-1, MGF1-SHA-1 and an empty label (RFC 8017 §7.1.1). */
  encryptOaep(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * Private-key operations of one key, as an {@link RsaEngine} prepared them. `decryptRaw` is the bare RSA
 * operation; the wrapper removes PKCS#1 v1.5 padding itself so that every engine fails in the same way.
 * @example
 *   const ops = nodeRsaEngine.importPrivateKey(pkcs8Der);
 *   const block = await ops.decryptRaw(wrappedKey); // padded block, unpadded by the wrapper
 */
export interface RsaPrivateKeyOps {
  /**
   * Raw RSA decryption: `c^d mod n` as modulus-length big-endian bytes (leading zeros kept), no unpadding.
   * May throw when `c >= n`. The wrapper removes PKCS#1 v1.5 padding itself and zeroes the returned bytes.
   */
  decryptRaw(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** RSAES-OAEP decryption with SHA-1, MGF1-SHA-1 and an empty label; throws on any decoding failure. */
  decryptOaep(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * The RSA arithmetic behind {@link RsaKeyWrapper}: the portable default ({@link portableRsaEngine}),
 * node-forge alone ({@link forgeRsaEngine}) or node:crypto (`nodeRsaEngine`, Node entry only).
 *
 * A wrapper imports its key into its engine once, when it is created, as DER: SubjectPublicKeyInfo for the
 * public half, PKCS#8 for the private half. The engine keeps what it needs (copies); the wrapper zeroes the
 * PKCS#8 bytes as soon as `importPrivateKey` returns.
 * @example
 *   const wrapper = rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine });
 *   wrapper.engine.name; // 'node'
 */
export interface RsaEngine {
  /** Short name for benchmarks and messages: `"portable"`, `"forge"`, `"node"`. */
  readonly name: string;
  /** Prepares a public key (SubjectPublicKeyInfo DER) for wrapping. */
  importPublicKey(spki: Uint8Array): RsaPublicKeyOps;
  /** Prepares a private key (PKCS#8 DER) for unwrapping. */
  importPrivateKey(pkcs8: Uint8Array): RsaPrivateKeyOps;
}

/**
 * The default engine, for every runtime: the constant-time WebAssembly core (rsa-wasm.ts) for the private
 * operations (raw RSA, and OAEP where Web Crypto is missing; node-forge only where WebAssembly cannot be
 * instantiated), the runtime's Web Crypto for RSA-OAEP when `globalThis.crypto.subtle` has it, and the same core
 * for the PKCS#1 v1.5 public operation (native BigInt where the core cannot be instantiated, node-forge without
 * `crypto.getRandomValues`).
 * @example
 *   const reader = rsaKeyWrapper({ privateKey: pem }); // same as { engine: portableRsaEngine }
 */
export const portableRsaEngine: RsaEngine = portableEngine('portable', true);

/**
 * Like {@link portableRsaEngine} but never uses Web Crypto (same bytes, slower OAEP). What the option
 * `webCrypto: false` selects.
 * @example
 *   const reader = rsaKeyWrapper({ privateKey: pem, engine: forgeRsaEngine });
 */
export const forgeRsaEngine: RsaEngine = portableEngine('forge', false);

// ---- the wrapper ----------------------------------------------------------------------------------------------

/**
 * Options of {@link rsaKeyWrapper}. Give a public key, a private key, or both halves of one pair.
 * @example
 *   const options: RsaKeyWrapperOptions = { privateKey: pem, padding: 'pkcs1', matdesc: { owner: 'ingest' } };
 *   const wrapper = rsaKeyWrapper(options);
 */
export interface RsaKeyWrapperOptions {
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

  /** Prefer {@link rsaKeyWrapper}; the constructor takes the same options. */
  constructor(options: RsaKeyWrapperOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`"options" expected an object, got ${typeName(options)}`);
    }
    const { publicKey, privateKey, passphrase, padding = 'pkcs1', matdesc = {}, engine, webCrypto } = options;
    const adopted = (options as { [ADOPT]?: AdoptedKeys })[ADOPT];
    if (padding !== 'pkcs1' && padding !== 'oaep') {
      throw new RangeError(`"padding" expected 'pkcs1' or 'oaep', got ${JSON.stringify(padding)}`);
    }
    if (passphrase !== undefined && typeof passphrase !== 'string') {
      throw new TypeError(`"passphrase" expected a string, got ${typeName(passphrase)}`);
    }
    if (engine !== undefined && !isEngine(engine)) {
      throw new TypeError(`"engine" expected an RsaEngine (name, importPublicKey(), importPrivateKey()), got ${typeName(engine)}`);
    }
    if (webCrypto !== undefined && typeof webCrypto !== 'boolean') {
      throw new TypeError(`"webCrypto" expected a boolean, got ${typeName(webCrypto)}`);
    }
    if (engine !== undefined && webCrypto !== undefined) {
      throw new TypeError(`"webCrypto" only chooses between the default engines; it cannot be combined with "engine" (${engine.name})`);
    }
    if (publicKey === undefined && privateKey === undefined && adopted === undefined) {
      throw new TypeError('"publicKey" or "privateKey" is required (a public key can write, a private key can read and write)');
    }
    this.#padding = padding;
    this.wrapAlg = padding === 'pkcs1' ? WRAP_ALG.rsaPkcs1 : WRAP_ALG.rsaOaep;
    this.matdesc = copyMatdesc(matdesc);
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
          throw new OssCryptoError('KEY_INVALID', 'publicKey and privateKey are not the two halves of one RSA key pair (their moduli differ)');
        }
        pub ??= forge.pki.rsa.setPublicKey(priv.n, priv.e);
      }
    }
    this.#public = pub!;
    this.#private = priv;
    this.canUnwrap = priv !== undefined;
    this.bits = checkBits(this.#public.n.bitLength(), priv !== undefined ? 'privateKey' : 'publicKey');
    // A public half derived from the private key is reported under the option the user gave.
    this.#publicOps = importInto(this.engine, priv !== undefined ? 'privateKey' : 'publicKey', spkiDer(this.#public), (der) =>
      this.engine.importPublicKey(der),
    );
    this.#privateOps =
      priv === undefined ? undefined : importInto(this.engine, 'privateKey', pkcs8Der(priv), (der) => this.engine.importPrivateKey(der));
  }

  /**
   * The same key pair, padding and matdesc on another engine (keys are not parsed again).
   * @param engine the engine for the new wrapper
   * @returns a new wrapper; this one is unchanged
   * @throws {TypeError} when `engine` is not an RsaEngine
   * @throws {OssCryptoError} `KEY_INVALID` when the engine does not accept the key
   * @example
   *   import { nodeRsaEngine } from 'ali-oss-crypto';
   *   const fast = rsaKeyWrapper({ privateKey: pem }).withEngine(nodeRsaEngine);
   */
  withEngine(engine: RsaEngine): RsaKeyWrapper {
    if (!isEngine(engine)) {
      throw new TypeError(`"engine" expected an RsaEngine (name, importPublicKey(), importPrivateKey()), got ${typeName(engine)}`);
    }
    const options = { padding: this.#padding, matdesc: this.matdesc, engine, [ADOPT]: { pub: this.#public, priv: this.#private } };
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
        throw new Error(`the ${this.engine.name} engine returned ${out instanceof Uint8Array ? `${out.length} bytes` : typeName(out)}, expected ${k}`);
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
    if (this.#privateOps === undefined) {
      throw new KeyUnwrapError(
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
    const key = pkcs1v15Unpad(emKey.em, 32);
    const iv = pkcs1v15Unpad(emStart.em, 16);
    emKey.em.fill(0);
    emStart.em.fill(0);
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
    if (key.length !== 32) fail(`the unwrapped key is ${key.length} bytes, expected 32`);
    if (format === 'v1') {
      const iv = counterFromDecimal(start);
      start.fill(0);
      if (iv === undefined) fail('the unwrapped V1 start is not a decimal counter below 2^128');
      return { key, iv: iv! };
    }
    if (start.length !== 16) fail(`the unwrapped IV is ${start.length} bytes, expected 16`);
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
 * @throws {OssCryptoError} `KEY_INVALID` for a malformed PEM, a key that is not RSA, a wrong passphrase, a size
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

/**
 * Generates an RSA key pair for the CLI and demos: PKCS#8 `PRIVATE KEY` and SubjectPublicKeyInfo `PUBLIC KEY`
 * PEM. node-forge uses the runtime's native generator when there is one (Node, Web Crypto).
 * @param bits modulus size, 1024..4096 (default 2048)
 * @throws {RangeError} when `bits` is outside 1024..4096 or not an integer
 * @example
 *   const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(3072);
 *   const wrapper = rsaKeyWrapper({ privateKey: privateKeyPem });
 */
export async function generateRsaKeyPair(bits = 2048): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new RangeError(`"bits" expected an integer from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}, got ${bits}`);
  }
  const pair = await new Promise<forge.pki.rsa.KeyPair>((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (err, keypair) => (err ? reject(err) : resolve(keypair)));
  });
  return {
    privateKeyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(pair.privateKey))),
    publicKeyPem: forge.pki.publicKeyToPem(pair.publicKey),
  };
}

// ---------------------------------------------------------------------------------------------------------------

const PRIVATE_TYPES = ['RSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];
const PUBLIC_TYPES = ['PUBLIC KEY', 'RSA PUBLIC KEY'];

function parsePrivateKey(input: string | Uint8Array, passphrase: string | undefined): forge.pki.rsa.PrivateKey {
  const block = findPem(input, 'privateKey', PRIVATE_TYPES);
  const encrypted = block.type === 'ENCRYPTED PRIVATE KEY' || block.procType?.type === 'ENCRYPTED';
  const pem = forge.pem.encode(block);
  let key: forge.pki.rsa.PrivateKey | null;
  try {
    if (encrypted) {
      if (passphrase === undefined) {
        throw new OssCryptoError('KEY_INVALID', `"privateKey" is encrypted (${block.type}): give its "passphrase"`);
      }
      // node-forge takes a byte string; OpenSSL (which writes these files) uses the passphrase's UTF-8 bytes.
      key = forge.pki.decryptRsaPrivateKey(pem, forge.util.encodeUtf8(passphrase));
      if (key === null) {
        throw new OssCryptoError('KEY_INVALID', `"privateKey" could not be decrypted: wrong passphrase, or an encryption scheme node-forge does not support`);
      }
    } else {
      key = forge.pki.privateKeyFromPem(pem);
    }
  } catch (err) {
    if (err instanceof OssCryptoError) throw err;
    throw new OssCryptoError('KEY_INVALID', `"privateKey" (${block.type}) is not a readable RSA private key`, { cause: scrubCause(err) });
  }
  if (key === null || typeof key !== 'object' || !('d' in key) || key.n === undefined) {
    throw new OssCryptoError('KEY_INVALID', `"privateKey" (${block.type}) is not an RSA private key`);
  }
  return key;
}

function parsePublicKey(input: string | Uint8Array): forge.pki.rsa.PublicKey {
  const block = findPem(input, 'publicKey', PUBLIC_TYPES);
  try {
    const key = forge.pki.publicKeyFromPem(forge.pem.encode(block));
    if (key === null || typeof key !== 'object' || key.n === undefined) throw new Error('not an RSA key');
    return key;
  } catch (err) {
    throw new OssCryptoError('KEY_INVALID', `"publicKey" (${block.type}) is not a readable RSA public key`, { cause: scrubCause(err) });
  }
}

function findPem(input: unknown, name: string, types: readonly string[]): forge.pem.ObjectPEM {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) text = toBinary(input);
  else throw new TypeError(`"${name}" expected a PEM string or Uint8Array, got ${typeName(input)}`);
  let blocks: forge.pem.ObjectPEM[];
  try {
    blocks = forge.pem.decode(text);
  } catch (err) {
    throw new OssCryptoError('KEY_INVALID', `"${name}" is not valid PEM`, { cause: scrubCause(err) });
  }
  const block = blocks.find((b) => types.includes(b.type));
  if (block === undefined) {
    const found = blocks.length === 0 ? 'no PEM block' : `PEM blocks of type ${blocks.map((b) => b.type).join(', ')}`;
    throw new OssCryptoError('KEY_INVALID', `"${name}" expected a PEM ${types.join(' or ')} block, found ${found}`);
  }
  return block;
}

function checkBits(bits: number, name: string): number {
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new OssCryptoError(
      'KEY_INVALID',
      `"${name}" is an RSA-${bits} key; supported sizes are ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`,
    );
  }
  return bits;
}

function schemeOf(wrapped: WrappedContentKey): 'pkcs1' | 'oaep' | undefined {
  if (wrapped.format === 'v1') return wrapped.wrapAlg === WRAP_ALG.v1Kms ? undefined : 'oaep';
  if (wrapped.wrapAlg === WRAP_ALG.rsaPkcs1) return 'pkcs1';
  if (wrapped.wrapAlg === WRAP_ALG.rsaOaep) return 'oaep';
  return undefined;
}

/**
 * V1's start is an ASCII decimal counter; the IV is that integer as a 16-byte big-endian block (FORMATS.md §3).
 * The digit check visits every byte and decides once, like the PKCS#1 unpadding.
 * @returns the IV, or `undefined` when the bytes are not 1..39 decimal digits of a value below 2^128
 */
function counterFromDecimal(bytes: Uint8Array): Uint8Array | undefined {
  let digits = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    digits &= (((b - 0x30) >>> 31) ^ 1) & (((0x39 - b) >>> 31) ^ 1);
  }
  if ((digits & (bytes.length >= 1 ? 1 : 0) & (bytes.length <= 39 ? 1 : 0)) !== 1) return undefined;
  let value = 0n;
  for (const b of bytes) value = value * 10n + BigInt(b - 0x30);
  if (value >> 128n !== 0n) return undefined;
  const iv = new Uint8Array(16);
  for (let i = 15; i >= 0; i--, value >>= 8n) iv[i] = Number(value & 0xffn);
  return iv;
}

function checkContentKey(content: ContentKey): void {
  if (content === null || typeof content !== 'object') throw new TypeError(`"content" expected a ContentKey, got ${typeName(content)}`);
  if (!(content.key instanceof Uint8Array)) throw new TypeError(`"content.key" expected a Uint8Array, got ${typeName(content.key)}`);
  if (!(content.iv instanceof Uint8Array)) throw new TypeError(`"content.iv" expected a Uint8Array, got ${typeName(content.iv)}`);
  if (content.key.length !== 32) throw new RangeError(`"content.key" expected 32 bytes, got ${content.key.length}`);
  if (content.iv.length !== 16) throw new RangeError(`"content.iv" expected 16 bytes, got ${content.iv.length}`);
}

function checkWrapped(wrapped: WrappedContentKey): void {
  if (wrapped === null || typeof wrapped !== 'object') throw new TypeError(`"wrapped" expected a WrappedContentKey, got ${typeName(wrapped)}`);
  for (const field of ['wrapAlg', 'wrappedKey', 'wrappedStart'] as const) {
    if (typeof wrapped[field] !== 'string') throw new TypeError(`"wrapped.${field}" expected a string, got ${typeName(wrapped[field])}`);
  }
  if (wrapped.format !== 'v1' && wrapped.format !== 'v2') {
    throw new TypeError(`"wrapped.format" expected 'v1' or 'v2', got ${JSON.stringify(wrapped.format)}`);
  }
}

function copyMatdesc(matdesc: unknown): Matdesc {
  if (matdesc === null || typeof matdesc !== 'object' || Array.isArray(matdesc)) {
    throw new TypeError(`"matdesc" expected an object of strings, got ${typeName(matdesc)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(matdesc)) {
    if (typeof v !== 'string') throw new TypeError(`"matdesc" expected string values, got ${typeName(v)} for ${JSON.stringify(k)}`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: false, configurable: false });
  }
  return Object.freeze(out);
}

function describeMatdesc(matdesc: Matdesc): string {
  return Object.keys(matdesc).length === 0 ? '' : ` (matdesc ${JSON.stringify(matdesc)})`;
}

// ---- engine plumbing ------------------------------------------------------------------------------------------

function isEngine(value: unknown): value is RsaEngine {
  const e = value as Partial<RsaEngine> | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.name === 'string' &&
    typeof e.importPublicKey === 'function' &&
    typeof e.importPrivateKey === 'function'
  );
}

/** Imports DER into an engine; the DER copy is zeroed afterwards (best effort: JS cannot promise no other copy). */
function importInto<T>(engine: RsaEngine, name: 'publicKey' | 'privateKey', der: Uint8Array, load: (der: Uint8Array) => T): T {
  try {
    const ops = load(der);
    if (ops === null || typeof ops !== 'object') throw new Error(`the engine returned ${typeName(ops)}`);
    return ops;
  } catch (err) {
    throw new OssCryptoError('KEY_INVALID', `"${name}" was not accepted by the ${engine.name} RSA engine`, { cause: scrubCause(err) });
  } finally {
    der.fill(0);
  }
}

function spkiDer(key: forge.pki.rsa.PublicKey): Uint8Array<ArrayBuffer> {
  return fromBinary(forge.asn1.toDer(forge.pki.publicKeyToAsn1(key)).getBytes());
}

function pkcs8Der(key: forge.pki.rsa.PrivateKey): Uint8Array<ArrayBuffer> {
  return fromBinary(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes());
}

/**
 * The raw private operation, never throwing: a failure (only `c >= n` in practice) gives an all-zero block
 * that the unpadding rejects, and `ok = 0`, so that the caller does the same work either way.
 */
async function rawOrFailure(ops: RsaPrivateKeyOps, data: Uint8Array, k: number): Promise<{ em: Uint8Array; ok: number }> {
  try {
    const out = await ops.decryptRaw(data);
    if (out instanceof Uint8Array && out.length === k) {
      const em = Uint8Array.from(out); // a plain array of our own, whatever the engine returned (Buffer, a view)
      out.fill(0);
      return { em, ok: 1 };
    }
  } catch {
    // the generic error is thrown by the caller, after the other half was processed too
  }
  return { em: new Uint8Array(k), ok: 0 };
}

async function oaepOrUndefined(ops: RsaPrivateKeyOps, data: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    const out = await ops.decryptOaep(data);
    if (!(out instanceof Uint8Array)) return undefined;
    const copy = Uint8Array.from(out);
    out.fill(0);
    return copy;
  } catch {
    return undefined;
  }
}

/** The two node-forge engines; `useWebCrypto` adds the runtime's RSA-OAEP where it exists. */
function portableEngine(name: string, useWebCrypto: boolean): RsaEngine {
  return {
    name,
    importPublicKey(spki: Uint8Array): RsaPublicKeyOps {
      const key = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(toBinary(spki))) as forge.pki.rsa.PublicKey;
      const der = Uint8Array.from(spki);
      // The WebAssembly core's public operation is faster than BigInt's (bench:rsa); BigInt where it is missing.
      const wasm = useWebCrypto ? wasmPublicOrUndefined(spki) : undefined;
      let subtleKey: Promise<CryptoKey | undefined> | undefined;
      return {
        encryptPkcs1: (data) => (wasm !== undefined && hasCsprng() ? wasm.encryptPkcs1(data) : pkcs1v15Encrypt(key, data)),
        async encryptOaep(data) {
          const s = useWebCrypto ? await (subtleKey ??= importSubtle('spki', der, 'encrypt')) : undefined;
          if (s !== undefined) return new Uint8Array(await subtle()!.encrypt({ name: 'RSA-OAEP' }, s, Uint8Array.from(data)));
          return fromBinary(key.encrypt(toBinary(data), 'RSA-OAEP', oaepOptions()));
        },
      };
    },
    importPrivateKey(pkcs8: Uint8Array): RsaPrivateKeyOps {
      const key = forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(toBinary(pkcs8))) as forge.pki.rsa.PrivateKey;
      // The portable engine's private operations run in the constant-time WebAssembly core (rsa-wasm.ts);
      // node-forge only where that core cannot be instantiated (see wasmOrUndefined).
      const wasm = useWebCrypto ? wasmOrUndefined(pkcs8) : undefined;
      let subtleKey: Promise<CryptoKey | undefined> | undefined;
      return {
        // The core blinds with `crypto.getRandomValues`; without it (Node 18) node-forge, which has its own PRNG.
        decryptRaw: (data) => (wasm !== undefined && hasCsprng() ? wasm.decryptRaw(data) : fromBinary(key.decrypt(toBinary(data), 'RAW'))),
        async decryptOaep(data) {
          // Web Crypto wants PKCS#8 DER: made again from the forge key on first use, zeroed after the import.
          const s = useWebCrypto ? await (subtleKey ??= importSubtle('pkcs8', pkcs8Der(key), 'decrypt')) : undefined;
          if (s !== undefined) return new Uint8Array(await subtle()!.decrypt({ name: 'RSA-OAEP' }, s, Uint8Array.from(data)));
          if (wasm !== undefined && hasCsprng()) return wasm.decryptOaep(data);
          return fromBinary(key.decrypt(toBinary(data), 'RSA-OAEP', oaepOptions()));
        },
      };
    },
  };
}

/**
 * The key in the WebAssembly engine, or `undefined` when the core cannot be instantiated synchronously (a
 * browser main thread before `await initWasmRsa()`; a runtime without WebAssembly) or does not take this key
 * (a public exponent above 2^32, primes of very unequal sizes): node-forge is used then, as before.
 */
function wasmOrUndefined(pkcs8: Uint8Array): RsaPrivateKeyOps | undefined {
  try {
    return wasmRsaEngine.importPrivateKey(pkcs8);
  } catch (err) {
    if (err instanceof OssCryptoError && (err.code === 'WASM_CORE' || err.code === 'KEY_INVALID')) return undefined;
    throw err;
  }
}

/** Whether `globalThis.crypto.getRandomValues` exists (the WebAssembly engine's randomness). */
function hasCsprng(): boolean {
  return typeof (globalThis as { crypto?: { getRandomValues?: unknown } }).crypto?.getRandomValues === 'function';
}

/** {@link wasmOrUndefined} for a public key. */
function wasmPublicOrUndefined(spki: Uint8Array): RsaPublicKeyOps | undefined {
  try {
    return wasmRsaEngine.importPublicKey(spki);
  } catch (err) {
    if (err instanceof OssCryptoError && (err.code === 'WASM_CORE' || err.code === 'KEY_INVALID')) return undefined;
    throw err;
  }
}

/** A Web Crypto RSA-OAEP-SHA1 key, or `undefined` when the runtime has none (node-forge is used instead). */
async function importSubtle(format: 'spki' | 'pkcs8', der: Uint8Array<ArrayBuffer>, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey | undefined> {
  const s = subtle();
  try {
    if (s === undefined) return undefined;
    return await s.importKey(format, der, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, [usage]);
  } catch {
    return undefined; // e.g. a runtime without SHA-1 OAEP
  } finally {
    if (format === 'pkcs8') der.fill(0);
  }
}

/**
 * RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1): the block from pkcs1.ts, then EM^e mod n. A public-key
 * operation, so native BigInt arithmetic is safe to use here and ~20× faster than node-forge's; without
 * `getRandomValues` (Node 18 without the webcrypto global) node-forge does it.
 */
function pkcs1v15Encrypt(key: forge.pki.rsa.PublicKey, data: Uint8Array): Uint8Array {
  const getRandomValues = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto?.getRandomValues;
  if (typeof getRandomValues !== 'function') return fromBinary(key.encrypt(toBinary(data), 'RSAES-PKCS1-V1_5'));
  const k = Math.ceil(key.n.bitLength() / 8);
  const em = pkcs1v15Pad(data, k, (bytes) => getRandomValues.call(globalThis.crypto, bytes));
  const n = BigInt('0x' + key.n.toString(16));
  const e = BigInt('0x' + key.e.toString(16));
  const c = modPow(BigInt('0x' + toHexString(em)), e, n);
  em.fill(0); // it holds the plain content key
  const hex = c.toString(16).padStart(k * 2, '0');
  const out = new Uint8Array(k);
  for (let i = 0; i < k; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Left-to-right square-and-multiply; used with the public exponent only. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  const b = base % modulus;
  for (let i = exponent.toString(2).length - 1; i >= 0; i--) {
    result = (result * result) % modulus;
    if ((exponent >> BigInt(i)) & 1n) result = (result * b) % modulus;
  }
  return result;
}

function toHexString(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function oaepOptions(): { md: forge.md.MessageDigest; mgf1: { md: forge.md.MessageDigest } } {
  return { md: forge.md.sha1.create(), mgf1: { md: forge.md.sha1.create() } };
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
}

function toBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function fromBinary(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * node-forge's error objects can carry the decrypted block or key bytes as properties; keep only the message
 * so that no key material travels in `cause`.
 */
function scrubCause(err: unknown): Error {
  return new Error(err instanceof Error ? err.message : String(err));
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
