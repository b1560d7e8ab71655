/**
 * What an encrypted multipart upload persists so that it can be resumed, or continued by another process:
 * the resumable-upload checkpoint and the multipart crypto context (docs/FORMAT.md §5; docs/ARCHITECTURE.md §7, §8).
 *
 * Both are small JSON documents that carry the **wrapped** content key and IV exactly as they go into the
 * object's metadata (`x-oss-meta-client-side-encryption-key` / `-start`), the wrap algorithm and the matdesc,
 * never the plain key: resuming unwraps the key again, and never draws a new one (a new key for the remaining
 * parts would make the object undecryptable). The oss2, Java and C++ SDKs keep the same rule.
 *
 * - {@link UploadCheckpoint}: what `multipartUpload` needs to resume: the object, the upload id, the identity
 *   of the source file (path, size, mtime), the plan (`dataSize`, `partSize`) and the parts already done
 *   (number, ETag, CRC-64). Unlike ali-oss's checkpoint it holds no `File` object, so it is always JSON.
 * - {@link MultipartCryptoContext}: what the low-level API (`initMultipartUpload` / `uploadPart` /
 *   `completeMultipartUpload`) needs to encrypt part `n` in any process: upload id, object, wrapped key, plan.
 *
 * Parsing is strict, because a checkpoint decides which counter each byte is encrypted under: an unknown
 * field, a wrong type, a plan that breaks the part rules, a part number outside the plan or a duplicate part is
 * `CHECKPOINT_MALFORMED`. Serialising validates the same way and writes only the known fields, so a plain key
 * attached to the object by mistake is refused, never written. Error messages name fields, never string values.
 *
 * Pure: no I/O, no `node:` imports. Not here: reading or writing checkpoint files, stat, unwrapping.
 * @module
 */
import { CheckpointError } from '../errors.js';
import type { Matdesc, WrappedContentKey } from '../keys/types.js';
import { CHECKPOINT_VERSION, FieldReader, parseJson } from '../checkpoint/fields.js';
import { planParts, type PartPlan, type PlannedPart } from './plan.js';

export { CHECKPOINT_VERSION } from '../checkpoint/fields.js';

/** The `type` tag of an upload checkpoint. */
export const UPLOAD_CHECKPOINT_TYPE = 'ali-oss-crypto/upload-checkpoint';
/** The `type` tag of a multipart crypto context. */
export const MULTIPART_CONTEXT_TYPE = 'ali-oss-crypto/multipart-context';

/** The wrapped content key, as stored in the object's V2 metadata (docs/FORMAT.md §2). */
export interface WrappedKeyFields {
  /** `x-oss-meta-client-side-encryption-wrap-alg`, e.g. `RSA/NONE/PKCS1Padding` or `KMS/ALICLOUD`. */
  readonly wrapAlg: string;
  /** `x-oss-meta-client-side-encryption-key`, exactly as stored. */
  readonly wrappedKey: string;
  /** `x-oss-meta-client-side-encryption-start`, exactly as stored. */
  readonly wrappedStart: string;
  /** The material description (`{}` for none). */
  readonly matdesc: Matdesc;
}

/**
 * A part already uploaded.
 * @example
 *   const { part }: { part: UploadedPart } = await client.uploadPart(name, uploadId, 2, bytes, context);
 *   parts.push(part); // { number: 2, etag, crc64 }
 */
export interface UploadedPart {
  /** 1-based part number. */
  readonly number: number;
  /** The ETag OSS returned for it, as returned (ali-oss keeps the quotes). */
  readonly etag: string;
  /** `x-oss-hash-crc64ecma` of the part as OSS reported it (decimal, CRC-64/XZ of the stored bytes), if known. */
  readonly crc64?: string;
}

/** Identity of the source file, to notice that it changed between runs. */
export interface FileIdentity {
  readonly path: string;
  /** Bytes; equals the checkpoint's `dataSize`. */
  readonly size: number;
  /** `fs.Stats#mtimeMs` (may be fractional), or a browser `File#lastModified`. */
  readonly mtimeMs: number;
}

