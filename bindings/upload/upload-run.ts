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
import { CheckpointError, IntegrityError } from '../errors.js';
import type { ContentKey, WrappedContentKey } from '../keys/types.js';
import type { ListPartsEncryption } from '../oss/object-store.js';
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
import { checkUploadEnvelope } from './resume-check.js';
import { initiate, sendPart, uploadEnvelopeHeaders } from './part-requests.js';
import { abortMultipartUpload, completeMultipartUpload, listAllParts } from './parts-api.js';
import { choosePartSize, PART_ALIGNMENT, planParts, type PlannedPart } from './plan.js';
import { bucketOf, checkOptions, checkResumable, fileIdentity, initiateOptions, insertPart, isStream, pickCompleteOptions, pickPartOptions, sameEtag } from './run-rules.js';
import { openPartReader, type PartReader, type UploadBody } from './source.js';
import { measureStream, type MeasuredStream } from './spool.js';

/** What a part worker's wait for the next part resolves to once the upload is cancelled or has failed. */
const STOPPED = Symbol('stopped');

/** Options that are ours, not ali-oss's: never sent with a request. */
const OWN_OPTIONS = ['partSize', 'parallel', 'progress', 'checkpoint', 'signal', 'contentLength', 'abortOnError', 'spool'];

/** The state of an upload once it has an upload id. */
interface Upload {
  readonly uploadId: string;
  readonly bucket: string | undefined;
  readonly content: ContentKey;
  readonly wrapped: WrappedContentKey;
  readonly partSize: number;
  readonly dataSize: number;
  /** The V2 headers every UploadPart of this upload carries (part-requests.ts). */
  readonly envelopeHeaders: Readonly<Record<string, string>>;
  /** The checkpoint with no parts; undefined for a stream measured in memory or spooled (nothing to resume from). */
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
  /** A stream of unknown size read to its end before Initiate (spool.ts), and the key drawn for its ciphertext. */
  #measured: MeasuredStream | undefined;
  #drawn: Awaited<ReturnType<ClientContext['keyring']['createContentKey']>> | undefined;

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
      if (given === undefined && this.#reader.size === undefined) this.#reader = await this.#measure(this.#reader);
      if (given !== undefined) await this.#resume(given, this.#reader);
      else await this.#start(this.#reader);
      this.#checkCancelled(this.#current());
      await this.#uploadParts(this.#reader);
      if (this.#cancelled.aborted) throw await this.#cancelError();
      return await this.#complete();
    } finally {
      await this.#reader?.close().catch(() => {});
      if (this.#measured?.kind === 'spooled') await this.#measured.remove().catch(() => {});
      // This run drew or unwrapped the key for itself alone; a resume unwraps it again from the checkpoint.
      // Best effort: JS gives no guarantee that no other copy exists.
      for (const content of [this.#upload?.content, this.#drawn?.content]) {
        content?.key.fill(0);
        content?.iv.fill(0);
      }
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

  /**
   * Reads a stream of unknown size to its end (spool.ts): OSS needs the exact size at Initiate. Returns a reader
   * over the bytes in memory, or over the spooled ciphertext (then sent without encrypting again).
   */
  async #measure(stream: PartReader): Promise<PartReader> {
    const partSize = this.#options.partSize ?? this.#ctx.partSize;
    planParts(0, partSize); // a part size OSS refuses fails before the stream is read
    try {
      this.#measured = await measureStream(stream, {
        chunkSize: partSize,
        spool: this.#options.spool,
        files: this.#ctx.files,
        contentKey: async () => (this.#drawn = await this.#ctx.keyring.createContentKey()).content,
        backend: this.#ctx.backend,
        signal: this.#cancelled,
      });
    } catch (err) {
      this.#checkCancelled(null);
      throw err;
    }
    await stream.close();
    return openPartReader(this.#measured.kind === 'memory' ? this.#measured.bytes : this.#measured.path, { files: this.#ctx.files });
  }

  async #start(reader: PartReader): Promise<void> {
    const o = this.#options;
    const dataSize = reader.size!;
    const preferred = o.partSize ?? this.#ctx.partSize;
    // Raise (never lower) the part size to fit in 10,000 parts, as ali-oss does; the OSS minimum is checked by planParts.
    const partSize = Math.max(preferred, choosePartSize(dataSize, { preferred, minimum: PART_ALIGNMENT }));
    planParts(dataSize, partSize);
    let initiated: Awaited<ReturnType<typeof initiate>>;
    try {
      initiated = await initiate(this.#ctx, this.#name, initiateOptions(this.#opts, this.#file), { dataSize, partSize }, undefined, this.#drawn);
    } catch (err) {
      throw await this.#failed(err);
    }
    const { result, wrapped } = initiated;
    const content = initiated.content!;
    const bucket = typeof result.bucket === 'string' && result.bucket !== '' ? result.bucket : undefined;
    const base =
      this.#measured !== undefined
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
    const envelopeHeaders = uploadEnvelopeHeaders(wrapped, { dataSize, partSize });
    this.#upload = { uploadId: result.uploadId, bucket, content, wrapped, partSize, dataSize, envelopeHeaders, base, done: [] };
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
    let reported: ListPartsEncryption | undefined;
    try {
      listed = await listAllParts(this.#ctx, this.#name, cp.uploadId, undefined, (page) => (reported = page.clientEncryption));
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
    checkUploadEnvelope(cp, reported);
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
      envelopeHeaders: uploadEnvelopeHeaders(wrappedKeyOf(cp), cp),
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
    // A part buffer holds what a part needs, never more than the object: a 5 GiB part size for a 3 MB file allocates 3 MB.
    const take = (): Uint8Array => pool.pop() ?? new Uint8Array(Math.min(u.partSize, u.dataSize));
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
    if (!this.#cancelled.aborted && failure !== undefined) throw await this.#failed(failure.err);
  }

  /** Planned parts not done yet, each read into a buffer from the pool. Runs one read at a time, in order. */
  async *#parts(reader: PartReader, take: () => Uint8Array, give: (b: Uint8Array) => void): AsyncGenerator<PartItem> {
    const u = this.#upload!;
    const done = new Set(u.done.map((p) => p.number));
    const plan = planOf({ dataSize: u.dataSize, partSize: u.partSize });
    for (const part of plan.parts) {
      if (this.#cancelled.aborted) return;
      if (done.has(part.partNumber)) continue;
      const buffer = take();
      let plain: Uint8Array;
      try {
        plain = await reader.read(part.start, part.length, reader.kind === 'bytes' ? undefined : buffer);
      } catch (err) {
        give(buffer);
        throw err;
      }
      yield { part, plain, buffer };
    }
  }

  async #uploadOne(reader: PartReader, item: PartItem, partOpts: Record<string, any>): Promise<void> {
    const u = this.#upload!;
    const { part, buffer } = item;
    const out = buffer.subarray(0, part.length);
    const r = await sendPart(this.#ctx, this.#name, u.uploadId, part.partNumber, partOpts, u.envelopeHeaders, this.#cancelled, async (attempt) => {
      let plain = item.plain;
      // A spooled stream's file holds the ciphertext already: read again for a retry, never encrypted twice.
      if (this.#measured?.kind === 'spooled') return attempt > 0 ? reader.read(part.start, part.length, buffer) : plain;
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
      dataSize: u.dataSize,
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
    // A stream that broke its announced size (source.ts) cannot be resumed: its upload is aborted, never kept.
    const lengthBroken = err instanceof IntegrityError && err.code === 'INTEGRITY_LENGTH';
    if ((this.#options.abortOnError === true || lengthBroken) && this.#upload !== undefined) {
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
