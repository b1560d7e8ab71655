/**
 * The fetch transport to OSS, runtime-neutral (global fetch, Web Crypto, Web Streams; no Node builtin, no
 * Buffer, no process): {@link createFetchOss} binds the calls of objects.ts and multipart.ts to one bucket.
 * It is the layer the future `fetchObjectStore` (the ObjectStore over fetch) adapts; it knows nothing of
 * encryption.
 * @module
 */
import { createOssHttp, type FetchOssOptions, type OssBody } from './http.js';
import { abortMultipartUpload, completeMultipartUpload, initiateMultipartUpload, listParts, uploadPart, type PartInfo } from './multipart.js';
import { copyObject, deleteObject, getObject, getObjectStream, headObject, listObjects, putObject, signObjectUrl, type CallOptions, type GetOptions, type ListQuery, type SignUrlOptions } from './objects.js';

export type { Credentials, CredentialsInput, ProvidedCredentials } from '../../util/credentials.js';
export { OssRequestError } from './errors.js';
export type { FetchOssOptions, OssBody } from './http.js';
export type { ListedPart, ListPartsResult, PartInfo } from './multipart.js';
export type { CallOptions, GetOptions, ListedObject, ListQuery, ListResult, SignUrlOptions } from './objects.js';
export type { ObjectBytes, ObjectHead, ObjectResult, ObjectStream, OssResult } from './results.js';

/**
 * Creates the fetch transport for one bucket.
 * @throws {TypeError} for a malformed endpoint, bucket, region or credentials
 * @example
 *   const oss = createFetchOss({ endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', bucket: 'b', region: 'cn-hangzhou',
 *     credentials: { accessKeyId, accessKeySecret } });
 *   await oss.put('a.txt', new TextEncoder().encode('hi'));
 *   const { body } = await oss.get('a.txt', { range: 'bytes=0-0' });
 */
export function createFetchOss(options: FetchOssOptions) {
  const http = createOssHttp(options);
  return {
    bucket: http.bucket,
    region: http.region,
    pathStyle: http.pathStyle,
    put: (key: string, body: OssBody, o?: CallOptions) => putObject(http, key, body, o),
    get: (key: string, o?: GetOptions) => getObject(http, key, o),
    getStream: (key: string, o?: GetOptions) => getObjectStream(http, key, o),
    head: (key: string, o?: CallOptions) => headObject(http, key, o),
    delete: (key: string, o?: CallOptions) => deleteObject(http, key, o),
    copy: (key: string, sourceKey: string, o?: CallOptions & { sourceBucket?: string }) => copyObject(http, key, sourceKey, o),
    list: (query?: ListQuery, o?: CallOptions) => listObjects(http, query, o),
    signUrl: (key: string, o?: SignUrlOptions) => signObjectUrl(http, key, o),
    initiateMultipartUpload: (key: string, o?: CallOptions) => initiateMultipartUpload(http, key, o),
    uploadPart: (key: string, uploadId: string, partNumber: number, body: OssBody, o?: CallOptions) => uploadPart(http, key, uploadId, partNumber, body, o),
    completeMultipartUpload: (key: string, uploadId: string, parts: readonly PartInfo[], o?: CallOptions) => completeMultipartUpload(http, key, uploadId, parts, o),
    abortMultipartUpload: (key: string, uploadId: string, o?: CallOptions) => abortMultipartUpload(http, key, uploadId, o),
    listParts: (key: string, uploadId: string, page?: { partNumberMarker?: number; maxParts?: number }, o?: CallOptions) => listParts(http, key, uploadId, page, o),
  };
}

/** The transport {@link createFetchOss} returns. */
export type FetchOss = ReturnType<typeof createFetchOss>;
