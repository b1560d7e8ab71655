/**
 * The RSA arithmetic behind the RSA key wrapper: the {@link RsaEngine} contract (what an engine must do, with
 * DER in and modulus-length bytes out) and the portable engines: the constant-time WebAssembly core
 * (rsa-wasm.ts) for private operations and the PKCS#1 v1.5 public operation, the runtime's Web Crypto (RSA-OAEP),
 * and node-forge and native BigInt where the core cannot run. Also the two guarded calls the wrapper makes
 * into any engine, which never throw, so that every failure costs the same work (no padding oracle).
 *
 * Deliberately not here: PKCS#1 v1.5 padding (pkcs1.ts), PEM (rsa-pem.ts), node:crypto (rsa-native.ts).
 * @module
 */
import forge from 'node-forge';
import { KeyInvalidError, OssCryptoError } from '../errors.js';
import { describe } from '../util/describe.js';
import { bigIntToBytes, bytesToBigInt } from './bigint-bytes.js';
import { pkcs1v15Pad } from './pkcs1.js';
import { fromBinary, pkcs8Der, scrubCause, toBinary } from './rsa-pem.js';
import { wasmRsaEngine } from './rsa-wasm.js';

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
 * node-forge alone ({@link forgeRsaEngine}), the WebAssembly core (`wasmRsaEngine`) or node:crypto
 * (`nodeRsaEngine`, Node entry only).
 *
 * A wrapper imports its key into its engine once, when it is created, as DER: SubjectPublicKeyInfo for the
 * public half, PKCS#8 for the private half. The engine keeps what it needs (copies); the wrapper zeroes the
 * PKCS#8 bytes as soon as `importPrivateKey` returns.
 * @example
 *   const wrapper = rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine });
 *   wrapper.engine.name; // 'node'
 */
export interface RsaEngine {
  /** Short name for benchmarks and messages: `"portable"`, `"forge"`, `"wasm"`, `"node"`. */
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

/** True when `value` has the shape of an {@link RsaEngine}. */
export function isEngine(value: unknown): value is RsaEngine {
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
export function importInto<T>(engine: RsaEngine, name: 'publicKey' | 'privateKey', der: Uint8Array, load: (der: Uint8Array) => T): T {
  try {
    const ops = load(der);
    if (ops === null || typeof ops !== 'object') throw new Error(`the engine returned ${describe(ops)}`);
    return ops;
  } catch (err) {
    throw new KeyInvalidError('KEY_INVALID', `"${name}" was not accepted by the ${engine.name} RSA engine`, { cause: scrubCause(err) });
  } finally {
    der.fill(0);
  }
}

/**
 * The raw private operation, never throwing: a failure (only `c >= n` in practice) gives an all-zero block
 * that the unpadding rejects, and `ok = 0`, so that the caller does the same work either way.
 */
export async function rawOrFailure(ops: RsaPrivateKeyOps, data: Uint8Array, k: number): Promise<{ em: Uint8Array; ok: number }> {
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

/** OAEP decryption as a copy of our own, or `undefined` on any failure (the caller throws one generic error). */
export async function oaepOrUndefined(ops: RsaPrivateKeyOps, data: Uint8Array): Promise<Uint8Array | undefined> {
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
      seedForgeFromWebCrypto();
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

let forgeSeeded = false;

/**
 * node-forge blinds its private-key operations with random numbers from its PRNG, which it seeds from
 * `require('crypto')` whenever it sees a `process` global. A bundle built for browsers replaces that module with
 * an empty one, so run in Deno, Bun or Node every unwrap failed. Seeding from `crypto.getRandomValues` (every
 * target runtime has it; it is what forge itself uses in browsers) works wherever the library runs.
 */
function seedForgeFromWebCrypto(): void {
  if (forgeSeeded) return;
  forgeSeeded = true;
  const webCrypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof webCrypto?.getRandomValues !== 'function') return;
  const seed = (needed: number): string => {
    const bytes = new Uint8Array(needed);
    for (let at = 0; at < needed; at += 65_536) webCrypto.getRandomValues!(bytes.subarray(at, Math.min(needed, at + 65_536)));
    return toBinary(bytes);
  };
  const random = forge.random as unknown as { seedFileSync: (needed: number) => string; seedFile: (needed: number, done: (err: unknown, bytes?: string) => void) => void };
  random.seedFileSync = seed;
  random.seedFile = (needed, done) => {
    try {
      done(null, seed(needed));
    } catch (err) {
      done(err);
    }
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
  const c = modPow(bytesToBigInt(em), e, n);
  em.fill(0); // it holds the plain content key
  return bigIntToBytes(c, k);
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

function oaepOptions(): { md: forge.md.MessageDigest; mgf1: { md: forge.md.MessageDigest } } {
  return { md: forge.md.sha1.create(), mgf1: { md: forge.md.sha1.create() } };
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
}
