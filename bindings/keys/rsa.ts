/**
 * RSA key wrapping of content keys, byte-compatible with the official OSS SDKs (FORMATS.md §2.1, §3).
 *
 * Writes `RSA/NONE/PKCS1Padding` (PKCS#1 v1.5, what oss2 `RsaProvider`, Go, Java and C++ write and read) by
 * default, or `RSA/NONE/OAEPWithSHA-1AndMGF1Padding` (oss2 `LocalRsaProvider`). Reads both V2 labels whatever
 * the padding chosen for writing, and V1 `rsa` (OAEP-SHA1, where the start wraps an ASCII decimal counter).
 * The CEK and the IV are wrapped separately; each wrapped value is modulus-length, stored as base64.
 *
 * Engines: PKCS#1 v1.5 unwrapping is node-forge (Node 20 refuses v1.5 private decryption, CVE-2023-46809, and
 * Web Crypto has no RSAES-PKCS1-v1_5); PKCS#1 v1.5 wrapping is a public-key operation done with native BigInt
 * (checked byte for byte against node-forge in the tests); RSA-OAEP uses the runtime's Web Crypto
 * (`globalThis.crypto.subtle`) when it has one, node-forge otherwise, with the same results (the tests run both).
 * No `node:` import: this file runs in browsers.
 *
 * Deliberately not here: choosing which key pair reads an object (keyring.ts, by matdesc). Note that RSA
 * private operations in node-forge are not constant-time; an attacker who can time many unwraps of forged
 * objects is outside what this library defends against.
 * @module
 */
import forge from 'node-forge';
import { KeyUnwrapError, KeyWrapError, MetadataError, OssCryptoError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../envelope/base64.js';
import { WRAP_ALG } from '../envelope/headers.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';

/** Smallest RSA modulus accepted (oss2's own test keys are 1024-bit). */
export const RSA_MIN_BITS = 1024;
/** Largest RSA modulus accepted. */
export const RSA_MAX_BITS = 4096;

/** Which padding {@link RsaKeyWrapper.wrap} writes. Reading accepts both. */
export type RsaPadding = 'pkcs1' | 'oaep';

/** Options of {@link rsaKeyWrapper}. Give a public key, a private key, or both halves of one pair. */
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
   * Use the runtime's Web Crypto for RSA-OAEP when it has it (default `true`); `false` forces node-forge for
   * everything (same bytes, slower).
   */
  webCrypto?: boolean;
}

