/**
 * The loader of the WebAssembly RSA core (assembly/rsa.ts): the only file that touches that module.
 *
 * It instantiates the embedded module (rsa.wasm.ts) once, lazily: synchronously on first use where the runtime
 * allows it, or ahead of time with `await initWasmRsa()` where synchronous compilation is forbidden (a browser's
 * main thread). It offers two key objects over the core's numbers-only ABI:
 * - {@link WasmRsaPublicKey}: `x^e mod n`;
 * - {@link WasmRsaPrivateKey}: `c^d mod n` through the CRT, base-blinded, checked against the public key.
 *
 * JS owns every key's state (its components as little-endian limb arrays, the Montgomery constants R^2 mod n,
 * p, q, and the blinding pair) and writes it into the core's windows before each call; the core zeroes every
 * secret window before it returns, and this file zeroes the output and blinding windows once it has read them.
 * So any number of keys share one instance: JS is single-threaded and each call is synchronous.
 *
 * Blinding: a new pair (A = r^e, AI = r^-1 mod n, r from `crypto.getRandomValues`) every
 * {@link BLINDING_REFRESH} operations, the previous pair squared in between (OpenSSL's BN_BLINDING does the same,
 * with the same count); `refreshEvery: 1` makes a new pair for every operation (about twice the cost).
 *
 * Deliberately not here: key parsing (keys/rsa-der.ts) and padding (keys/pkcs1.ts, keys/oaep.ts).
 * @module
 */
import { KeyInvalidError, KeyUnwrapError, WasmCoreError } from '../errors.js';
import { RSA_WASM_BASE64 } from './rsa.wasm.js';

/** Operations between two new blinding pairs (the pair is squared in between), as OpenSSL's BN_BLINDING_COUNTER. */
export const BLINDING_REFRESH = 32;

/** The RSA private key components, big-endian unsigned bytes (leading zeros allowed), as in RFC 8017 §3.2. */
export interface RsaPrivateComponents {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
  readonly p: Uint8Array;
  readonly q: Uint8Array;
  readonly dP: Uint8Array;
  readonly dQ: Uint8Array;
  readonly qInv: Uint8Array;
}

/**
 * Instantiates the RSA core asynchronously. Needed only where synchronous compilation is forbidden (a browser's
 * main thread); elsewhere the first use instantiates it. Calling it again is harmless.
 * @throws {WasmCoreError} when the runtime refuses the module (code `WASM_CORE`)
 * @example
 *   await initWasmRsa();
 *   const reader = rsaKeyWrapper({ privateKey: pem, engine: wasmRsaEngine });
 */
export async function initWasmRsa(): Promise<void> {
  if (core !== undefined) return;
  try {
    const module = await WebAssembly.compile(wasmBytes());
    const instance = await WebAssembly.instantiate(module, imports);
    core ??= new Core(instance);
  } catch (err) {
    throw instantiationError(err);
  }
}

/**
 * A public key in the core: `x^e mod n`.
 * @example
 *   const key = new WasmRsaPublicKey(nBytes, eBytes);
 *   const c = key.apply(paddedBlock);
 */
export class WasmRsaPublicKey {
  /** Modulus length in bytes. */
  readonly size: number;
  readonly #nLimbs: number;
  readonly #e: number;
  readonly #n: Uint8Array;
  readonly #nRR: Uint8Array;

