/**
 * Resumable, parallel download of an encrypted object to a file (docs/FORMAT.md §1, §4, §6, §7).
 *
 * One HEAD gives the size, the ETag, the server's CRC-64 and the envelope; the content key is unwrapped once
 * (docs/FORMAT.md §7: oss2 unwraps per part). The object is then fetched in parts, `parallel` at a time, each a
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
 * Transient failures (5xx, 429, resets) are retried per part with the client's policy (`util/retry.ts`).
 * Cancelling through `signal` stops new parts, lets running ones finish (ali-oss has no per-request abort),
 * and rejects with ali-oss's vocabulary: an Error named `cancel`, `status: 0`, carrying the checkpoint.
 *
 * This file checks the arguments, the HEAD and a checkpoint before anything is written; the run is download-run.ts
 * and the temporary and checkpoint files are temp-files.ts.
 *
 * Deliberately not here: ranged reads into memory (client/get.ts), downloading to a stream (use `getStream`).
 * @module
 */
import { resolve } from 'node:path';
import { decodeEnvelope, type Envelope } from '../envelope/codec.js';
import { CheckpointError, IntegrityError, PlaintextObjectError, UnsupportedOperationError } from '../errors.js';
import { parseCrc64Decimal } from '../integrity/crc64.js';
import { unwrapCommitted } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { checkRecorded } from '../transfer/verify-policy.js';
import { describe } from '../util/describe.js';
import { withRetry } from '../util/retry.js';
import { checkDownloadCheckpointMatches, createDownloadCheckpoint, type DownloadCheckpoint } from './checkpoint.js';
import { cancelError, Run, type ObjectFacts } from './download-run.js';
import { DEFAULT_DOWNLOAD_PART_SIZE, type DownloadFileOptions, type DownloadFileResult } from './download-options.js';
import { checkTempFile, readCheckpointFile, revalidate, tempPathFor } from './temp-files.js';

export type { DownloadCancelError, DownloadFileOptions, DownloadFileResult } from './download-options.js';

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

  const head = await withRetry(() => ctx.store.headObject(name, { ...requestOptions }), ctx.retry, { signal });
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

  const bucket = ctx.store.bucket;
  const partSize = options.partSize ?? saved?.partSize ?? Math.max(ctx.partSize, DEFAULT_DOWNLOAD_PART_SIZE);
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

  // Unwrap once, after every cheap check, for every part (docs/FORMAT.md §7). The recorded MD5 is checked (and the
  // verify policy applied) before the unwrap.
  const md5 = envelope === null ? undefined : recordedMd5(checkRecorded(ctx.verify, name, envelope), envelope.unencryptedContentMd5);
  const content =
    envelope === null ? undefined : await unwrapCommitted(ctx.commitment, name, head.res.headers, envelope, () => ctx.keyring.unwrap(envelope.wrapped));
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

/** The recorded plaintext MD5 (parsed by checkRecorded: hex or base64, docs/FORMAT.md §2) with its stored text. */
function recordedMd5(bytes: Uint8Array | undefined, text: string | undefined): { bytes: Uint8Array; text: string } | undefined {
  return bytes === undefined ? undefined : { bytes, text: text! };
}

function headerText(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    if (Array.isArray(v)) return v.length === 0 ? undefined : String(v[0]);
    return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}
