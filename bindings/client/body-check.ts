/**
 * The checks of a downloaded body, independent of any stream library: decrypt (when given a CTR stream), count
 * against the announced length, and at the end compare the CRC-64 of the stored bytes with
 * `x-oss-hash-crc64ecma` and the MD5 of the plaintext with the recorded `unencrypted-content-md5` (whole
 * objects only; docs/FORMAT.md §6). Node's Verifier (verifier.ts, a Transform) and the web read path
 * (web-read.ts, a TransformStream) both drive it, so the rules and messages are one.
 *
 * Deliberately not here: the stream plumbing, and which MD5 implementation runs (the caller passes one).
 * @module
 */
import type { CtrStream } from '../cipher/aes-ctr.js';
import { IntegrityError } from '../errors.js';
import { Crc64 } from '../integrity/crc64.js';

/** An incremental hash: node:crypto's MD5 or util/md5.ts's. */
export interface Md5Hasher {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

/**
 * What the body must be.
 * @example
 *   const spec: BodyCheckOptions = { name: 'a.bin', expected: 1000, crc: 123n };
 */
export interface BodyCheckOptions {
  name: string;
  /** Bytes the body must hold. */
  expected: number;
  /** Expected CRC-64 of the stored bytes (whole objects). */
  crc?: bigint;
  /** Expected MD5 of the plaintext (whole objects). */
  md5?: Uint8Array;
  /** Decrypts when present; absent for an allowed plain object. */
  ctr?: CtrStream;
}

/**
 * Checks and decrypts a body chunk by chunk.
 * @example
 *   const check = new BodyCheck(spec, () => new Md5());
 *   for (const chunk of chunks) out.push(check.update(chunk));
 *   check.finish(); // throws IntegrityError on a short body, a CRC-64 or an MD5 mismatch
 */
export class BodyCheck {
  count = 0;
  readonly #o: BodyCheckOptions;
  readonly #crc: Crc64 | undefined;
  readonly #md5: Md5Hasher | undefined;

  constructor(options: BodyCheckOptions, md5: () => Md5Hasher) {
    this.#o = options;
    this.#crc = options.crc !== undefined ? new Crc64() : undefined;
    this.#md5 = options.md5 !== undefined ? md5() : undefined;
  }

  /**
   * Counts, hashes and decrypts one chunk; the chunk must be the caller's own, and the result is that chunk decrypted
   * in place or a new array (CtrStream.updateOwned).
   * @throws {IntegrityError} INTEGRITY_LENGTH when the body holds more than announced
   */
  update(chunk: Uint8Array): Uint8Array {
    this.count += chunk.length;
    if (this.count > this.#o.expected) {
      throw new IntegrityError(
        'INTEGRITY_LENGTH',
        `get ${JSON.stringify(this.#o.name)}: the body holds more than the ${this.#o.expected} bytes its headers announce`,
      );
    }
    this.#crc?.update(chunk);
    const out = this.#o.ctr ? this.#o.ctr.updateOwned(chunk) : chunk;
    this.#md5?.update(out);
    return out;
  }

  /**
   * The end checks.
   * @throws {IntegrityError} INTEGRITY_TRUNCATED, INTEGRITY_CRC64 or INTEGRITY_MD5
   */
  finish(): void {
    if (this.count < this.#o.expected) throw this.truncated(undefined);
    checkDigests(this.#o, this.count, this.#crc?.digest(), this.#md5?.digest());
  }

  /** Releases the CTR stream (its key copy). */
  dispose(): void {
    this.#o.ctr?.dispose();
  }

  /** The error for a body that broke off. */
  truncated(cause: unknown): IntegrityError {
    return new IntegrityError(
      'INTEGRITY_TRUNCATED',
      `get ${JSON.stringify(this.#o.name)}: the body broke off after ${this.count} of ${this.#o.expected} bytes`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * The digest end checks of a whole body, for callers that computed the digests themselves (get.ts to a file):
 * each is compared only when both the expectation and the digest are present.
 * @throws {IntegrityError} INTEGRITY_CRC64 or INTEGRITY_MD5
 * @example
 *   checkDigests(spec, received, crc.digest(), md5Digest);
 */
export function checkDigests(spec: BodyCheckOptions, count: number, crc: bigint | undefined, md5: Uint8Array | undefined): void {
  const { name } = spec;
  if (crc !== undefined && spec.crc !== undefined && crc !== spec.crc) {
    throw new IntegrityError(
      'INTEGRITY_CRC64',
      `get ${JSON.stringify(name)}: the CRC-64 of the ${count} stored bytes received is ${crc}, but the ` +
        `server's x-oss-hash-crc64ecma says ${spec.crc}; the bytes were damaged in transit or storage`,
    );
  }
  if (md5 !== undefined && spec.md5 !== undefined && hex(md5) !== hex(spec.md5)) {
    throw new IntegrityError(
      'INTEGRITY_MD5',
      `get ${JSON.stringify(name)}: the MD5 of the decrypted content differs from the object's ` +
        `unencrypted-content-md5 (${hex(spec.md5)}); the ciphertext or its metadata was altered, or the wrong key was used`,
    );
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
