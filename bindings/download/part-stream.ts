/**
 * Streams one ranged part of a download into its place in a file: CRC-64 of the stored bytes (docs/FORMAT.md §6),
 * decryption at the part's offset (docs/FORMAT.md §1), positional writes (docs/FORMAT.md §4).
 *
 * Why a stream and not a buffered body: buffering a part costs a copy of every byte (the HTTP client joins its
 * chunks), a part-sized allocation per part (garbage the collector then has to move), and all the decryption
 * after the last byte arrived instead of while the rest is still on the wire. Here each chunk the socket hands
 * over is checksummed, decrypted (in place, as it is this stream's own buffer, or by node:crypto into the new array
 * its API returns anyway: CtrStream.updateOwned) and queued; queued chunks
 * go to the file in one `writev` once {@link PART_WRITE_BATCH_BYTES} have gathered, with at most one write in
 * flight, so receiving, decrypting and writing overlap and memory per part stays at about two batches. With a
 * worker pool (cipher/worker-pool.ts) instead of a CTR stream, each batch is gathered into one buffer and
 * decrypted on a worker on its way to the file, and the main thread only receives, checksums and writes.
 *
 * The caller supplies the body (any async iterable of byte chunks, whatever the transport) and the CTR stream
 * positioned at the part's offset; this file knows nothing of OSS requests, retries or checkpoints.
 * Deliberately not here: range checks (transfer/range.ts), requests and retries, and the whole-object checks
 * (download-run.ts).
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import type { CtrStream } from '../cipher/aes-ctr.js';
import type { CtrPool } from '../cipher/worker-pool.js';
import { IntegrityError } from '../errors.js';
import { Crc64 } from '../integrity/crc64.js';

/**
 * Bytes gathered before one `writev`: large enough that a part of a few MiB takes a handful of system calls,
 * small enough that `parallel` parts hold little memory.
 */
export const PART_WRITE_BATCH_BYTES = 1 << 20;

/**
 * Where one part goes, and how it is checked.
 * @example
 *   const target: PartTarget = { file, offset: 8 << 20, length: 4 << 20, label: 'part 3 of "a.bin"', ctr };
 */
export interface PartTarget {
  /** The temporary file, open for writing. */
  readonly file: FileHandle;
  /** Byte offset of the part in the object and in the file. */
  readonly offset: number;
  /** Bytes the body must hold exactly. */
  readonly length: number;
  /** Names the part in error messages, e.g. `part 3 of "a.bin" (bytes 8388608-12582911)`. */
  readonly label: string;
  /** Decrypts when present, positioned at `offset`; absent for an allowed plain object. */
  readonly ctr?: CtrStream;
  /**
   * Decrypts on worker threads instead of `ctr` (give one or the other): each write batch is gathered into one
   * buffer and sent to the pool with its offset, so the main thread only receives, checksums and writes.
   */
  readonly pool?: { readonly pool: CtrPool; readonly key: Uint8Array; readonly iv: Uint8Array };
  /**
   * Whether to CRC-64 the stored bytes (default true). False for a caller with nothing to compare it with (a ranged
   * get: OSS's CRC-64 covers the whole object), so the hot loop skips the pass; the result is then `undefined`.
   */
  readonly checksum?: boolean;
  /** Hashes the plaintext in order (a whole-object get whose object records an MD5); only with `ctr` or neither. */
  readonly md5?: { update(bytes: Uint8Array): unknown };
}

/**
 * Checksums, decrypts and writes a part's body as it arrives.
 * @param body the part's stored bytes, in order (an HTTP response stream, for example); its chunks are decrypted
 *   in place, so they must not be shared with anything else
 * @param target the file, offset, expected length and CTR stream
 * @returns the CRC-64 of the stored bytes of the part (`undefined` with `checksum: false`)
 * @throws {IntegrityError} `INTEGRITY_LENGTH` when the body holds more than `length` bytes; `INTEGRITY_TRUNCATED`
 *   when it ends short, or breaks off (then with the stream's error as `cause`, so a transient break is retried)
 * @throws the file's write errors, untouched
 * @example
 *   const ctr = aesCtr(key, iv, part.offset);
 *   try { crc = await streamPartToFile(response, { file, offset: part.offset, length: part.length, label, ctr }); }
 *   finally { ctr.dispose(); }
 */
