/**
 * The option and result types of `CryptoClient`'s ali-oss-style methods (crypto-client.ts): ali-oss's names, each
 * option spelled out so that a misspelt option (`headres`) or a wrong type (`parallel: 'x'`) fails to compile
 * instead of being ignored, and every result typed instead of `any`. Field names and shapes follow ali-oss's
 * answers (and @types/ali-oss where it is right), so a `CryptoClient` can stand where user code expects the
 * ali-oss methods it implements (test/typecheck.test.ts).
 *
 * Option objects are type aliases, not interfaces: an alias of an object type is assignable to the
 * `Record<string, unknown>` the operations take, and object literals still get excess-property checks.
 *
 * Deliberately not here: any code (types only), and the options with their own modules (`PutOptions` in put.ts,
 * `MultipartUploadOptions` in upload/managed-options.ts, the download options in download/).
 * @module
 */
import type { StoreHeaders } from '../oss/object-store.js';

/**
 * Request headers (names as ali-oss takes them, e.g. `Range`, `If-Match`, `x-oss-forbid-overwrite`).
 * @example
 *   const headers: RequestHeaders = { Range: 'bytes=0-99', 'If-Match': etag };
 */
export type RequestHeaders = { readonly [header: string]: string | number | boolean | undefined };

/**
 * What most calls accept: ali-oss's `timeout`, `headers`, `ctx`, and this client's `signal`.
 * @example
 *   const options: CallOptions = { timeout: 60_000, headers: { 'If-Match': etag }, signal };
 */
export type CallOptions = {
  /** ali-oss: milliseconds (or `[connect, response]`). */
  timeout?: number | readonly [number, number];
  /** Header name → value (an object, as ali-oss takes it; @types/ali-oss declares it `object`). */
  headers?: object;
  /** ali-oss: a Koa context, passed through. */
  ctx?: unknown;
  /** Aborts the call (between retries; mid-body where the call streams). */
  signal?: AbortSignal;
};

/**
 * {@link CallOptions} of calls that address one version of an object.
 * @example
 *   await client.head('a.bin', { versionId });
 */
export type VersionedCallOptions = CallOptions & {
  versionId?: string;
  /** ali-oss: sub-resources added to the query (`versionId`...). */
  subres?: { readonly [name: string]: string | number | undefined };
};

/**
 * Options of `get` and `getStream`.
 * @example
 *   await client.get('a.bin', { headers: { Range: 'bytes=0-99' } });
 */
export type GetOptions = VersionedCallOptions & {
  /** ali-oss image processing: refused (the server has only ciphertext), typed so the refusal can say so. */
  process?: string;
  /** ali-oss: `response-*` overrides of the answer's headers. */
  responseCacheControl?: string;
};

/**
 * User metadata (names without `x-oss-meta-`).
 * @example
 *   const meta: UserMeta = { owner: 'me', revision: 3 };
 */
export type UserMeta = { readonly [name: string]: string | number };

/**
 * Options of `copy`.
 * @example
 *   await client.copy('b.bin', 'a.bin', { meta: { owner: 'me' } });
 */
export type CopyOptions = VersionedCallOptions & {
  meta?: UserMeta;
  /** Onto the same key of an encrypted object: write it again from its ciphertext (README "Changing metadata"). */
  rewrite?: boolean;
};

/**
 * Options of `putMeta`.
 * @example
 *   await client.putMeta('a.bin', { owner: 'me' }, { rewrite: true });
 */
export type PutMetaOptions = CallOptions & {
  /** For an encrypted object: write it again from its ciphertext (OSS refuses a metadata change in place). */
  rewrite?: boolean;
};

/**
 * Options of `deleteMulti`.
 * @example
 *   await client.deleteMulti(['a.bin', 'b.bin'], { quiet: true });
 */
export type DeleteMultiOptions = CallOptions & {
  /** ali-oss: quiet mode (the answer lists no deleted names). */
  quiet?: boolean;
  versionId?: string;
};

/**
 * The query of `list` (ali-oss ListObjects).
 * @example
 *   const { objects } = await client.list({ prefix: 'logs/', 'max-keys': 100 });
 */
export type ListQuery = {
  prefix?: string;
  marker?: string;
  delimiter?: string;
  'max-keys'?: number | string;
  'encoding-type'?: 'url' | '';
};

/**
 * The query of `listV2` (ali-oss ListObjectsV2).
 * @example
 *   const { objects } = await client.listV2({ prefix: 'logs/', 'max-keys': 100 });
 */
export type ListV2Query = {
  prefix?: string;
  'continuation-token'?: string;
  delimiter?: string;
  'max-keys'?: number | string;
  'start-after'?: string;
  'fetch-owner'?: boolean;
  'encoding-type'?: 'url' | '';
};

/**
 * The query of `listParts`.
 * @example
 *   const { parts } = await client.listParts(name, uploadId, { 'max-parts': 1000 });
 */
export type ListPartsQuery = { 'max-parts'?: number | string; 'part-number-marker'?: number | string; 'encoding-type'?: 'url' | '' };

/**
 * The query of `listUploads`.
 * @example
 *   const { uploads } = await client.listUploads({ prefix: 'big/' });
 */
export type ListUploadsQuery = { prefix?: string; 'key-marker'?: string; 'upload-id-marker'?: string; 'max-uploads'?: number | string; delimiter?: string };

