/**
 * `CryptoClientBase`: everything of the ali-oss-compatible facade that is the same in every runtime, so the
 * Node client (crypto-client.ts) and the web client (web-client.ts) are one class with the same methods and
 * results, differing only in the five calls whose sources and sinks are the runtime's own: `put`, `putStream`,
 * `get`, `getStream` (Node streams, file paths / Blob, WHATWG streams) and `resumableDownload` (a file).
 * Swap `client` for `cryptoClient` and the same calls (names, argument order, option names, result shapes
 * with `res`, `progress(p, checkpoint, res)`) encrypt on the way up and decrypt on the way down
 * (docs/FORMAT.md §1–§5).
 *
 * Each method is a one-line delegation to a plain function `(ctx, ...args)` in its own module
 * (object.ts, the multipart modules); this file holds no logic beyond that. Operations that cannot work on
 * encrypted objects exist here too, and reject with `UnsupportedOperationError` before any request
 * (refused.ts), so users get a clear error instead of `undefined is not a function`.
 *
 * Deliberately not here: bucket-level calls (ACL, lifecycle, listing buckets...). They do not touch object
 * content; use the wrapped ali-oss client (`cryptoClient.oss`) for them.
 * @module
 */
import { AliOssStore, type AliOssLike } from '../oss/ali-oss.js';
import type { ObjectStore } from '../oss/object-store.js';
import type { ClientContext } from '../transfer/context.js';
import { createClientContext, type ClientPlatform, type CryptoClientOptions } from '../transfer/options.js';
import { copyOptions, signalOf } from '../transfer/request-options.js';
import { cancelMultipartUploads, isCancelled, multipartUpload } from '../upload/managed-upload.js';
import type { MultipartUploadOptions, MultipartUploadResult } from '../upload/managed-upload.js';
import * as multipart from '../upload/parts-api.js';
import type { UploadBody } from '../upload/source.js';
import * as object from './object.js';
import type { HeadResult } from './object.js';
import type { CallOptions, CopyOptions, CopyResult, DeleteMultiOptions, DeleteMultiResult, ListPartsPage, ListPartsQuery,
  ListQuery, ListResult, ListUploadsQuery, ListUploadsResult, ListV2Query, ListV2Result, MultipartUploadCopyResult,
  ObjectMetaResult, PutMetaOptions, ResponseOnly, SignatureUrlOptions, UploadPartCopyResult, UserMeta,
  VersionedCallOptions } from './call-types.js';
import { REFUSED_REASONS, refusal, refuseSignedUpload } from './refused.js';
import { withRetry } from '../util/retry.js';

/**
 * Client-side encryption over an `ali-oss` client (or any {@link ObjectStore}): what every runtime's
 * `CryptoClient` shares.
 * @example
 *   import OSS from 'ali-oss';
 *   const oss = new OSS({ region, bucket, accessKeyId, accessKeySecret });
 *   const client = new CryptoClient(oss, { material: rsaKeyWrapper({ privateKey }) });
 *   await client.put('report.pdf', '/tmp/report.pdf');
 *   const { content } = await client.get('report.pdf');
 */
export class CryptoClientBase {
  /** The shared state every operation receives (key ring, engine, policies, the ali-oss client). */
  readonly context: ClientContext;

  /**
   * @param oss an `ali-oss` client instance (its endpoint, bucket, credentials and agent are used as is), or any
   *   {@link ObjectStore}
   * @param options key material (`keyring`, or `material` / `materials` / `resolve`), `backend`,
   *   `plaintext` ('reject' | 'allow'), `retry`, `partSize`, `parallel`, `contentMd5`
   * @throws {TypeError} when `oss` is not an ali-oss client or no key material is given
   * @throws {RangeError} when a number option is out of range
   */
  constructor(oss: AliOssLike | ObjectStore, options: CryptoClientOptions, platform?: ClientPlatform) {
    this.context = createClientContext(oss, options, platform);
  }

  /**
   * The wrapped ali-oss client, for calls that do not touch object content (bucket settings, ACLs...).
   * @throws {TypeError} when the client was built over another {@link ObjectStore}
   */
  get oss(): AliOssLike {
    const store = this.context.store;
    if (store instanceof AliOssStore) return store.client;
    throw new TypeError(`this CryptoClient was built over ${store.runtime}, not an ali-oss client; it has no "oss"`);
  }

  /**
   * ali-oss `head` plus `encrypted` and `envelope` (how the object is encrypted; never key material).
   * @example
   *   const { envelope } = await client.head('a.bin'); // envelope?.wrapAlg, envelope?.unencryptedContentLength
   */
  head(name: string, options?: VersionedCallOptions): Promise<HeadResult> {
    return object.head(this.context, name, options);
  }

