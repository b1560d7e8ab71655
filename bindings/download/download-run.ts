/**
 * The run of one resumable download (docs/FORMAT.md §1, §4, §6, §7): the temporary file opened (or re-verified part by
 * part when resuming), the missing parts fetched `parallel` at a time (ranged GET with `If-Match`, `Content-Range`
 * checked, decrypted at its offset, written at that offset, the checkpoint replaced after each), then the
 * whole-object CRC-64 and MD5 checks and the rename over the target. A failure keeps the partial data only when the
 * caller asked for resumability and the data is still worth something.
 *
 * Deliberately not here: the argument and HEAD checks before a run (resumable.ts), file plumbing (temp-files.ts).
 * @module
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { aesCtr } from '../cipher/aes-ctr.js';
import type { CtrPool } from '../cipher/worker-pool.js';
import { writeFileAtomically } from '../checkpoint/atomic-file.js';
import { IntegrityError, OssCryptoError } from '../errors.js';
import { crc64, crc64Combine } from '../integrity/crc64.js';
import type { ContentKey } from '../keys/types.js';
import type { ClientContext } from '../transfer/context.js';
import { checkRangedResponse, planRangedRead } from '../transfer/range.js';
import { isTransientError, withRetry, type RetryPolicy } from '../util/retry.js';
import {
  createDownloadCheckpoint,
  downloadParts,
  serializeDownloadCheckpoint,
  withDownloadedPart,
  type DownloadCheckpoint,
  type DownloadPart,
} from './checkpoint.js';
import type { DownloadCancelError, DownloadFileOptions, DownloadFileResult } from './download-options.js';
import { streamPartToFile } from './part-stream.js';
import { Readable } from 'node:stream';
import { openPartWorkers } from './part-workers.js';
import { readFully } from './temp-files.js';

export interface ObjectFacts {
  readonly size: number;
  readonly etag: string;
  /** The server's CRC-64 of the stored bytes, parsed; `undefined` when absent. */
  readonly crc: bigint | undefined;
  readonly crcText: string | undefined;
}

/**
 * The per-call state of one download: the part workers, the whole-object checks, the rename into place.
 * @example
 *   const result = await new Run(ctx, name, target, facts, content, md5, options, checkpointFile, true).execute(checkpoint, false, headRes);
 */
export class Run {
  #checkpoint!: DownloadCheckpoint;
  /** CRC-64 of the stored (cipher) bytes of each part present, for the whole-object check. */
  readonly #storedCrc = new Map<number, bigint>();
  #saving: Promise<void> = Promise.resolve();
  /** A checkpoint write that has not started yet: it will serialise the newest checkpoint, so later parts join it. */
  #saveQueued: Promise<void> | undefined;
  /** The last data sync started, and one queued behind it that later parts can join. */
  #syncing: Promise<void> = Promise.resolve();
  #syncQueued: Promise<void> | undefined;
  #file: FileHandle | undefined;
  /** The client's policy, plus: a body that broke off mid-way is worth another request. */
  readonly #retryPolicy: RetryPolicy;

  constructor(
    readonly ctx: ClientContext,
    readonly name: string,
    readonly target: string,
    readonly object: ObjectFacts,
    readonly content: ContentKey | undefined,
    /** The recorded plaintext MD5, when the envelope has one in a readable form. */
    readonly md5: { bytes: Uint8Array; text: string } | undefined,
    readonly options: DownloadFileOptions,
    readonly checkpointFile: string | undefined,
    readonly resumable: boolean,
  ) {
    const base = ctx.retry.isRetryable ?? isTransientError;
    this.#retryPolicy = { ...ctx.retry, isRetryable: (err) => bodyBrokeOff(err) || base(err) };
  }