export function streamPartToFile(body: AsyncIterable<Uint8Array>, target: PartTarget & { checksum?: true }): Promise<bigint>;
export function streamPartToFile(body: AsyncIterable<Uint8Array>, target: PartTarget): Promise<bigint | undefined>;
export async function streamPartToFile(body: AsyncIterable<Uint8Array>, target: PartTarget): Promise<bigint | undefined> {
  const { file, offset, length, label, ctr, pool, md5 } = target;
  const crc = target.checksum === false ? undefined : new Crc64();
  let received = 0;
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;
  let written = offset;
  // The write in flight; its failure surfaces at the next flush or at the end, never unobserved.
  let writing: Promise<void> = Promise.resolve();
  let writeFailure: unknown;
  const flush = async (): Promise<void> => {
    await writing.catch((err: unknown) => {
      writeFailure = err;
      throw err;
    });
    const chunks = queued;
    writing = pool === undefined ? writeAllAt(file, chunks, written) : decryptAndWrite(pool, file, chunks, queuedBytes, written);
    written += queuedBytes;
    queued = [];
    queuedBytes = 0;
  };
  try {
    try {
      for await (const chunk of body) {
        received += chunk.length;
        if (received > length) {
          throw new IntegrityError('INTEGRITY_LENGTH', `${label} should hold ${length} bytes, the body holds more`);
        }
        crc?.update(chunk);
        const out = ctr !== undefined ? ctr.updateOwned(chunk) : chunk;
        md5?.update(out);
        queued.push(out);
        queuedBytes += chunk.length;
        if (queuedBytes >= PART_WRITE_BATCH_BYTES) await flush();
      }
    } catch (err) {
      // Our own verdicts and the file's errors pass as they are; anything else came from the body.
      if (err instanceof IntegrityError || (writeFailure !== undefined && err === writeFailure)) throw err;
      throw new IntegrityError('INTEGRITY_TRUNCATED', `${label}: the body broke off after ${received} of ${length} bytes`, { cause: err });
    }
    if (received < length) {
      throw new IntegrityError('INTEGRITY_TRUNCATED', `${label} should hold ${length} bytes, the body ended after ${received}`);
    }
    if (queuedBytes > 0) await flush();
    await writing;
  } finally {
    await writing.catch(() => undefined);
  }
  return crc?.digest();
}

/** Gathers `chunks` into one buffer, decrypts it on the pool at `position`, writes it there. */
async function decryptAndWrite(
  target: NonNullable<PartTarget['pool']>,
  file: FileHandle,
  chunks: Uint8Array[],
  bytes: number,
  position: number,
): Promise<void> {
  // A buffer of its own (allocUnsafeSlow: never a slice of Node's shared pool, and not zero-filled, as every byte
  // is overwritten next), so that the pool transfers it rather than copying it.
  const batch = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const chunk of chunks) {
    batch.set(chunk, at);
    at += chunk.length;
  }
  const plain = await target.pool.xorAt(target.key, target.iv, position, batch);
  await writeAllAt(file, [plain], position);
}

/** Writes `chunks` back to back from `position`, finishing any short write. */
async function writeAllAt(file: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const { bytesWritten } = await file.writev(chunks, position);
  if (bytesWritten === total) return;
  // A short writev (rare for regular files): write what is left chunk by chunk.
  let skip = bytesWritten;
  let at = position + bytesWritten;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    for (let done = skip; done < chunk.length; ) {
      const { bytesWritten: n } = await file.write(chunk, done, chunk.length - done, at);
      done += n;
      at += n;
    }
    skip = 0;
  }
}