/**
 * A resumable-upload checkpoint (schema {@link UPLOAD_CHECKPOINT_TYPE} v1).
 * @example
 *   const cp: UploadCheckpoint = parseUploadCheckpoint(readFileSync('big.cp.json', 'utf8'));
 *   await client.multipartUpload(cp.name, cp.file.path, { checkpoint: cp });
 */
export interface UploadCheckpoint extends WrappedKeyFields {
  readonly type: typeof UPLOAD_CHECKPOINT_TYPE;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly bucket?: string;
  readonly name: string;
  readonly uploadId: string;
  /** Absent when the source is not a file (a Buffer, a stream). */
  readonly file?: FileIdentity;
  readonly dataSize: number;
  readonly partSize: number;
  /** Sorted by part number, no duplicates, all inside the plan. */
  readonly doneParts: readonly UploadedPart[];
  /** ISO 8601 UTC with milliseconds (`Date#toISOString`). */
  readonly createdAt: string;
}

/**
 * The crypto context of a low-level multipart upload (schema {@link MULTIPART_CONTEXT_TYPE} v1).
 * @example
 *   const context: MultipartCryptoContext = parseMultipartCryptoContext(message);
 *   await workerClient.uploadPart(context.name, context.uploadId, 3, bytes, context);
 */
export interface MultipartCryptoContext extends WrappedKeyFields {
  readonly type: typeof MULTIPART_CONTEXT_TYPE;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly bucket?: string;
  readonly name: string;
  readonly uploadId: string;
  readonly dataSize: number;
  readonly partSize: number;
}

/** Fields given to {@link createUploadCheckpoint}. */
export interface UploadCheckpointInit extends WrappedKeyFields {
  bucket?: string;
  name: string;
  uploadId: string;
  file?: FileIdentity;
  dataSize: number;
  partSize: number;
  doneParts?: readonly UploadedPart[];
  /** Default: now. */
  createdAt?: Date | string;
}

/** Fields given to {@link createMultipartCryptoContext}. */
export interface MultipartCryptoContextInit extends WrappedKeyFields {
  bucket?: string;
  name: string;
  uploadId: string;
  dataSize: number;
  partSize: number;
}

/** What the current run sees, for {@link checkUploadCheckpointMatches}. Only the given fields are compared. */
export interface UploadSource {
  /** The source's size now (from stat, or the buffer's length). */
  size: number;
  /** The file's mtime now (from stat). Compared when the checkpoint recorded a file. */
  mtimeMs?: number;
  /** The file path now. Compared when the checkpoint recorded a file. */
  path?: string;
  /** The part size the caller asked for (`options.partSize`); omit to take the checkpoint's. */
  partSize?: number;
  /** The object name of this upload. */
  name?: string;
  /** The bucket of this upload. Compared when the checkpoint recorded one. */
  bucket?: string;
}

/**
 * A validated, frozen upload checkpoint; `createdAt` defaults to now and `doneParts` to none.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when a field is missing, of the wrong type, or the plan is invalid
 * @example
 *   const wrapped = await keyWrapper.wrap(contentKey);
 *   const cp = createUploadCheckpoint({ name, uploadId, dataSize: st.size, partSize,
 *     file: { path, size: st.size, mtimeMs: st.mtimeMs },
 *     wrapAlg: wrapped.wrapAlg, wrappedKey: wrapped.wrappedKey, wrappedStart: wrapped.wrappedStart, matdesc: wrapped.matdesc });
 */
export function createUploadCheckpoint(init: UploadCheckpointInit): UploadCheckpoint {
  const createdAt = init.createdAt instanceof Date ? init.createdAt.toISOString() : init.createdAt ?? new Date().toISOString();
  return readUploadCheckpoint(
    { ...init, type: UPLOAD_CHECKPOINT_TYPE, version: CHECKPOINT_VERSION, doneParts: init.doneParts ?? [], createdAt },
    'upload checkpoint',
  );
}

