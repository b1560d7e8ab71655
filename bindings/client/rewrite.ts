/**
 * Rewrites an object in place from a stream of its new content: below the multipart threshold the content is
 * gathered (so it is complete and checked before anything is sent), the object is HEADed again and then written
 * in one request; at or above it, the parts are uploaded as they arrive and the object is HEADed again right before
 * Complete, so the window in which a concurrent writer could be overwritten stays one round trip long whatever the
 * size (object-state.ts explains why OSS allows no stronger check). Any failure aborts the multipart upload. Parts
 * go one at a time per object (a bulk job's parallelism is across objects), so memory stays near one part.
 *
 * What is written is the sink's business: an encrypting one (encrypt-existing.ts) or a plain one
 * (decrypt-existing.ts).
 *
 * Deliberately not here: reading the source (the callers open it with `If-Match`) and deciding what to write.
 * @module
 */
import type { Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { Crc64 } from '../integrity/crc64.js';
import type { ClientContext } from '../transfer/context.js';
import { choosePartSize } from '../upload/plan.js';
import { changed, checkUnchanged, isPreconditionFailed, type ObjectState } from './object-state.js';

/**
 * The largest object a rewrite gathers in memory for one PUT unless told otherwise (16 MiB): with `parallel`
 * objects in flight, memory stays near `parallel × 16 MiB`, and a larger object goes by multipart upload, whose
 * check before Complete keeps the window for a concurrent writer at one round trip.
 * @example
 *   rewriteObject(ctx, state, body, sink, { multipartThreshold: REWRITE_MULTIPART_THRESHOLD });
 */
export const REWRITE_MULTIPART_THRESHOLD = 16 * 1024 * 1024;

/**
 * Where a rewrite's content goes.
 * @example
 *   const sink: RewriteSink = { whole: (bytes) => putEncrypted(bytes), multipart: (size, partSize) => startUpload(size, partSize) };
 */
export interface RewriteSink {
  /** Writes the whole object in one request; resolves to its new ETag. */
  whole(bytes: Buffer): Promise<string>;
  /** Starts a multipart upload of `size` bytes in parts of `partSize`. */
  multipart(size: number, partSize: number): Promise<MultipartSink>;
}

/**
 * A started multipart rewrite.
 * @example
 *   await upload.part(1, bytes); const etag = await upload.complete();
 */
export interface MultipartSink {
  part(partNumber: number, bytes: Buffer): Promise<void>;
  /** Completes the upload; resolves to the object's new ETag. */
  complete(): Promise<string>;
  abort(): Promise<void>;
}

/**
 * How to rewrite.
 * @example
 *   const options: RewriteOptions = { multipartThreshold: 64 << 20, sourceCrc64: state.crc64 };
 */
export interface RewriteOptions {
  /**
   * Objects at least this large go by multipart upload (default: the client's `multipartThreshold`, at most
   * {@link REWRITE_MULTIPART_THRESHOLD}).
   */
  multipartThreshold?: number;
  /** Preferred part size (default: the client's `partSize`, raised to fit 10,000 parts). */
  partSize?: number;
  /** CRC-64 the source stream's bytes must have (the stored bytes, when they are what is streamed). */
  sourceCrc64?: bigint;
  signal?: AbortSignal;
}

/**
 * Streams `source` (exactly `state.size` bytes) into `sink`, checking length and CRC-64 and that the object is
 * unchanged before committing.
 * @returns the new ETag and whether a multipart upload wrote it
 * @throws {IntegrityError} OBJECT_CHANGED when the object was replaced since `state` was read (nothing committed);
 *   INTEGRITY_LENGTH / INTEGRITY_CRC64 when the source is not what the HEAD announced
 * @example
 *   const { etag } = await rewriteObject(ctx, state, opened.body, sink, { sourceCrc64: state.crc64 });
 */
export async function rewriteObject(
  ctx: ClientContext,
  state: ObjectState,
  source: Readable,
  sink: RewriteSink,
  options: RewriteOptions = {},
): Promise<{ etag: string; multipart: boolean }> {
  const threshold = options.multipartThreshold ?? Math.min(ctx.multipartThreshold, REWRITE_MULTIPART_THRESHOLD);
  const crc = options.sourceCrc64 === undefined ? undefined : new Crc64();
  const check = (length: number): void => {
    if (length !== state.size) {
      throw new IntegrityError('INTEGRITY_LENGTH', `${JSON.stringify(state.name)} gave ${length} bytes; its HEAD announced ${state.size}`);
    }
    if (crc !== undefined && crc.digest() !== options.sourceCrc64) {
      throw new IntegrityError('INTEGRITY_CRC64', `the bytes read of ${JSON.stringify(state.name)} have CRC-64 ${crc.toString()}; OSS recorded ${options.sourceCrc64}`);
    }
  };
  try {
    if (state.size < threshold) {
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        crc?.update(chunk);
        chunks.push(chunk);
        length += chunk.length;
        if (length > state.size) break;
      }
      const bytes = Buffer.concat(chunks, length);
      check(bytes.length);
      await checkUnchanged(ctx, state, options.signal);
      return { etag: await sink.whole(bytes), multipart: false };
    }
    const partSize = choosePartSize(state.size, { preferred: options.partSize ?? ctx.partSize });
    const upload = await sink.multipart(state.size, partSize);
    try {
      let length = 0;
      let partNumber = 0;
      for await (const part of partsOf(source as AsyncIterable<Buffer>, partSize)) {
        crc?.update(part);
        length += part.length;
        if (length > state.size) break;
        options.signal?.throwIfAborted();
        await upload.part(++partNumber, part);
      }
      check(length);
      await checkUnchanged(ctx, state, options.signal);
      return { etag: await upload.complete(), multipart: true };
    } catch (err) {
      await upload.abort().catch(() => undefined);
      throw err;
    }
  } catch (err) {
    source.destroy();
    if (isPreconditionFailed(err)) throw changed(state.name, 'a read with If-Match on its ETag answered 412', err);
    throw err;
  }
}

/**
 * Tells `uploadStarted` (when given) the id of a multipart upload just initiated; if that fails, aborts the upload
 * (nobody would know to abort it later) and rethrows.
 * @example
 *   await announce(options.uploadStarted, uploadId, () => abort(uploadId));
 */
export async function announce(uploadStarted: ((uploadId: string) => Promise<void>) | undefined, uploadId: string, abort: () => Promise<unknown>): Promise<void> {
  try {
    await uploadStarted?.(uploadId);
  } catch (err) {
    await abort().catch(() => undefined);
    throw err;
  }
}

/** The stream cut into `size`-byte parts (the last one shorter). */
async function* partsOf(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let heldLength = 0;
  for await (const chunk of source) {
    let rest = chunk;
    while (heldLength + rest.length >= size) {
      const take = size - heldLength;
      held.push(rest.subarray(0, take));
      yield Buffer.concat(held, size);
      rest = rest.subarray(take);
      held = [];
      heldLength = 0;
    }
    if (rest.length > 0) {
      held.push(rest);
      heldLength += rest.length;
    }
  }
  if (heldLength > 0) yield Buffer.concat(held, heldLength);
}