  /**
   * @param n the modulus, big-endian
   * @param e the public exponent, big-endian (odd, 3 to 2^32 - 1)
   * @throws {KeyInvalidError} `KEY_INVALID` when n is even or too large for the core, or e is not supported
   */
  constructor(n: Uint8Array, e: Uint8Array) {
    const c = getCore();
    const nTrim = trim(n);
    this.size = nTrim.length;
    this.#nLimbs = roundUp4(Math.ceil(nTrim.length / 4));
    this.#e = exponent(e);
    if (this.#nLimbs > c.maxLimbs || nTrim.length < 2 || (nTrim[nTrim.length - 1] & 1) === 0) {
      throw new KeyInvalidError('KEY_INVALID', `the RSA modulus is not supported by the WebAssembly core (${nTrim.length} bytes)`);
    }
    this.#n = toLimbs(nTrim, this.#nLimbs);
    c.window('N', this.#nLimbs).set(this.#n);
    if (c.exports.rsaPrepare(this.#nLimbs, 0) !== 0) throw new KeyInvalidError('KEY_INVALID', 'the RSA modulus is not supported by the WebAssembly core');
    this.#nRR = c.window('N_RR', this.#nLimbs).slice();
    c.wipe();
  }

  /**
   * `x^e mod n`, modulus-length big-endian bytes.
   * @throws {RangeError} when `x` is not a modulus-length number below n
   */
  apply(x: Uint8Array): Uint8Array {
    if (x.length !== this.size) throw new RangeError(`expected a ${this.size}-byte input, got ${x.length}`);
    const c = getCore();
    c.window('N', this.#nLimbs).set(this.#n);
    c.window('N_RR', this.#nLimbs).set(this.#nRR);
    c.window('IO', this.#nLimbs).set(toLimbs(x, this.#nLimbs));
    const status = c.exports.rsaPublic(this.#nLimbs, this.#e);
    const out = fromLimbs(c.window('IO', this.#nLimbs), this.size);
    c.wipe();
    if (status !== 0) throw new RangeError('the input is not below the RSA modulus');
    return out;
  }
}

/**
 * A private key in the core: `c^d mod n` through the CRT, blinded, and checked against the public key before
 * the result is released.
 * @example
 *   const key = new WasmRsaPrivateKey(components);
 *   const em = key.apply(ciphertext); // modulus-length; unpad, then zero it
 */
export class WasmRsaPrivateKey {
  /** Modulus length in bytes. */
  readonly size: number;
  readonly #nLimbs: number;
  readonly #halfLimbs: number;
  readonly #e: number;
  readonly #refreshEvery: number;
  readonly #random: (bytes: Uint8Array) => unknown;
  /** Little-endian limb arrays by window name, written before every call. */
  readonly #windows: Record<string, Uint8Array>;
  #blind: Uint8Array | undefined;
  #blindInv: Uint8Array | undefined;
  #uses = 0;

  /**
   * @param key the components (copied)
   * @param options `refreshEvery`: operations per new blinding pair (default {@link BLINDING_REFRESH});
   *   `random`: fills its argument with CSPRNG bytes (default `crypto.getRandomValues`)
   * @throws {KeyInvalidError} `KEY_INVALID` when a component does not fit the core or the components do not
   *   make one key (checked by a first private operation)
   */
  constructor(key: RsaPrivateComponents, options: { refreshEvery?: number; random?: (bytes: Uint8Array) => unknown } = {}) {
    const c = getCore();
    const n = trim(key.n);
    const p = trim(key.p);
    const q = trim(key.q);
    this.size = n.length;
    this.#e = exponent(key.e);
    this.#refreshEvery = options.refreshEvery ?? BLINDING_REFRESH;
    this.#random = options.random ?? ((bytes) => crypto.getRandomValues(bytes));
    if (!Number.isInteger(this.#refreshEvery) || this.#refreshEvery < 1) {
      throw new RangeError(`"refreshEvery" expected a positive integer, got ${this.#refreshEvery}`);
    }
    this.#nLimbs = roundUp4(Math.ceil(n.length / 4));
    this.#halfLimbs = roundUp4(Math.ceil(Math.max(p.length, q.length) / 4));
    const half = this.#halfLimbs * 4;
    const fits =
      this.#nLimbs <= c.maxLimbs &&
      this.#halfLimbs <= c.halfLimbs &&
      this.#nLimbs <= 2 * this.#halfLimbs &&
      n.length >= 2 &&
      [key.dP, key.dQ, key.qInv].every((x) => trim(x).length <= half);
    // Oddness is public (every RSA prime but 2 is odd), so checking it reveals nothing.
    if (!fits || (n[n.length - 1] & p[p.length - 1] & q[q.length - 1] & 1) === 0) {
      throw new KeyInvalidError('KEY_INVALID', 'the RSA private key is not supported by the WebAssembly core');
    }
    this.#windows = {
      N: toLimbs(n, this.#nLimbs),
      P: toLimbs(p, this.#halfLimbs),
      Q: toLimbs(q, this.#halfLimbs),
      DP: toLimbs(key.dP, this.#halfLimbs),
      DQ: toLimbs(key.dQ, this.#halfLimbs),
      QINV: toLimbs(key.qInv, this.#halfLimbs),
    };
    c.window('N', this.#nLimbs).set(this.#windows.N);
    c.window('P', this.#halfLimbs).set(this.#windows.P);
    c.window('Q', this.#halfLimbs).set(this.#windows.Q);
    if (c.exports.rsaPrepare(this.#nLimbs, this.#halfLimbs) !== 0) {
      throw new KeyInvalidError('KEY_INVALID', 'the RSA private key is not supported by the WebAssembly core');
    }
    this.#windows.N_RR = c.window('N_RR', this.#nLimbs).slice();
    this.#windows.P_RR = c.window('P_RR', this.#halfLimbs).slice();
    this.#windows.Q_RR = c.window('Q_RR', this.#halfLimbs).slice();
    c.wipe();
    // A first operation proves the components belong together (its result is checked against n and e).
    const probe = new Uint8Array(this.size);
    probe[this.size - 1] = 2;
    try {
      this.apply(probe).fill(0);
    } catch (err) {
      this.dispose();
      throw new KeyInvalidError('KEY_INVALID', 'the RSA private key components are inconsistent (n, e, p, q, dP, dQ, qInv)', {
        cause: new Error(err instanceof Error ? err.message : String(err)),
      });
    }
  }

  /**
   * `c^d mod n` as modulus-length big-endian bytes (leading zeros kept); the caller zeroes it after use.
   * @throws {RangeError} when `c` is not modulus-length
   * @throws {KeyUnwrapError} `KEY_UNWRAP_FAILED` when `c >= n`, or when the result failed the check against
   *   the public key (a fault); nothing of the result is released then
   */
  apply(ciphertext: Uint8Array): Uint8Array {
    const w = this.#windows;
    if (w.N === undefined) throw new TypeError('this RSA key was disposed');
    if (ciphertext.length !== this.size) throw new RangeError(`expected a ${this.size}-byte input, got ${ciphertext.length}`);
    const c = getCore();
    const nL = this.#nLimbs;
    const hL = this.#halfLimbs;
    try {
      for (const name of ['N', 'N_RR'] as const) c.window(name, nL).set(w[name]);
      for (const name of ['P', 'Q', 'DP', 'DQ', 'QINV', 'P_RR', 'Q_RR'] as const) c.window(name, hL).set(w[name]);
      c.window('IO', nL).set(toLimbs(ciphertext, nL));
      const newPair = this.#blind === undefined || this.#uses % this.#refreshEvery === 0;
      if (newPair) {
        // r < 2^(8 (size - 1)) <= n: one byte shorter than the modulus
        this.#random(c.window('RANDOM', nL).subarray(0, this.size - 1));
      } else {
        c.window('BLIND', nL).set(this.#blind!);
        c.window('BLIND_INV', nL).set(this.#blindInv!);
      }
      this.#uses++;
      const status = c.exports.rsaPrivate(nL, hL, this.#e, newPair ? 1 : 0);
      if (status !== 0) {
        this.#blind?.fill(0);
        this.#blindInv?.fill(0);
        this.#blind = this.#blindInv = undefined;
        throw new KeyUnwrapError(
          'KEY_UNWRAP_FAILED',
          status === 1 ? 'the RSA ciphertext is not below the modulus' : 'the RSA private operation failed its check against the public key',
        );
      }
      this.#blind = c.window('BLIND', nL).slice();
      this.#blindInv = c.window('BLIND_INV', nL).slice();
      return fromLimbs(c.window('IO', nL), this.size);
    } finally {
      c.wipe();
    }
  }

  /** Zeroes this key's copies of its components and blinding pair (best effort: JS cannot promise no other copy). */
  dispose(): void {
    for (const name of Object.keys(this.#windows)) {
      this.#windows[name].fill(0);
      delete this.#windows[name];
    }
    this.#blind?.fill(0);
    this.#blindInv?.fill(0);
    this.#blind = this.#blindInv = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** The exports of assembly/rsa.ts, by hand. */
interface RsaCoreExports {
  readonly memory: WebAssembly.Memory;
  readonly MAX_LIMBS: WebAssembly.Global;
  readonly HALF_LIMBS: WebAssembly.Global;
  rsaPrepare(nLimbs: number, halfLimbs: number): number;
  rsaPublic(nLimbs: number, e: number): number;
  rsaPrivate(nLimbs: number, halfLimbs: number, e: number, newPair: number): number;
  rsaWipe(): void;
}

type WindowName = 'IO' | 'N' | 'N_RR' | 'P' | 'Q' | 'DP' | 'DQ' | 'QINV' | 'P_RR' | 'Q_RR' | 'BLIND' | 'BLIND_INV' | 'RANDOM';

class Core {
  readonly exports: RsaCoreExports;
  readonly maxLimbs: number;
  readonly halfLimbs: number;
  readonly #addresses = new Map<WindowName, number>();

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as RsaCoreExports;
    this.maxLimbs = this.exports.MAX_LIMBS.value as number;
    this.halfLimbs = this.exports.HALF_LIMBS.value as number;
    const globals = instance.exports as unknown as Record<WindowName, WebAssembly.Global>;
    for (const name of ['IO', 'N', 'N_RR', 'P', 'Q', 'DP', 'DQ', 'QINV', 'P_RR', 'Q_RR', 'BLIND', 'BLIND_INV', 'RANDOM'] as const) {
      this.#addresses.set(name, globals[name].value as number);
    }
  }

  /** A view of the first `limbs` limbs of a window (the memory never grows: runtime `stub`, no allocation). */
  window(name: WindowName, limbs: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, this.#addresses.get(name)!, limbs * 4);
  }

  /** Zeroes every window. */
  wipe(): void {
    this.exports.rsaWipe();
  }
}

let core: Core | undefined;

const imports: WebAssembly.Imports = {
  env: {
    abort(): never {
      throw new WasmCoreError('WASM_CORE', 'the WebAssembly RSA core aborted');
    },
  },
};

function getCore(): Core {
  if (core !== undefined) return core;
  try {
    core = new Core(new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), imports));
  } catch (err) {
    throw instantiationError(err);
  }
  return core;
}

function instantiationError(err: unknown): WasmCoreError {
  const reason = err instanceof Error ? err.message : String(err);
  return new WasmCoreError(
    'WASM_CORE',
    `could not instantiate the WebAssembly RSA core: ${reason}. Where synchronous compilation is forbidden (a ` +
      "browser main thread), call `await initWasmRsa()` once first; a Content-Security-Policy must allow 'wasm-unsafe-eval'.",
    { cause: err },
  );
}

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const binary = atob(RSA_WASM_BASE64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Big-endian bytes without leading zeros (a public length: the modulus and primes have known sizes). */
function trim(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** Big-endian bytes as `limbs` little-endian 32-bit limbs: the bytes reversed, zero-padded. */
function toLimbs(bytes: Uint8Array, limbs: number): Uint8Array {
  const out = new Uint8Array(limbs * 4);
  const n = Math.min(bytes.length, out.length);
  for (let i = 0; i < n; i++) out[i] = bytes[bytes.length - 1 - i];
  return out;
}

/** The low `size` bytes of a little-endian window as big-endian bytes. */
function fromLimbs(window: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = window[size - 1 - i];
  return out;
}

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

/** The public exponent as a number: odd, from 3 to 2^32 - 1 (what the core's ABI carries). */
function exponent(e: Uint8Array): number {
  const t = trim(e);
  let value = 0;
  for (const b of t) value = value * 256 + b;
  if (t.length > 4 || value < 3 || value % 2 === 0) {
    throw new KeyInvalidError('KEY_INVALID', 'the RSA public exponent is not supported by the WebAssembly core (odd, 3 to 2^32 - 1)');
  }
  return value;
}