  async execute(checkpoint: DownloadCheckpoint, resuming: boolean, headRes: unknown): Promise<DownloadFileResult> {
    this.#checkpoint = checkpoint;
    let resumedParts = 0;
    let keepPartial = this.resumable;
    try {
      if (resuming) {
        this.#file = await open(checkpoint.tempPath, 'r+');
        resumedParts = await this.#verifyDoneParts();
      } else {
        // 'wx+': never clobber a file we did not create; readable for the MD5 pass.
        // 0600: it fills with decrypted plaintext.
        this.#file = await open(checkpoint.tempPath, 'wx+', 0o600);
        // Full size up front: positional writes land anywhere, and a resume can check the size.
        await this.#file.truncate(checkpoint.totalSize);
      }
      await this.#persist();
      await this.options.progress?.(0, this.#checkpoint, headRes);

      const fetchedParts = await this.#fetchMissing();
      await this.#verifyWhole();
      // A resumable run syncs before the rename, so a power cut leaves either the synced temporary file and its
      // checkpoint or the complete target. Without a checkpoint there is nothing to resume from, and, as with
      // get(name, file) and plain ali-oss, the kernel writes the file back in its own time (a one-off measurement
      // here: fdatasync of a fresh 256 MiB file took 16-81 ms, against about 550 ms for the download).
      if (this.resumable) await this.#file.datasync();
      await this.#file.close();
      this.#file = undefined;
      await rename(checkpoint.tempPath, this.target);
      keepPartial = false;
      if (this.checkpointFile !== undefined) await this.#saving.then(() => rm(this.checkpointFile!, { force: true }));
      await this.options.progress?.(1, null, headRes);
      return {
        res: headRes,
        name: this.name,
        file: this.target,
        size: this.object.size,
        etag: this.object.etag,
        crc64ecma: this.object.crcText,
        encrypted: this.content !== undefined,
        resumedParts,
        fetchedParts,
      };
    } catch (err) {
      // Partial data of a replaced object, or data that failed verification, is worth nothing: drop it.
      if (err instanceof IntegrityError) keepPartial = false;
      await this.#file?.close().catch(() => undefined);
      this.#file = undefined;
      await this.#saving.catch(() => undefined);
      if (!keepPartial) {
        await rm(checkpoint.tempPath, { force: true });
        if (this.checkpointFile !== undefined) await rm(this.checkpointFile, { force: true });
      }
      const signal = this.options.signal;
      if (signal?.aborted && !(err instanceof IntegrityError)) {
        throw cancelError(this.name, keepPartial ? this.#checkpoint : null, signal.reason);
      }
      if (keepPartial) attachCheckpoint(err, this.#checkpoint);
      throw err;
    }
  }

  /** Re-reads each recorded part; a part whose bytes no longer match its CRC is dropped and fetched again. */
  async #verifyDoneParts(): Promise<number> {
    const parts = downloadParts(this.#checkpoint);
    const kept = [];
    for (const done of this.#checkpoint.doneParts) {
      const part = parts[done.number - 1];
      const bytes = new Uint8Array(part.length);
      await readFully(this.#file!, bytes, part.offset);
      // The recorded CRC is of the stored bytes: re-encrypt what the file holds to compare.
      if (this.content !== undefined) this.#xor(bytes, part.offset);
      const crc = crc64(bytes);
      if (crc.toString() !== done.crc64) continue;
      this.#storedCrc.set(part.partNumber, crc);
      kept.push(done);
    }
    if (kept.length !== this.#checkpoint.doneParts.length) {
      this.#checkpoint = createDownloadCheckpoint({ ...this.#checkpoint, doneParts: kept });
    }
    return kept.length;
  }

  /** Runs `parallel` workers over the missing parts; waits for all of them; rethrows the first error. */
  async #fetchMissing(): Promise<number> {
    const done = new Set(this.#checkpoint.doneParts.map((p) => p.number));
    const all = downloadParts(this.#checkpoint);
    const todo = all.filter((p) => !done.has(p.partNumber));
    const parallel = Math.min(this.options.parallel ?? this.ctx.parallel, todo.length);
    const signal = this.options.signal;
    let next = 0;
    let fetched = 0;
    let failure: { err: unknown } | undefined;
    const pool = this.content === undefined ? undefined : openPartWorkers(this.ctx.backend, this.options.workers);
    const worker = async (): Promise<void> => {
      while (failure === undefined && !signal?.aborted && next < todo.length) {
        const part = todo[next++];
        try {
          const { res, checkpoint } = await this.#fetchPart(part, pool);
          fetched++;
          await this.options.progress?.(checkpoint.doneParts.length / (all.length + 1), checkpoint, res);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: parallel }, worker));
    } finally {
      await pool?.close();
    }
    if (failure !== undefined) throw failure.err;
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    return fetched;
  }

  /** Fetches, checks, decrypts and writes one part; returns its response and the checkpoint that records it. */
  async #fetchPart(part: DownloadPart, pool: CtrPool | undefined): Promise<{ res: unknown; checkpoint: DownloadCheckpoint }> {
    const plan = planRangedRead({ offset: part.offset, length: part.length });
    const headers = { ...plan.headers, 'If-Match': this.object.etag };
    const request: Record<string, unknown> = { headers };
    if (this.options.versionId !== undefined) request.versionId = this.options.versionId;
    if (this.options.timeout !== undefined) request.timeout = this.options.timeout;
    const label = `part ${part.partNumber} of ${JSON.stringify(this.name)} (bytes ${part.offset}-${part.offset + part.length - 1})`;
    let result: { res: PartResponse; storedCrc: bigint };
    try {
      // Request and body in one attempt: a body that breaks off is fetched again from its first byte.
      result = await withRetry(() => this.#streamPart(part, plan, { ...request, headers: { ...headers } }, label, pool), this.#retryPolicy, {
        signal: this.options.signal,
      });
    } catch (err) {
      if (bodyBrokeOff(err) || (err instanceof IntegrityError && err.code === 'INTEGRITY_TRUNCATED' && err.cause !== undefined)) {
        const cause = err instanceof IntegrityError ? err.cause : err;
        throw new IntegrityError(
          'INTEGRITY_TRUNCATED',
          `the body of ${label} broke off ${this.ctx.retry.retries + 1} times; the last break: ${String((cause as Error)?.message).split('\n')[0]}`,
          { cause: err },
        );
      }
      if (isPreconditionFailed(err)) {
        throw new IntegrityError(
          'OBJECT_CHANGED',
          `${JSON.stringify(this.name)} changed during the download: part ${part.partNumber} (bytes ${part.offset}-` +
            `${part.offset + part.length - 1}) was asked for with If-Match: ${this.object.etag} (the ETag from HEAD) and ` +
            `the server answered 412; a new version has its own content key, so its bytes cannot be mixed with ` +
            `those already written. Download it again.`,
          { cause: err },
        );
      }
      throw err;
    }
    const storedCrc = result.storedCrc;
    this.#storedCrc.set(part.partNumber, storedCrc);
    // A checkpoint must never list bytes that a crash could still lose.
    if (this.resumable) await this.#sync();
    const checkpoint = withDownloadedPart(this.#checkpoint, { number: part.partNumber, crc64: storedCrc.toString() });
    this.#checkpoint = checkpoint;
    await this.#persist();
    return { res: result.res, checkpoint };
  }

  /**
   * One attempt at a part: a streamed ranged GET (the store's `openObject`) whose `Content-Range` is checked
   * before any byte is used, then the body checksummed, decrypted and written as it arrives (part-stream.ts).
   * Streaming instead of a buffered `getObject` saves a copy and a part-sized allocation per part, and overlaps
   * decryption with the rest of the body still on the wire.
   */
  async #streamPart(
    part: DownloadPart,
    plan: ReturnType<typeof planRangedRead>,
    request: Record<string, unknown>,
    label: string,
    pool: CtrPool | undefined,
  ): Promise<{ res: PartResponse; storedCrc: bigint }> {
    const started = Date.now();
    const opened = await this.ctx.store.openObject(this.name, request);
    // Node's client: the ali-oss store answers a Readable; another store may answer a WHATWG stream.
    const body: Readable = opened.body instanceof Readable ? opened.body : Readable.fromWeb(opened.body as never);
    // The part's answer in ali-oss's `res` shape (what a buffered `get` would have returned), for `progress`.
    const res: PartResponse = {
      status: opened.status,
      statusCode: opened.status,
      headers: opened.headers,
      size: part.length,
      rt: 0,
      requestUrls: opened.requestUrls,
    };
    let ctr: ReturnType<typeof aesCtr> | undefined;
    try {
      checkRangedResponse(plan, res, { expectedTotal: this.object.size });
      const content = this.content;
      if (content !== undefined && pool === undefined) ctr = aesCtr(content.key, content.iv, part.offset, { backend: this.ctx.backend });
      const workers = content !== undefined && pool !== undefined ? { pool, key: content.key, iv: content.iv } : undefined;
      const storedCrc = await streamPartToFile(body, { file: this.#file!, offset: part.offset, length: part.length, label, ctr, pool: workers });
      res.rt = Date.now() - started;
      return { res, storedCrc };
    } finally {
      ctr?.dispose();
      // Frees the connection when the body was refused or not read to its end.
      if (!body.readableEnded) body.destroy();
    }
  }

  /** The whole-object checks: CRC-64 of the stored bytes, then the recorded plaintext MD5. */
  async #verifyWhole(): Promise<void> {
    const parts = downloadParts(this.#checkpoint);
    if (this.object.crc !== undefined) {
      let crc = 0n;
      for (const part of parts) crc = crc64Combine(crc, this.#storedCrc.get(part.partNumber)!, part.length);
      if (crc !== this.object.crc) {
        throw new IntegrityError(
          'INTEGRITY_CRC64',
          `the CRC-64 of the ${this.object.size} bytes received for ${JSON.stringify(this.name)} (combined from ` +
            `${parts.length} parts) is ${crc}, the server's x-oss-hash-crc64ecma (from HEAD) is ${this.object.crcText}; ` +
            `the bytes were damaged on the way. Nothing was written; download it again.`,
        );
      }
    }
    const expected = this.md5;
    if (expected !== undefined) {
      const hash = createHash('md5');
      const chunk = new Uint8Array(Math.min(4 << 20, Math.max(1, this.object.size)));
      for (let at = 0; at < this.object.size; at += chunk.length) {
        const view = chunk.subarray(0, Math.min(chunk.length, this.object.size - at));
        await readFully(this.#file!, view, at);
        hash.update(view);
      }
      const got = hash.digest();
      if (!got.equals(expected.bytes)) {
        throw new IntegrityError(
          'INTEGRITY_MD5',
          `the MD5 of the decrypted ${JSON.stringify(this.name)} differs from its recorded ` +
            `unencrypted-content-md5 (${expected.text}); wrong key or damaged object. Nothing was written.`,
        );
      }
    }
  }

  #xor(bytes: Uint8Array, offset: number): void {
    const stream = aesCtr(this.content!.key, this.content!.iv, offset, { backend: this.ctx.backend });
    try {
      stream.update(bytes, bytes);
    } finally {
      stream.dispose();
    }
  }

  /** Replaces the checkpoint file atomically; writes are chained so they never interleave. */
  #persist(): Promise<void> {
    const file = this.checkpointFile;
    if (file === undefined) return Promise.resolve();
    // Parts that finish while a write is in progress share the one queued behind it, which is serialised when it
    // starts and so lists all of them: one write per burst of parts instead of one per part.
    if (this.#saveQueued !== undefined) return this.#saveQueued;
    const write = this.#saving.catch(() => undefined).then(() => {
      this.#saveQueued = undefined;
      return writeFileAtomically(file, serializeDownloadCheckpoint(this.#checkpoint));
    });
    this.#saveQueued = write;
    this.#saving = write;
    return write;
  }

  /**
   * Syncs the temporary file's data. A sync that starts after a part's last write covers that part, so parts that
   * finish while one runs share the single sync queued behind it.
   */
  #sync(): Promise<void> {
    if (this.#syncQueued !== undefined) return this.#syncQueued;
    const sync = this.#syncing.catch(() => undefined).then(() => {
      this.#syncQueued = undefined;
      return this.#file!.datasync();
    });
    this.#syncQueued = sync;
    this.#syncing = sync;
    return sync;
  }
}

/** A part's GET answer in ali-oss's `res` shape, as `progress` hands it out. */
interface PartResponse {
  status: number;
  statusCode: number;
  headers: Record<string, unknown>;
  size: number;
  rt: number;
  requestUrls: string[];
}

/**
 * True for what ali-oss throws when a connection drops in the middle of a successful answer's body: it then
 * parses the partial body as an XML error and throws the parser's error, carrying the success status.
 */
function bodyBrokeOff(err: unknown): boolean {
  const e = err as { status?: unknown } | null;
  return e !== null && typeof e === 'object' && !(err instanceof OssCryptoError) && (e.status === 200 || e.status === 206);
}

function isPreconditionFailed(err: unknown): boolean {
  const e = err as { status?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.status === 412 || e.code === 'PreconditionFailed');
}

function attachCheckpoint(err: unknown, checkpoint: DownloadCheckpoint): void {
  // Added, never replacing anything: the error itself stays what ali-oss (or we) made it.
  if (err !== null && typeof err === 'object' && Object.isExtensible(err) && !('checkpoint' in err)) {
    (err as { checkpoint?: DownloadCheckpoint }).checkpoint = checkpoint;
  }
}

/**
 * ali-oss's cancellation vocabulary as a real Error carrying the checkpoint.
 * @example
 *   throw cancelError(name, checkpoint, signal.reason);
 */
export function cancelError(name: string, checkpoint: DownloadCheckpoint | null, reason: unknown): DownloadCancelError {
  const err = new Error(
    `the download of ${JSON.stringify(name)} was cancelled` +
      (checkpoint === null ? '' : `; ${checkpoint.doneParts.length} parts are kept, pass the checkpoint back to resume`),
    { cause: reason },
  ) as Error & { name: string; status: number; checkpoint: DownloadCheckpoint | null };
  err.name = 'cancel';
  err.status = 0;
  err.checkpoint = checkpoint;
  return err as DownloadCancelError;
}
