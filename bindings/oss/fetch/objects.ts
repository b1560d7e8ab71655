/**
 * The single-object OSS calls of the fetch transport: PutObject (Uint8Array, Blob or ReadableStream), GetObject
 * (whole, ranged, streamed), HeadObject, DeleteObject, CopyObject, ListObjects (v1, keys URL-encoded on the
 * wire so any key survives the XML) and V4 signed URLs (GET/HEAD). Each returns a plain typed shape
 * (results.ts); failures are {@link OssRequestError}s.
 * @module
 */
import type { OssBody, OssHttp } from './http.js';
import { queryString } from './http.js';
import { lengthOf, objectResultOf, resultOf, userMeta, type ObjectBytes, type ObjectHead, type ObjectResult, type ObjectStream, type OssResult } from './results.js';
import { presignV4Query } from './signer-v4.js';
import { childrenNamed, childText, parseXml } from './xml.js';

/** Options every call takes. */
export interface CallOptions {
  /** Extra request headers (user metadata `x-oss-meta-*`, `x-oss-forbid-overwrite`, conditions...). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Options of a read. */
export interface GetOptions extends CallOptions {
  /** An HTTP Range value: `bytes=0-99`, `bytes=100-`, `bytes=-1000`. */
  readonly range?: string;
}

/** One listed object. */
export interface ListedObject {
  readonly name: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly type: string | undefined;
  readonly storageClass: string | undefined;
}

/** A page of ListObjects. */
export interface ListResult extends OssResult {
  readonly objects: ListedObject[];
  /** Common prefixes (with a delimiter). */
  readonly prefixes: string[];
  readonly isTruncated: boolean;
  /** Pass as `marker` to get the next page. */
  readonly nextMarker: string | undefined;
}

/** Query of a listing. */
export interface ListQuery {
  readonly prefix?: string;
  readonly marker?: string;
  readonly delimiter?: string;
  readonly maxKeys?: number;
}

/** PutObject. */
export async function putObject(http: OssHttp, key: string, body: OssBody, options: CallOptions = {}): Promise<ObjectResult> {
  const headers = withContentType(options.headers, body);
  const res = await http.send({ method: 'PUT', key: checkKey(key), headers, body, read: 'none', signal: options.signal });
  return objectResultOf(res);
}

/** GetObject, body read whole (ranged when `range` is given). */
export async function getObject(http: OssHttp, key: string, options: GetOptions = {}): Promise<ObjectBytes> {
  const res = await http.send({ method: 'GET', key: checkKey(key), headers: rangeHeaders(options), read: 'bytes', signal: options.signal });
  const body = res.bytes as Uint8Array;
  return { ...objectResultOf(res), body, contentLength: body.length, contentRange: res.headers['content-range'] };
}

/** GetObject with the body as a WHATWG stream (the caller's signal aborts it while it is read). */
export async function getObjectStream(http: OssHttp, key: string, options: GetOptions = {}): Promise<ObjectStream> {
  const res = await http.send({ method: 'GET', key: checkKey(key), headers: rangeHeaders(options), read: 'stream', signal: options.signal });
  // A response without a body stream (an empty 200) still gives the caller a stream, an empty one.
  const body = res.stream ?? streamOf(res.bytes ?? new Uint8Array(0));
  return { ...objectResultOf(res), body, contentLength: lengthOf(res.headers), contentRange: res.headers['content-range'] };
}

/** HeadObject. */
export async function headObject(http: OssHttp, key: string, options: CallOptions = {}): Promise<ObjectHead> {
  const res = await http.send({ method: 'HEAD', key: checkKey(key), headers: options.headers, read: 'none', signal: options.signal });
  return { ...objectResultOf(res), contentLength: lengthOf(res.headers) ?? 0, meta: userMeta(res.headers), lastModified: res.headers['last-modified'] };
}

/** DeleteObject (204 whether or not the object existed, as OSS answers). */
export async function deleteObject(http: OssHttp, key: string, options: CallOptions = {}): Promise<OssResult> {
  return resultOf(await http.send({ method: 'DELETE', key: checkKey(key), headers: options.headers, read: 'none', signal: options.signal }));
}

/**
 * CopyObject from `sourceKey` (in `sourceBucket`, default this bucket). Metadata is copied unless the headers
 * say `x-oss-metadata-directive: REPLACE`.
 */
export async function copyObject(http: OssHttp, key: string, sourceKey: string, options: CallOptions & { sourceBucket?: string } = {}): Promise<ObjectResult & { lastModified: string | undefined }> {
  const source = `/${options.sourceBucket ?? http.bucket}/${encodeURIComponent(checkKey(sourceKey))}`;
  const res = await http.send({ method: 'PUT', key: checkKey(key), headers: { ...(options.headers ?? {}), 'x-oss-copy-source': source }, read: 'text', signal: options.signal });
  const root = parseXml(res.text as string);
  return { ...objectResultOf(res), etag: childText(root, 'ETag') ?? res.headers.etag, lastModified: childText(root, 'LastModified') };
}

/** One page of ListObjects (v1). */
export async function listObjects(http: OssHttp, query: ListQuery = {}, options: CallOptions = {}): Promise<ListResult> {
  const params: Array<[string, string]> = [['encoding-type', 'url']];
  if (query.prefix !== undefined) params.push(['prefix', query.prefix]);
  if (query.marker !== undefined) params.push(['marker', query.marker]);
  if (query.delimiter !== undefined) params.push(['delimiter', query.delimiter]);
  if (query.maxKeys !== undefined) params.push(['max-keys', String(query.maxKeys)]);
  const res = await http.send({ method: 'GET', query: params, headers: options.headers, read: 'text', signal: options.signal });
  const root = parseXml(res.text as string);
  const decode = childText(root, 'EncodingType') === 'url' ? (s: string) => decodeURIComponent(s.replace(/\+/g, '%20')) : (s: string) => s;
  const objects = childrenNamed(root, 'Contents').map((c) => ({
    name: decode(childText(c, 'Key') ?? ''),
    size: Number(childText(c, 'Size') ?? 0),
    etag: childText(c, 'ETag') ?? '',
    lastModified: childText(c, 'LastModified') ?? '',
    type: childText(c, 'Type'),
    storageClass: childText(c, 'StorageClass'),
  }));
  const prefixes = childrenNamed(root, 'CommonPrefixes').map((p) => decode(childText(p, 'Prefix') ?? ''));
  const next = childText(root, 'NextMarker');
  return { ...resultOf(res), objects, prefixes, isTruncated: childText(root, 'IsTruncated') === 'true', nextMarker: next === undefined || next === '' ? undefined : decode(next) };
}

/** Options of {@link signObjectUrl}. */
export interface SignUrlOptions {
  /** GET (default) or HEAD: signed URLs here only read. */
  readonly method?: 'GET' | 'HEAD';
  /** Lifetime in seconds (1..604800). Default 1800. */
  readonly expires?: number;
  /** Sub-resources to sign into the URL (`response-content-type`...). */
  readonly query?: Readonly<Record<string, string>>;
  /** Signing time (tests). Default now. */
  readonly now?: Date;
}

/**
 * A V4 signed URL that reads `key` without credentials until it expires.
 * @throws {TypeError} when `method` is not GET or HEAD
 */
export async function signObjectUrl(http: OssHttp, key: string, options: SignUrlOptions = {}): Promise<string> {
  const method = options.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') throw new TypeError(`"method" expected "GET" or "HEAD" (signed URLs only read), got ${JSON.stringify(method)}`);
  const query = Object.entries(options.query ?? {});
  const signed = await presignV4Query({ method, bucket: http.bucket, key: checkKey(key), query }, await http.credentials(), http.region, options.expires ?? 1800, options.now);
  return http.objectUrl(key) + queryString([...query, ...signed]);
}

// ---------------------------------------------------------------------------------------------------------

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new TypeError(`"key" expected a non-empty string, got ${typeof key === 'string' ? '""' : typeof key}`);
  return key;
}

function rangeHeaders(options: GetOptions): Record<string, string> | undefined {
  if (options.range === undefined) return options.headers as Record<string, string> | undefined;
  if (!/^bytes=(\d+-\d*|-\d+)$/.test(options.range)) throw new TypeError(`"range" expected bytes=a-b, bytes=a- or bytes=-n, got ${JSON.stringify(options.range)}`);
  return { ...(options.headers ?? {}), range: options.range };
}

/** A PUT body is always sent with a Content-Type, so what fetch would add on its own is signed too. */
function withContentType(headers: Readonly<Record<string, string>> | undefined, body: OssBody): Record<string, string> {
  const out = { ...(headers ?? {}) };
  if (!Object.keys(out).some((h) => h.toLowerCase() === 'content-type')) out['content-type'] = body instanceof Blob && body.type !== '' ? body.type : 'application/octet-stream';
  return out;
}
