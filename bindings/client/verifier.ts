/**
 * The last stage of every download into memory, a file or a stream: a Transform that decrypts (when the object
 * is encrypted), counts the bytes against what the headers announced, and checks the CRC-64 of the stored bytes
 * and the MD5 of the plaintext before it lets the stream end (docs/FORMAT.md §6, §8). A body that broke off becomes
 * `INTEGRITY_TRUNCATED`.
 *
 * Deliberately not here: deciding what to expect (get.ts reads it from the headers and the envelope).
 * @module
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { CtrStream } from '../cipher/aes-ctr.js';
import { IntegrityError } from '../errors.js';
import { Crc64 } from '../integrity/crc64.js';

/** Pipes the HTTP body into the verifier, turning a body that broke off into INTEGRITY_TRUNCATED. */
export function wire(source: Readable, body: Verifier): void {
  let ended = false;
  source.once('end', () => (ended = true));
  source.once('error', (err) => body.destroy(body.truncated(err)));
  source.once('close', () => {
    if (!ended && !body.destroyed) body.destroy(body.truncated(undefined));
  });
  body.once('close', () => {
    if (!ended) source.destroy();
  });
  source.pipe(body);
}

export interface VerifierOptions {
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

/** Decrypts (when given a CTR stream), counts, and checks CRC-64 and MD5 before letting the stream end. */
export class Verifier extends Transform {
  count = 0;
  readonly #o: VerifierOptions;
  readonly #crc: Crc64 | undefined;
  readonly #md5;

  constructor(options: VerifierOptions) {
    super();
    this.#o = options;
    this.#crc = options.crc !== undefined ? new Crc64() : undefined;
    this.#md5 = options.md5 !== undefined ? createHash('md5') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.count += chunk.length;
      if (this.count > this.#o.expected) {
        throw new IntegrityError(
          'INTEGRITY_LENGTH',
          `get ${JSON.stringify(this.#o.name)}: the body holds more than the ${this.#o.expected} bytes its headers announce`,
        );
      }
      this.#crc?.update(chunk);
      let out: Uint8Array = chunk;
      // Decrypt in place: the chunk is this stream's own copy of the socket data and its CRC is already taken.
      if (this.#o.ctr) out = this.#o.ctr.update(chunk, chunk);
      this.#md5?.update(out);
      done(null, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      const { name, expected } = this.#o;
      if (this.count < expected) throw this.truncated(undefined);
      if (this.#crc && this.#o.crc !== undefined) {
        const got = this.#crc.digest();
        if (got !== this.#o.crc) {
          throw new IntegrityError(
            'INTEGRITY_CRC64',
            `get ${JSON.stringify(name)}: the CRC-64 of the ${this.count} stored bytes received is ${got}, but the ` +
              `server's x-oss-hash-crc64ecma says ${this.#o.crc}; the bytes were damaged in transit or storage`,
          );
        }
      }
      if (this.#md5 && this.#o.md5) {
        const got = new Uint8Array(this.#md5.digest());
        if (Buffer.compare(Buffer.from(got), Buffer.from(this.#o.md5)) !== 0) {
          throw new IntegrityError(
            'INTEGRITY_MD5',
            `get ${JSON.stringify(name)}: the MD5 of the decrypted content is ${Buffer.from(got).toString('hex')}, but ` +
              `the object's unencrypted-content-md5 records ${Buffer.from(this.#o.md5).toString('hex')}; the ciphertext ` +
              'or its metadata was altered, or the wrong key was used',
          );
        }
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.#o.ctr?.dispose();
    done(err);
  }

  truncated(cause: unknown): IntegrityError {
    return new IntegrityError(
      'INTEGRITY_TRUNCATED',
      `get ${JSON.stringify(this.#o.name)}: the body broke off after ${this.count} of ${this.#o.expected} bytes`,
      cause === undefined ? undefined : { cause },
    );
  }
}