/**
 * The checkpoint as JSON text (2-space indented). Only the schema's fields are written.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when `checkpoint` does not validate (including any extra field,
 *   such as a plain key attached by mistake)
 * @example
 *   await writeFile(cpPath, serializeUploadCheckpoint(cp));
 */
export function serializeUploadCheckpoint(checkpoint: UploadCheckpoint): string {
  return JSON.stringify(readUploadCheckpoint(checkpoint, 'upload checkpoint to serialise'), null, 2);
}

/**
 * Parses and validates checkpoint text written by {@link serializeUploadCheckpoint}.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED`: not JSON, another type or version, a missing, extra or
 *   mistyped field, a plan that breaks the part rules, `file.size ≠ dataSize`, a part number outside the plan, a
 *   duplicate part
 * @example
 *   const cp = parseUploadCheckpoint(await readFile(cpPath, 'utf8'));
 *   checkUploadCheckpointMatches(cp, { size: st.size, mtimeMs: st.mtimeMs, name });
 */
export function parseUploadCheckpoint(text: string): UploadCheckpoint {
  return readUploadCheckpoint(parseJson(text, 'upload checkpoint'), 'upload checkpoint');
}

/**
 * Checks that a checkpoint still describes this upload: same size (and mtime and path, when it recorded a file),
 * same part size, same object. Reports every difference at once.
 * @throws {CheckpointError} `CHECKPOINT_MISMATCH`, e.g. `the file is now 1000 bytes (read from stat), the
 *   checkpoint recorded 2000; was the file modified?`
 * @example
 *   checkUploadCheckpointMatches(cp, { size: st.size, mtimeMs: st.mtimeMs, path, partSize: options.partSize, name });
 */
export function checkUploadCheckpointMatches(checkpoint: UploadCheckpoint, current: UploadSource): void {
  const problems: string[] = [];
  const file = checkpoint.file;
  if (current.name !== undefined && current.name !== checkpoint.name) {
    problems.push(`the checkpoint is for object ${JSON.stringify(checkpoint.name)}, this upload is for ${JSON.stringify(current.name)}`);
  }
  if (current.bucket !== undefined && checkpoint.bucket !== undefined && current.bucket !== checkpoint.bucket) {
    problems.push(`the checkpoint is for bucket ${JSON.stringify(checkpoint.bucket)}, this upload is for ${JSON.stringify(current.bucket)}`);
  }
  if (file !== undefined && current.path !== undefined && current.path !== file.path) {
    problems.push(`the checkpoint is for file ${JSON.stringify(file.path)}, this upload reads ${JSON.stringify(current.path)}`);
  }
  if (current.size !== checkpoint.dataSize) {
    problems.push(
      file !== undefined
        ? `the file is now ${current.size} bytes (read from stat), the checkpoint recorded ${checkpoint.dataSize}; was the file modified?`
        : `the data is now ${current.size} bytes, the checkpoint recorded ${checkpoint.dataSize}`,
    );
  }
  if (file !== undefined && current.mtimeMs !== undefined && current.mtimeMs !== file.mtimeMs) {
    problems.push(
      `the file was last modified at ${isoOf(current.mtimeMs)} (mtimeMs ${current.mtimeMs}, read from stat), the checkpoint ` +
        `recorded ${isoOf(file.mtimeMs)} (mtimeMs ${file.mtimeMs}); was the file modified?`,
    );
  }
  if (current.partSize !== undefined && current.partSize !== checkpoint.partSize) {
    problems.push(
      `partSize ${current.partSize} was asked for (options.partSize), the checkpoint was made with ${checkpoint.partSize}; the ` +
        `parts already uploaded have that size, so resume with it (omit partSize) or start a new upload`,
    );
  }
  if (problems.length > 0) {
    throw new CheckpointError('CHECKPOINT_MISMATCH', `the checkpoint of upload ${JSON.stringify(checkpoint.uploadId)} does not match: ${problems.join('; ')}`);
  }
}

/**
 * The plan a checkpoint or crypto context describes.
 * @example
 *   const plan = planOf(ctx);
 *   const part = checkPart(plan, partNo, data.length, { name: ctx.name });
 */
