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
import { writeFileAtomically } from '../checkpoint/atomic-file.js';
import { IntegrityError, OssCryptoError } from '../errors.js';
import { crc64, crc64Combine } from '../integrity/crc64.js';
import type { ContentKey } from '../keys/types.js';
import type { ClientContext } from '../transfer/context.js';
import { checkRangedResponse, planRangedRead } from '../transfer/range.js';
import { describe } from '../util/describe.js';
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
import { readFully, writeFully } from './temp-files.js';

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
    const worker = async (): Promise<void> => {
      while (failure === undefined && !signal?.aborted && next < todo.length) {
        const part = todo[next++];
        try {
          const { res, checkpoint } = await this.#fetchPart(part);
          fetched++;
          await this.options.progress?.(checkpoint.doneParts.length / (all.length + 1), checkpoint, res);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    if (failure !== undefined) throw failure.err;
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    return fetched;
  }

  /** Fetches, checks, decrypts and writes one part; returns its response and the checkpoint that records it. */
  async #fetchPart(part: DownloadPart): Promise<{ res: unknown; checkpoint: DownloadCheckpoint }> {
    const plan = planRangedRead({ offset: part.offset, length: part.length });
    const headers = { ...plan.headers, 'If-Match': this.object.etag };
    const request: Record<string, unknown> = { headers };
    if (this.options.versionId !== undefined) request.versionId = this.options.versionId;
    if (this.options.timeout !== undefined) request.timeout = this.options.timeout;
    let result: any;
    try {
      result = await withRetry(() => this.ctx.store.getObject(this.name, { ...request, headers: { ...headers } }), this.#retryPolicy, {
        signal: this.options.signal,
      });
    } catch (err) {
      if (bodyBrokeOff(err)) {
        throw new IntegrityError(
          'INTEGRITY_TRUNCATED',
          `the body of part ${part.partNumber} of ${JSON.stringify(this.name)} (bytes ${part.offset}-${part.offset + part.length - 1}) ` +
            `broke off ${this.ctx.retry.retries + 1} times; ali-oss said: ${String((err as Error).message).split('\n')[0]}`,
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
    checkRangedResponse(plan, result.res, { expectedTotal: this.object.size });
    const body = toBytes(result.content);
    if (body.length !== part.length) {
      throw new IntegrityError(
        'INTEGRITY_TRUNCATED',
        `part ${part.partNumber} of ${JSON.stringify(this.name)} should hold ${part.length} bytes (bytes ${part.offset}-` +
          `${part.offset + part.length - 1} per its Content-Range), the body had ${body.length}`,
      );
    }
    const storedCrc = crc64(body);
    this.#storedCrc.set(part.partNumber, storedCrc);
    if (this.content !== undefined) this.#xor(body, part.offset);
    await writeFully(this.#file!, body, part.offset);
    // A checkpoint must never list bytes that a crash could still lose.
    if (this.resumable) await this.#file!.datasync();
    const checkpoint = withDownloadedPart(this.#checkpoint, { number: part.partNumber, crc64: storedCrc.toString() });
    this.#checkpoint = checkpoint;
    await this.#persist();
    return { res: result.res, checkpoint };
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
    const text = serializeDownloadCheckpoint(this.#checkpoint);
    const write = this.#saving.catch(() => undefined).then(() => writeFileAtomically(file, text));
    this.#saving = write;
    return write;
  }
}

function toBytes(content: unknown): Uint8Array {
  if (content instanceof Uint8Array) return content;
  if (typeof content === 'string') return Buffer.from(content);
  if (content === undefined || content === null) return new Uint8Array(0);
  throw new TypeError(`ali-oss returned a body of type ${describe(content)}; expected a Buffer`);
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
