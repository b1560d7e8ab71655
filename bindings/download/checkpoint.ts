/**
 * The checkpoint of a resumable download of an encrypted object (docs/FORMAT.md §4, §6).
 *
 * A resumable download fetches the object in parts, one ranged GET each (`range.ts`), into a temporary file,
 * and renames it when every part is there. The checkpoint records what is needed to carry on after a crash:
 * the object (name, optional bucket and version id), its ETag (sent as `If-Match` so that a resumed download
 * never splices two versions of the object; each version has its own content key), its total size, the part
 * size, the temporary file, and the parts already written with the CRC-64/XZ of their stored (encrypted) bytes as
 * OSS computes it (decimal text, like `x-oss-hash-crc64ecma`), so a resume can verify them before trusting
 * them. It holds no key material at all: the key is unwrapped again from the object's metadata.
 *
 * Download parts need not be multiples of 16 (CTR seeks to any byte) and have no 10,000-part limit: part `n`
 * (1-based) is bytes `[(n-1) × partSize, min(n × partSize, totalSize))`; an empty object has no parts.
 * Parsing is as strict as the upload checkpoint's (`CHECKPOINT_MALFORMED`), and
 * {@link checkDownloadCheckpointMatches} reports `CHECKPOINT_MISMATCH` with where each number came from.
 *
 * Pure: no I/O, no `node:` imports. Not here: the ranged GETs, CRC computation, file handling.
 * @module
 */
import { CheckpointError } from '../errors.js';
import { CHECKPOINT_VERSION, FieldReader, parseJson } from '../checkpoint/fields.js';

/** The `type` tag of a download checkpoint. */
export const DOWNLOAD_CHECKPOINT_TYPE = 'ali-oss-crypto/download-checkpoint';

/** A part already written to the temporary file. */
export interface DownloadedPart {
  /** 1-based part number. */
  readonly number: number;
  /**
   * CRC-64/XZ of the part's stored (encrypted) bytes, decimal text: one CRC pass serves both the whole-object
   * check and the resume (which re-encrypts what `tempPath` holds and compares).
   */
  readonly crc64: string;
}

/** A resumable-download checkpoint (schema {@link DOWNLOAD_CHECKPOINT_TYPE} v1). */
export interface DownloadCheckpoint {
  readonly type: typeof DOWNLOAD_CHECKPOINT_TYPE;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly bucket?: string;
  readonly name: string;
  /** Present when a specific version of the object is being downloaded. */
  readonly versionId?: string;
  /** The object's ETag when the download began, as OSS returned it (with quotes); sent as `If-Match`. */
  readonly etag: string;
  /** The object's size in bytes. */
  readonly totalSize: number;
  /** Bytes per part (the last part is shorter). */
  readonly partSize: number;
  /** The temporary file the parts are written into. */
  readonly tempPath: string;
  /** Sorted by part number, no duplicates, all inside the plan. */
  readonly doneParts: readonly DownloadedPart[];
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
}

/** Fields given to {@link createDownloadCheckpoint}. */
export interface DownloadCheckpointInit {
  bucket?: string;
  name: string;
  versionId?: string;
  etag: string;
  totalSize: number;
  partSize: number;
  tempPath: string;
  doneParts?: readonly DownloadedPart[];
  /** Default: now. */
  createdAt?: Date | string;
}

/** What the current run sees, for {@link checkDownloadCheckpointMatches}. Only the given fields are compared. */
export interface DownloadTarget {
  /** The object name of this download. */
  name?: string;
  /** The bucket of this download. Compared when the checkpoint recorded one. */
  bucket?: string;
  /** The object's ETag now (from HEAD). */
  etag?: string;
  /** The object's size now (from HEAD). */
  totalSize?: number;
  /** The part size the caller asked for (`options.partSize`); omit to take the checkpoint's. */
  partSize?: number;
}