export function planOf(value: { readonly dataSize: number; readonly partSize: number }): PartPlan {
  // Structural rules only: the minimum part size was checked (or deliberately lowered) when the upload began.
  return planParts(value.dataSize, value.partSize, { minPartSize: 1 });
}

/**
 * The planned parts a checkpoint has not uploaded yet, in order: what a resume sends.
 * @example
 *   for (const part of pendingParts(cp)) await uploadOne(part);
 */
export function pendingParts(checkpoint: UploadCheckpoint): PlannedPart[] {
  const done = new Set(checkpoint.doneParts.map((p) => p.number));
  return planOf(checkpoint).parts.filter((p) => !done.has(p.partNumber));
}

/**
 * A new checkpoint with `part` recorded as done (replacing an earlier record of the same number).
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when the part is outside the plan or malformed
 * @example
 *   cp = withDonePart(cp, { number: 3, etag: res.etag, crc64: res.res.headers['x-oss-hash-crc64ecma'] });
 */
export function withDonePart(checkpoint: UploadCheckpoint, part: UploadedPart): UploadCheckpoint {
  const doneParts = checkpoint.doneParts.filter((p) => p.number !== part.number).concat([part]);
  return readUploadCheckpoint({ ...checkpoint, doneParts }, 'upload checkpoint');
}

/**
 * The wrapped key of a checkpoint or crypto context in the shape key wrappers take.
 * @example
 *   const contentKey = await keyWrapper.unwrap(wrappedKeyOf(cp));
 */
export function wrappedKeyOf(value: WrappedKeyFields): WrappedContentKey {
  return { format: 'v2', wrapAlg: value.wrapAlg, wrappedKey: value.wrappedKey, wrappedStart: value.wrappedStart, matdesc: value.matdesc };
}

/**
 * The fields a checkpoint or crypto context keeps of a freshly wrapped key (the inverse of {@link wrappedKeyOf}).
 * @example
 *   const cp = createUploadCheckpoint({ name, uploadId, dataSize, partSize, ...wrappedKeyFields(wrapped) });
 */
export function wrappedKeyFields(wrapped: WrappedContentKey): WrappedKeyFields {
  return { wrapAlg: wrapped.wrapAlg, wrappedKey: wrapped.wrappedKey, wrappedStart: wrapped.wrappedStart, matdesc: wrapped.matdesc };
}

/**
 * A validated, frozen crypto context for the low-level multipart API.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` when a field is missing, of the wrong type, or the plan is invalid
 * @example
 *   const ctx = createMultipartCryptoContext({ name, uploadId, dataSize, partSize, ...wrapped });
 */
export function createMultipartCryptoContext(init: MultipartCryptoContextInit): MultipartCryptoContext {
  return readMultipartCryptoContext({ ...init, type: MULTIPART_CONTEXT_TYPE, version: CHECKPOINT_VERSION }, 'multipart crypto context');
}

/**
 * The crypto context as JSON text, to hand to another process. Only the schema's fields are written.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` as {@link serializeUploadCheckpoint}
 * @example
 *   queue.send(serializeMultipartCryptoContext(ctx));
 */
export function serializeMultipartCryptoContext(context: MultipartCryptoContext): string {
  return JSON.stringify(readMultipartCryptoContext(context, 'multipart crypto context to serialise'), null, 2);
}

/**
 * Parses and validates crypto-context text written by {@link serializeMultipartCryptoContext}.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` with the same strictness as {@link parseUploadCheckpoint}
 * @example
 *   const ctx = parseMultipartCryptoContext(message);
 *   await cryptoClient.uploadPart(ctx.name, ctx.uploadId, 3, data, ctx);
 */
export function parseMultipartCryptoContext(text: string): MultipartCryptoContext {
  return readMultipartCryptoContext(parseJson(text, 'multipart crypto context'), 'multipart crypto context');
}

