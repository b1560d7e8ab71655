/**
 * Part readers for multipart uploads: read the plaintext of one part at a time from a file path, a Buffer /
 * Uint8Array, a Blob / File, a Node Readable or a WHATWG ReadableStream, so that memory stays near
 * `parallel × partSize` whatever the source's size (docs/FORMAT.md §5; docs/ARCHITECTURE.md §7).
 *
 * Random-access sources (path, bytes, Blob) read any part at any time: a file part is one positioned read into a
 * buffer the caller supplies, so a retried part can be read again and re-encrypted from its own offset. Streams
 * can only be read forward: {@link PartReader.read} must then be asked for increasing offsets, and a gap (parts
 * already uploaded, when resuming) is read and dropped. Callers keep stream reads in order by issuing them from
 * one place (the managed upload's part generator, upload-run.ts); the reader also queues them, so concurrent calls cannot
 * interleave.
 *
 * Deliberately not here: encryption, the plan, and any `node:` import at module load. The path reader imports
 * `node:fs/promises` only when it is used, so this module loads in browsers too.
 * @module
 */
import { IntegrityError } from '../errors.js';
import { describe } from '../util/describe.js';
import { UnsupportedOperationError } from '../errors.js';
import type { LocalFiles } from '../transfer/local-files.js';
import { runtimeName } from '../util/runtime.js';

/**
 * What `multipartUpload` accepts as its `file` argument.
 * @example
 *   const body: UploadBody = createReadStream('/data/big.bin');
 *   await client.multipartUpload('big.bin', body, { contentLength: size });
 */
export type UploadBody =
  | string
  | Uint8Array
  | Blob
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>;

/** Reads the parts of one upload source. */
export interface PartReader {
  /** `file` (a path), `bytes` (Buffer / Uint8Array), `blob` (Blob / File) or `stream`. */
  readonly kind: 'file' | 'bytes' | 'blob' | 'stream';
  /** Total bytes, or `undefined` for a stream whose size was not given. */
  readonly size: number | undefined;
  /** True when any byte range can be read at any time (not a stream). */
  readonly seekable: boolean;
  /** The file's `mtimeMs` (a path) or `lastModified` (a File); `undefined` otherwise. */
  readonly mtimeMs: number | undefined;
  /** The path, for `kind: 'file'`. */
  readonly path: string | undefined;
  /**
   * Reads up to `length` bytes at byte `start`. Returns fewer only at the end of the source. When `into` is
   * given (at least `length` bytes), the bytes are written there and a view of it is returned; a `bytes` source
   * returns a view of the caller's array instead (no copy), which must not be written to.
   * @throws {RangeError} for a stream read before its current position (streams only go forward)
   * @throws {IntegrityError} INTEGRITY_LENGTH when a stream of given size ends early or runs long
   */
  read(start: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Releases the file handle / stream lock. Further reads reject. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openPartReader}. */
export interface OpenPartReaderOptions {
  /** The size of a stream, when the caller knows it (checked: a stream that ends early or runs long throws). */
  size?: number;
  /** The file system a path is read from; without one, a path is refused (browsers, Workers). */
  files?: LocalFiles;
}

/**
 * Opens a part reader over any supported source.
 * @param body a file path, bytes, a Blob/File, a Node Readable or a WHATWG ReadableStream
 * @param options `size` of a stream, when known
 * @returns a reader; `size` is known for every source but a stream without `options.size`
 * @throws {TypeError} when `body` is none of the supported kinds
 * @throws {RangeError} when `options.size` is not a non-negative safe integer, or is given for a non-stream
 *   source and differs from its real size
 * @throws the `fs` error (e.g. `ENOENT`) when a path cannot be opened
 * @example
 *   const reader = await openPartReader('/data/big.iso');
 *   const buf = new Uint8Array(partSize);
 *   const plain = await reader.read(2 * partSize, partSize, buf); // part 3
 *   await reader.close();
 */
export async function openPartReader(body: UploadBody, options: OpenPartReaderOptions = {}): Promise<PartReader> {
  const size = options.size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) {
    throw new RangeError(`"size" expected a non-negative safe integer, got ${String(size)}`);
  }
  let reader: PartReader;
  if (typeof body === 'string') reader = await openFile(body, options.files);
  else if (body instanceof Uint8Array) reader = bytesReader(body);
  else if (typeof Blob !== 'undefined' && body instanceof Blob) reader = blobReader(body);
  else if (isWebStream(body)) {
    // Released through its reader: the stream is locked to it, and a locked stream's own cancel() only rejects.
    const web = body.getReader();
    reader = new StreamReader(webChunks(web), size, () => web.cancel().catch(() => {}));
  }
  else if (isNodeReadable(body)) {
    reader = new StreamReader(nodeChunks(body), size, async () => {
      (body as { destroy?: () => void }).destroy?.();
    });
  } else {
    throw new TypeError(
      `"file" expected a file path, a Buffer/Uint8Array, a Blob/File or a readable stream, got ${describe(body)}`,
    );
  }
  if (size !== undefined && reader.kind !== 'stream' && size !== reader.size) {
    await reader.close();
    throw new RangeError(`"size" is ${size} but the ${reader.kind} source holds ${reader.size} bytes`);
  }
  return reader;
}

// ---------------------------------------------------------------------------------------------------------------