/** One part of a download: the bytes to ask for, in the `{ offset, length }` form `planRangedRead` takes. */
export interface DownloadPart {
  readonly partNumber: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * A validated, frozen download checkpoint; `createdAt` defaults to now and `doneParts` to none.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when a field is missing or of the wrong type
 * @example
 *   const cp = createDownloadCheckpoint({ name, etag: head.res.headers.etag, totalSize, partSize: 4 << 20,
 *     tempPath: `${dest}.download` });
 */
export function createDownloadCheckpoint(init: DownloadCheckpointInit): DownloadCheckpoint {
  const createdAt = init.createdAt instanceof Date ? init.createdAt.toISOString() : init.createdAt ?? new Date().toISOString();
  return readDownloadCheckpoint(
    { ...init, type: DOWNLOAD_CHECKPOINT_TYPE, version: CHECKPOINT_VERSION, doneParts: init.doneParts ?? [], createdAt },
    'download checkpoint',
  );
}

/**
 * The checkpoint as JSON text. Only the schema's fields are written.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when `checkpoint` does not validate (including extra fields)
 * @example
 *   await writeFile(cpPath, serializeDownloadCheckpoint(cp));
 */
export function serializeDownloadCheckpoint(checkpoint: DownloadCheckpoint): string {
  return JSON.stringify(readDownloadCheckpoint(checkpoint, 'download checkpoint to serialise'), null, 2);
}

/**
 * Parses and validates checkpoint text written by {@link serializeDownloadCheckpoint}.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED`: not JSON, another type or version, a missing, extra or
 *   mistyped field, a part number outside the plan, a duplicate part, a malformed CRC-64
 * @example
 *   const cp = parseDownloadCheckpoint(await readFile(cpPath, 'utf8'));
 */
export function parseDownloadCheckpoint(text: string): DownloadCheckpoint {
  return readDownloadCheckpoint(parseJson(text, 'download checkpoint'), 'download checkpoint');
}

/**
 * Checks that a checkpoint still describes the object being downloaded. Reports every difference at once.
 * @throws {CheckpointError} `CHECKPOINT_MISMATCH`, e.g. `the object's ETag is now "B…" (from HEAD), the checkpoint
 *   recorded "A…"; the object was overwritten since the download began`
 * @example
 *   checkDownloadCheckpointMatches(cp, { name, etag: head.res.headers.etag, totalSize });
 */
export function checkDownloadCheckpointMatches(checkpoint: DownloadCheckpoint, current: DownloadTarget): void {
  const problems: string[] = [];
  if (current.name !== undefined && current.name !== checkpoint.name) {
    problems.push(`the checkpoint is for object ${JSON.stringify(checkpoint.name)}, this download is for ${JSON.stringify(current.name)}`);
  }
  if (current.bucket !== undefined && checkpoint.bucket !== undefined && current.bucket !== checkpoint.bucket) {
    problems.push(`the checkpoint is for bucket ${JSON.stringify(checkpoint.bucket)}, this download is for ${JSON.stringify(current.bucket)}`);
  }
  if (current.etag !== undefined && current.etag !== checkpoint.etag) {
    problems.push(
      `the object's ETag is now ${current.etag} (from HEAD), the checkpoint recorded ${checkpoint.etag}; the object was ` +
        `overwritten since the download began, and its new version has another content key`,
    );
  }
  if (current.totalSize !== undefined && current.totalSize !== checkpoint.totalSize) {
    problems.push(`the object is now ${current.totalSize} bytes (from HEAD), the checkpoint recorded ${checkpoint.totalSize}`);
  }
  if (current.partSize !== undefined && current.partSize !== checkpoint.partSize) {
    problems.push(
      `partSize ${current.partSize} was asked for (options.partSize), the checkpoint was made with ${checkpoint.partSize}; ` +
        `resume with it (omit partSize) or start again`,
    );
  }
  if (problems.length > 0) {
    throw new CheckpointError('CHECKPOINT_MISMATCH', `the download checkpoint of ${JSON.stringify(checkpoint.name)} does not match: ${problems.join('; ')}`);
  }
}

/**
 * Every part of the download, in order (none for an empty object).
 * @example
 *   downloadParts(cp).map((p) => planRangedRead({ offset: p.offset, length: p.length }));
 */
export function downloadParts(checkpoint: Pick<DownloadCheckpoint, 'totalSize' | 'partSize'>): DownloadPart[] {
  const out: DownloadPart[] = [];
  const count = partCount(checkpoint.totalSize, checkpoint.partSize);
  for (let i = 0; i < count; i++) {
    const offset = i * checkpoint.partSize;
    out.push(Object.freeze({ partNumber: i + 1, offset, length: Math.min(checkpoint.partSize, checkpoint.totalSize - offset) }));
  }
  return out;
}

/**
 * The parts not written yet, in order: what a resume fetches.
 * @example
 *   for (const part of pendingDownloadParts(cp)) await fetchOne(part);
 */
export function pendingDownloadParts(checkpoint: DownloadCheckpoint): DownloadPart[] {
  const done = new Set(checkpoint.doneParts.map((p) => p.number));
  return downloadParts(checkpoint).filter((p) => !done.has(p.partNumber));
}

/**
 * A new checkpoint with `part` recorded as written (replacing an earlier record of the same number).
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when the part is outside the plan or malformed
 * @example
 *   cp = withDownloadedPart(cp, { number: 2, crc64: crc.toString() });
 */
export function withDownloadedPart(checkpoint: DownloadCheckpoint, part: DownloadedPart): DownloadCheckpoint {
  const doneParts = checkpoint.doneParts.filter((p) => p.number !== part.number).concat([part]);
  return readDownloadCheckpoint({ ...checkpoint, doneParts }, 'download checkpoint');
}

function readDownloadCheckpoint(value: unknown, what: string): DownloadCheckpoint {
  const r = new FieldReader(what);
  const o = r.object(value, '', ['type', 'version', 'name', 'etag', 'totalSize', 'partSize', 'tempPath', 'doneParts', 'createdAt'], [
    'bucket', 'versionId',
  ]);
  r.header(o, DOWNLOAD_CHECKPOINT_TYPE);
  const totalSize = r.size(o.totalSize, 'totalSize');
  const partSize = r.positive(o.partSize, 'partSize');
  const doneParts = r.parts(o.doneParts, 'doneParts', partCount(totalSize, partSize), (p, at) => {
    const q = r.object(p, at, ['number', 'crc64'], []);
    return { number: r.size(q.number, `${at}.number`), crc64: r.crc64(q.crc64, `${at}.crc64`) };
  });
  return Object.freeze({
    type: DOWNLOAD_CHECKPOINT_TYPE,
    version: CHECKPOINT_VERSION,
    ...(o.bucket === undefined ? {} : { bucket: r.text(o.bucket, 'bucket') }),
    name: r.text(o.name, 'name'),
    ...(o.versionId === undefined ? {} : { versionId: r.token(o.versionId, 'versionId') }),
    etag: r.token(o.etag, 'etag'),
    totalSize,
    partSize,
    tempPath: r.text(o.tempPath, 'tempPath'),
    doneParts,
    createdAt: r.timestamp(o.createdAt, 'createdAt'),
  });
}

function partCount(totalSize: number, partSize: number): number {
  return Math.ceil(totalSize / partSize);
}
