/**
 * The vocabulary of the managed upload (`multipartUpload`): its options, its `progress` callback, its result and
 * its cancel error, all in ali-oss's names, shared by the public entry (managed-upload.ts) and the run
 * (upload-run.ts).
 *
 * Deliberately not here: code.
 * @module
 */
import type { UploadCheckpoint } from './checkpoint.js';
import type { CompleteMultipartUploadResult } from './parts-api.js';

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
export type MultipartUploadOptions = {
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
  /**
   * The size of a stream source, when known (ali-oss `putStream`'s option name). A stream that turns out shorter or
   * longer fails with `INTEGRITY_LENGTH` before Complete, and the multipart upload is aborted (a stream cannot be
   * resumed; nothing of it is kept or completed).
   */
  contentLength?: number;
  /**
   * A stream without `contentLength` is read to its end before Initiate, because OSS needs the exact size of an
   * encrypted multipart upload up front: within one part (at most 16 MiB) it stays in memory; a longer one is encrypted and its
   * ciphertext (never the plaintext) spooled to a temporary file (mode 0600, in a fresh directory, removed
   * afterwards) under this directory (default: the system's temporary directory). `false`, or a runtime without a
   * file system, refuses such a stream with `OPERATION_UNSUPPORTED`: pass `contentLength`.
   */
  spool?: string | false;
  /** Abort the multipart upload when it fails (default false: keep it for resuming). Cancelling never aborts. */
  abortOnError?: boolean;
  /** ali-oss: user metadata (names without `x-oss-meta-`); encryption metadata names are refused. */
  meta?: { readonly [name: string]: string | number };
  /** ali-oss: headers of Initiate (and of Complete, e.g. `x-oss-forbid-overwrite`). */
  headers?: object;
  /** ali-oss: Content-Type of the object. */
  mime?: string;
  /** ali-oss: milliseconds (or `[connect, response]`). */
  timeout?: number | readonly [number, number];
  /** ali-oss: a Koa context, passed through. */
  ctx?: unknown;
  /** ali-oss: a callback sent on Complete (its answer is the result's `data`). */
  callback?: { url: string; host?: string; body: string; contentType?: string; customValue?: object };
};

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
