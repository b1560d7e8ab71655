/**
 * `fetchObjectStore(options)`: the second implementation of `ObjectStore` (docs/ARCHITECTURE.md §4), over the
 * global `fetch`, Web Crypto and Web Streams only, so a `CryptoClient` runs wherever those exist (browsers,
 * Cloudflare Workers, Deno, Bun, Node). Requests are signed with OSS signature V4 (signer-v4.ts); answers come
 * back in ali-oss's result shapes (`res`, `name`, `etag`, `uploadId`, `objects`, `parts` with `PartNumber`...),
 * because `CryptoClient` hands several of them to its callers unchanged; failures are {@link OssRequestError}s
 * with ali-oss's fields (`code`, `status`, `requestId`, `ec`).
 *
 * Retries live in one layer: `CryptoClient` wraps every store call in util/retry.ts (it alone knows whether a
 * body can be rebuilt: a part re-encrypted, a caller's stream not). So this store sends each request once, and
 * its `retry` option is handed up as {@link FetchObjectStore.retryPolicy}, the client's default policy.
 *
 * What the fetch platform cannot do, refused with a TypeError naming the alternative: the synchronous V1
 * `signatureUrl` (Web Crypto signs asynchronously: use `asyncSignatureUrl` / `signatureUrlV4`) and
 * `multipartUploadCopy`. DeleteMultipleObjects needs a Content-MD5, which Web Crypto cannot compute, so
 * `deleteObjects` sends one DeleteObject per name.
 * @module
 */
import type { RetryPolicy } from '../../util/retry.js';
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
  StoreResponse,
  StoreResult,
  UploadPartReply,
} from '../object-store.js';
import { createOssHttp, queryString, type FetchOssOptions, type OssHttp, type OssHttpResponse } from './http.js';
import { completeMultipartUpload } from './multipart.js';
import { listObjects, signObjectUrl } from './objects.js';
import { userMeta } from './results.js';
import { presignV4Query } from './signer-v4.js';
import { childrenNamed, childText, parseXml, type XmlElement } from './xml.js';

/**
 * Options of {@link fetchObjectStore}: where the bucket is and how to sign (see {@link FetchOssOptions}).
 * @example
 *   const options: FetchObjectStoreOptions = { endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', bucket: 'b',
 *     region: 'cn-hangzhou', credentials: { accessKeyId, accessKeySecret } };
 */
export type FetchObjectStoreOptions = FetchOssOptions;

/**
 * An {@link ObjectStore} over fetch; `retryPolicy` is what `CryptoClient` retries with when given no `retry`.
 * @example
 *   const store: FetchObjectStore = fetchObjectStore(options);
 */
export interface FetchObjectStore extends ObjectStore {
  readonly retryPolicy: Partial<RetryPolicy> | undefined;
}

/**
 * Builds the fetch implementation of `ObjectStore` for one bucket.
 * @param options endpoint (with scheme), bucket, region, credentials (a key pair or an async STS provider),
 *   pathStyle, retry, timeout
 * @returns the store, for `new CryptoClient(store, { material })`
 * @throws {TypeError} for a malformed endpoint, bucket, region or credentials
 * @throws {RangeError} for an unusable timeout or retry policy
 * @example
 *   const store = fetchObjectStore({ endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', bucket: 'my-bucket',
 *     region: 'cn-hangzhou', credentials: { accessKeyId, accessKeySecret } });
 *   const client = new CryptoClient(store, { material: rsaKeyWrapper({ publicKey, privateKey }) });
 *   await client.put('a.txt', new TextEncoder().encode('hi'));
 */
export function fetchObjectStore(options: FetchObjectStoreOptions): FetchObjectStore {
  // One retry layer: the client's (see the module comment). The store's own transport sends once.
  const http = createOssHttp({ ...options, retry: { ...(options?.retry ?? {}), retries: 0 } });
  return new FetchStore(http, options);
}

class FetchStore implements FetchObjectStore {
  readonly runtime = 'fetch (OSS signature V4)';
  readonly #http: OssHttp;
  readonly retryPolicy: Partial<RetryPolicy> | undefined;
  readonly #options: FetchObjectStoreOptions;

  constructor(http: OssHttp, options: FetchObjectStoreOptions) {
    this.#http = http;
    this.#options = options;
    this.retryPolicy = options.retry;
  }

