/**
 * The in-memory state of the OSS stand-in (test/support/oss-server.ts): buckets, objects and multipart
 * uploads, with the rules OSS applies to them (docs/FORMAT.md §5, §6, §8). No HTTP here: the server turns
 * requests into calls on {@link OssStore} and {@link OssError}s into XML error responses.
 *
 * Bodies are kept as lists of Buffers ("segments"), exactly as received, so a 1 GiB upload costs 1 GiB and
 * completing a multipart upload only links its parts' segments (no copy). With `storeBodies: false` nothing
 * but length, MD5, ETag and CRC-64 is kept, for upload benchmarks; such objects cannot be read back.
 *
 * ETags: quoted upper-case MD5 hex for simple objects and parts; `"<MD5 of the concatenated binary part
 * MD5s>-<N>"` for completed multipart objects. CRC-64/XZ over the stored bytes; a multipart object's CRC is
 * combined from its parts' CRCs.
 * @module
 */
import { createHash } from 'node:crypto';
import { Crc64, crc64Combine } from '../../bindings/integrity/crc64.js';
import type { CseUploadParams } from './oss-cse-rules.js';

/** An error OSS would answer with: HTTP status, OSS code, message, and extra XML fields. */
export class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OssError';
  }
}

/** What a received body leaves behind: its bytes (unless discarded) and digests. */
export interface BodyDigest {
  segments: Buffer[] | undefined;
  size: number;
  md5: Buffer;
  crc64: bigint;
}

/** Digests a body incrementally as it arrives; keeps the chunks only when told to. */
export class BodyAccumulator {
  readonly #md5 = createHash('md5');
  readonly #crc = new Crc64();
  readonly #segments: Buffer[] | undefined;
  #size = 0;

  constructor(keepBytes: boolean) {
    this.#segments = keepBytes ? [] : undefined;
  }

  add(chunk: Buffer): void {
    this.#md5.update(chunk);
    this.#crc.update(chunk);
    this.#segments?.push(chunk);
    this.#size += chunk.length;
  }

  get size(): number {
    return this.#size;
  }

