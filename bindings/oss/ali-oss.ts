/**
 * `ObjectStore` over an `ali-oss` client (its Node or browser build): the only file that knows ali-oss's internals.
 *
 * Three calls need more than ali-oss's public methods, and reach its request layer (so its signing, endpoint,
 * agent, timeouts and `retryMax` apply exactly as to its own calls):
 * - `openObject`: ali-oss's `getStream` drops an error answer's body and reports every status but 404/412 as
 *   `UnknownError`; its `get` parses the body but buffers successes. So the GET goes through
 *   `_objectRequestParams` + `request` with `customResponse` (the body is streamed) and every status accepted
 *   (`successStatuses`), and an error answer is read and turned into ali-oss's own error by `requestError`, as
 *   `get` does: `err.code`, `err.name`, `err.status` are what ali-oss users expect (`InvalidRange` for a 416).
 * - `headObject` in another bucket: ali-oss's `head` only reaches `options.bucket`.
 * - `objectUrl`: ali-oss's `_objectUrl`, the `url` its `put` returns.
 * Every member read is listed in {@link ALI_OSS_MEMBERS} and checked when the store is built, so an ali-oss
 * release that renames one fails at construction with its version named, not mid-upload. ali-oss's errors
 * pass through untouched.
 *
 * `withBucket` gives a store over another bucket without touching the given client (ali-oss's own `useBucket`
 * changes the client in place): a new object whose prototype is the client, with its own copy of `options`
 * (where ali-oss reads the bucket), so credentials, endpoint, agent and every method are shared.
 *
 * Deliberately not here: retries, encryption, and any check of what OSS answers (the callers above do those).
 * @module
 */
import type { Readable } from 'node:stream';
import type {
  CompleteResult,
  GetObjectResult,
  HeadObjectResult,
  InitiateResult,
  ListPartsEncryption,
  ListPartsResult,
  ObjectStore,
  OpenedObject,
  PutObjectResult,
  StoreOptions,
  StoreResult,
  UploadPartReply,
} from './object-store.js';

/**
 * The public part of an `ali-oss` client that callers hand to `CryptoClient`. A real `new OSS({...})` (Node or
 * browser build) satisfies it; options are `any` on purpose: @types/ali-oss declares a different options
 * interface per method, and a stricter type here would make `new CryptoClient(new OSS(...))` fail to type-check
 * for TypeScript users (test/typecheck.test.ts proves it does not). The other members the store uses are
 * checked at run time ({@link ALI_OSS_MEMBERS}).
 * @example
 *   const oss: AliOssLike = new OSS({ region: 'oss-cn-hangzhou', bucket, accessKeyId, accessKeySecret });
 *   const client = new CryptoClient(oss, { material });
 */
export interface AliOssLike {
  put(name: string, file: unknown, options?: any): Promise<any>;
  putStream(name: string, stream: unknown, options?: any): Promise<any>;
  get(name: string, file?: unknown, options?: any): Promise<any>;
  getStream(name: string, options?: any): Promise<any>;
  head(name: string, options?: any): Promise<any>;
  delete(name: string, options?: any): Promise<any>;
  list(query?: any, options?: any): Promise<any>;
  copy(name: string, sourceName: string, sourceBucket?: unknown, options?: any): Promise<any>;
}

/**
 * Every ali-oss member the store calls (public methods beyond {@link AliOssLike}, and the private request
 * layer), checked on construction.
 * @example
 *   for (const m of ALI_OSS_MEMBERS) console.log(m, typeof (new OSS(opts) as any)[m]);
 */
export const ALI_OSS_MEMBERS = Object.freeze([
  'put',
  'putStream',
  'get',
  'head',
  'delete',
  'deleteMulti',
  'list',
  'listV2',
  'copy',
  'initMultipartUpload',
  'uploadPart',
  'completeMultipartUpload',
  'abortMultipartUpload',
  'listParts',
  'uploadPartCopy',
  'multipartUploadCopy',
  'getObjectMeta',
  'listUploads',
  'useBucket',
  'signatureUrl',
  'asyncSignatureUrl',
  'signatureUrlV4',
  '_objectRequestParams',
  'request',
  'requestError',
  '_objectUrl',
] as const);

/** The request parameters ali-oss's `_objectRequestParams` builds and `request` takes. */
interface RequestParams {
  bucket?: string;
  customResponse?: boolean;
  successStatuses?: number[];
  [param: string]: unknown;
}

