/**
 * Measuring a stream of unknown size before its multipart upload starts. OSS refuses an encrypted
 * InitiateMultipartUpload without `client-side-encryption-data-size` (0005-00000406; docs/FORMAT.md §5), so the
 * total must be known first:
 * - a stream that ends within one part (at most 16 MiB) is kept in memory and uploaded from there;
 * - a longer one is encrypted as it is read and its **ciphertext** written to a temporary file (never the
 *   plaintext): a fresh directory from `mkdtemp` (mode 0700) under the system's temporary directory or the
 *   caller's `spool` directory, the file created with mode 0600 and `wx` (never an existing file), removed when the
 *   upload ends whatever the outcome. The parts are then read back from that file and sent as they are.
 * A client without a file system (the web client, whatever the runtime) keeps a stream of up to 16 MiB in memory
 * and refuses a longer one with `OPERATION_UNSUPPORTED`, asking for `contentLength`; so does `spool: false` for a
 * stream longer than one part.
 *
 * Deliberately not here: the part loop and Initiate (upload-run.ts); the file system, which is the client's
 * (transfer/local-files.ts), so this module names no node: module and loads in browsers too.
 * @module
 */
import { aesCtr } from '../cipher/aes-ctr.js';
import type { CtrBackend } from '../cipher/backend.js';
import { UnsupportedOperationError } from '../errors.js';
import type { ContentKey } from '../keys/types.js';
import type { LocalFiles } from '../transfer/local-files.js';
import type { PartReader } from './source.js';

/** The most a stream of unknown size is read into memory before it is spooled (and each spooled write's size). */
export const MAX_IN_MEMORY = 16 * 1024 * 1024;

/** What measuring found: the whole stream in memory, or its ciphertext in a temporary file. */
export type MeasuredStream =
  | { readonly kind: 'memory'; readonly bytes: Uint8Array }
  | { readonly kind: 'spooled'; readonly path: string; readonly size: number; remove(): Promise<void> };

/** Options of {@link measureStream}. */
export interface MeasureOptions {
  /**
   * Bytes held in memory before spooling starts, and the size of each spooled write: the part size, capped at
   * {@link MAX_IN_MEMORY} (a 5 GiB part size must not allocate 5 GiB to measure a stream).
   */
  readonly chunkSize: number;
  /** A directory for the temporary file, `false` to refuse spooling; default the system's temporary directory. */
  readonly spool: string | false | undefined;
  /**
   * The client's file system (Node's client: upload/node-files.ts); the web client has none, even in Deno or Bun
   * where node:fs would load: its capabilities are what createClientContext was given.
   */
  readonly files: LocalFiles | undefined;
  /** The content key to encrypt the spooled bytes with, drawn only once spooling is needed. */
  readonly contentKey: () => Promise<ContentKey>;
  readonly backend: CtrBackend | undefined;
  /** Stops waiting for the stream (which may stall forever, e.g. an idle stdin): the call rejects at once. */
  readonly signal: AbortSignal;
}

/**
 * Reads a stream of unknown size to its end, in memory or spooled as ciphertext.
 * @param reader a `stream` part reader without a size, not read yet
 * @param options see {@link MeasureOptions}
 * @returns the stream's bytes (ended within `chunkSize` bytes) or its spooled ciphertext
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when it must be spooled and cannot be
 * @throws the stream's or the file system's error (the temporary file is then removed)
 * @example
 *   const measured = await measureStream(reader, { chunkSize: partSize, spool: undefined, files, contentKey, backend });
 *   if (measured.kind === 'spooled') try { upload(measured.path) } finally { await measured.remove() }
 */
export async function measureStream(reader: PartReader, options: MeasureOptions): Promise<MeasuredStream> {
  const { signal } = options;
  const chunkSize = Math.min(options.chunkSize, MAX_IN_MEMORY);
  // The read is abandoned, not stopped: the caller closes the reader, which ends it.
  const read = (start: number, into: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const stop = () => reject(signal.reason);
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      reader.read(start, chunkSize, into).then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
    });
  const first = await read(0, new Uint8Array(chunkSize));
  if (first.length < chunkSize) return { kind: 'memory', bytes: first };
  const buffer = new Uint8Array(chunkSize);
  const next = await read(chunkSize, buffer);
  if (next.length === 0) return { kind: 'memory', bytes: first };

  if (options.files === undefined && options.spool !== false) {
    // No file system to spool to (the web client): the stream is kept in memory up to MAX_IN_MEMORY, whatever
    // the part size, since the only alternative is refusing it.
    const whole = await readWholeInMemory(read, [first, next.slice()], chunkSize);
    if (whole !== undefined) return { kind: 'memory', bytes: whole };
  }
  const files = options.spool === false ? undefined : options.files;
  if (files === undefined) {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `the stream is longer than one part (${chunkSize} bytes) and its size was not given; OSS needs the exact size of an ` +
        'encrypted multipart upload before it starts (client-side-encryption-data-size, error 0005-00000406), and ' +
        (options.spool === false
          ? 'spooling was turned off (spool: false)'
          : `this client has no file system to spool it to and it is longer than ${MAX_IN_MEMORY} bytes, the most kept in memory`) +
        ': pass the stream size as contentLength',
    );
  }
  const spool = await files.createSpoolFile(typeof options.spool === 'string' ? options.spool : undefined);
  const { path, remove } = spool;
  try {
    const content = await options.contentKey();
    const ctr = aesCtr(content.key, content.iv, 0, { backend: options.backend });
    let size = 0;
    const write = async (chunk: Uint8Array): Promise<void> => {
      ctr.update(chunk, chunk);
      await spool.write(chunk);
      size += chunk.length;
    };
    try {
      await write(first);
      // Every further chunk goes through `buffer`, free again once written.
      for (let chunk = next; chunk.length > 0; chunk = await read(size, buffer)) await write(chunk);
    } finally {
      ctr.dispose();
      await spool.close();
      first.fill(0);
      buffer.fill(0);
    }
    return { kind: 'spooled', path, size, remove };
  } catch (err) {
    await remove().catch(() => {});
    throw err;
  }
}

/**
 * Reads on after `chunks` (the stream's first bytes, `chunkSize` each) into memory until the stream ends, and
 * returns all of it; `undefined` once more than {@link MAX_IN_MEMORY} bytes were read (the caller refuses then).
 */
async function readWholeInMemory(
  read: (start: number, into: Uint8Array) => Promise<Uint8Array>,
  chunks: Uint8Array[],
  chunkSize: number,
): Promise<Uint8Array | undefined> {
  let total = chunks.reduce((n, c) => n + c.length, 0);
  while (total <= MAX_IN_MEMORY) {
    const chunk = await read(total, new Uint8Array(chunkSize));
    if (chunk.length === 0) {
      const whole = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) (whole.set(c, at), (at += c.length));
      return whole;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  for (const c of chunks) c.fill(0);
  return undefined;
}
