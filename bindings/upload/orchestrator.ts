/**
 * `multipartUpload(name, file, options)` with client-side encryption: ali-oss's call (same option names, same
 * result, `progress(p, checkpoint, res)`), driven by its own part loop because ali-oss's cannot encrypt
 * (FORMATS.md §5; STYLE.md §F).
 *
 * One upload is one {@link EncryptedMultipartUpload}, used once. `parallel` workers pull planned parts from one
 * generator; each part is read from the source at its offset into a buffer of `partSize` bytes, encrypted in place
 * with `aesCtr(key, iv, part.start)` and sent, so memory stays near `parallel × partSize` whatever the size of the
 * file (streams are read part by part, in order; see source.ts). After every part the checkpoint (JSON, wrapped
 * key only; schema in checkpoint.ts) is passed to `progress` and, when `options.checkpoint` is a path, written to
 * that file atomically (temporary file + rename). A later call with that checkpoint (or path) validates it (same
 * size, mtime, part size; the upload still exists, per ListParts; the key unwraps) and sends only the parts it
 * does not list.
 *
 * Failures. Transient errors are retried per request (client retry policy), a part being re-read and
 * re-encrypted from its own offset. A part that still fails stops the loop: the other workers finish the part
 * they hold, then the original ali-oss error is thrown with `checkpoint` attached, and the upload is left for
 * resuming (aborted only with `abortOnError: true`). Cancellation (`options.signal`, `upload.cancel()` or
 * `CryptoClient#cancel()`) starts no new part and no new retry; the parts already in flight finish and are
 * recorded, then the call rejects with an Error `name: 'cancel'`, `status: 0`, carrying the checkpoint. Nothing
 * of the upload runs after the rejection, so the checkpoint (and its file) is final and can be resumed at once.
 *
 * After CompleteMultipartUpload, the object's CRC-64 is checked against the parts' (multipart.ts).
 *
 * Deliberately not here: the single-request `put` (client/put.ts); ali-oss's `put` fallback for small files (an
 * encrypted one-part upload is used instead, so every size gets the same checkpoint and result behaviour).
 * @module
 */
import { aesCtr } from '../cipher/aes-ctr.js';
import type { ClientContext } from '../client/context.js';
import { copyOptions, refuseEncryptionMetaOverride, signalOf } from '../client/object.js';
import { CheckpointError, PartError } from '../errors.js';
import type { ContentKey, WrappedContentKey } from '../keys/types.js';
import {
  checkUploadCheckpointMatches,
  createMultipartCryptoContext,
  createUploadCheckpoint,
  parseUploadCheckpoint,
  planOf,
  serializeUploadCheckpoint,
  wrappedKeyFields,
  wrappedKeyOf,
  type FileIdentity,
  type UploadCheckpoint,
  type UploadedPart,
} from './checkpoint.js';
import { abortMultipartUpload, completeMultipartUpload, initiate, listAllParts, sendPart, type CompleteMultipartUploadResult } from './multipart.js';
import { choosePartSize, MAX_PARTS, PART_ALIGNMENT, planParts, type PlannedPart } from './plan.js';
import { openPartReader, type PartReader, type UploadBody } from './source.js';

export type { UploadCheckpoint } from './checkpoint.js';
export type { UploadBody } from './source.js';

/**
 * `progress(p, checkpoint, res)` as ali-oss calls it: `p` in [0, 1]; `checkpoint` null at the end.
 * @example
 *   const progress: MultipartProgress = (p, checkpoint) => { if (checkpoint) saveJson(checkpoint); };
 *   await client.multipartUpload('big.bin', path, { progress });
 */
export type MultipartProgress = (p: number, checkpoint: UploadCheckpoint | null, res: any) => unknown;

/**
 * Options of {@link multipartUpload}: ali-oss's, plus `signal`, `contentLength` and `abortOnError`.
 * @example
 *   const options: MultipartUploadOptions = { partSize: 8 << 20, parallel: 4, checkpoint: 'big.cp.json' };
 *   await client.multipartUpload('big.bin', '/data/big.bin', options);
 */