  /** The same endpoint, credentials and settings over another bucket (its name checked as at construction). */
  withBucket(bucket: string): FetchObjectStore {
    return fetchObjectStore({ ...this.#options, bucket });
  }

  get bucket(): string {
    return this.#http.bucket;
  }

  objectUrl(name: string): string {
    return this.#http.objectUrl(name);
  }

  async putObject(name: string, body: Uint8Array, options: StoreOptions): Promise<PutObjectResult> {
    const started = Date.now();
    const res = await this.#http.send({ method: 'PUT', key: name, headers: requestHeaders(options, true), body: body as Uint8Array<ArrayBuffer>, read: 'none' });
    return { name, url: this.objectUrl(name), res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async putObjectStream(name: string, body: AsyncIterable<unknown> | ReadableStream<Uint8Array>, options: StoreOptions): Promise<PutObjectResult> {
    const started = Date.now();
    const stream = body instanceof ReadableStream ? body : streamFromIterable(body);
    const res = await this.#http.send({ method: 'PUT', key: name, headers: requestHeaders(options, true), body: stream, read: 'none' });
    return { name, url: this.objectUrl(name), res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async getObject(name: string, options: StoreOptions): Promise<GetObjectResult> {
    const started = Date.now();
    const res = await this.#http.send({ method: 'GET', key: name, query: versionQuery(options), headers: requestHeaders(options, false), read: 'bytes' });
    return { content: res.bytes, res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async openObject(name: string, options: StoreOptions): Promise<OpenedObject> {
    const res = await this.#http.send({
      method: 'GET',
      key: name,
      query: versionQuery(options),
      headers: requestHeaders(options, false),
      read: 'stream',
      accept: [304],
    });
    const body = res.stream ?? streamFromIterable(res.bytes && res.bytes.length > 0 ? [res.bytes] : []);
    return { status: res.status, headers: res.headers, body, requestUrls: [this.objectUrl(name)] };
  }

  async headObject(name: string, options: StoreOptions, bucket?: string): Promise<HeadObjectResult> {
    const started = Date.now();
    const target = bucket ?? this.#http.bucket;
    const res = await this.#http.send({ method: 'HEAD', key: name, bucket: target, query: versionQuery(options), headers: requestHeaders(options, false), read: 'none' });
    const own = target === this.#http.bucket;
    return { status: res.status, meta: own ? userMeta(res.headers) : undefined, res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async deleteObject(name: string, options?: StoreOptions): Promise<StoreResult> {
    const started = Date.now();
    const res = await this.#http.send({ method: 'DELETE', key: name, query: versionQuery(options ?? {}), headers: requestHeaders(options ?? {}, false), read: 'none' });
    return { res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async deleteObjects(names: string[], options?: StoreOptions): Promise<StoreResult> {
    let last: StoreResult | undefined;
    for (const name of names) last = await this.deleteObject(name, options);
    return { res: last?.res ?? { status: 200, headers: {} }, deleted: names.map((Key) => ({ Key })) };
  }

  async listObjects(query?: Record<string, unknown> | null, options?: StoreOptions): Promise<StoreResult> {
    const q = query ?? {};
    const started = Date.now();
    const page = await listObjects(
      this.#http,
      { prefix: text(q.prefix), marker: text(q.marker), delimiter: text(q.delimiter), maxKeys: q['max-keys'] === undefined ? undefined : Number(q['max-keys']) },
      { headers: requestHeaders(options ?? {}, false) },
    );
    const objects = page.objects.map((o) => ({ ...o, url: this.objectUrl(o.name) }));
    const res = storeResponse(page, started, this.#http.objectUrl(undefined));
    return { res, objects, prefixes: page.prefixes, isTruncated: page.isTruncated, nextMarker: page.nextMarker ?? null };
  }

  async listObjectsV2(query?: Record<string, unknown>, options?: StoreOptions): Promise<StoreResult> {
    const q = query ?? {};
    const params: Array<[string, string]> = [['list-type', '2'], ['encoding-type', 'url']];
    for (const key of ['prefix', 'delimiter', 'start-after', 'continuation-token', 'max-keys', 'fetch-owner']) {
      if (q[key] !== undefined && q[key] !== null) params.push([key, String(q[key])]);
    }
    const started = Date.now();
    const res = await this.#http.send({ method: 'GET', query: params, headers: requestHeaders(options ?? {}, false), read: 'text' });
    const root = parseXml(res.text ?? '');
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
    const objects = childrenNamed(root, 'Contents').map((c) => listedObject(c, decode, this));
    return {
      res: storeResponse(res, started, this.#http.objectUrl(undefined)),
      objects,
      prefixes: childrenNamed(root, 'CommonPrefixes').map((p) => decode(childText(p, 'Prefix') ?? '')),
      isTruncated: childText(root, 'IsTruncated') === 'true',
      keyCount: Number(childText(root, 'KeyCount') ?? objects.length),
      continuationToken: childText(root, 'ContinuationToken') ?? null,
      nextContinuationToken: childText(root, 'NextContinuationToken') ?? null,
    };
  }

  async copyObject(name: string, sourceName: string, sourceBucket: string | undefined, options: StoreOptions): Promise<StoreResult> {
    const headers = requestHeaders(options, true);
    // As ali-oss's copy: new metadata replaces the source's, otherwise it is copied.
    if (options.meta && !Object.keys(headers).some((h) => h.toLowerCase() === 'x-oss-metadata-directive')) headers['x-oss-metadata-directive'] = 'REPLACE';
    headers['x-oss-copy-source'] = copySource(sourceBucket ?? this.#http.bucket, sourceName, options);
    const started = Date.now();
    const res = await this.#http.send({ method: 'PUT', key: name, headers, read: 'text' });
    const root = res.text ? parseXml(res.text) : undefined;
    const data = { etag: (root && childText(root, 'ETag')) ?? res.headers.etag, lastModified: root && childText(root, 'LastModified') };
    return { data, res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async initiateMultipartUpload(name: string, options: StoreOptions): Promise<InitiateResult> {
    const started = Date.now();
    const res = await this.#http.send({ method: 'POST', key: name, query: [['uploads', '']], headers: requestHeaders(options, true), read: 'text' });
    const uploadId = childText(parseXml(res.text ?? ''), 'UploadId');
    if (uploadId === undefined || uploadId === '') throw new TypeError(`InitiateMultipartUpload of ${JSON.stringify(name)}: the answer has no UploadId`);
    return { res: storeResponse(res, started, this.objectUrl(name)), bucket: this.#http.bucket, name, uploadId };
  }

  async uploadPart(name: string, uploadId: string, partNo: number, body: Uint8Array, options: StoreOptions): Promise<UploadPartReply> {
    const started = Date.now();
    const query: Array<[string, string]> = [['partNumber', String(partNo)], ['uploadId', uploadId]];
    const res = await this.#http.send({ method: 'PUT', key: name, query, headers: requestHeaders(options, false), body: body as Uint8Array<ArrayBuffer>, read: 'none' });
    return { name, etag: res.headers.etag ?? '', res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: ReadonlyArray<{ number: number; etag: string }>,
    options: StoreOptions,
  ): Promise<CompleteResult> {
    const started = Date.now();
    const list = parts.map((p) => ({ partNumber: p.number, etag: p.etag }));
    const done = await completeMultipartUpload(this.#http, name, uploadId, list, { headers: requestHeaders(options, false) });
    return { res: storeResponse(done, started, this.objectUrl(name)), bucket: this.#http.bucket, name, etag: done.etag ?? '', data: undefined };
  }

  async abortMultipartUpload(name: string, uploadId: string, options: StoreOptions): Promise<StoreResult> {
    const started = Date.now();
    const res = await this.#http.send({ method: 'DELETE', key: name, query: [['uploadId', uploadId]], headers: requestHeaders(options, false), read: 'none' });
    return { res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async listParts(name: string, uploadId: string, query: Record<string, unknown> | undefined, options: StoreOptions): Promise<ListPartsResult> {
    const params: Array<[string, string]> = [['uploadId', uploadId]];
    for (const key of ['max-parts', 'part-number-marker', 'encoding-type']) if (query?.[key] !== undefined) params.push([key, String(query[key])]);
    const started = Date.now();
    const res = await this.#http.send({ method: 'GET', key: name, query: params, headers: requestHeaders(options, false), read: 'text' });
    const root = parseXml(res.text ?? '');
    // ali-oss hands ListParts' elements on by their XML names, as strings.
    const parts = childrenNamed(root, 'Part').map((p) => Object.fromEntries(p.children.map((c) => [c.name, c.text])));
    return {
      res: storeResponse(res, started, this.objectUrl(name)),
      uploadId,
      bucket: this.#http.bucket,
      name,
      partNumberMarker: childText(root, 'PartNumberMarker'),
      nextPartNumberMarker: childText(root, 'NextPartNumberMarker'),
      maxParts: childText(root, 'MaxParts'),
      isTruncated: childText(root, 'IsTruncated') === 'true',
      parts,
      ...clientEncryptionOf(root),
    };
  }

  async uploadPartCopy(
    name: string,
    uploadId: string,
    partNo: number,
    range: string,
    source: { sourceKey: string; sourceBucketName?: string },
    options: StoreOptions,
  ): Promise<StoreResult> {
    const headers = requestHeaders(options, false);
    headers['x-oss-copy-source'] = copySource(source.sourceBucketName ?? this.#http.bucket, source.sourceKey, options);
    if (range) headers['x-oss-copy-source-range'] = range.startsWith('bytes=') ? range : `bytes=${range}`;
    const started = Date.now();
    const query: Array<[string, string]> = [['partNumber', String(partNo)], ['uploadId', uploadId]];
    const res = await this.#http.send({ method: 'PUT', key: name, query, headers, read: 'text' });
    const root = res.text ? parseXml(res.text) : undefined;
    return { name, etag: (root && childText(root, 'ETag')) ?? res.headers.etag ?? '', res: storeResponse(res, started, this.objectUrl(name)) };
  }

  multipartUploadCopy(): Promise<StoreResult> {
    throw new TypeError(`multipartUploadCopy: the ${this.runtime} store has none; copy parts with uploadPartCopy`);
  }

  async getObjectMeta(name: string, options: StoreOptions): Promise<HeadObjectResult> {
    const started = Date.now();
    const query: Array<[string, string]> = [['objectMeta', ''], ...versionQuery(options)];
    const res = await this.#http.send({ method: 'HEAD', key: name, query, headers: requestHeaders(options, false), read: 'none' });
    return { status: res.status, res: storeResponse(res, started, this.objectUrl(name)) };
  }

  async listUploads(query: Record<string, unknown> | undefined, options: StoreOptions): Promise<StoreResult> {
    const params: Array<[string, string]> = [['uploads', '']];
    for (const key of ['prefix', 'delimiter', 'key-marker', 'upload-id-marker', 'max-uploads']) {
      if (query?.[key] !== undefined && query[key] !== null) params.push([key, String(query[key])]);
    }
    const started = Date.now();
    const res = await this.#http.send({ method: 'GET', query: params, headers: requestHeaders(options, false), read: 'text' });
    const root = parseXml(res.text ?? '');
    // ali-oss's listUploads shape: `uploads` of { name, uploadId, initiated }, markers and `isTruncated`.
    const uploads = childrenNamed(root, 'Upload').map((u) => ({ name: childText(u, 'Key') ?? '', uploadId: childText(u, 'UploadId') ?? '', initiated: childText(u, 'Initiated') }));
    return {
      res: storeResponse(res, started, this.#http.objectUrl(undefined)),
      uploads,
      bucket: childText(root, 'Bucket'),
      nextKeyMarker: childText(root, 'NextKeyMarker'),
      nextUploadIdMarker: childText(root, 'NextUploadIdMarker'),
      isTruncated: childText(root, 'IsTruncated') === 'true',
    };
  }

  signatureUrl(): string {
    throw new TypeError(
      `signatureUrl: the ${this.runtime} store signs with Web Crypto, which is asynchronous; use asyncSignatureUrl() or signatureUrlV4()`,
    );
  }

  async asyncSignatureUrl(name: string, options?: Record<string, unknown>): Promise<string> {
    const method = String(options?.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      throw new TypeError(`asyncSignatureUrl: "method" expected GET or HEAD (signed URLs only read), got ${JSON.stringify(options?.method)}`);
    }
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries((options?.response as Record<string, unknown> | undefined) ?? {})) query[`response-${k.toLowerCase()}`] = String(v);
    return signObjectUrl(this.#http, name, { method, expires: options?.expires === undefined ? undefined : Number(options.expires), query });
  }

  async signatureUrlV4(
    method: string,
    expires: number,
    request?: { headers?: Record<string, unknown>; queries?: Record<string, unknown> },
    objectName?: string,
  ): Promise<string> {
    const upper = method.toUpperCase();
    if (upper !== 'GET' && upper !== 'HEAD') throw new TypeError(`signatureUrlV4: "method" expected GET or HEAD (signed URLs only read), got ${JSON.stringify(method)}`);
    const query = Object.entries(request?.queries ?? {}).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)] as [string, string]);
    const http = this.#http;
    const signed = await presignV4Query({ method: upper, bucket: http.bucket, key: objectName, query }, await http.credentials(), http.region, expires);
    return http.objectUrl(objectName) + queryString([...query, ...signed]);
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** ali-oss's options as request headers: `headers` as given, `meta` as `x-oss-meta-*`, `mime` as Content-Type. */
function requestHeaders(options: StoreOptions, withContentType: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined && v !== null) out[k] = String(v);
  for (const [k, v] of Object.entries(options.meta ?? {})) if (v !== undefined && v !== null) out[`x-oss-meta-${k}`] = String(v);
  const has = (name: string) => Object.keys(out).some((h) => h.toLowerCase() === name);
  if (typeof options.mime === 'string' && !has('content-type')) out['content-type'] = options.mime;
  if (withContentType && !has('content-type')) out['content-type'] = 'application/octet-stream';
  return out;
}

function versionQuery(options: StoreOptions): Array<[string, string]> {
  return typeof options.versionId === 'string' && options.versionId !== '' ? [['versionId', options.versionId]] : [];
}

/** The `ClientEncryption*` children OSS lists for a client-side-encrypted upload (as the Go v2 SDK reads them), by field. */
const CLIENT_ENCRYPTION_ELEMENTS = {
  key: 'ClientEncryptionKey',
  start: 'ClientEncryptionStart',
  cekAlg: 'ClientEncryptionCekAlg',
  wrapAlg: 'ClientEncryptionWrapAlg',
  dataSize: 'ClientEncryptionDataSize',
  partSize: 'ClientEncryptionPartSize',
} as const;

/** `{ clientEncryption }` when the ListParts body has any ClientEncryption* child, else nothing. */
function clientEncryptionOf(root: XmlElement): { clientEncryption?: ListPartsEncryption } {
  const out: Record<string, string> = {};
  for (const [field, element] of Object.entries(CLIENT_ENCRYPTION_ELEMENTS)) {
    const value = childText(root, element);
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length === 0 ? {} : { clientEncryption: out };
}

function copySource(bucket: string, key: string, options: StoreOptions): string {
  const version = typeof options.versionId === 'string' && options.versionId !== '' ? `?versionId=${encodeURIComponent(options.versionId)}` : '';
  return `/${bucket}/${encodeURIComponent(key)}${version}`;
}

function storeResponse(res: Pick<OssHttpResponse, 'status' | 'headers'>, started: number, url: string): StoreResponse {
  const length = Number(res.headers['content-length']);
  return {
    status: res.status,
    statusCode: res.status,
    headers: { ...res.headers },
    size: Number.isSafeInteger(length) ? length : 0,
    rt: Date.now() - started,
    requestUrls: [url],
  };
}

function listedObject(c: XmlElement, decode: (s: string) => string, store: FetchStore) {
  const name = decode(childText(c, 'Key') ?? '');
  return {
    name,
    url: store.objectUrl(name),
    lastModified: childText(c, 'LastModified') ?? '',
    etag: childText(c, 'ETag') ?? '',
    type: childText(c, 'Type'),
    size: Number(childText(c, 'Size') ?? 0),
    storageClass: childText(c, 'StorageClass'),
  };
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** A WHATWG stream over any async iterable of bytes or strings (a Node Readable is one), pulled as read. */
function streamFromIterable(source: AsyncIterable<unknown> | Iterable<unknown>): ReadableStream<Uint8Array> {
  const iterator =
    Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) return controller.close();
      const chunk = next.value;
      if (typeof chunk === 'string') controller.enqueue(encoder.encode(chunk));
      else if (chunk instanceof Uint8Array) controller.enqueue(chunk);
      else if (ArrayBuffer.isView(chunk)) controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else controller.error(new TypeError(`the body yielded ${typeof chunk}; expected bytes or strings`));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}