  finish(): BodyDigest {
    return { segments: this.#segments, size: this.#size, md5: this.#md5.digest(), crc64: this.#crc.digest() };
  }
}

/** Digest of bytes already in memory (putObjectRaw, UploadPartCopy). */
export function digestOf(bytes: Uint8Array, keepBytes = true): BodyDigest {
  const acc = new BodyAccumulator(keepBytes);
  acc.add(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return acc.finish();
}

/** Attributes an object carries besides its bytes (all set at PUT / Initiate / CopyObject REPLACE). */
export interface ObjectAttributes {
  contentType: string;
  /** User metadata: names without the `x-oss-meta-` prefix, lower-case. */
  meta: Record<string, string>;
  /** Standard headers OSS stores and returns: cache-control, content-disposition, content-encoding, ... */
  headers: Record<string, string>;
}

/** One stored object. Segments are never mutated after storing (copies share them). */
export interface StoredObject extends ObjectAttributes {
  bucket: string;
  key: string;
  segments: Buffer[] | undefined;
  size: number;
  /** Quoted, upper-case, as in the ETag header. */
  etag: string;
  crc64: bigint;
  lastModified: Date;
  type: 'Normal' | 'Multipart' | 'Appendable';
}

/** One uploaded part of a multipart upload. */
export interface StoredPart {
  partNumber: number;
  segments: Buffer[] | undefined;
  size: number;
  md5: Buffer;
  etag: string;
  crc64: bigint;
  lastModified: Date;
}

/** A multipart upload in progress. */
export interface Upload extends ObjectAttributes {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  parts: Map<number, StoredPart>;
  /** The client-side-encryption parameters Initiate fixed (test/support/oss-cse-rules.ts); undefined for a plain upload. */
  cse?: CseUploadParams;
}

/** Store-wide rules. */
export interface StoreOptions {
  storeBodies: boolean;
  autoCreateBuckets: boolean;
  minPartSize: number;
}

/** User-metadata names (after `x-oss-meta-`) that real OSS lists as ListParts fields, docs/FORMAT.md §5. */
export const CSE_LISTPARTS_FIELDS: ReadonlyArray<[meta: string, xml: string]> = [
  ['client-side-encryption-key', 'ClientEncryptionKey'],
  ['client-side-encryption-start', 'ClientEncryptionStart'],
  ['client-side-encryption-cek-alg', 'ClientEncryptionCekAlg'],
  ['client-side-encryption-wrap-alg', 'ClientEncryptionWrapAlg'],
  ['client-side-encryption-data-size', 'ClientEncryptionDataSize'],
  ['client-side-encryption-part-size', 'ClientEncryptionPartSize'],
];

/** OSS's upper limit on part numbers. */
export const MAX_PART_NUMBER = 10_000;

/** Buckets, objects and uploads, with OSS's rules. */
export class OssStore {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly uploads = new Map<string, Upload>();
  #uploadCounter = 0;

  constructor(readonly options: StoreOptions) {}

  /** The bucket's object map; auto-creates it when allowed, else NoSuchBucket. */
  bucket(name: string): Map<string, StoredObject> {
    let objects = this.buckets.get(name);
    if (!objects) {
      if (!this.options.autoCreateBuckets) {
        throw new OssError(404, 'NoSuchBucket', `The specified bucket does not exist: "${name}" was never created on this server (autoCreateBuckets is off).`, { BucketName: name });
      }
      objects = new Map();
      this.buckets.set(name, objects);
    }
    return objects;
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  deleteBucket(name: string): void {
    const objects = this.bucket(name);
    const pending = [...this.uploads.values()].filter((u) => u.bucket === name).length;
    if (objects.size > 0 || pending > 0) {
      throw new OssError(409, 'BucketNotEmpty', `The bucket you tried to delete is not empty: ${objects.size} objects, ${pending} multipart uploads.`, { BucketName: name });
    }
    this.buckets.delete(name);
  }

  getObject(bucket: string, key: string): StoredObject {
    const object = this.bucket(bucket).get(key);
    if (!object) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    return object;
  }

  putObject(bucket: string, key: string, body: BodyDigest, attributes: ObjectAttributes): StoredObject {
    const object: StoredObject = {
      bucket,
      key,
      ...attributes,
      segments: this.options.storeBodies ? body.segments : undefined,
      size: body.size,
      etag: quoteEtag(body.md5.toString('hex')),
      crc64: body.crc64,
      lastModified: new Date(),
      type: 'Normal',
    };
    this.bucket(bucket).set(key, object);
    return object;
  }

  /**
   * AppendObject: adds the body to an Appendable object (creating it with `attributes` when absent). The ETag is
   * the MD5 of the whole content when bodies are kept (OSS documents no formula for Appendable ETags).
   */
  append(bucket: string, key: string, body: BodyDigest, attributes: ObjectAttributes | undefined): StoredObject {
    const existing = this.bucket(bucket).get(key);
    const segments = this.options.storeBodies ? [...(existing?.segments ?? []), ...(body.segments ?? [])] : undefined;
    const md5 = segments ? digestOf(Buffer.concat(segments), false).md5 : body.md5;
    const object: StoredObject = {
      bucket,
      key,
      ...(existing ?? (attributes as ObjectAttributes)),
      segments,
      size: (existing?.size ?? 0) + body.size,
      etag: quoteEtag(md5.toString('hex')),
      crc64: existing ? crc64Combine(existing.crc64, body.crc64, body.size) : body.crc64,
      lastModified: new Date(),
      type: 'Appendable',
    };
    this.bucket(bucket).set(key, object);
    return object;
  }

  /** CopyObject: the bytes, ETag, CRC and type are the source's; the attributes are given. */
  copyObject(source: StoredObject, bucket: string, key: string, attributes: ObjectAttributes): StoredObject {
    const copy: StoredObject = { ...source, ...attributes, bucket, key, lastModified: new Date() };
    this.bucket(bucket).set(key, copy);
    return copy;
  }

  deleteObject(bucket: string, key: string): void {
    this.bucket(bucket).delete(key);
  }

  initiate(bucket: string, key: string, attributes: ObjectAttributes, cse?: CseUploadParams): Upload {
    this.bucket(bucket);
    const uploadId = (++this.#uploadCounter).toString(16).toUpperCase().padStart(8, '0') + randomHex(24);
    const upload: Upload = { uploadId, bucket, key, initiated: new Date(), parts: new Map(), ...attributes, ...(cse ? { cse } : {}) };
    this.uploads.set(uploadId, upload);
    return upload;
  }

  /** The upload with this id for this bucket and key, else NoSuchUpload (also after Complete or Abort). */
  upload(bucket: string, key: string, uploadId: string): Upload {
    this.bucket(bucket);
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new OssError(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
    return upload;
  }

  putPart(upload: Upload, partNumber: number, body: BodyDigest): StoredPart {
    const part: StoredPart = {
      partNumber,
      segments: this.options.storeBodies ? body.segments : undefined,
      size: body.size,
      md5: body.md5,
      etag: quoteEtag(body.md5.toString('hex')),
      crc64: body.crc64,
      lastModified: new Date(),
    };
    upload.parts.set(partNumber, part);
    return part;
  }

  /**
   * CompleteMultipartUpload: checks the listed parts (ascending, existing, ETags matching, all but the last at
   * least `minPartSize`) and turns them into one object. Parts uploaded but not listed are dropped, as OSS does.
   */
  complete(upload: Upload, listed: { partNumber: number; etag: string }[]): StoredObject {
    if (listed.length === 0) {
      throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: it lists no parts.');
    }
    const parts: StoredPart[] = [];
    for (const [i, ref] of listed.entries()) {
      if (i > 0 && ref.partNumber <= listed[i - 1].partNumber) {
        throw new OssError(
          400,
          'InvalidPartOrder',
          `The list of parts was not in ascending order. Parts list must be specified in order by part number: part ${ref.partNumber} follows part ${listed[i - 1].partNumber}.`,
        );
      }
      const part = upload.parts.get(ref.partNumber);
      if (!part || normalizeEtag(ref.etag) !== normalizeEtag(part.etag)) {
        throw new OssError(
          400,
          'InvalidPart',
          part
            ? `One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag: part ${ref.partNumber} has ETag ${part.etag}, the request says ${ref.etag}.`
            : `One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag: part ${ref.partNumber} was never uploaded to this upload.`,
          { PartNumber: String(ref.partNumber), ETag: ref.etag, UploadId: upload.uploadId },
        );
      }
      parts.push(part);
    }
    for (const part of parts.slice(0, -1)) {
      if (part.size < this.options.minPartSize) {
        throw new OssError(
          400,
          'EntityTooSmall',
          `Your proposed upload is smaller than the minimum allowed size: part ${part.partNumber} is ${part.size} bytes, every part but the last must be at least ${this.options.minPartSize} bytes.`,
          { MinSizeAllowed: String(this.options.minPartSize), ProposedSize: String(part.size), PartNumber: String(part.partNumber) },
        );
      }
    }
    const etagMd5 = createHash('md5');
    let crc = 0n;
    let size = 0;
    for (const part of parts) {
      etagMd5.update(part.md5);
      crc = crc64Combine(crc, part.crc64, part.size);
      size += part.size;
    }
    const object: StoredObject = {
      bucket: upload.bucket,
      key: upload.key,
      contentType: upload.contentType,
      meta: upload.meta,
      headers: upload.headers,
      segments: this.options.storeBodies ? parts.flatMap((p) => p.segments ?? []) : undefined,
      size,
      etag: quoteEtag(`${etagMd5.digest('hex')}-${parts.length}`),
      crc64: crc,
      lastModified: new Date(),
      type: 'Multipart',
    };
    this.bucket(upload.bucket).set(upload.key, object);
    this.uploads.delete(upload.uploadId);
    return object;
  }

  abort(upload: Upload): void {
    this.uploads.delete(upload.uploadId);
  }

  /** Keys of a bucket in OSS's listing order: UTF-8 byte order. */
  sortedKeys(bucket: string): string[] {
    return [...this.bucket(bucket).keys()].sort(compareKeys);
  }
}

/** UTF-8 byte order, OSS's listing order (differs from UTF-16 order above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** ETags compare without quotes and case-insensitively (clients echo what they received). */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toUpperCase();
}

function quoteEtag(hexOrTagged: string): string {
  return `"${hexOrTagged.toUpperCase()}"`;
}

function randomHex(chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(Math.random() * 0x100000000).toString(16).toUpperCase().padStart(8, '0');
  return out.slice(0, chars);
}