export interface MultipartUploadOptions {
  /**
   * Part size in bytes, a multiple of 16. Default: the client's `partSize`. Raised (to a multiple of 16) when the
   * file would need more than 10,000 parts, as ali-oss does. Ignored when resuming unless given, then checked.
   */
  partSize?: number;
  /** Parts in flight. Default: the client's `parallel` (5). */
  parallel?: number;
  /**
   * Called after Initiate (`0`), after each part, and after Complete (`1`, `null`), as ali-oss does; awaited.
   * For a stream of unknown size only `0` and `1` are reported: neither the fraction nor a checkpoint (whose plan
   * needs the size) exists before the stream ends.
   */
  progress?: MultipartProgress;
  /**
   * Resume from this checkpoint (as `progress` gave it, or parsed from JSON); or a file path: resume from it
   * when it exists, and write the checkpoint there after every part (deleted after success).
   */
  checkpoint?: UploadCheckpoint | string;
  /** Cancels the upload; see the module comment. */
  signal?: AbortSignal;
  /** The size of a stream source, when known (ali-oss `putStream`'s option name). */
  contentLength?: number;
  /** Abort the multipart upload when it fails (default false: keep it for resuming). Cancelling never aborts. */
  abortOnError?: boolean;
  /** ali-oss: user metadata (names without `x-oss-meta-`); encryption metadata names are refused. */
  meta?: Record<string, unknown>;
  /** ali-oss: headers of Initiate (and of Complete, e.g. `x-oss-forbid-overwrite`). */
  headers?: Record<string, unknown>;
  /** ali-oss: Content-Type of the object. */
  mime?: string;
  /** ali-oss: `timeout`, `callback` (sent on Complete)... are passed through. */
  [option: string]: unknown;
}

/**
 * ali-oss's `multipartUpload` result.
 * @example
 *   const { etag }: MultipartUploadResult = await client.multipartUpload('big.bin', '/data/big.bin');
 */
export type MultipartUploadResult = CompleteMultipartUploadResult;

/**
 * The rejection of a cancelled upload (ali-oss's cancel event, as a real Error).
 * @example
 *   try { await client.multipartUpload(name, path, { signal }); }
 *   catch (err) { if (isCancelError(err)) resumeLater((err as MultipartCancelError).checkpoint); }
 */
export interface MultipartCancelError extends Error {
  name: 'cancel';
  status: 0;
  /** Resume with it (`options.checkpoint`); `null` when the upload was cancelled before it was initiated. */
  checkpoint: UploadCheckpoint | null;
}

/**
 * One encrypted multipart upload, used once: `await new EncryptedMultipartUpload(ctx, name, file, options).done()`.
 * @example
 *   const upload = new EncryptedMultipartUpload(ctx, 'big.iso', '/data/big.iso', { checkpoint: '/tmp/big.cp' });
 *   setTimeout(() => upload.cancel(), 5000);
 *   try { await upload.done(); } catch (err) { if (err.name === 'cancel') save(err.checkpoint); }
 */
export class EncryptedMultipartUpload {
  readonly #ctx: ClientContext;
  readonly #name: string;
  readonly #file: UploadBody;
  readonly #options: MultipartUploadOptions;
  readonly #cancel = new AbortController();
  #started = false;
  #checkpoint: UploadCheckpoint | undefined;