/**
 * An RSA master key as a {@link KeyWrapper}. Create it with {@link rsaKeyWrapper}.
 *
 * `unwrap()` returns `null` for a non-RSA wrap algorithm ("not mine"); it throws `KeyUnwrapError` when the
 * object is RSA-wrapped but this key cannot unwrap it (another key pair, altered metadata), never garbage.
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

  readonly #padding: RsaPadding;
  readonly #public: forge.pki.rsa.PublicKey;
  readonly #private: forge.pki.rsa.PrivateKey | undefined;
  readonly #webCrypto: boolean;
  #subtlePrivate: Promise<CryptoKey | undefined> | undefined;
  #subtlePublic: Promise<CryptoKey | undefined> | undefined;

  /** Prefer {@link rsaKeyWrapper}; the constructor takes the same options. */
  constructor(options: RsaKeyWrapperOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`"options" expected an object, got ${typeName(options)}`);
    }
    const { publicKey, privateKey, passphrase, padding = 'pkcs1', matdesc = {}, webCrypto = true } = options;
    if (padding !== 'pkcs1' && padding !== 'oaep') {
      throw new RangeError(`"padding" expected 'pkcs1' or 'oaep', got ${JSON.stringify(padding)}`);
    }
    if (passphrase !== undefined && typeof passphrase !== 'string') {
      throw new TypeError(`"passphrase" expected a string, got ${typeName(passphrase)}`);
    }
    if (publicKey === undefined && privateKey === undefined) {
      throw new TypeError('"publicKey" or "privateKey" is required (a public key can write, a private key can read and write)');
    }
    this.#padding = padding;
    this.wrapAlg = padding === 'pkcs1' ? WRAP_ALG.rsaPkcs1 : WRAP_ALG.rsaOaep;
    this.matdesc = copyMatdesc(matdesc);
    this.#webCrypto = webCrypto !== false;

    const priv = privateKey === undefined ? undefined : parsePrivateKey(privateKey, passphrase);
    let pub = publicKey === undefined ? undefined : parsePublicKey(publicKey);
    if (priv !== undefined) {
      if (pub !== undefined && (pub.n.compareTo(priv.n) !== 0 || pub.e.compareTo(priv.e) !== 0)) {
        throw new OssCryptoError('KEY_INVALID', 'publicKey and privateKey are not the two halves of one RSA key pair (their moduli differ)');
      }
      pub ??= forge.pki.rsa.setPublicKey(priv.n, priv.e);
    }
    this.#public = pub!;
    this.#private = priv;
    this.canUnwrap = priv !== undefined;
    this.bits = checkBits(this.#public.n.bitLength(), priv !== undefined ? 'privateKey' : 'publicKey');
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
    try {
      const [wrappedKey, wrappedStart] = await Promise.all([this.#encrypt(content.key), this.#encrypt(content.iv)]);
      return Object.freeze({
        format: 'v2' as const,
        wrapAlg: this.wrapAlg,
        wrappedKey: encodeBase64(wrappedKey),
        wrappedStart: encodeBase64(wrappedStart),
        matdesc: this.matdesc,
      });
    } catch (err) {
      throw new KeyWrapError('KEY_WRAP_FAILED', `RSA-${this.bits} ${this.#padding} encryption of the content key failed`, { cause: err });
    }
  }

  /**
   * Unwraps a stored content key: V2 `RSA/NONE/PKCS1Padding` or `RSA/NONE/OAEPWithSHA-1AndMGF1Padding`, or V1
   * `rsa` (OAEP-SHA1 key; the start is a decimal counter, returned as a 16-byte big-endian IV).
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
    if (this.#private === undefined) {
      throw new KeyUnwrapError(
        'KEY_INVALID',
        `this RSA-${this.bits} material${describeMatdesc(this.matdesc)} holds only a public key: it can write objects but not read them; give its privateKey to read`,
      );
    }
    const what = wrapped.format === 'v1' ? 'V1 rsa (OAEP-SHA1)' : wrapped.wrapAlg;
    const key = await this.#decrypt(wrapped.wrappedKey, 'key', scheme, what);
    const start = await this.#decrypt(wrapped.wrappedStart, 'start', scheme, what);
    if (key.length !== 32) throw this.#failed(what, `the unwrapped key is ${key.length} bytes, expected 32`);
    if (wrapped.format === 'v1') return { key, iv: counterFromDecimal(start, (m) => this.#failed(what, m)) };
    if (start.length !== 16) throw this.#failed(what, `the unwrapped IV is ${start.length} bytes, expected 16`);
    return { key, iv: start };
  }

  async #encrypt(data: Uint8Array): Promise<Uint8Array> {
    if (this.#padding === 'oaep') {
      const subtleKey = await (this.#subtlePublic ??= this.#importPublic());
      if (subtleKey !== undefined) {
        return new Uint8Array(await subtle()!.encrypt({ name: 'RSA-OAEP' }, subtleKey, Uint8Array.from(data)));
      }
      return fromBinary(this.#public.encrypt(toBinary(data), 'RSA-OAEP', oaepOptions()));
    }
    return pkcs1v15Encrypt(this.#public, data);
  }

  async #decrypt(text: string, field: 'key' | 'start', scheme: 'pkcs1' | 'oaep', what: string): Promise<Uint8Array> {
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
    const priv = this.#private!;
    if (scheme === 'oaep') {
      const subtleKey = await (this.#subtlePrivate ??= this.#importPrivate());
      if (subtleKey !== undefined) {
        try {
          return new Uint8Array(await subtle()!.decrypt({ name: 'RSA-OAEP' }, subtleKey, bytes));
        } catch (err) {
          throw this.#failed(what, `OAEP decoding of the wrapped ${field} failed`, err);
        }
      }
    }
    try {
      return fromBinary(
        scheme === 'oaep' ? priv.decrypt(toBinary(bytes), 'RSA-OAEP', oaepOptions()) : priv.decrypt(toBinary(bytes), 'RSAES-PKCS1-V1_5'),
      );
    } catch (err) {
      throw this.#failed(what, `${scheme === 'oaep' ? 'OAEP' : 'PKCS#1 v1.5'} decoding of the wrapped ${field} failed`, err);
    }
  }

  #failed(what: string, detail: string, cause?: unknown): KeyUnwrapError {
    return new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `cannot unwrap this ${what} object with the RSA-${this.bits} private key${describeMatdesc(this.matdesc)}: ${detail}; ` +
        'the object was written with another key pair, or its metadata was altered',
      cause === undefined ? undefined : { cause: scrubCause(cause) },
    );
  }

  // Web Crypto wants DER: PKCS#8 for the private key, SPKI for the public one. The DER copy is zeroed after
  // import (best effort: JS gives no guarantee that no other copy exists).
  async #importPrivate(): Promise<CryptoKey | undefined> {
    const s = this.#webCrypto ? subtle() : undefined;
    if (s === undefined) return undefined;
    const der = fromBinary(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(this.#private!))).getBytes());
    try {
      return await s.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['decrypt']);
    } catch {
      return undefined; // e.g. a runtime without SHA-1 OAEP: node-forge does it instead
    } finally {
      der.fill(0);
    }
  }

  async #importPublic(): Promise<CryptoKey | undefined> {
    const s = this.#webCrypto ? subtle() : undefined;
    if (s === undefined) return undefined;
    const der = fromBinary(forge.asn1.toDer(forge.pki.publicKeyToAsn1(this.#public)).getBytes());
    try {
      return await s.importKey('spki', der, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['encrypt']);
    } catch {
      return undefined;
    }
  }
}

/**
 * Creates an RSA key wrapper.
 * @param options the key(s), padding for new objects, matdesc
 * @throws {OssCryptoError} `KEY_INVALID` for a malformed PEM, a key that is not RSA, a wrong passphrase, a size
 *   outside 1024–4096 bits, or a public and private key that do not match
 * @throws {TypeError|RangeError} for options of the wrong type
 * @example
 *   const writer = rsaKeyWrapper({ publicKey: readFileSync('pub.pem', 'utf8') });
 *   const reader = rsaKeyWrapper({ privateKey: readFileSync('key.pem', 'utf8'), matdesc: { owner: 'ops' } });
 *   const oaep = rsaKeyWrapper({ privateKey: pem, padding: 'oaep' });
 *   const wrapped = await writer.wrap(content);
 *   const content2 = await reader.unwrap(wrapped);
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

/** V1's start is an ASCII decimal counter; the IV is that integer as a 16-byte big-endian block (FORMATS.md §3). */
function counterFromDecimal(bytes: Uint8Array, fail: (m: string) => Error): Uint8Array {
  if (bytes.length === 0 || bytes.length > 39 || !bytes.every((b) => b >= 0x30 && b <= 0x39)) {
    throw fail(`the unwrapped V1 start is not a decimal counter (${bytes.length} bytes)`);
  }
  let value = 0n;
  for (const b of bytes) value = value * 10n + BigInt(b - 0x30);
  if (value >> 128n !== 0n) throw fail('the unwrapped V1 start does not fit in 128 bits');
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

/**
 * RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1): EM = 00 02 PS 00 M with PS nonzero random bytes, then
 * EM^e mod n. A public-key operation, so native BigInt arithmetic is safe to use here and ~20× faster than
 * node-forge's; without `getRandomValues` (Node 18 without the webcrypto global) node-forge does it.
 */
function pkcs1v15Encrypt(key: forge.pki.rsa.PublicKey, data: Uint8Array): Uint8Array {
  const getRandomValues = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto?.getRandomValues;
  if (typeof getRandomValues !== 'function') return fromBinary(key.encrypt(toBinary(data), 'RSAES-PKCS1-V1_5'));
  const k = Math.ceil(key.n.bitLength() / 8);
  const psLength = k - 3 - data.length;
  if (psLength < 8) throw new RangeError(`a ${data.length}-byte message is too long for RSA-${key.n.bitLength()} PKCS#1 v1.5`);
  const em = new Uint8Array(k);
  em[1] = 0x02;
  const ps = em.subarray(2, 2 + psLength);
  getRandomValues.call(globalThis.crypto, ps);
  // PS must contain no zero byte (the decoder looks for the first zero as the separator): redraw those.
  const one = new Uint8Array(1);
  for (let i = 0; i < ps.length; i++) {
    while (ps[i] === 0) {
      getRandomValues.call(globalThis.crypto, one);
      ps[i] = one[0];
    }
  }
  em.set(data, k - data.length);
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
