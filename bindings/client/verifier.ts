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
import type { IntegrityError } from '../errors.js';
import { BodyCheck, type BodyCheckOptions } from './body-check.js';

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

export type VerifierOptions = BodyCheckOptions;

/** Decrypts (when given a CTR stream), counts, and checks CRC-64 and MD5 before letting the stream end (body-check.ts). */
export class Verifier extends Transform {
  readonly #check: BodyCheck;

  constructor(options: VerifierOptions) {
    super();
    this.#check = new BodyCheck(options, () => {
      const hash = createHash('md5');
      return { update: (b: Uint8Array) => hash.update(b), digest: () => new Uint8Array(hash.digest()) };
    });
  }

  /** Bytes received so far. */
  get count(): number {
    return this.#check.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      // The chunk is this stream's own copy of the socket data: decrypted in place, or by an engine that hands back
      // a new array anyway (cipher/aes-ctr.ts updateOwned), so no chunk is copied.
      done(null, this.#check.update(chunk));
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#check.finish();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.#check.dispose();
    done(err);
  }

  truncated(cause: unknown): IntegrityError {
    return this.#check.truncated(cause);
  }
}