async function openFile(path: string, files: LocalFiles | undefined): Promise<PartReader> {
  if (files === undefined) {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `multipartUpload from the file path ${JSON.stringify(path)} needs a file system, which ${runtimeName()} does not give ` +
        'this client; pass a Blob/File, a Uint8Array or a ReadableStream (or use the Node entry, ali-oss-crypto, on Node)',
    );
  }
  const file = await files.open(path);
  let closed = false;
  return {
    kind: 'file',
    size: file.size,
    seekable: true,
    mtimeMs: file.mtimeMs,
    path,
    async read(start, length, into) {
      if (closed) throw new TypeError('this part reader was closed');
      const want = clampLength(start, length, file.size);
      const out = into ?? new Uint8Array(want);
      let got = 0;
      // A positioned read may return less than asked (rare on regular files): loop until the part is full.
      while (got < want) {
        const bytesRead = await file.read(out, got, want - got, start + got);
        if (bytesRead === 0) {
          throw new RangeError(
            `the file ${JSON.stringify(path)} ended at byte ${start + got}, but stat reported ${file.size} bytes; was it truncated during the upload?`,
          );
        }
        got += bytesRead;
      }
      return out.subarray(0, want);
    },
    async close() {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}

function bytesReader(bytes: Uint8Array): PartReader {
  return {
    kind: 'bytes',
    size: bytes.length,
    seekable: true,
    mtimeMs: undefined,
    path: undefined,
    async read(start, length, into) {
      const view = bytes.subarray(start, start + clampLength(start, length, bytes.length));
      if (into === undefined) return view;
      into.set(view);
      return into.subarray(0, view.length);
    },
    async close() {},
  };
}

function blobReader(blob: Blob): PartReader {
  const lastModified = (blob as { lastModified?: unknown }).lastModified;
  return {
    kind: 'blob',
    size: blob.size,
    seekable: true,
    mtimeMs: typeof lastModified === 'number' ? lastModified : undefined,
    path: undefined,
    async read(start, length, into) {
      const want = clampLength(start, length, blob.size);
      const data = new Uint8Array(await blob.slice(start, start + want).arrayBuffer());
      if (into === undefined) return data;
      into.set(data);
      return into.subarray(0, data.length);
    },
    async close() {},
  };
}

/**
 * A forward-only reader over an async source of chunks. Reads are queued so that two callers can never take
 * bytes from the middle of each other's part.
 */
class StreamReader implements PartReader {
  readonly kind = 'stream' as const;
  readonly seekable = false;
  readonly mtimeMs = undefined;
  readonly path = undefined;
  readonly size: number | undefined;
  #chunks: AsyncIterator<Uint8Array>;
  #leftover: Uint8Array | undefined;
  #position = 0;
  #ended = false;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #release: () => Promise<void>;

  constructor(chunks: AsyncIterator<Uint8Array>, size: number | undefined, release: () => Promise<void>) {
    this.#chunks = chunks;
    this.size = size;
    this.#release = release;
  }

  read(start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#read(start, length, into));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #read(start: number, length: number, into: Uint8Array | undefined): Promise<Uint8Array> {
    if (this.#closed) throw new TypeError('this part reader was closed');
    if (start < this.#position) {
      throw new RangeError(
        `"start" ${start} is behind the stream's position ${this.#position}: a stream can only be read forward`,
      );
    }
    // Resuming skips the parts already uploaded: their bytes are read and dropped.
    while (this.#position < start) {
      const chunk = await this.#take(start - this.#position);
      if (chunk === undefined) break;
      this.#position += chunk.length;
    }
    const out = into ?? new Uint8Array(length);
    let got = 0;
    if (this.#position === start) {
      while (got < length) {
        const chunk = await this.#take(length - got);
        if (chunk === undefined) break;
        out.set(chunk, got);
        got += chunk.length;
        this.#position += chunk.length;
      }
    }
    if (this.size !== undefined) {
      const expected = clampLength(start, length, this.size);
      if (got !== expected) {
        throw new IntegrityError(
          'INTEGRITY_LENGTH',
          `the stream ended after ${this.#position} bytes, but its size was given as ${this.size} (options.size / contentLength)`,
        );
      }
      if (this.#position === this.size && !this.#ended && (await this.#take(1)) !== undefined) {
        throw new IntegrityError('INTEGRITY_LENGTH', `the stream holds more than the ${this.size} bytes given as its size (options.size / contentLength)`);
      }
    }
    return out.subarray(0, got);
  }

  /** Up to `max` bytes from the stream, or `undefined` at its end. */
  async #take(max: number): Promise<Uint8Array | undefined> {
    let chunk = this.#leftover;
    this.#leftover = undefined;
    while (chunk === undefined || chunk.length === 0) {
      if (this.#ended) return undefined;
      const next = await this.#chunks.next();
      if (next.done) {
        this.#ended = true;
        return undefined;
      }
      chunk = toBytes(next.value);
    }
    if (chunk.length > max) {
      this.#leftover = chunk.subarray(max);
      return chunk.subarray(0, max);
    }
    return chunk;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#leftover = undefined;
    if (!this.#ended) await this.#release();
  }
}

function clampLength(start: number, length: number, size: number): number {
  return Math.max(0, Math.min(length, size - start));
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`the stream yielded ${describe(chunk)}; expected bytes (Buffer/Uint8Array) or strings`);
}

function nodeChunks(stream: NodeJS.ReadableStream): AsyncIterator<Uint8Array> {
  return (stream as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
}

function webChunks(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  // getReader() rather than async iteration: not every browser can iterate a ReadableStream.
  return {
    async next() {
      const r = await reader.read();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
    },
  };
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream).getReader === 'function';
}

function isNodeReadable(value: unknown): value is NodeJS.ReadableStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeJS.ReadableStream).pipe === 'function' &&
    typeof (value as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}
