/**
 * Resumable, parallel download of an encrypted object to a file (FORMATS.md §1, §4, §6, §7).
 *
 * One HEAD gives the size, the ETag, the server's CRC-64 and the envelope; the content key is unwrapped once
 * (FORMATS.md §7: oss2 unwraps per part). The object is then fetched in parts, `parallel` at a time, each a
 * ranged GET with `If-Match: <ETag>` (so two versions of an object, each with its own content key, are never
 * spliced: a replaced object answers 412 and the download stops with `OBJECT_CHANGED`) and
 * `x-oss-range-behavior: standard`; each answer's `Content-Range` is checked (`range.ts`) before its bytes are
 * decrypted at their offset (`aesCtr(key, iv, offset)`) and written at that offset of a temporary file next to
 * the target. After every part the checkpoint (`checkpoint.ts`: no key material; each part's CRC-64 of its stored
 * bytes) is replaced atomically
 * (write a sibling, fsync, rename). When every part is in, the CRC-64 of the stored bytes, combined from the
 * parts' CRCs, must equal the server's `x-oss-hash-crc64ecma` (`INTEGRITY_CRC64`); the recorded plaintext
 * length and MD5 are checked when the object has them; only then is the temporary file renamed over the
 * target. So the target is either absent (or untouched) or complete and verified, never partial.
 *
 * Resuming: a checkpoint (a file path, or the object `progress` and errors hand out, ali-oss style) is
 * validated against the new HEAD (same name, ETag, size, part size, version) and its temporary file (still
 * there, full size); each recorded part is re-read, re-encrypted and its CRC compared, so a part lost in a
 * crash is fetched again rather than trusted. Failures keep the temporary file and checkpoint when the caller asked for
 * resumability (gave `checkpoint`); without it, nothing is left behind. A failure that makes the partial data
 * worthless (the object changed, the CRC-64 or MD5 is wrong) removes both.
 *
 * Transient failures (5xx, 429, resets) are retried per part with the client's policy (`client/retry.ts`).
 * Cancelling through `signal` stops new parts, lets running ones finish (ali-oss has no per-request abort),
 * and rejects with ali-oss's vocabulary: an Error named `cancel`, `status: 0`, carrying the checkpoint.
 *
 * Deliberately not here: ranged reads into memory (object.ts), downloading to a stream (use `getStream`).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { aesCtr } from '../cipher/aes-ctr.js';
import type { ClientContext } from '../client/context.js';
import { requestObject } from '../client/get.js';
import { md5Bytes } from '../client/object.js';
import { isTransientError, withRetry, type RetryPolicy } from '../client/retry.js';
import { decodeEnvelope, type Envelope } from '../envelope/codec.js';
import { CheckpointError, IntegrityError, OssCryptoError, PlaintextObjectError, UnsupportedOperationError } from '../errors.js';
import { crc64, crc64Combine, parseCrc64Decimal } from '../integrity/crc64.js';
import type { ContentKey } from '../keys/types.js';
import {
  checkDownloadCheckpointMatches,
  createDownloadCheckpoint,
  downloadParts,
  parseDownloadCheckpoint,
  serializeDownloadCheckpoint,
  withDownloadedPart,
  type DownloadCheckpoint,
  type DownloadPart,
} from './checkpoint.js';
import { checkRangedResponse, planRangedRead } from './range.js';
import { writeFileAtomically } from '../io/atomic-file.js';
import type { CtrPool } from '../cipher/worker-pool.js';
import { streamPartToFile } from './part-stream.js';
import { openPartWorkers } from './part-workers.js';

/**
 * Options of {@link downloadFile}; the names follow ali-oss's `multipartUpload`.
 * @example
 *   const options: DownloadFileOptions = { partSize: 8 << 20, parallel: 4, checkpoint: '/tmp/a.cp.json' };
 */