  /**
   * @param ctx the client context
   * @param name the object key
   * @param file a file path, Buffer/Uint8Array, Blob/File, Node Readable or WHATWG ReadableStream
   * @param options see {@link MultipartUploadOptions}
   * @throws {TypeError} for a missing name or unsupported options (checked again, fully, by `done()`)
   */
  constructor(ctx: ClientContext, name: string, file: UploadBody, options: MultipartUploadOptions = {}) {
    if (typeof name !== 'string' || name === '') throw new TypeError(`"name" expected a non-empty object key, got ${typeof name}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`"options" expected an object, got ${options === null ? 'null' : typeof options}`);
    this.#ctx = ctx;
    this.#name = name;
    this.#file = file;
    this.#options = options;
    if (typeof options.checkpoint === 'object' && options.checkpoint !== null) this.#checkpoint = options.checkpoint;
  }

  /** The latest checkpoint (after Initiate, and after every part); undefined before Initiate. */
  get checkpoint(): UploadCheckpoint | undefined {
    return this.#checkpoint;
  }

  /** Cancels the upload: `done()` rejects with a `cancel` error carrying the checkpoint. */
  cancel(): void {
    this.#cancel.abort();
  }

  /**
   * Runs the upload.
   * @returns ali-oss's result: `{ res, bucket, name, etag }` (and `data` with a callback)
   * @throws {MultipartCancelError} `name: 'cancel'`, `status: 0`, with `checkpoint`, when cancelled
   * @throws {CheckpointError} CHECKPOINT_MALFORMED / CHECKPOINT_MISMATCH when the checkpoint cannot be resumed
   * @throws {PartError} PART_INVALID when the size and part size break an OSS rule
   * @throws the ali-oss error of a request that kept failing, with `checkpoint` attached
   */
  async done(): Promise<MultipartUploadResult> {
    if (this.#started) throw new TypeError('EncryptedMultipartUpload.done() was already called; create a new upload object');
    this.#started = true;
    const userSignal = signalOf(this.#options);
    const forward = () => this.#cancel.abort(userSignal?.reason);
    if (userSignal?.aborted) forward();
    userSignal?.addEventListener('abort', forward, { once: true });
    const set = running.get(this.#ctx) ?? new Set<EncryptedMultipartUpload>();
    running.set(this.#ctx, set);
    set.add(this);
    try {
      return await new Run(this.#ctx, this.#name, this.#file, this.#options, this.#cancel.signal, (cp) => {
        this.#checkpoint = cp;
      }).run();
    } finally {
      set.delete(this);
      userSignal?.removeEventListener('abort', forward);
    }
  }
}

/**
 * Encrypts and uploads `file` as a multipart object (ali-oss `multipartUpload`), resumable from a checkpoint.
 * @param ctx the client context
 * @param name the object key
 * @param file a file path, Buffer/Uint8Array, Blob/File, Node Readable or WHATWG ReadableStream
 * @param options `partSize`, `parallel`, `progress`, `checkpoint`, `signal`, `headers`, `meta`, `mime`...
 * @returns ali-oss's result (`res`, `bucket`, `name`, `etag`)
 * @throws see {@link EncryptedMultipartUpload.done}
 * @example
 *   await multipartUpload(ctx, 'backup.tar', '/data/backup.tar', {
 *     parallel: 4, partSize: 8 << 20, checkpoint: '/tmp/backup.tar.checkpoint',
 *     progress: (p) => console.log(`${Math.round(p * 100)}%`),
 *   });
 */
export function multipartUpload(
  ctx: ClientContext,
  name: string,
  file: UploadBody,
  options?: MultipartUploadOptions,
): Promise<MultipartUploadResult> {
  return new EncryptedMultipartUpload(ctx, name, file, options).done();
}

/**
 * Cancels every `multipartUpload` running on this client (ali-oss `cancel(abort?)`); with `abort`, also aborts
 * that multipart upload on OSS. The returned promise settles when the abort request has; it never has to be
 * awaited (a failure then goes unreported, as with ali-oss).
 * @example
 *   cryptoClient.cancel();                                  // pause: resume later from the checkpoint
 *   await cryptoClient.cancel({ name, uploadId });          // give up: discard the uploaded parts
 */
export function cancelMultipartUploads(
  ctx: ClientContext,
  abort?: { name: string; uploadId: string; options?: Record<string, unknown> },
): Promise<void> {
  for (const upload of running.get(ctx) ?? []) upload.cancel();
  if (abort === undefined) return Promise.resolve();
  const p = abortMultipartUpload(ctx, abort.name, abort.uploadId, abort.options).then(() => undefined);
  p.catch(() => {});
  return p;
}

/**
 * True for the rejection of a cancelled upload.
 * @example
 *   catch (err) { if (isCancelError(err)) resumeLater(err.checkpoint); else throw err; }
 */
export function isCancelError(err: unknown): err is MultipartCancelError {
  return err instanceof Error && err.name === 'cancel' && (err as { status?: unknown }).status === 0;
}

// ---------------------------------------------------------------------------------------------------------------

const running = new WeakMap<ClientContext, Set<EncryptedMultipartUpload>>();

/** What a part worker's wait for the next part resolves to once the upload is cancelled or has failed. */
const STOPPED = Symbol('stopped');

/** Options that are ours, not ali-oss's: never sent with a request. */
const OWN_OPTIONS = ['partSize', 'parallel', 'progress', 'checkpoint', 'signal', 'contentLength', 'abortOnError'];

/** The state of an upload once it has an upload id. */
interface Upload {
  readonly uploadId: string;
  readonly bucket: string | undefined;
  readonly content: ContentKey;
  readonly wrapped: WrappedContentKey;
  readonly partSize: number;
  /** Undefined while a stream of unknown size is being read. */
  dataSize: number | undefined;
  /** The checkpoint with no parts; undefined for a stream of unknown size. */
  readonly base: UploadCheckpoint | undefined;
  /** Done parts, sorted by number. */
  readonly done: UploadedPart[];
}

class Run {
  readonly #ctx: ClientContext;
  readonly #name: string;
  readonly #file: UploadBody;
  readonly #options: MultipartUploadOptions;
  readonly #cancelled: AbortSignal;
  readonly #publish: (cp: UploadCheckpoint) => void;
  readonly #opts: Record<string, any>;
  #upload: Upload | undefined;
  #writer: CheckpointFile | undefined;
  #reader: PartReader | undefined;

  constructor(
    ctx: ClientContext,
    name: string,
    file: UploadBody,
    options: MultipartUploadOptions,
    cancelled: AbortSignal,
    publish: (cp: UploadCheckpoint) => void,
  ) {
    this.#ctx = ctx;
    this.#name = name;
    this.#file = file;
    this.#options = options;
    this.#cancelled = cancelled;
    this.#publish = publish;
    this.#opts = copyOptions(options);
    for (const k of OWN_OPTIONS) delete this.#opts[k];
    // ali-oss writes the last part's Content-Length into the headers of the options it was given; an options
    // object reused from a plain ali-oss upload would make Initiate announce a body it never sends.
    const headers = this.#opts.headers as Record<string, unknown> | undefined;
    for (const k of Object.keys(headers ?? {})) if (k.toLowerCase() === 'content-length') delete headers![k];
  }

  async run(): Promise<MultipartUploadResult> {
    const o = this.#options;
    checkOptions(o);
    refuseEncryptionMetaOverride('multipartUpload', this.#opts);
    try {
      const given = await this.#loadCheckpoint();
      this.#checkCancelled(given ?? null);
      const streamSize = o.contentLength ?? given?.dataSize;
      this.#reader = await openPartReader(this.#file, { size: isStream(this.#file) ? streamSize : undefined });
      if (given !== undefined) await this.#resume(given, this.#reader);
      else await this.#start(this.#reader);
      this.#checkCancelled(this.#current());
      await this.#uploadParts(this.#reader);
      if (this.#cancelled.aborted) throw await this.#cancelError();
      return await this.#complete();
    } finally {
      await this.#reader?.close().catch(() => {});
      // This run drew or unwrapped the key for itself alone; a resume unwraps it again from the checkpoint.
      // Best effort: JS gives no guarantee that no other copy exists.
      this.#upload?.content.key.fill(0);
      this.#upload?.content.iv.fill(0);
    }
  }

  /** The checkpoint given as an object, or read from the path; undefined for a new upload. */
  async #loadCheckpoint(): Promise<UploadCheckpoint | undefined> {
    const cp = this.#options.checkpoint;
    if (cp === undefined) return undefined;
    if (typeof cp === 'string') {
      this.#writer = new CheckpointFile(cp);
      const text = await this.#writer.read();
      return text === undefined ? undefined : parseUploadCheckpoint(text);
    }
    if (cp === null || typeof cp !== 'object') throw new TypeError(`"checkpoint" expected a checkpoint object or a file path, got ${cp === null ? 'null' : typeof cp}`);
    // Validates strictly (also a checkpoint that went through JSON.parse, or an ali-oss one, which is refused).
    return parseUploadCheckpoint(serializeUploadCheckpoint(cp));
  }

  async #start(reader: PartReader): Promise<void> {
    const o = this.#options;
    const dataSize = reader.size;
    const preferred = o.partSize ?? this.#ctx.partSize;
    let partSize = preferred;
    if (dataSize !== undefined) {
      // Raise (never lower) the part size to fit in 10,000 parts, as ali-oss does; the OSS minimum is checked by planParts.
      partSize = Math.max(preferred, choosePartSize(dataSize, { preferred, minimum: PART_ALIGNMENT }));
      planParts(dataSize, partSize);
    }
    let initiated: Awaited<ReturnType<typeof initiate>>;
    try {
      initiated = await initiate(this.#ctx, this.#name, this.#initOptions(), { dataSize, partSize }, undefined);
    } catch (err) {
      throw await this.#failed(err);
    }
    const { result, content, wrapped } = initiated;
    const bucket = typeof result.bucket === 'string' && result.bucket !== '' ? result.bucket : undefined;
    const base =
      dataSize === undefined
        ? undefined
        : createUploadCheckpoint({
            ...(bucket === undefined ? {} : { bucket }),
            name: this.#name,
            uploadId: result.uploadId,
            ...(fileIdentity(reader) ?? {}),
            dataSize,
            partSize,
            ...wrappedKeyFields(wrapped),
          });
    this.#upload = { uploadId: result.uploadId, bucket, content, wrapped, partSize, dataSize, base, done: [] };
    const cp = this.#current();
    if (cp !== undefined) {
      await this.#writer?.write(cp);
      this.#publish(cp);
    }
    await this.#options.progress?.(0, cp ?? null, result.res);
  }

  async #resume(cp: UploadCheckpoint, reader: PartReader): Promise<void> {
    checkUploadCheckpointMatches(cp, {
      size: reader.size ?? cp.dataSize,
      ...(reader.mtimeMs !== undefined ? { mtimeMs: reader.mtimeMs } : {}),
      ...(reader.path !== undefined ? { path: reader.path } : {}),
      ...(this.#options.partSize !== undefined ? { partSize: this.#options.partSize } : {}),
      name: this.#name,
      ...(bucketOf(this.#ctx) !== undefined ? { bucket: bucketOf(this.#ctx) } : {}),
    });
    // A file is recognised by its path, size and mtime; other data cannot be told apart from a different file.
    if (cp.file === undefined && reader.kind === 'file') {
      throw new CheckpointError('CHECKPOINT_MISMATCH', `the checkpoint of upload ${JSON.stringify(cp.uploadId)} was made for data that was not a file; this upload reads the file ${JSON.stringify(reader.path)}`);
    }
    if (cp.file !== undefined && reader.kind !== 'file') {
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint of upload ${JSON.stringify(cp.uploadId)} was made for the file ${JSON.stringify(cp.file.path)}; this upload reads a ${reader.kind} source, which cannot be checked against it`,
      );
    }
    let listed: Array<Record<string, unknown>>;
    try {
      listed = await listAllParts(this.#ctx, this.#name, cp.uploadId);
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) {
        throw new CheckpointError(
          'CHECKPOINT_MISMATCH',
          `the checkpoint's upload ${JSON.stringify(cp.uploadId)} of ${JSON.stringify(cp.name)} no longer exists (ListParts answered 404 ` +
            `${String((err as { code?: unknown }).code ?? '')}): it was completed or aborted; start a new upload without the checkpoint`,
          { cause: err },
        );
      }
      throw await this.#failed(err, cp);
    }
    let content: ContentKey;
    try {
      content = await this.#ctx.keyring.unwrap(wrappedKeyOf(cp));
    } catch (err) {
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        `the wrapped key of the checkpoint of upload ${JSON.stringify(cp.uploadId)} (${cp.wrapAlg}) cannot be unwrapped by this client's key material; see the cause`,
        { cause: err },
      );
    }
    // Keep only the parts OSS still holds with the recorded ETag and planned size; the others are sent again.
    const plan = planOf(cp);
    const onServer = new Map(listed.map((p) => [Number(p.PartNumber), p]));
    const done = cp.doneParts.filter((p) => {
      const s = onServer.get(p.number);
      return s !== undefined && sameEtag(String(s.ETag), p.etag) && (s.Size === undefined || Number(s.Size) === plan.parts[p.number - 1].length);
    });
    const base = createUploadCheckpoint({ ...cp, doneParts: [] });
    this.#upload = {
      uploadId: cp.uploadId,
      bucket: cp.bucket,
      content,
      wrapped: wrappedKeyOf(cp),
      partSize: cp.partSize,
      dataSize: cp.dataSize,
      base,
      done: [...done],
    };
    const now = this.#current()!;
    await this.#writer?.write(now);
    this.#publish(now);
  }

  /**
   * Runs the workers; resolves when every part is done or, after a cancel, when the parts in flight have settled;
   * rejects (after all settle) with the first failure.
   */
  async #uploadParts(reader: PartReader): Promise<void> {
    const u = this.#upload!;
    const parallel = this.#options.parallel ?? this.#ctx.parallel;
    const pool: Uint8Array[] = [];
    const take = (): Uint8Array => pool.pop() ?? new Uint8Array(u.partSize);
    const parts = this.#parts(reader, take, (b) => pool.push(b));
    const partOpts = pickPartOptions(this.#opts);
    let failure: { err: unknown } | undefined;
    // A worker waiting for the next part's bytes must not outlive a cancel or a failure: a stream that stalls
    // (an idle client, a pipe nobody writes to) would otherwise keep the call from ever settling. The read is
    // abandoned; closing the reader afterwards (run()) releases the stream, which ends the read.
    let stop!: () => void;
    const stopped = new Promise<typeof STOPPED>((resolve) => (stop = () => resolve(STOPPED)));
    const onCancel = () => stop();
    if (this.#cancelled.aborted) stop();
    else this.#cancelled.addEventListener('abort', onCancel, { once: true });
    const worker = async (): Promise<void> => {
      while (failure === undefined && !this.#cancelled.aborted) {
        let item: PartItem | undefined;
        try {
          const next = await Promise.race([parts.next(), stopped]);
          if (next === STOPPED || next.done) return;
          item = next.value;
          await this.#uploadOne(reader, item, partOpts);
        } catch (err) {
          failure ??= { err };
          stop();
          return;
        } finally {
          if (item !== undefined) pool.push(item.buffer);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: parallel }, worker));
    } finally {
      this.#cancelled.removeEventListener('abort', onCancel);
      // Ends the generator once an abandoned read settles, so it reads nothing more and changes no state.
      parts.return(undefined).catch(() => {});
    }
    if (this.#cancelled.aborted) return;
    if (failure !== undefined) throw await this.#failed(failure.err);
  }

  /** Planned parts not done yet, each read into a buffer from the pool. Runs one read at a time, in order. */
  async *#parts(reader: PartReader, take: () => Uint8Array, give: (b: Uint8Array) => void): AsyncGenerator<PartItem> {
    const u = this.#upload!;
    const done = new Set(u.done.map((p) => p.number));
    const plan = u.dataSize === undefined ? undefined : planOf({ dataSize: u.dataSize, partSize: u.partSize });
    for (let n = 1; ; n++) {
      if (this.#cancelled.aborted) return;
      let part: PlannedPart;
      if (plan !== undefined) {
        if (n > plan.partCount) return;
        part = plan.parts[n - 1];
        if (done.has(n)) continue;
      } else {
        part = { partNumber: n, start: (n - 1) * u.partSize, length: u.partSize };
      }
      const buffer = take();
      let plain: Uint8Array;
      try {
        plain = await reader.read(part.start, part.length, reader.kind === 'bytes' ? undefined : buffer);
      } catch (err) {
        give(buffer);
        throw err;
      }
      // Past the last allowed part, a stream of unknown size must have ended: an empty read is the end of a
      // stream of exactly MAX_PARTS full parts, anything more is over OSS's limit.
      if (plan === undefined && n > MAX_PARTS && plain.length > 0) {
        give(buffer);
        throw new PartError(
          'PART_INVALID',
          `the stream is longer than ${MAX_PARTS} parts of ${u.partSize} bytes (${MAX_PARTS * u.partSize} bytes), OSS's limit per upload; ` +
            'pass a larger partSize, or the stream size as contentLength so the part size can be chosen for it',
        );
      }
      if (plan === undefined && plain.length < part.length) {
        // The end of a stream of unknown size: now the plan is known. An empty stream still needs one (empty) part.
        u.dataSize = part.start + plain.length;
        if (plain.length === 0 && n > 1) {
          give(buffer);
          return;
        }
        yield { part: { partNumber: n, start: part.start, length: plain.length }, plain, buffer };
        return;
      }
      yield { part, plain, buffer };
    }
  }

  async #uploadOne(reader: PartReader, item: PartItem, partOpts: Record<string, any>): Promise<void> {
    const u = this.#upload!;
    const { part, buffer } = item;
    const out = buffer.subarray(0, part.length);
    const r = await sendPart(this.#ctx, this.#name, u.uploadId, part.partNumber, partOpts, this.#cancelled, async (attempt) => {
      let plain = item.plain;
      if (attempt > 0) {
        // A stream cannot be read again, but its buffer already holds this part's ciphertext: CTR at a fixed
        // offset under a fixed key gives the same bytes, so sending them again is re-encrypting from the offset.
        if (reader.kind === 'stream') return out;
        if (reader.kind !== 'bytes') plain = await reader.read(part.start, part.length, buffer);
      }
      const ctr = aesCtr(u.content.key, u.content.iv, part.start, { backend: this.#ctx.backend });
      try {
        ctr.update(plain, out);
      } finally {
        ctr.dispose();
      }
      return out;
    });
    insertPart(u.done, r.part);
    const cp = this.#current();
    if (cp === undefined) return;
    await this.#writer?.write(cp);
    this.#publish(cp);
    // As ali-oss: no progress report after a cancel (the part is in the checkpoint the cancel error carries).
    if (this.#cancelled.aborted) return;
    const count = Math.max(1, Math.ceil(cp.dataSize / cp.partSize));
    await this.#options.progress?.(cp.doneParts.length / (count + 1), cp, r.res);
  }

  async #complete(): Promise<MultipartUploadResult> {
    const u = this.#upload!;
    const context = createMultipartCryptoContext({
      ...(u.bucket === undefined ? {} : { bucket: u.bucket }),
      name: this.#name,
      uploadId: u.uploadId,
      dataSize: u.dataSize!,
      partSize: u.partSize,
      wrapAlg: u.wrapped.wrapAlg,
      wrappedKey: u.wrapped.wrappedKey,
      wrappedStart: u.wrapped.wrappedStart,
      matdesc: u.wrapped.matdesc,
    });
    let result: MultipartUploadResult;
    try {
      result = await completeMultipartUpload(this.#ctx, this.#name, u.uploadId, u.done, { ...pickCompleteOptions(this.#opts), context });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'INTEGRITY_CRC64') {
        // The upload is completed (the object exists); its checkpoint can no longer be resumed.
        await this.#writer?.remove();
        throw err;
      }
      throw await this.#failed(err);
    }
    await this.#writer?.remove();
    await this.#options.progress?.(1, null, result.res);
    return result;
  }

  /** The first error of a failed upload, with the checkpoint attached; aborts the upload when asked to. */
  async #failed(err: unknown, given?: UploadCheckpoint): Promise<unknown> {
    const cp = this.#current() ?? given ?? null;
    if (this.#options.abortOnError === true && this.#upload !== undefined) {
      try {
        await abortMultipartUpload(this.#ctx, this.#name, this.#upload.uploadId);
        await this.#writer?.remove();
      } catch {
        // The original error matters more; the upload stays resumable.
      }
    }
    if (err !== null && typeof err === 'object') {
      try {
        (err as { checkpoint?: unknown }).checkpoint = cp;
      } catch {
        // A frozen error object: report it as it is.
      }
    }
    return err;
  }

  async #cancelError(): Promise<MultipartCancelError> {
    const cp = this.#current() ?? null;
    await this.#writer?.stop();
    return makeCancelError(this.#name, cp, this.#cancelled.reason);
  }

  #checkCancelled(cp: UploadCheckpoint | null | undefined): void {
    if (this.#cancelled.aborted) throw makeCancelError(this.#name, cp ?? null, this.#cancelled.reason);
  }

  /** The checkpoint as of now (undefined before Initiate, and for a stream of unknown size). */
  #current(): UploadCheckpoint | undefined {
    const u = this.#upload;
    if (u === undefined || u.base === undefined) return undefined;
    // Fields and parts were validated when they entered (base by createUploadCheckpoint, parts by insertPart).
    return Object.freeze({ ...u.base, doneParts: Object.freeze(u.done.map((p) => Object.freeze({ ...p }))) });
  }

  #initOptions(): Record<string, any> {
    const opts = { ...this.#opts };
    delete opts.callback;
    // ali-oss takes the Content-Type from the file's extension (a path or a File's name), else from the object
    // name; an extension is what it hands to its MIME lookup.
    if (opts.mime === undefined) {
      const fileName = typeof this.#file === 'string' ? this.#file : (this.#file as { name?: unknown }).name;
      const ext = typeof fileName === 'string' ? /\.[^./\\]+$/.exec(fileName)?.[0] : undefined;
      if (ext !== undefined) opts.mime = ext;
    }
    return opts;
  }
}

