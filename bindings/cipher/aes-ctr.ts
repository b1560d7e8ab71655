/**
 * AES-256-CTR, the body cipher of every OSS client-side-encrypted object (docs/FORMAT.md §1).
 *
 * This is the one validating layer over the engines: key 32 bytes, IV 16 bytes, offset a non-negative safe
 * integer or bigint. It positions the counter at any byte offset (block `IV + floor(offset / 16)`, skip
 * `offset % 16`) so that ranged reads and multipart parts need nothing else. Below it, the engines trust their
 * input. The default engine is the constant-time WebAssembly core; the runtime's native AES
 * (`ali-oss-crypto/native`) can be passed explicitly. Encryption and decryption are the same operation.
 *
 * Deliberately not here: authentication (CTR has none; see the README's security notes).
 * @module
 */
import type { CtrBackend, CtrSession } from './backend.js';
import { addBlocks, BLOCK_BYTES, splitOffset } from './counter.js';
import { wasmBackend } from './wasm.js';
import { describe } from '../util/describe.js';
import { IV_BYTES, KEY_BYTES } from './sizes.js';

export type { CtrBackend, CtrSession } from './backend.js';
export { BLOCK_BYTES } from './counter.js';
export { IV_BYTES, KEY_BYTES } from './sizes.js';

/**
 * Options of {@link aesCtr}.
 * @example
 *   import { nativeBackend } from 'ali-oss-crypto/native';
 *   const options: AesCtrOptions = { backend: nativeBackend };
 *   const ct = aesCtrXor(cek, iv, plaintext, 0, options);
 */
export interface AesCtrOptions {
  /** The AES engine. Default: the WebAssembly core. */
  backend?: CtrBackend;
}

/**
 * A CTR keystream positioned at a byte offset; encrypting and decrypting are the same call.
 * @example
 *   const s: CtrStream = aesCtr(cek, iv, 4096);
 *   for await (const chunk of body) out.write(s.update(chunk)); // s.position advances by each chunk's length
 *   s.dispose();
 */
export interface CtrStream {
  /**
   * XORs the keystream into `input` and advances the position by `input.length`. Writes into `output` when
   * given (it must be at least as long as `input`; it may be `input` itself) and returns the written view,
   * else returns a new array. Chunked calls give the same bytes as one call.
   */
  update(input: Uint8Array, output?: Uint8Array): Uint8Array;
  /**
   * XORs the keystream into `chunk`, which the caller owns and gives up: the result is `chunk` itself, decrypted
   * in place, or a new array when the engine's API allocates its output anyway (node:crypto), so no engine pays
   * a copy. Advances the position as {@link update} does.
   */
  updateOwned(chunk: Uint8Array): Uint8Array;
  /** The byte offset in the object that the next `update` starts at. */
  readonly position: bigint;
  /** Zeroes the key material this stream holds. Further `update` calls throw. */
  dispose(): void;
}

/**
 * Opens an AES-256-CTR stream at byte `offset` of an object.
 * @param key the 32-byte content key
 * @param iv the 16-byte initial counter block, a 128-bit big-endian integer
 * @param offset byte position in the object (a non-negative safe integer or bigint)
 * @throws {TypeError} `"key" expected a Uint8Array, got string`
 * @throws {RangeError} `"iv" expected 16 bytes, got 12`
 * @example
 *   const enc = aesCtr(cek, iv);
 *   const ct = enc.update(plaintext);
 *   // decrypt bytes 1000.. of the same object
 *   const pt = aesCtr(cek, iv, 1000).update(ct.subarray(1000));
 */
export function aesCtr(key: Uint8Array, iv: Uint8Array, offset: number | bigint = 0, options: AesCtrOptions = {}): CtrStream {
  checkBytes('key', key, KEY_BYTES);
  checkBytes('iv', iv, IV_BYTES);
  const start = checkOffset('offset', offset);
  const backend = options.backend ?? wasmBackend();
  const { block, skip } = splitOffset(start);
  return new Stream(backend.open(key, addBlocks(iv, block), skip), start);
}

/**
 * One-shot AES-256-CTR: returns `data` XORed with the keystream that starts at byte `offset`.
 * @example
 *   const ct = aesCtrXor(cek, iv, plaintext);
 *   const same = aesCtrXor(cek, iv, ct); // equals plaintext
 */
export function aesCtrXor(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  offset: number | bigint = 0,
  options: AesCtrOptions = {},
): Uint8Array {
  checkInput('data', data);
  const stream = aesCtr(key, iv, offset, options);
  try {
    return stream.update(data);
  } finally {
    stream.dispose();
  }
}

/**
 * The counter block used for the keystream byte at `offset`: `(iv + floor(offset / 16)) mod 2^128`.
 * @throws {RangeError} when `iv` is not 16 bytes or `offset` is negative or fractional
 * @example
 *   counterAt(iv, 32) // iv + 2
 */
export function counterAt(iv: Uint8Array, offset: number | bigint): Uint8Array {
  checkBytes('iv', iv, IV_BYTES);
  return addBlocks(iv, splitOffset(checkOffset('offset', offset)).block);
}

class Stream implements CtrStream {
  #session: CtrSession | undefined;
  #position: bigint;

  constructor(session: CtrSession, position: bigint) {
    this.#session = session;
    this.#position = position;
  }

  get position(): bigint {
    return this.#position;
  }

  update(input: Uint8Array, output?: Uint8Array): Uint8Array {
    const session = this.#session;
    if (session === undefined) throw new TypeError('this CTR stream was disposed');
    checkInput('input', input);
    let out: Uint8Array;
    if (output === undefined) {
      if (session.produce !== undefined) return this.#advance(session.produce(input), input.length);
      out = new Uint8Array(input.length);
    } else {
      checkInput('output', output);
      if (output.length < input.length) {
        throw new RangeError(`"output" expected at least ${input.length} bytes, got ${output.length}`);
      }
      out = output.length === input.length ? output : output.subarray(0, input.length);
    }
    if (input.length > 0) session.process(input, out);
    return this.#advance(out, input.length);
  }

  updateOwned(chunk: Uint8Array): Uint8Array {
    const session = this.#session;
    if (session === undefined) throw new TypeError('this CTR stream was disposed');
    checkInput('chunk', chunk);
    if (session.produce !== undefined) return this.#advance(session.produce(chunk), chunk.length);
    if (chunk.length > 0) session.process(chunk, chunk);
    return this.#advance(chunk, chunk.length);
  }

  #advance(out: Uint8Array, length: number): Uint8Array {
    this.#position += BigInt(length);
    return out;
  }

  dispose(): void {
    this.#session?.dispose();
    this.#session = undefined;
  }
}

function checkInput(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected a Uint8Array, got ${describe(value)}`);
}

function checkBytes(name: string, value: unknown, length: number): asserts value is Uint8Array {
  checkInput(name, value);
  if (value.length !== length) throw new RangeError(`"${name}" expected ${length} bytes, got ${value.length}`);
}

function checkOffset(name: string, value: unknown): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError(`"${name}" expected a non-negative integer, got ${value}`);
    return value;
  }
  if (typeof value !== 'number') throw new TypeError(`"${name}" expected a number or bigint, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`"${name}" expected a non-negative safe integer, got ${value}`);
  }
  return BigInt(value);
}