export interface DownloadFileOptions {
  /** Bytes per ranged GET. Default: the client's `partSize` (or the checkpoint's when resuming). Any positive size. */
  partSize?: number;
  /** Parts in flight at once. Default: the client's `parallel`. */
  parallel?: number;
  /**
   * Worker threads that decrypt the parts (download/part-workers.ts), for machines with idle cores. Default `0`:
   * the main thread decrypts (on the 2-core benchmark machine, workers were slower; see part-workers.ts).
   */
  workers?: number;
  /**
   * Makes the download resumable. A string is a checkpoint **file**: read (and resumed) when it exists, written
   * after every part, deleted on success. An object is a checkpoint handed out earlier by `progress` or attached
   * to an error (`err.checkpoint`), for callers that persist it themselves. Without it a failed download
   * leaves nothing behind and cannot be resumed.
   */
  checkpoint?: string | DownloadCheckpoint;
  /**
   * Called with `0` once the download is planned, `doneParts / (parts + 1)` after each part, and `1` (checkpoint
   * `null`) once the file is verified and in place; `res` is the HEAD answer, then each part's GET answer.
   * Awaited, like ali-oss's.
   */
  progress?: (p: number, checkpoint: DownloadCheckpoint | null, res: unknown) => unknown;
  /** Cancels the download: no new part starts; rejects with an Error named `cancel` carrying the checkpoint. */
  signal?: AbortSignal;
  /** Downloads this version of the object (ali-oss `versionId`). */
  versionId?: string;
  /** Per-request timeout in ms, passed to ali-oss. */
  timeout?: number;
}

/**
 * What {@link downloadFile} resolves to.
 * @example
 *   const { size, etag, resumedParts } = await downloadFile(ctx, 'a.bin', '/tmp/a.bin');
 */
export interface DownloadFileResult {
  /** ali-oss's response of the HEAD request that described the object. */
  readonly res: any;
  /** The object name. */
  readonly name: string;
  /** The absolute path of the written file. */
  readonly file: string;
  /** Bytes written (plaintext size = stored size). */
  readonly size: number;
  /** The ETag of the object that was downloaded (with its quotes, as OSS sends it). */
  readonly etag: string;
  /** The server's CRC-64 of the stored bytes, which the download matched; `undefined` when the server sent none. */
  readonly crc64ecma: string | undefined;
  /** False for an object stored without encryption (read because the plaintext policy is `allow`). */
  readonly encrypted: boolean;
  /** Parts taken from the checkpoint rather than fetched (0 for a fresh download). */
  readonly resumedParts: number;
  /** Parts fetched by this call. */
  readonly fetchedParts: number;
}

/**
 * ali-oss's cancellation vocabulary (`name: 'cancel'`, `status: 0`), as a real Error carrying the checkpoint.
 * @example
 *   catch (err) { if (err.name === 'cancel') await downloadFile(ctx, name, file, { checkpoint: err.checkpoint }) }
 */
export interface DownloadCancelError extends Error {
  readonly name: 'cancel';
  readonly status: 0;
  /** Resume by passing this (or the checkpoint file) back as `options.checkpoint`; `null` when not resumable. */
  readonly checkpoint: DownloadCheckpoint | null;
}

const TEMP_SUFFIX = /^\.oss-crypto-[0-9a-f]{12}\.tmp$/;

/**
 * Downloads and decrypts `name` into `filePath`, in parallel ranged parts, resumably.
 * @param ctx the client context (ali-oss client, key ring, engine, retry policy, defaults)
 * @param name the object name
 * @param filePath where the plaintext goes; replaced atomically once complete and verified
 * @param options part size, parallelism, checkpoint, progress, abort signal, version id
 * @returns the HEAD response and what was written
 * @throws {PlaintextObjectError} `PLAINTEXT_REJECTED` for an object without encryption metadata under `reject`
 * @throws {IntegrityError} `OBJECT_CHANGED` (the ETag no longer matches: If-Match answered 412),
 *   `INTEGRITY_CRC64`, `INTEGRITY_LENGTH`, `INTEGRITY_MD5`, `INTEGRITY_RANGE`, `INTEGRITY_TRUNCATED`
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` / `CHECKPOINT_MISMATCH` for a checkpoint that does not hold
 * @throws {KeyUnwrapError} / {MetadataError} / {KmsError} from reading the envelope and unwrapping its key
 * @throws the ali-oss error of a failed request, untouched (`err.checkpoint` added when resumable)
 * @throws an Error named `cancel` (`status: 0`, `checkpoint`) when `signal` aborts
 * @example
 *   const cp = '/tmp/big.iso.checkpoint.json';
 *   await downloadFile(ctx, 'isos/big.iso', '/tmp/big.iso', { checkpoint: cp, parallel: 4 });
 *   // after a failure or a cancel, the same call carries on where it stopped
 */
