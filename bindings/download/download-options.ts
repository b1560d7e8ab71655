/**
 * The vocabulary of `downloadFile` (`CryptoClient#resumableDownload`): its options, its result and its cancel
 * error, in ali-oss's names, shared by the entry (resumable.ts) and the run (download-run.ts).
 *
 * Deliberately not here: code (beyond one default).
 * @module
 */
import type { DownloadCheckpoint } from './checkpoint.js';

/**
 * The part size of a download when neither the call nor a checkpoint names one: 8 MiB, or the client's `partSize`
 * when that is larger. The client's default (1 MiB, ali-oss's for uploads) is too small for reads: every ranged GET
 * costs a request's CPU and a round trip. Measured with bench/download.bench.ts (256 MiB, parallel 4, 3 rounds,
 * two runs back to back): `--part-size 1048576` ran at 0.77× plain ali-oss get (median 0.75×), 8 MiB at 1.05×
 * (median 1.03×).
 */
export const DEFAULT_DOWNLOAD_PART_SIZE = 8 * 1024 * 1024;

/**
 * Options of {@link downloadFile}; the names follow ali-oss's `multipartUpload`.
 * @example
 *   const options: DownloadFileOptions = { partSize: 8 << 20, parallel: 4, checkpoint: '/tmp/a.cp.json' };
 */
export interface DownloadFileOptions {
  /**
   * Bytes per ranged GET. Default: the checkpoint's when resuming, else {@link DEFAULT_DOWNLOAD_PART_SIZE} (8 MiB) or
   * the client's `partSize` when larger. Any positive size.
   */
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