  /**
   * ali-oss `copy(name, sourceName, [sourceBucket], options)`, keeping the encryption metadata: with a REPLACE
   * (`meta`, a content header) the source's encryption headers are re-attached as stored, on the source's ETag.
   * @throws {UnsupportedOperationError} when `meta`/`headers` name encryption metadata
   * @example
   *   await client.copy('b.bin', 'a.bin', { meta: { owner: 'me' } });
   */
  copy(name: string, sourceName: string, sourceBucket?: string | CopyOptions, options?: CopyOptions): Promise<CopyResult> {
    return object.copy(this.context, name, sourceName, sourceBucket, options);
  }

  /**
   * ali-oss `putMeta`: replaces user metadata, keeping the encryption metadata.
   * @example
   *   await client.putMeta('a.bin', { owner: 'me' });
   */
  putMeta(name: string, meta: UserMeta | null, options?: PutMetaOptions): Promise<CopyResult> {
    return object.putMeta(this.context, name, meta, options);
  }

  /**
   * ali-oss `multipartUpload(name, file, options)`, encrypted: a file path, Buffer, Blob/File or stream, in
   * `parallel` parts of `partSize`, with `progress(p, checkpoint, res)`; resumable from `checkpoint` (the object
   * `progress` gives, or a file path written after every part). Also `signal`, `contentLength` (streams),
   * `abortOnError`, and ali-oss's `meta`, `headers`, `mime`, `callback`, `timeout`.
   * @throws an Error `name: 'cancel'`, `status: 0`, with `checkpoint`, when cancelled ({@link cancel}, `signal`)
   * @throws {CheckpointError} CHECKPOINT_MALFORMED / CHECKPOINT_MISMATCH; {@link IntegrityError} INTEGRITY_CRC64;
   *   the ali-oss error of a request that kept failing, with `checkpoint` attached
   * @example
   *   await client.multipartUpload('big.iso', '/data/big.iso', { parallel: 4, checkpoint: '/data/big.iso.cp' });
   */
  multipartUpload(name: string, file: UploadBody, options?: MultipartUploadOptions): Promise<MultipartUploadResult> {
    return multipartUpload(this.context, name, file, options);
  }

  /**
   * ali-oss `isCancel()`: true after `cancel()`, until this client's next `multipartUpload` starts.
   * @example
   *   if (client.isCancel()) console.log('paused');
   */
  isCancel(): boolean {
    return isCancelled(this.context);
  }

  /**
   * ali-oss `cancel(abort?)`: cancels the running `multipartUpload` calls of this client (they reject with a
   * `cancel` error carrying their checkpoint); with `abort`, also aborts that upload on OSS.
   * @example
   *   client.cancel();
   */
  cancel(abort?: { name: string; uploadId: string; options?: CallOptions }): Promise<void> {
    return cancelMultipartUploads(this.context, abort);
  }

  /**
   * ali-oss `initMultipartUpload`, encrypted: `options.dataSize` (required) and `partSize` fix the plan; the
   * result adds `context`, the upload's crypto context (JSON-safe, wrapped key only) for `uploadPart` in any
   * process.
   * @throws {RangeError} / {@link PartError} PART_INVALID for sizes that break the part rules
   * @example
   *   const { uploadId, context } = await client.initMultipartUpload('big.bin', { dataSize, partSize: 1 << 20 });
   */
  initMultipartUpload(name: string, options: multipart.InitMultipartUploadOptions): Promise<multipart.InitMultipartUploadResult> {
    return multipart.initMultipartUpload(this.context, name, options);
  }

  /**
   * Encrypts and uploads part `partNo` (exactly `partSize` bytes of plaintext; the last part the rest) with the
   * upload's crypto context. Unlike ali-oss it takes the part's bytes, not `file, start, end`.
   * @throws {PartError} PART_INVALID for a wrong length or part number; {@link CheckpointError} for a context of
   *   another upload
   * @example
   *   const { part } = await client.uploadPart(name, uploadId, 2, secondMiB, context);
   */
  uploadPart(
    name: string,
    uploadId: string,
    partNo: number,
    data: Uint8Array,
    context: multipart.MultipartCryptoContext,
    options?: CallOptions,
  ): Promise<multipart.UploadPartResult> {
    return multipart.uploadPart(this.context, name, uploadId, partNo, data, context, options);
  }