export async function downloadFile(
  ctx: ClientContext,
  name: string,
  filePath: string,
  options: DownloadFileOptions = {},
): Promise<DownloadFileResult> {
  checkArguments(name, filePath, options);
  const target = resolve(filePath);
  const checkpointFile = typeof options.checkpoint === 'string' ? resolve(options.checkpoint) : undefined;
  const resumable = options.checkpoint !== undefined;
  const signal = options.signal;

  // A bad checkpoint fails before any request.
  let saved: DownloadCheckpoint | undefined;
  if (checkpointFile !== undefined) saved = await readCheckpointFile(checkpointFile);
  else if (options.checkpoint !== undefined) saved = revalidate(options.checkpoint as DownloadCheckpoint);
  if (signal?.aborted) throw cancelError(name, resumable ? saved ?? null : null, signal.reason);

  const requestOptions: Record<string, unknown> = {};
  if (options.versionId !== undefined) requestOptions.versionId = options.versionId;
  if (options.timeout !== undefined) requestOptions.timeout = options.timeout;

  const head = await withRetry(() => ctx.oss.head(name, { ...requestOptions }), ctx.retry, { signal });
  const object = describeObject(name, head.res?.headers ?? {});
  const envelope = decodeEnvelope(head.res.headers);
  if (envelope === null && ctx.plaintext !== 'allow') {
    throw new PlaintextObjectError(
      'PLAINTEXT_REJECTED',
      `${JSON.stringify(name)} has no client-side-encryption metadata; refusing to return it as if it were decrypted ` +
        `(set plaintext: 'allow' to read unencrypted objects)`,
    );
  }
  if (envelope !== null) checkRecordedSizes(name, envelope, object.size);

  const bucket = bucketOf(ctx);
  const partSize = options.partSize ?? saved?.partSize ?? ctx.partSize;
  if (saved !== undefined) {
    const where = checkpointFile === undefined ? '' : ` (checkpoint file ${checkpointFile})`;
    try {
      checkDownloadCheckpointMatches(saved, { name, bucket, etag: object.etag, totalSize: object.size, partSize: options.partSize });
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      throw new CheckpointError(
        err.code,
        `${err.message}${where}; to start over, delete the checkpoint and its temporary file ${saved.tempPath}`,
        { cause: err },
      );
    }
    if (saved.versionId !== options.versionId) {
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        `the download checkpoint of ${JSON.stringify(name)}${where} is for version ${JSON.stringify(saved.versionId ?? null)}, ` +
          `this download asks for ${JSON.stringify(options.versionId ?? null)} (options.versionId)`,
      );
    }
    await checkTempFile(saved, target);
  }

  // Unwrap once, after every cheap check, for every part (FORMATS.md §7).
  const content = envelope === null ? undefined : await ctx.keyring.unwrap(envelope.wrapped);
  const md5 = envelope === null ? undefined : recordedMd5(envelope.unencryptedContentMd5);
  const run = new Run(ctx, name, target, object, content, md5, options, checkpointFile, resumable);
  try {
    return await run.execute(
      saved ??
        createDownloadCheckpoint({
          ...(bucket === undefined ? {} : { bucket }),
          name,
          ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
          etag: object.etag,
          totalSize: object.size,
          partSize,
          tempPath: tempPathFor(target),
        }),
      saved !== undefined,
      head.res,
    );
  } finally {
    // JS gives no guarantee that no copy of the key survives elsewhere; this clears ours.
    content?.key.fill(0);
    content?.iv.fill(0);
  }
}

/** What HEAD said about the object. */
interface ObjectFacts {
  readonly size: number;
  readonly etag: string;
  /** The server's CRC-64 of the stored bytes, parsed; `undefined` when absent. */
  readonly crc: bigint | undefined;
  readonly crcText: string | undefined;
}