function readUploadCheckpoint(value: unknown, what: string): UploadCheckpoint {
  const r = new FieldReader(what);
  const o = r.object(value, '', [
    'type', 'version', 'name', 'uploadId', 'dataSize', 'partSize', 'wrapAlg', 'wrappedKey', 'wrappedStart', 'matdesc',
    'doneParts', 'createdAt',
  ], ['bucket', 'file']);
  r.header(o, UPLOAD_CHECKPOINT_TYPE);
  const plan = readPlan(r, o.dataSize, o.partSize);
  let file: FileIdentity | undefined;
  if (o.file !== undefined) {
    const f = r.object(o.file, 'file', ['path', 'size', 'mtimeMs'], []);
    file = Object.freeze({ path: r.text(f.path, 'file.path'), size: r.size(f.size, 'file.size'), mtimeMs: r.finite(f.mtimeMs, 'file.mtimeMs') });
    if (file.size !== plan.dataSize) {
      throw r.fail('file.size', `expected to equal dataSize ${plan.dataSize}, got ${file.size}`);
    }
  }
  const doneParts = r.parts(o.doneParts, 'doneParts', plan.partCount, (p, at) => {
    const q = r.object(p, at, ['number', 'etag'], ['crc64']);
    const part: UploadedPart = { number: r.size(q.number, `${at}.number`), etag: r.token(q.etag, `${at}.etag`) };
    return q.crc64 === undefined ? part : { ...part, crc64: r.crc64(q.crc64, `${at}.crc64`) };
  });
  return Object.freeze({
    type: UPLOAD_CHECKPOINT_TYPE,
    version: CHECKPOINT_VERSION,
    ...(o.bucket === undefined ? {} : { bucket: r.text(o.bucket, 'bucket') }),
    name: r.text(o.name, 'name'),
    uploadId: r.token(o.uploadId, 'uploadId'),
    ...(file === undefined ? {} : { file }),
    dataSize: plan.dataSize,
    partSize: plan.partSize,
    ...readWrapped(r, o),
    doneParts,
    createdAt: r.timestamp(o.createdAt, 'createdAt'),
  });
}

function readMultipartCryptoContext(value: unknown, what: string): MultipartCryptoContext {
  const r = new FieldReader(what);
  const o = r.object(value, '', [
    'type', 'version', 'name', 'uploadId', 'dataSize', 'partSize', 'wrapAlg', 'wrappedKey', 'wrappedStart', 'matdesc',
  ], ['bucket']);
  r.header(o, MULTIPART_CONTEXT_TYPE);
  const plan = readPlan(r, o.dataSize, o.partSize);
  return Object.freeze({
    type: MULTIPART_CONTEXT_TYPE,
    version: CHECKPOINT_VERSION,
    ...(o.bucket === undefined ? {} : { bucket: r.text(o.bucket, 'bucket') }),
    name: r.text(o.name, 'name'),
    uploadId: r.token(o.uploadId, 'uploadId'),
    dataSize: plan.dataSize,
    partSize: plan.partSize,
    ...readWrapped(r, o),
  });
}

/** A multipart plan read from a document; the part rules (multiple of 16, ≤ 10,000 parts, ≤ 5 GiB) apply. */
function readPlan(r: FieldReader, dataSize: unknown, partSize: unknown): PartPlan {
  const d = r.size(dataSize, 'dataSize');
  const p = r.positive(partSize, 'partSize');
  try {
    return planOf({ dataSize: d, partSize: p });
  } catch (err) {
    throw new CheckpointError('CHECKPOINT_MALFORMED', `${r.what}: dataSize ${d} and partSize ${p} are not a valid plan: ${(err as Error).message}`, { cause: err });
  }
}

/** The wrapped-key fields of a V2 object, read from a document. */
function readWrapped(r: FieldReader, o: Record<string, unknown>): WrappedKeyFields {
  return {
    wrapAlg: r.token(o.wrapAlg, 'wrapAlg'),
    wrappedKey: r.token(o.wrappedKey, 'wrappedKey'),
    wrappedStart: r.token(o.wrappedStart, 'wrappedStart'),
    matdesc: r.matdesc(o.matdesc, 'matdesc') as Matdesc,
  };
}

function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
