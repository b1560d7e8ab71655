/**
 * The transport boundary: `ObjectStore`, the object-store calls the crypto layer needs, and the typed shapes they
 * take and return. `CryptoClient`, uploads and downloads talk only to this interface; each runtime gets its own
 * implementation in one file (ali-oss.ts over an `ali-oss` client; a fetch-based one can follow), chosen when the
 * client is built, so nothing above this layer knows which library sends the requests (docs/ARCHITECTURE.md §4).
 *
 * The result shapes keep ali-oss's field names (`res`, `name`, `etag`, `uploadId`...) because `CryptoClient`
 * promises ali-oss's results to its callers and hands several of them on unchanged; `responseFacts()`
 * (response.ts) reads the typed facts (status, request id, CRC-64, ETag) out of any of them.
 *
 * Deliberately not here: any code. This file holds types only, so every layer may import it.
 * @module
 */
import type { Readable } from 'node:stream';
import type { RetryPolicy } from '../util/retry.js';

/** Response headers, with lower-case names (as Node's HTTP layer and ali-oss give them). */
export type StoreHeaders = Record<string, string | string[] | undefined>;

/**
 * The response record of a request: ali-oss's `res`, which results hand to callers as is.
 * @example
 *   const { res } = await store.headObject('a.bin');
 *   console.log(res.status, res.headers['x-oss-request-id']);
 */
export interface StoreResponse {
  readonly status: number;
  readonly headers: StoreHeaders;
  readonly statusCode?: number;
  readonly size?: number;
  readonly rt?: number;
  readonly requestUrls?: string[];
}

/**
 * Per-call options in ali-oss's vocabulary (`headers`, `meta`, `mime`, `timeout`, `versionId`, `subres`,
 * `callback`, `contentLength`...). An implementation may change the object it is given: callers pass a copy.
 * @example
 *   const options: StoreOptions = { headers: { 'If-Match': etag }, timeout: 60_000 };
 */
export interface StoreOptions {
  headers?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  [option: string]: unknown;
}

/**
 * Any result: its response record, and what the operation parsed from the body.
 * @example
 *   const r: StoreResult = await store.deleteObject('a.bin');
 */
export interface StoreResult {
  readonly res: StoreResponse;
  readonly [field: string]: unknown;
}

/**
 * What PutObject answers (ali-oss `put` / `putStream`): `data` only with a callback.
 * @example
 *   const { name, url } = await store.putObject('a.bin', bytes, { meta });
 */
export interface PutObjectResult extends StoreResult {
  readonly name: string;
  readonly url?: string;
  readonly data?: unknown;
}

/**
 * A whole (or ranged) GET read into memory.
 * @example
 *   const { content, res } = await store.getObject('a.bin', { headers: { Range: 'bytes=0-15' } });
 */
export interface GetObjectResult extends StoreResult {
  readonly content: Uint8Array | string | undefined;
}

/**
 * A GET whose body has not been read: any 200, 206 or 304 answer. Every other status is thrown as the
 * implementation's own error, built from the error body (`err.code`, `err.name`, `err.status` as its users know them).
 * @example
 *   const opened = await store.openObject('a.bin', { headers: { Range: 'bytes=100-' } });
 *   opened.body.pipe(decrypting);
 */
export interface OpenedObject {
  readonly status: number;
  readonly headers: StoreHeaders;
  /** The body bytes as they arrive: a Node Readable (ali-oss) or a WHATWG ReadableStream (fetch). */
  readonly body: Readable | ReadableStream<Uint8Array>;
  /** The URLs the request went to (after redirects). */
  readonly requestUrls: string[];
}

/**
 * What HEAD answers; `meta` is the user metadata without `x-oss-meta-` (absent for a HEAD in another bucket).
 * @example
 *   const { status, res } = await store.headObject('a.bin');
 */
export interface HeadObjectResult extends StoreResult {
  readonly status: number;
  readonly meta?: Record<string, string> | null;
}

/**
 * What InitiateMultipartUpload answers.
 * @example
 *   const { uploadId } = await store.initiateMultipartUpload('big.bin', { meta });
 */
export interface InitiateResult extends StoreResult {
  readonly bucket: string;
  readonly name: string;
  readonly uploadId: string;
}

/**
 * What UploadPart answers.
 * @example
 *   const { etag } = await store.uploadPart('big.bin', uploadId, 1, bytes, {});
 */
export interface UploadPartReply extends StoreResult {
  readonly name: string;
  readonly etag: string;
}

/**
 * What CompleteMultipartUpload answers: `data` only with a callback.
 * @example
 *   const { etag } = await store.completeMultipartUpload('big.bin', uploadId, parts, {});
 */
export interface CompleteResult extends StoreResult {
  readonly bucket: string;
  readonly name: string;
  readonly etag: string;
  readonly data?: unknown;
}

/**
 * One page of ListParts, as ali-oss parses it (`parts` entries have `PartNumber`, `ETag`, `Size`...).
 * @example
 *   const { parts, isTruncated, nextPartNumberMarker } = await store.listParts(name, uploadId, { 'max-parts': 1000 }, {});
 */