/** The per-call state of one download. */
class Run {
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
        this.#file = await open(checkpoint.tempPath, 'wx+');
        // Full size up front: positional writes land anywhere, and a resume can check the size.
        await this.#file.truncate(checkpoint.totalSize);
      }
      await this.#persist();
      await this.options.progress?.(0, this.#checkpoint, headRes);

      const fetchedParts = await this.#fetchMissing();
      await this.#verifyWhole();
      await this.#file.datasync();
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
    let result: { res: any; storedCrc: bigint };
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
   * One attempt at a part: a streaming ranged GET whose `Content-Range` is checked before any byte is used, then
   * the body checksummed, decrypted and written as it arrives (part-stream.ts).
   */
  async #streamPart(part: DownloadPart, plan: ReturnType<typeof planRangedRead>, request: Record<string, unknown>, label: string, pool: CtrPool | undefined) {
    // ali-oss's own getStream reports most error statuses as UnknownError; requestObject keeps its usual errors.
    const started = Date.now();
    const { res: stream, status, headers } = await requestObject(this.ctx, this.name, request);
    // The part's answer in ali-oss's `res` shape (what `get` would have returned), for `progress`.
    const res = { status, statusCode: status, headers, size: part.length, rt: 0, requestUrls: stream?.requestUrls ?? [] };
    let ctr: ReturnType<typeof aesCtr> | undefined;
    try {
      checkRangedResponse(plan, res, { expectedTotal: this.object.size });
      const content = this.content;
      if (content !== undefined && pool === undefined) ctr = aesCtr(content.key, content.iv, part.offset, { backend: this.ctx.backend });
      const workers = content !== undefined && pool !== undefined ? { pool, key: content.key, iv: content.iv } : undefined;
      const storedCrc = await streamPartToFile(stream, { file: this.#file!, offset: part.offset, length: part.length, label, ctr, pool: workers });
      res.rt = Date.now() - started;
      return { res, storedCrc };
    } finally {
      ctr?.dispose();
      // Frees the connection when the body was refused or not read to its end.
      if (!stream.readableEnded) stream.destroy();
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
          `the MD5 of the decrypted ${JSON.stringify(this.name)} is ${got.toString('hex')}, its recorded ` +
            `unencrypted-content-md5 is ${expected.text}; wrong key or damaged object. Nothing was written.`,
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

// ---------------------------------------------------------------------------------------------------------

function checkArguments(name: unknown, filePath: unknown, options: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`"name" expected a non-empty string, got ${describe(name)}`);
  if (typeof filePath !== 'string' || filePath.length === 0) {
    throw new TypeError(`"filePath" expected a non-empty string, got ${describe(filePath)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`"options" expected an object, got ${describe(options)}`);
  const o = options as DownloadFileOptions;
  for (const key of ['partSize', 'parallel'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new RangeError(`"${key}" expected a positive integer, got ${String(v)}`);
  }
  if (o.workers !== undefined && (!Number.isSafeInteger(o.workers) || o.workers < 0 || o.workers > 64)) {
    throw new RangeError(`"workers" expected an integer from 0 to 64, got ${String(o.workers)}`);
  }
  if (o.checkpoint !== undefined && typeof o.checkpoint !== 'string' && (o.checkpoint === null || typeof o.checkpoint !== 'object')) {
    throw new TypeError(`"checkpoint" expected a file path or a download checkpoint object, got ${describe(o.checkpoint)}`);
  }
  if (o.checkpoint === '') throw new TypeError('"checkpoint" expected a file path, got an empty string');
  if (o.progress !== undefined && typeof o.progress !== 'function') throw new TypeError(`"progress" expected a function, got ${describe(o.progress)}`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`"signal" expected an AbortSignal, got ${describe(o.signal)}`);
  if (o.versionId !== undefined && typeof o.versionId !== 'string') throw new TypeError(`"versionId" expected a string, got ${describe(o.versionId)}`);
}

function describeObject(name: string, headers: Record<string, unknown>): ObjectFacts {
  const lengthText = headerText(headers, 'content-length');
  const size = lengthText !== undefined && /^\d+$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!Number.isSafeInteger(size)) {
    throw new IntegrityError('INTEGRITY_LENGTH', `HEAD of ${JSON.stringify(name)} gave no usable Content-Length (got ${JSON.stringify(lengthText ?? null)}); cannot plan the parts`);
  }
  const etag = headerText(headers, 'etag');
  if (etag === undefined || etag === '') {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `HEAD of ${JSON.stringify(name)} gave no ETag; a download in several requests needs one (If-Match) to be sure every part comes from the same version`,
    );
  }
  const crcText = headerText(headers, 'x-oss-hash-crc64ecma');
  const crc = crcText === undefined ? undefined : parseCrc64Decimal(crcText, `x-oss-hash-crc64ecma of ${JSON.stringify(name)} (from HEAD)`);
  return { size, etag, crc, crcText };
}

function checkRecordedSizes(name: string, env: Envelope, size: number): void {
  // Checked before a byte is fetched: a stored size that disagrees means a truncated or padded object.
  const recorded: Array<[string, number | undefined]> = [
    ['unencrypted-content-length', env.unencryptedContentLength],
    ['data-size', env.dataSize],
  ];
  for (const [field, value] of recorded) {
    if (value !== undefined && value !== size) {
      throw new IntegrityError(
        'INTEGRITY_LENGTH',
        `${JSON.stringify(name)} is ${size} bytes (Content-Length from HEAD) but its metadata records ${field} ${value}; ` +
          `CTR adds no bytes, so the stored object is truncated or padded`,
      );
    }
  }
}

/** The recorded plaintext MD5 as bytes: oss2 stores whatever the writer gave, hex or base64 (FORMATS.md §2). */
function recordedMd5(text: string | undefined): { bytes: Uint8Array; text: string } | undefined {
  const bytes = text === undefined ? undefined : md5Bytes(text);
  return bytes === undefined ? undefined : { bytes, text: text! };
}

async function readCheckpointFile(path: string): Promise<DownloadCheckpoint | undefined> {
  let text: string;
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  try {
    return parseDownloadCheckpoint(text);
  } catch (err) {
    if (err instanceof CheckpointError) {
      throw new CheckpointError(err.code, `${err.message} (checkpoint file ${path})`, { cause: err });
    }
    throw err;
  }
}

function revalidate(checkpoint: DownloadCheckpoint): DownloadCheckpoint {
  return parseDownloadCheckpoint(JSON.stringify(checkpoint));
}

async function checkTempFile(saved: DownloadCheckpoint, target: string): Promise<void> {
  const temp = resolve(saved.tempPath);
  const base = basename(target);
  const name = basename(temp);
  // Only a file named as we name them, next to this target: a checkpoint never points us at another file.
  if (dirname(temp) !== dirname(target) || !name.startsWith(base) || !TEMP_SUFFIX.test(name.slice(base.length))) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint's temporary file ${saved.tempPath} was not made for ${target}; a checkpoint resumes only the download it was made for`,
    );
  }
  let size: number;
  try {
    size = (await stat(temp)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint lists ${saved.doneParts.length} downloaded parts in ${saved.tempPath}, which no longer exists; delete the checkpoint to start over`,
    );
  }
  if (size !== saved.totalSize) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the temporary file ${saved.tempPath} is ${size} bytes, the checkpoint expects ${saved.totalSize} (the object size); ` +
        `it was modified since. Delete the checkpoint to start over`,
    );
  }
}

function tempPathFor(target: string): string {
  return `${target}.oss-crypto-${randomBytes(6).toString('hex')}.tmp`;
}

async function readFully(file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new CheckpointError('CHECKPOINT_MISMATCH', `the temporary file ended at byte ${position + done}, before the recorded part`);
    done += bytesRead;
  }
}

function headerText(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    if (Array.isArray(v)) return v.length === 0 ? undefined : String(v[0]);
    return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
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

function bucketOf(ctx: ClientContext): string | undefined {
  const bucket = (ctx.oss as { options?: { bucket?: unknown } }).options?.bucket;
  return typeof bucket === 'string' && bucket !== '' ? bucket : undefined;
}

function attachCheckpoint(err: unknown, checkpoint: DownloadCheckpoint): void {
  // Added, never replacing anything: the error itself stays what ali-oss (or we) made it.
  if (err !== null && typeof err === 'object' && Object.isExtensible(err) && !('checkpoint' in err)) {
    (err as { checkpoint?: DownloadCheckpoint }).checkpoint = checkpoint;
  }
}

function cancelError(name: string, checkpoint: DownloadCheckpoint | null, reason: unknown): DownloadCancelError {
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return typeof value;
}