  /**
   * ali-oss `completeMultipartUpload`; with `options.context`, checks that every planned part is listed and
   * verifies the object's CRC-64 against the parts'.
   * @throws {PartError} PART_INVALID for missing parts; {@link IntegrityError} INTEGRITY_CRC64
   * @example
   *   await client.completeMultipartUpload(name, uploadId, parts, { context });
   */
  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: readonly multipart.UploadedPart[],
    options?: multipart.CompleteMultipartUploadOptions,
  ): Promise<multipart.CompleteMultipartUploadResult> {
    return multipart.completeMultipartUpload(this.context, name, uploadId, parts, options);
  }

  /**
   * ali-oss `abortMultipartUpload` (with retries).
   * @example
   *   await client.abortMultipartUpload(name, uploadId);
   */
  abortMultipartUpload(name: string, uploadId: string, options?: CallOptions): Promise<ResponseOnly> {
    return multipart.abortMultipartUpload(this.context, name, uploadId, options);
  }

  /**
   * ali-oss `listParts` (with retries).
   * @example
   *   const { parts } = await client.listParts(name, uploadId);
   */
  listParts(name: string, uploadId: string, query?: ListPartsQuery, options?: CallOptions): Promise<ListPartsPage> {
    return multipart.listParts(this.context, name, uploadId, query, options);
  }

  /**
   * ali-oss `uploadPartCopy`; refused (after a HEAD of the source) when the source is encrypted.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for an encrypted source
   * @example
   *   await client.uploadPartCopy('t', uploadId, 1, '0-102399', { sourceKey: 'plain.bin', sourceBucketName: 'b' });
   */
  uploadPartCopy(
    name: string,
    uploadId: string,
    partNo: number,
    range: string,
    sourceData: { sourceKey: string; sourceBucketName?: string },
    options?: VersionedCallOptions,
  ): Promise<UploadPartCopyResult> {
    return object.uploadPartCopy(this.context, name, uploadId, partNo, range, sourceData, options);
  }

  /**
   * ali-oss `multipartUploadCopy` (a server-side copy in parts, for sources over 1 GB); refused (after a HEAD of
   * the source) when the source is encrypted, since ali-oss would start the target without its key and OSS refuses
   * UploadPartCopy from an encrypted source (0042-00000309). Use `copy` instead.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for an encrypted source
   * @example
   *   await client.multipartUploadCopy('t', { sourceKey: 'plain.bin', sourceBucketName: 'b' });
   */
  multipartUploadCopy(
    name: string,
    sourceData: { sourceKey: string; sourceBucketName?: string },
    options?: CallOptions & { partSize?: number; parallel?: number; versionId?: string },
  ): Promise<MultipartUploadCopyResult> {
    return object.multipartUploadCopy(this.context, name, sourceData, options);
  }

  /**
   * ali-oss `getObjectMeta` (passthrough): ETag, size and Last-Modified. The size of an encrypted object is its
   * plaintext size (CTR adds no bytes).
   * @example
   *   const { res } = await client.getObjectMeta('a.bin');
   */
  getObjectMeta(name: string, options?: VersionedCallOptions): Promise<ObjectMetaResult> {
    return object.getObjectMeta(this.context, name, options) as Promise<ObjectMetaResult>;
  }

  /**
   * ali-oss `listUploads` (passthrough with retries): the multipart uploads in progress.
   * @example
   *   const { uploads } = await client.listUploads({ prefix: 'backups/' });
   */
  listUploads(query?: ListUploadsQuery, options?: CallOptions): Promise<ListUploadsResult> {
    return object.listUploads(this.context, query, options);
  }

  /**
   * ali-oss `useBucket`, without changing this client: returns a client over bucket `name` with the same key
   * material, engine and policies (ali-oss's changes its client in place; here both stay usable).
   * @throws {Error} ali-oss's error for an invalid bucket name
   * @example
   *   const logs = client.useBucket('my-logs');
   *   await logs.put('today.txt', Buffer.from('...'));
   */
  useBucket(name: string): this {
    const c = this.context;
    // The same class as this client (the Node or the web one), over the other bucket, with every policy kept.
    const Client = this.constructor as new (store: ObjectStore, options: CryptoClientOptions) => this;
    return new Client(c.store.withBucket(name), {
      keyring: c.keyring,
      backend: c.backend,
      plaintext: c.plaintext,
      retry: c.retry,
      partSize: c.partSize,
      parallel: c.parallel,
      multipartThreshold: c.multipartThreshold,
      contentMd5: c.contentMd5,
      commitment: c.commitment,
      verify: c.verify,
    });
  }

  /**
   * Deletes an object (ali-oss passthrough: nothing to decrypt). Idempotent, so transient failures are retried
   * like every other call (with the fetch store, the client is the only retry layer).
   * @example
   *   await client.delete('a.bin');
   */
  delete(name: string, options?: VersionedCallOptions): Promise<ResponseOnly> {
    return this.#retried(() => this.context.store.deleteObject(name, copyOptions(options)), options) as Promise<ResponseOnly>;
  }

  /**
   * Deletes several objects (ali-oss passthrough).
   * @example
   *   await client.deleteMulti(['a.bin', 'b.bin'], { quiet: true });
   */
  deleteMulti(names: string[], options?: DeleteMultiOptions): Promise<DeleteMultiResult> {
    return this.#retried(() => this.context.store.deleteObjects(names, copyOptions(options)), options) as Promise<DeleteMultiResult>;
  }

  /**
   * Lists objects (ali-oss passthrough). Sizes are stored sizes, equal to plaintext sizes (CTR adds no bytes).
   * @example
   *   const { objects } = await client.list({ prefix: 'photos/', 'max-keys': 100 });
   */
  list(query?: ListQuery | null, options?: CallOptions): Promise<ListResult> {
    // ali-oss's answer, as the store hands it on (its shape is ali-oss's, typed in call-types.ts).
    return this.#retried(() => this.context.store.listObjects(query, copyOptions(options)), options) as unknown as Promise<ListResult>;
  }

  /**
   * Lists objects with the V2 API (ali-oss passthrough).
   * @example
   *   const { objects } = await client.listV2({ prefix: 'photos/' });
   */
  listV2(query?: ListV2Query, options?: CallOptions): Promise<ListV2Result> {
    return this.#retried(() => this.context.store.listObjectsV2(query, copyOptions(options)), options) as unknown as Promise<ListV2Result>;
  }

  /**
   * A signed GET/HEAD URL (ali-oss passthrough). It serves the **ciphertext**: whoever fetches it needs the key
   * and the object's metadata to decrypt. PUT/POST URLs and `process` are refused (an upload through such a
   * URL would not be encrypted).
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for `method: 'PUT'`/'POST' or `process`
   * @example
   *   const url = client.signatureUrl('a.bin', { expires: 600 });
   */
  signatureUrl(name: string, options?: SignatureUrlOptions, strictObjectNameValidation?: boolean): string {
    refuseSignedUpload('signatureUrl', options?.method, options);
    return this.context.store.signatureUrl(name, options, strictObjectNameValidation);
  }

  /**
   * {@link signatureUrl}, refreshing an STS token first when ali-oss is configured to (passthrough).
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for PUT/POST or `process`
   * @example
   *   const url = await client.asyncSignatureUrl('a.bin', { expires: 600 });
   */
  async asyncSignatureUrl(name: string, options?: SignatureUrlOptions, strictObjectNameValidation?: boolean): Promise<string> {
    refuseSignedUpload('asyncSignatureUrl', options?.method, options);
    return this.context.store.asyncSignatureUrl(name, options, strictObjectNameValidation);
  }

  /**
   * A V4-signed URL for GET/HEAD (passthrough; serves ciphertext). PUT/POST are refused.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for PUT/POST or `x-oss-process`
   * @example
   *   const url = await client.signatureUrlV4('GET', 600, undefined, 'a.bin');
   */
  async signatureUrlV4(
    method: string,
    expires: number,
    request?: { headers?: Record<string, unknown>; queries?: Record<string, unknown> },
    objectName?: string,
    additionalHeaders?: string[],
  ): Promise<string> {
    refuseSignedUpload('signatureUrlV4', method, { headers: request?.headers, query: request?.queries });
    return this.context.store.signatureUrlV4(method, expires, request, objectName, additionalHeaders);
  }

  /**
   * Refused: appending cannot keep an encrypted object consistent.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED, before any request
   */
  append(_name: string, _file: unknown, _options?: Record<string, unknown>): Promise<never> {
    return Promise.reject(refusal('append', REFUSED_REASONS.append));
  }

  /**
   * Refused: the server would process ciphertext.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED, before any request
   */
  processObjectSave(_sourceObject: string, _targetObject: string, _process: string, _targetBucket?: string): Promise<never> {
    return Promise.reject(refusal('processObjectSave', REFUSED_REASONS.processObjectSave));
  }

  /**
   * Refused: the server would scan ciphertext.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED, before any request
   */
  selectObject(_name: string, _expression?: unknown, _options?: Record<string, unknown>): Promise<never> {
    return Promise.reject(refusal('selectObject', REFUSED_REASONS.selectObject));
  }

  /**
   * Refused: the server would scan ciphertext.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED, before any request
   */
  createSelectObjectMeta(_name: string, _options?: Record<string, unknown>): Promise<never> {
    return Promise.reject(refusal('createSelectObjectMeta', REFUSED_REASONS.selectObjectMeta));
  }

  /** A passthrough call with this client's retry policy (the fetch store leaves retries to the client). */
  #retried<T>(call: () => Promise<T>, options: { signal?: AbortSignal } | undefined): Promise<T> {
    return withRetry(call, this.context.retry, { signal: signalOf(options) });
  }
}