/** ali-oss as this file uses it: the typed view of the members in {@link ALI_OSS_MEMBERS}. */
interface AliOssInternals {
  readonly options?: { bucket?: unknown };
  readonly userAgent?: unknown;
  put(name: string, file: unknown, options?: unknown): Promise<any>;
  putStream(name: string, stream: unknown, options?: unknown): Promise<any>;
  get(name: string, options?: unknown): Promise<any>;
  head(name: string, options?: unknown): Promise<any>;
  delete(name: string, options?: unknown): Promise<any>;
  deleteMulti(names: string[], options?: unknown): Promise<any>;
  list(query?: unknown, options?: unknown): Promise<any>;
  listV2(query?: unknown, options?: unknown): Promise<any>;
  copy(name: string, sourceName: string, sourceBucket?: unknown, options?: unknown): Promise<any>;
  initMultipartUpload(name: string, options?: unknown): Promise<any>;
  uploadPart(name: string, uploadId: string, partNo: number, file: unknown, start: number, end: number, options?: unknown): Promise<any>;
  completeMultipartUpload(name: string, uploadId: string, parts: unknown, options?: unknown): Promise<any>;
  abortMultipartUpload(name: string, uploadId: string, options?: unknown): Promise<any>;
  listParts(name: string, uploadId: string, query?: unknown, options?: unknown): Promise<any>;
  uploadPartCopy(name: string, uploadId: string, partNo: number, range: string, source: unknown, options?: unknown): Promise<any>;
  multipartUploadCopy(name: string, source: unknown, options?: unknown): Promise<any>;
  getObjectMeta(name: string, options?: unknown): Promise<any>;
  listUploads(query?: unknown, options?: unknown): Promise<any>;
  useBucket(name: string): unknown;
  signatureUrl(name: string, options?: unknown, strict?: boolean): string;
  asyncSignatureUrl(name: string, options?: unknown, strict?: boolean): Promise<string>;
  signatureUrlV4(method: string, expires: number, request?: unknown, objectName?: string, additionalHeaders?: string[]): Promise<string>;
  _objectRequestParams(method: string, name: string, options: unknown): RequestParams;
  request(params: RequestParams): Promise<{ status: number; headers: Record<string, any>; res: any }>;
  requestError(result: { status: number; headers: Record<string, any>; data: Uint8Array }): Promise<Error & { params?: unknown }>;
  _objectUrl(name: string): string;
}

/** Every HTTP status: ali-oss must hand every answer back, so that errors can be read before it drops the body. */
const ANY_STATUS = Array.from({ length: 500 }, (_, i) => i + 100);

/**
 * Wraps an ali-oss client as an {@link ObjectStore}.
 * @param oss an `ali-oss` client instance (used as is: its endpoint, bucket, credentials and agent apply)
 * @returns the store
 * @throws {TypeError} when `oss` lacks a member the store needs, naming the ali-oss version
 * @example
 *   const store = aliOssStore(new OSS({ region, bucket, accessKeyId, accessKeySecret }));
 *   const { uploadId } = await store.initiateMultipartUpload('big.bin', {});
 */
export function aliOssStore(oss: AliOssLike): AliOssStore {
  return new AliOssStore(oss);
}

/**
 * The ali-oss implementation of {@link ObjectStore}. Methods are looked up on the client at each call, so a
 * client patched after construction (tests inject faults that way) is honoured.
 * @example
 *   const store = new AliOssStore(oss);
 *   await store.putObject('a.bin', bytes, { meta: { owner: 'me' } });
 */
export class AliOssStore implements ObjectStore {
  /** The wrapped ali-oss client, for calls outside the crypto layer (bucket settings, ACLs...). */
  readonly client: AliOssLike;
  readonly runtime: string;
  readonly #oss: AliOssInternals;

  /**
   * @param oss an ali-oss client
   * @throws {TypeError} when a member listed in {@link ALI_OSS_MEMBERS} is not a function on `oss`
   */
  constructor(oss: AliOssLike) {
    const internals = oss as unknown as AliOssInternals;
    this.runtime = `ali-oss ${aliOssVersion(internals)}`;
    const missing = ALI_OSS_MEMBERS.filter((m) => typeof (internals as unknown as Record<string, unknown>)[m] !== 'function');
    if (missing.length > 0) {
      throw new TypeError(
        `"oss": this ${this.runtime} client has no ${missing.map((m) => `${m}()`).join(', ')}, which ali-oss-crypto calls ` +
          '(it is built and tested against ali-oss 6.x); use a 6.x release of ali-oss',
      );
    }
    this.client = oss;
    this.#oss = internals;
  }

