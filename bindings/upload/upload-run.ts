/**
 * The run of one managed upload (docs/FORMAT.md §5; docs/ARCHITECTURE.md §7): Initiate or resume from a checkpoint (checked
 * against the source and against ListParts), then `parallel` workers pulling planned parts from one generator,
 * each read into a pooled buffer of `partSize` bytes, encrypted in place at its offset and sent; the checkpoint
 * after every part (to `progress` and the checkpoint file); then Complete, with the CRC-64 check of parts-api.ts.
 * A failure stops new parts, lets the others settle, and throws the original error with `checkpoint` attached; a
 * cancel does the same with a `cancel` error. Nothing of the run is still going when it settles.
 *
 * Deliberately not here: the public entry and its cancel registry (managed-upload.ts), the checkpoint file
 * (checkpoint-file.ts), reading sources (source.ts).
 * @module
 */
import { aesCtr } from '../cipher/aes-ctr.js';
import { CheckpointError, PartError } from '../errors.js';
import type { ContentKey, WrappedContentKey } from '../keys/types.js';
import type { ClientContext } from '../transfer/context.js';
import { refuseEncryptionMetaOverride } from '../transfer/metadata.js';
import { copyOptions } from '../transfer/request-options.js';
import {
  createMultipartCryptoContext,
  createUploadCheckpoint,
  parseUploadCheckpoint,
  planOf,
  serializeUploadCheckpoint,
  wrappedKeyFields,
  wrappedKeyOf,
  type UploadCheckpoint,
  type UploadedPart,
} from './checkpoint.js';
import { CheckpointFile } from './checkpoint-file.js';
import type { MultipartCancelError, MultipartUploadOptions, MultipartUploadResult } from './managed-options.js';
import { makeCancelError } from './cancel.js';
import { initiate, sendPart } from './part-requests.js';
import { abortMultipartUpload, completeMultipartUpload, listAllParts } from './parts-api.js';
import { choosePartSize, MAX_PARTS, PART_ALIGNMENT, planParts, type PlannedPart } from './plan.js';
import {
  bucketOf,
  checkOptions,
  checkResumable,
  fileIdentity,
  initiateOptions,
  insertPart,
  isStream,
  pickCompleteOptions,
  pickPartOptions,
  sameEtag,
} from './run-rules.js';
import { openPartReader, type PartReader, type UploadBody } from './source.js';

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

/**
 * One run of a managed upload: start or resume, the part workers, Complete, and what a failure or a cancel leaves.
 * @example
 *   const result = await new Run(ctx, name, file, options, cancelSignal, (cp) => (latest = cp)).run();
 */
export class Run {
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
      this.#reader = await openPartReader(this.#file, { size: isStream(this.#file) ? streamSize : undefined, files: this.#ctx.files });
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
      this.#writer = new CheckpointFile(cp, this.#ctx.files);
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
      initiated = await initiate(this.#ctx, this.#name, initiateOptions(this.#opts, this.#file), { dataSize, partSize }, undefined);
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
    checkResumable(cp, reader, { name: this.#name, bucket: bucketOf(this.#ctx), partSize: this.#options.partSize });
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

}

interface PartItem {
  readonly part: PlannedPart;
  /** The part's plaintext: a view of `buffer`, or of the caller's bytes. */
  readonly plain: Uint8Array;
  /** Where the ciphertext goes (`partSize` bytes, from the pool). */
  readonly buffer: Uint8Array;
}