interface PartItem {
  readonly part: PlannedPart;
  /** The part's plaintext: a view of `buffer`, or of the caller's bytes. */
  readonly plain: Uint8Array;
  /** Where the ciphertext goes (`partSize` bytes, from the pool). */
  readonly buffer: Uint8Array;
}

/** Writes a checkpoint file atomically (temporary file + rename), one write at a time, latest state wins. */
class CheckpointFile {
  readonly #path: string;
  #chain: Promise<void> = Promise.resolve();
  #latest: string | undefined;
  #stopped = false;

  constructor(path: string) {
    if (path === '') throw new TypeError('"checkpoint" expected a file path, got ""');
    this.#path = path;
  }

  async read(): Promise<string | undefined> {
    const fs = await import('node:fs/promises');
    try {
      return await fs.readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  write(cp: UploadCheckpoint): Promise<void> {
    if (this.#stopped) return this.#chain;
    this.#latest = JSON.stringify(cp, null, 2);
    const step = this.#chain.catch(() => {}).then(() => this.#flush());
    this.#chain = step;
    return step;
  }

  /** No further writes; resolves when the last one has landed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#chain.catch(() => {});
  }

  async remove(): Promise<void> {
    await this.stop();
    const fs = await import('node:fs/promises');
    await fs.rm(this.#path, { force: true });
  }

  async #flush(): Promise<void> {
    const text = this.#latest;
    if (text === undefined) return;
    this.#latest = undefined;
    const { writeFileAtomically } = await import('../io/atomic-file.js');
    await writeFileAtomically(this.#path, text);
  }
}

function makeCancelError(name: string, checkpoint: UploadCheckpoint | null, reason: unknown): MultipartCancelError {
  const err = new Error(
    `multipartUpload of ${JSON.stringify(name)} was cancelled; ` +
      (checkpoint === null ? 'no upload had been initiated yet' : `resume it with options.checkpoint (upload ${JSON.stringify(checkpoint.uploadId)}, ${checkpoint.doneParts.length} parts done)`),
    reason === undefined ? undefined : { cause: reason },
  ) as MultipartCancelError;
  err.name = 'cancel';
  err.status = 0;
  err.checkpoint = checkpoint;
  return err;
}

/** Inserts a part into a list sorted by number (replacing an earlier record of the same number). */
function insertPart(list: UploadedPart[], part: UploadedPart): void {
  if (!/^[\x21-\x7e]+$/.test(part.etag)) {
    throw new TypeError(`UploadPart ${part.number} answered an ETag that is not a visible ASCII token`);
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].number < part.number) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo]?.number === part.number) list[lo] = part;
  else list.splice(lo, 0, part);
}

function sameEtag(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^"|"$/g, '').toUpperCase();
  return norm(a) === norm(b);
}

