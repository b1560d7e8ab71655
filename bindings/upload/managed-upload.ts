/**
 * `multipartUpload(name, file, options)` with client-side encryption: ali-oss's call (same option names, same
 * result, `progress(p, checkpoint, res)`), driven by its own part loop because ali-oss's cannot encrypt
 * (docs/FORMAT.md §5; docs/ARCHITECTURE.md §7).
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
 * After CompleteMultipartUpload, the object's CRC-64 is checked against the parts' (parts-api.ts).
 *
 * This file is the public entry and the cancel registry; the run itself is upload-run.ts.
 *
 * Deliberately not here: the single-request `put` (client/put.ts); ali-oss's `put` fallback for small files (an
 * encrypted one-part upload is used instead, so every size gets the same checkpoint and result behaviour).
 * @module
 */import type { ClientContext } from '../transfer/context.js';
import { signalOf } from '../transfer/request-options.js';
import type { MultipartUploadOptions, MultipartUploadResult } from './managed-options.js';
import { abortMultipartUpload } from './parts-api.js';
import type { UploadCheckpoint } from './checkpoint.js';
import type { UploadBody } from './source.js';
import { Run } from './upload-run.js';

export { isCancelError } from './cancel.js';

export type { UploadCheckpoint } from './checkpoint.js';
export type { UploadBody } from './source.js';
export type { MultipartCancelError, MultipartProgress, MultipartUploadOptions, MultipartUploadResult } from './managed-options.js';

/** The uploads running on each client, for `cancel()`. */
const running = new WeakMap<ClientContext, Set<EncryptedMultipartUpload>>();

/** Clients whose `cancel()` was called since their last `multipartUpload` started (ali-oss's `cancelFlag`). */
const cancelFlags = new WeakSet<ClientContext>();

/**
 * ali-oss `isCancel()`: whether `cancel()` was called on this client since its last `multipartUpload` started.
 * @example
 *   if (isCancelled(ctx)) console.log('paused');
 */
export function isCancelled(ctx: ClientContext): boolean {
  return cancelFlags.has(ctx);
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
    cancelFlags.delete(this.#ctx);
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
  cancelFlags.add(ctx);
  for (const upload of running.get(ctx) ?? []) upload.cancel();
  if (abort === undefined) return Promise.resolve();
  const p = abortMultipartUpload(ctx, abort.name, abort.uploadId, abort.options).then(() => undefined);
  p.catch(() => {});
  return p;
}