export interface ListPartsResult extends StoreResult {
  readonly parts?: Array<Record<string, unknown>> | Record<string, unknown>;
  readonly isTruncated?: boolean | string;
  readonly nextPartNumberMarker?: unknown;
  /**
   * The `ClientEncryption*` children of `<ListPartsResult>` that OSS returns for a client-side-encrypted upload (as
   * the Go v2 SDK reads them): the values Initiate declared. Absent when the server sent none.
   */
  readonly clientEncryption?: ListPartsEncryption;
}

/**
 * What ListParts says about a client-side-encrypted upload, each field as the server sent it.
 * @example
 *   const { clientEncryption } = await store.listParts(name, uploadId, undefined, {});
 *   if (clientEncryption?.key !== wrappedKeyBase64) refuse();
 */
export interface ListPartsEncryption {
  readonly key?: string;
  readonly start?: string;
  readonly cekAlg?: string;
  readonly wrapAlg?: string;
  readonly dataSize?: string;
  readonly partSize?: string;
}

/**
 * The object-store calls the crypto layer makes. Every name and argument order follows ali-oss's method of the
 * same job, so a reader who knows ali-oss reads the callers directly.
 * @example
 *   const store: ObjectStore = aliOssStore(new OSS({ region, bucket, accessKeyId, accessKeySecret }));
 *   const client = new CryptoClient(store, { material });
 */
export interface ObjectStore {
  /** What runs underneath, for messages (`ali-oss 6.23.0`). */
  readonly runtime: string;
  /** The bucket requests go to by default, when the store has one. */
  readonly bucket: string | undefined;
  /** The URL of an object of the default bucket, when the store can tell. */
  objectUrl(name: string): string | undefined;
  /**
   * The retry policy a `CryptoClient` uses when its options name none, for a store that leaves retries to the
   * client (the fetch store: one retry layer). Absent: the client's default.
   */
  readonly retryPolicy?: Partial<RetryPolicy>;

  putObject(name: string, body: Uint8Array, options: StoreOptions): Promise<PutObjectResult>;
  /** A body of unknown or announced (`options.contentLength`) length, sent as it streams. */
  putObjectStream(name: string, body: Readable | ReadableStream<Uint8Array>, options: StoreOptions): Promise<PutObjectResult>;
  getObject(name: string, options: StoreOptions): Promise<GetObjectResult>;
  openObject(name: string, options: StoreOptions): Promise<OpenedObject>;
  /** HEAD of `name` in `bucket` (default: the store's bucket). */
  headObject(name: string, options: StoreOptions, bucket?: string): Promise<HeadObjectResult>;
  deleteObject(name: string, options?: StoreOptions): Promise<StoreResult>;
  deleteObjects(names: string[], options?: StoreOptions): Promise<StoreResult>;
  listObjects(query?: Record<string, unknown> | null, options?: StoreOptions): Promise<StoreResult>;
  listObjectsV2(query?: Record<string, unknown>, options?: StoreOptions): Promise<StoreResult>;
  copyObject(name: string, sourceName: string, sourceBucket: string | undefined, options: StoreOptions): Promise<StoreResult>;

  initiateMultipartUpload(name: string, options: StoreOptions): Promise<InitiateResult>;
  uploadPart(name: string, uploadId: string, partNo: number, body: Uint8Array, options: StoreOptions): Promise<UploadPartReply>;
  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: ReadonlyArray<{ number: number; etag: string }>,
    options: StoreOptions,
  ): Promise<CompleteResult>;
  abortMultipartUpload(name: string, uploadId: string, options: StoreOptions): Promise<StoreResult>;
  listParts(name: string, uploadId: string, query: Record<string, unknown> | undefined, options: StoreOptions): Promise<ListPartsResult>;
  uploadPartCopy(
    name: string,
    uploadId: string,
    partNo: number,
    range: string,
    source: { sourceKey: string; sourceBucketName?: string },
    options: StoreOptions,
  ): Promise<StoreResult>;
  /** ali-oss `multipartUploadCopy`: a server-side copy in parts (plain sources only; the callers check). */
  multipartUploadCopy(name: string, source: { sourceKey: string; sourceBucketName?: string }, options: StoreOptions): Promise<StoreResult>;
  /** ali-oss `getObjectMeta`: ETag, size and Last-Modified of an object (a HEAD with `objectMeta`). */
  getObjectMeta(name: string, options: StoreOptions): Promise<HeadObjectResult>;
  /** ali-oss `listUploads`: the multipart uploads in progress in the bucket. */
  listUploads(query: Record<string, unknown> | undefined, options: StoreOptions): Promise<StoreResult>;
  /** The same store over another bucket (same credentials, endpoint and agent); this one is unchanged. */
  withBucket(bucket: string): ObjectStore;

  signatureUrl(name: string, options?: Record<string, unknown>, strictObjectNameValidation?: boolean): string;
  asyncSignatureUrl(name: string, options?: Record<string, unknown>, strictObjectNameValidation?: boolean): Promise<string>;
  signatureUrlV4(
    method: string,
    expires: number,
    request?: { headers?: Record<string, unknown>; queries?: Record<string, unknown> },
    objectName?: string,
    additionalHeaders?: string[],
  ): Promise<string>;
}