function fileIdentity(reader: PartReader): { file: FileIdentity } | undefined {
  if (reader.kind === 'file' && reader.path !== undefined && reader.mtimeMs !== undefined) {
    return { file: { path: reader.path, size: reader.size!, mtimeMs: reader.mtimeMs } };
  }
  return undefined;
}

function bucketOf(ctx: ClientContext): string | undefined {
  const b = (ctx.oss as { options?: { bucket?: unknown } }).options?.bucket;
  return typeof b === 'string' && b !== '' ? b : undefined;
}

function pickPartOptions(opts: Record<string, any>): Record<string, any> {
  return opts.timeout === undefined ? {} : { timeout: opts.timeout };
}

function pickCompleteOptions(opts: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of ['callback', 'timeout', 'headers']) if (opts[k] !== undefined) out[k] = opts[k];
  return out;
}

function isStream(file: unknown): boolean {
  return typeof file === 'object' && file !== null && !(file instanceof Uint8Array) && !(typeof Blob !== 'undefined' && file instanceof Blob);
}

function checkOptions(o: MultipartUploadOptions): void {
  if (o.partSize !== undefined && (typeof o.partSize !== 'number' || !Number.isSafeInteger(o.partSize) || o.partSize <= 0 || o.partSize % PART_ALIGNMENT !== 0)) {
    throw new RangeError(`"partSize" expected a positive multiple of 16, got ${String(o.partSize)}`);
  }
  if (o.parallel !== undefined && (typeof o.parallel !== 'number' || !Number.isSafeInteger(o.parallel) || o.parallel < 1)) {
    throw new RangeError(`"parallel" expected a positive integer, got ${String(o.parallel)}`);
  }
  if (o.progress !== undefined && typeof o.progress !== 'function') {
    throw new TypeError(`"progress" expected a function, got ${typeof o.progress}`);
  }
  if (o.contentLength !== undefined && (typeof o.contentLength !== 'number' || !Number.isSafeInteger(o.contentLength) || o.contentLength < 0)) {
    throw new RangeError(`"contentLength" expected a non-negative safe integer, got ${String(o.contentLength)}`);
  }
}