  get bucket(): string | undefined {
    const b = this.#oss.options?.bucket;
    return typeof b === 'string' && b !== '' ? b : undefined;
  }

  objectUrl(name: string): string | undefined {
    return this.#oss._objectUrl(name);
  }

  putObject(name: string, body: Uint8Array, options: StoreOptions): Promise<PutObjectResult> {
    return this.#oss.put(name, nodeBuffer(body), options);
  }

  putObjectStream(name: string, body: Readable, options: StoreOptions): Promise<PutObjectResult> {
    return this.#oss.putStream(name, body, options);
  }

  getObject(name: string, options: StoreOptions): Promise<GetObjectResult> {
    return this.#oss.get(name, options);
  }

  async openObject(name: string, options: StoreOptions): Promise<OpenedObject> {
    const oss = this.#oss;
    // As ali-oss's get.js builds its sub-resources.
    options.subres = { ...((options.subres as object | undefined) ?? {}) };
    if (options.versionId) (options.subres as Record<string, unknown>).versionId = options.versionId;
    const params = oss._objectRequestParams('GET', name, options);
    params.customResponse = true;
    params.successStatuses = ANY_STATUS;
    const result = await oss.request(params);
    if (result.status === 200 || result.status === 206 || result.status === 304) {
      const body = result.res as Readable;
      const urls = (body as { requestUrls?: unknown })?.requestUrls;
      return { status: result.status, headers: result.headers, body, requestUrls: Array.isArray(urls) ? urls : [] };
    }
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of result.res as AsyncIterable<Uint8Array>) chunks.push(chunk);
    } catch {
      // The error body is only for the message; a broken one still leaves the status.
    }
    const err = await oss.requestError({ status: result.status, headers: result.headers, data: concat(chunks) });
    err.params = params;
    throw err;
  }

  async headObject(name: string, options: StoreOptions, bucket?: string): Promise<HeadObjectResult> {
    if (bucket === undefined || bucket === this.#oss.options?.bucket) return this.#oss.head(name, options);
    options.subres = { ...(options.versionId ? { versionId: options.versionId } : {}) };
    const params = this.#oss._objectRequestParams('HEAD', name, options);
    params.bucket = bucket;
    params.successStatuses = [200];
    const result = await this.#oss.request(params);
    return { res: result.res, status: result.status };
  }

  deleteObject(name: string, options?: StoreOptions): Promise<StoreResult> {
    return this.#oss.delete(name, options);
  }

  deleteObjects(names: string[], options?: StoreOptions): Promise<StoreResult> {
    return this.#oss.deleteMulti(names, options);
  }

  listObjects(query?: Record<string, unknown> | null, options?: StoreOptions): Promise<StoreResult> {
    return this.#oss.list(query, options);
  }

  listObjectsV2(query?: Record<string, unknown>, options?: StoreOptions): Promise<StoreResult> {
    return this.#oss.listV2(query, options);
  }

  copyObject(name: string, sourceName: string, sourceBucket: string | undefined, options: StoreOptions): Promise<StoreResult> {
    return this.#oss.copy(name, sourceName, sourceBucket, options);
  }

  initiateMultipartUpload(name: string, options: StoreOptions): Promise<InitiateResult> {
    return this.#oss.initMultipartUpload(name, options);
  }

  uploadPart(name: string, uploadId: string, partNo: number, body: Uint8Array, options: StoreOptions): Promise<UploadPartReply> {
    const file = partBody(body);
    return this.#oss.uploadPart(name, uploadId, partNo, file, 0, (file as { length?: number }).length ?? (file as Blob).size, options);
  }

  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: ReadonlyArray<{ number: number; etag: string }>,
    options: StoreOptions,
  ): Promise<CompleteResult> {
    return this.#oss.completeMultipartUpload(name, uploadId, parts, options);
  }

  abortMultipartUpload(name: string, uploadId: string, options: StoreOptions): Promise<StoreResult> {
    return this.#oss.abortMultipartUpload(name, uploadId, options);
  }

  async listParts(name: string, uploadId: string, query: Record<string, unknown> | undefined, options: StoreOptions): Promise<ListPartsResult> {
    const result = await this.#oss.listParts(name, uploadId, query, options);
    // ali-oss parses the body but keeps only the fields it knows; the ClientEncryption* children are read from the
    // raw body it leaves in `res.data`.
    const clientEncryption = clientEncryptionOf((result.res as { data?: unknown } | undefined)?.data);
    return clientEncryption === undefined ? result : { ...result, clientEncryption };
  }

  uploadPartCopy(
    name: string,
    uploadId: string,
    partNo: number,
    range: string,
    source: { sourceKey: string; sourceBucketName?: string },
    options: StoreOptions,
  ): Promise<StoreResult> {
    return this.#oss.uploadPartCopy(name, uploadId, partNo, range, source, options);
  }

  multipartUploadCopy(name: string, source: { sourceKey: string; sourceBucketName?: string }, options: StoreOptions): Promise<StoreResult> {
    return this.#oss.multipartUploadCopy(name, source, options);
  }

  getObjectMeta(name: string, options: StoreOptions): Promise<HeadObjectResult> {
    return this.#oss.getObjectMeta(name, options);
  }

  listUploads(query: Record<string, unknown> | undefined, options: StoreOptions): Promise<StoreResult> {
    return this.#oss.listUploads(query ?? {}, options);
  }

  withBucket(bucket: string): ObjectStore {
    const other = Object.create(this.#oss) as AliOssInternals & { options: Record<string, unknown> };
    other.options = { ...(this.#oss.options ?? {}) };
    other.useBucket(bucket); // ali-oss checks the name, and sets it on the copy of options only
    return new AliOssStore(other as unknown as AliOssLike);
  }

  signatureUrl(name: string, options?: Record<string, unknown>, strictObjectNameValidation?: boolean): string {
    return this.#oss.signatureUrl(name, options, strictObjectNameValidation);
  }

  asyncSignatureUrl(name: string, options?: Record<string, unknown>, strictObjectNameValidation?: boolean): Promise<string> {
    return this.#oss.asyncSignatureUrl(name, options, strictObjectNameValidation);
  }

  signatureUrlV4(
    method: string,
    expires: number,
    request?: { headers?: Record<string, unknown>; queries?: Record<string, unknown> },
    objectName?: string,
    additionalHeaders?: string[],
  ): Promise<string> {
    return this.#oss.signatureUrlV4(method, expires, request, objectName, additionalHeaders);
  }
}

/** The ali-oss release, from the user agent it sends (`aliyun-sdk-nodejs/6.23.0 ...`, `aliyun-sdk-js/6.x ...`). */
function aliOssVersion(oss: AliOssInternals): string {
  const ua = typeof oss?.userAgent === 'string' ? oss.userAgent : '';
  return /aliyun-sdk-[a-z]+\/(\S+)/.exec(ua)?.[1] ?? '(unknown version)';
}

/** ali-oss's Node build sends a Buffer as is; it would treat a plain Uint8Array as an unknown body. */
function nodeBuffer(bytes: Uint8Array): Uint8Array {
  if (typeof Buffer !== 'function' || Buffer.isBuffer(bytes)) return bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** ali-oss's Node build wants a part as a Buffer (it streams it); its browser build takes a Blob. */
function partBody(bytes: Uint8Array): Uint8Array | Blob {
  if (typeof Buffer === 'function' && !(globalThis as { process?: { browser?: unknown } }).process?.browser) return nodeBuffer(bytes);
  return new Blob([bytes as Uint8Array<ArrayBuffer>]);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (typeof Buffer === 'function') return Buffer.concat(chunks);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

/** The `ListPartsResult` children the Go v2 SDK reads for a client-side-encrypted upload, by our field name. */
const CLIENT_ENCRYPTION_ELEMENTS = {
  key: 'ClientEncryptionKey',
  start: 'ClientEncryptionStart',
  cekAlg: 'ClientEncryptionCekAlg',
  wrapAlg: 'ClientEncryptionWrapAlg',
  dataSize: 'ClientEncryptionDataSize',
  partSize: 'ClientEncryptionPartSize',
} as const;

/** The ClientEncryption* values of a ListParts body (XML), or undefined when it has none. */
function clientEncryptionOf(body: unknown): ListPartsEncryption | undefined {
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : typeof body === 'string' ? body : undefined;
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [field, element] of Object.entries(CLIENT_ENCRYPTION_ELEMENTS)) {
    const m = new RegExp(`<${element}>([^<]*)</${element}>`).exec(text);
    if (m !== null) out[field] = unescapeXml(m[1]);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}
