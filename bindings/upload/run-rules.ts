/**
 * The pure rules of a managed-upload run: which options are valid, which of the caller's options go to which
 * request, what identifies a file source, and how done parts are recorded (sorted, one per number, ETags compared
 * as OSS compares them).
 *
 * Deliberately not here: anything that sends, reads or waits (upload-run.ts).
 * @module
 */
import type { ClientContext } from '../transfer/context.js';
import { CheckpointError } from '../errors.js';
import { checkUploadCheckpointMatches, type FileIdentity, type UploadCheckpoint, type UploadedPart } from './checkpoint.js';
import type { MultipartUploadOptions } from './managed-options.js';
import { PART_ALIGNMENT } from './plan.js';
import type { PartReader } from './source.js';

/**
 * Refuses malformed managed-upload options before anything is read or sent.
 * @example
 *   checkOptions(options); // RangeError for partSize: 100001
 */
export function checkOptions(o: MultipartUploadOptions): void {
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

/**
 * True for a stream source (neither bytes nor a Blob).
 * @example
 *   const size = isStream(file) ? options.contentLength : undefined;
 */
export function isStream(file: unknown): boolean {
  return typeof file === 'object' && file !== null && !(file instanceof Uint8Array) && !(typeof Blob !== 'undefined' && file instanceof Blob);
}

/**
 * The caller's options that Initiate takes: all but `callback` (sent on Complete), with a `mime` taken from the
 * file's extension as ali-oss does (a path or a File's name; else ali-oss uses the object name).
 * @example
 *   await initiate(ctx, name, initiateOptions(opts, '/data/report.csv'), sizes, undefined); // mime '.csv'
 */
export function initiateOptions(callerOptions: Record<string, any>, file: unknown): Record<string, any> {
  const opts = { ...callerOptions };
  delete opts.callback;
  // An extension is what ali-oss hands to its MIME lookup.
  if (opts.mime === undefined) {
    const fileName = typeof file === 'string' ? file : (file as { name?: unknown } | null)?.name;
    const ext = typeof fileName === 'string' ? /\.[^./\\]+$/.exec(fileName)?.[0] : undefined;
    if (ext !== undefined) opts.mime = ext;
  }
  return opts;
}

/**
 * The caller's options that UploadPart takes (only `timeout`).
 * @example
 *   await sendPart(ctx, name, uploadId, n, pickPartOptions(opts), signal, encrypt);
 */
export function pickPartOptions(opts: Record<string, any>): Record<string, any> {
  return opts.timeout === undefined ? {} : { timeout: opts.timeout };
}

/**
 * The caller's options that Complete takes (`callback`, `timeout`, `headers`).
 * @example
 *   await completeMultipartUpload(ctx, name, uploadId, parts, { ...pickCompleteOptions(opts), context });
 */
export function pickCompleteOptions(opts: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of ['callback', 'timeout', 'headers']) if (opts[k] !== undefined) out[k] = opts[k];
  return out;
}

/**
 * The client's bucket, when the store has one.
 * @example
 *   const bucket = bucketOf(ctx);
 */
export function bucketOf(ctx: ClientContext): string | undefined {
  return ctx.store.bucket;
}

/**
 * The identity a checkpoint records for a file source (path, size, mtime); undefined for other sources.
 * @example
 *   const base = createUploadCheckpoint({ ...fields, ...(fileIdentity(reader) ?? {}) });
 */
export function fileIdentity(reader: PartReader): { file: FileIdentity } | undefined {
  if (reader.kind === 'file' && reader.path !== undefined && reader.mtimeMs !== undefined) {
    return { file: { path: reader.path, size: reader.size!, mtimeMs: reader.mtimeMs } };
  }
  return undefined;
}

/**
 * True when two ETags name the same part, whatever their quotes and letter case.
 * @example
 *   sameEtag('"ab"', 'AB') // true
 */
export function sameEtag(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^"|"$/g, '').toUpperCase();
  return norm(a) === norm(b);
}

/**
 * Inserts a part into a list sorted by number (replacing an earlier record of the same number).
 * @example
 *   insertPart(done, { number: 3, etag: '"A1"' });
 */
export function insertPart(list: UploadedPart[], part: UploadedPart): void {
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

/**
 * Refuses a checkpoint that does not fit this upload: another object, bucket or part size, or another source
 * (a file is recognised by its path, size and mtime; other data cannot be told apart from a different file).
 * @throws {CheckpointError} CHECKPOINT_MISMATCH
 * @example
 *   checkResumable(checkpoint, reader, { name, bucket: bucketOf(ctx), partSize: options.partSize });
 */
export function checkResumable(
  cp: UploadCheckpoint,
  reader: PartReader,
  upload: { name: string; bucket: string | undefined; partSize: number | undefined },
): void {
  checkUploadCheckpointMatches(cp, {
    size: reader.size ?? cp.dataSize,
    ...(reader.mtimeMs !== undefined ? { mtimeMs: reader.mtimeMs } : {}),
    ...(reader.path !== undefined ? { path: reader.path } : {}),
    ...(upload.partSize !== undefined ? { partSize: upload.partSize } : {}),
    name: upload.name,
    ...(upload.bucket !== undefined ? { bucket: upload.bucket } : {}),
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
}