/**
 * Options of `signatureUrl` / `asyncSignatureUrl` (GET and HEAD only: a signed upload would not be encrypted).
 * @example
 *   const url = client.signatureUrl('a.bin', { expires: 600 });
 */
export type SignatureUrlOptions = {
  expires?: number;
  method?: string;
  'Content-Type'?: string;
  process?: string;
  trafficLimit?: number;
  /** Sub-resources of the signed URL (name → value). */
  subResource?: object;
  /** `response-*` overrides (e.g. `{ 'content-disposition': 'attachment' }`). */
  response?: object;
  callback?: unknown;
};

/**
 * The HTTP answer ali-oss hands back as `res` (its urllib response, of which these fields are always present).
 * @example
 *   const { res } = await client.delete('a.bin');
 *   console.log(res.status, res.headers['x-oss-request-id']);
 */
export interface OssResponse {
  status: number;
  headers: StoreHeaders;
  size: number;
  rt: number;
  requestUrls?: string[];
}

/**
 * What `put` and `putStream` answer (ali-oss: `data` only with a callback).
 * @example
 *   const { name, url, res }: PutResult = await client.put('a.bin', bytes);
 */
export interface PutResult {
  name: string;
  url: string;
  data?: unknown;
  res: OssResponse;
}

/**
 * What `copy` and `putMeta` answer; after a rewrite (`rewrite: true`), CompleteMultipartUpload's fields too.
 * @example
 *   const { data }: CopyResult = await client.copy('b.bin', 'a.bin');
 */
export interface CopyResult {
  data: { etag: string; lastModified: string } | null;
  res: OssResponse;
}

/**
 * What a call answers that returns nothing but its response (`delete`, `abortMultipartUpload`).
 * @example
 *   const { res }: ResponseOnly = await client.delete('a.bin');
 */
export interface ResponseOnly {
  res: OssResponse;
}

/**
 * What `deleteMulti` answers.
 * @example
 *   const { deleted }: DeleteMultiResult = await client.deleteMulti(['a.bin']);
 */
export interface DeleteMultiResult {
  deleted?: Array<{ Key: string; VersionId?: string; DeleteMarker?: boolean; DeleteMarkerVersionId?: string }>;
  res: OssResponse;
}

/**
 * One object of a listing; `size` is the plaintext size (CTR adds no bytes).
 * @example
 *   for (const o of (await client.list()).objects) console.log(o.name, o.size);
 */
export interface ListedObject {
  name: string;
  url: string;
  lastModified: string;
  etag: string;
  type: string;
  size: number;
  storageClass: string;
  owner?: { id: string; displayName: string } | null;
}

/**
 * What `list` answers.
 * @example
 *   const { objects, nextMarker }: ListResult = await client.list({ prefix: 'a/' });
 */
export interface ListResult {
  objects: ListedObject[];
  prefixes: string[];
  isTruncated: boolean;
  nextMarker: string | null;
  res: OssResponse;
}

/**
 * What `listV2` answers.
 * @example
 *   const { objects, nextContinuationToken }: ListV2Result = await client.listV2({ prefix: 'a/' });
 */
export interface ListV2Result {
  objects: ListedObject[];
  prefixes: string[];
  isTruncated: boolean;
  keyCount: number;
  continuationToken: string | null;
  nextContinuationToken: string | null;
  res: OssResponse;
}

/**
 * What `listParts` answers (one page; part fields as strings, as ali-oss parses them).
 * @example
 *   const { parts, isTruncated }: ListPartsPage = await client.listParts(name, uploadId);
 */
export interface ListPartsPage {
  uploadId: string;
  bucket: string;
  name: string;
  partNumberMarker: string;
  nextPartNumberMarker: string;
  maxParts: string;
  isTruncated: boolean | string;
  parts: Array<{ PartNumber: string; LastModified: string; ETag: string; Size: string }>;
  res: OssResponse;
}

/**
 * What `listUploads` answers.
 * @example
 *   const { uploads }: ListUploadsResult = await client.listUploads({ prefix: 'big/' });
 */
export interface ListUploadsResult {
  uploads: Array<{ name: string; uploadId: string; initiated: string }>;
  bucket: string;
  nextKeyMarker: string;
  nextUploadIdMarker: string;
  isTruncated: boolean;
  res: OssResponse;
}

/**
 * What `uploadPartCopy` answers.
 * @example
 *   const { etag }: UploadPartCopyResult = await client.uploadPartCopy(name, uploadId, 1, '0-102399', { sourceKey: 'plain.bin' });
 */
export interface UploadPartCopyResult {
  name: string;
  etag: string;
  res: OssResponse;
}

/**
 * What `multipartUploadCopy` answers.
 * @example
 *   const { etag }: MultipartUploadCopyResult = await client.multipartUploadCopy('copy.bin', { sourceKey: 'plain.bin' });
 */
export interface MultipartUploadCopyResult {
  bucket: string;
  name: string;
  etag: string;
  res: OssResponse;
}

/**
 * What `getObjectMeta` answers: status 200 and the response (ETag, size, Last-Modified in its headers).
 * @example
 *   const { res }: ObjectMetaResult = await client.getObjectMeta('a.bin');
 */
export interface ObjectMetaResult {
  status: number;
  res: OssResponse;
}
