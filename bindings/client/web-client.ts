/**
 * `CryptoClient` for every runtime with fetch, Web Crypto and Web Streams (browsers, Cloudflare Workers, Deno,
 * Bun, and Node too): {@link CryptoClientBase} with the web's sources and sinks. `put` takes a Uint8Array, a
 * Blob/File or a ReadableStream; `get` returns the plaintext as a Uint8Array; `getStream` a WHATWG
 * ReadableStream; `multipartUpload` reads Blob/File, Uint8Array or ReadableStream sources and hands out
 * checkpoint objects to persist (IndexedDB, KV). There is no file system: file paths, checkpoint files and
 * `resumableDownload` reject with `OPERATION_UNSUPPORTED`, naming the runtime. The ali-oss-crypto/web entry
 * exports it as `CryptoClient`, usually over `fetchObjectStore`.
 * @module
 */
import { UnsupportedOperationError } from '../errors.js';
import type { AliOssLike } from '../oss/ali-oss.js';
import type { ObjectStore } from '../oss/object-store.js';
import type { CryptoClientOptions } from '../transfer/options.js';
import { runtimeName } from '../util/runtime.js';
import { CryptoClientBase } from './client-base.js';
import type { PutOptions } from './put-common.js';
import { webPut, webPutStream } from './web-put.js';
import { webGet, webGetStream, type WebGetResult, type WebGetStreamResult } from './web-read.js';

/**
 * Client-side encryption over any {@link ObjectStore} (such as `fetchObjectStore`), with Web APIs only.
 * @example
 *   const store = fetchObjectStore({ endpoint, bucket, region, credentials });
 *   const client = new CryptoClient(store, { material: rsaKeyWrapper({ publicKey, privateKey }) });
 *   await client.put('a.txt', new TextEncoder().encode('hello'));
 *   const { content } = await client.get('a.txt', { headers: { Range: 'bytes=0-1' } });
 */
export class CryptoClient extends CryptoClientBase {
  /**
   * @param store the object store (`fetchObjectStore(...)`; an ali-oss browser client is accepted too)
   * @param options key material (`keyring`, or `material` / `materials` / `resolve`), `backend`,
   *   `plaintext` ('reject' | 'allow'), `retry` (default: the store's), `partSize`, `parallel`, `contentMd5`
   * @throws {TypeError} when no key material is given
   * @throws {RangeError} when a number option is out of range
   */
  constructor(store: ObjectStore | AliOssLike, options: CryptoClientOptions) {
    super(store, options, {});
  }

  /**
   * Encrypts and uploads an object in one request (ali-oss `put`) from a Uint8Array, a Blob/File or a
   * ReadableStream. Records `unencrypted-content-length` when known and `unencrypted-content-md5` with
   * `contentMd5`. Large objects: `multipartUpload`.
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for a file path, or `meta`/`headers` naming
   *   encryption metadata
   * @throws {IntegrityError} INTEGRITY_MD5 / INTEGRITY_LENGTH when the content is not what was announced
   * @example
   *   await client.put('photo.jpg', input.files[0], { meta: { owner: 'me' } });
   */
  put(name: string, file: Uint8Array | Blob | ReadableStream<Uint8Array>, options?: PutOptions): Promise<any> {
    return webPut(this.context, name, file, options);
  }

  /**
   * Encrypts and uploads a ReadableStream in one request (ali-oss `putStream`). Not retried.
   * Chromium sends a streamed request body only over HTTP/2 (and https); elsewhere pass bytes or a Blob.
   * @example
   *   await client.putStream('upload.bin', request.body!, { contentLength: 1234 });
   */
  putStream(name: string, stream: ReadableStream<Uint8Array>, options?: PutOptions): Promise<any> {
    return webPutStream(this.context, name, stream, options);
  }

  /**
   * Downloads and decrypts an object or a byte range (`headers: { Range: 'bytes=a-b' | 'bytes=a-' |
   * 'bytes=-n' }`) into memory (`content`, a Uint8Array). The result adds `encrypted`.
   * @throws {PlaintextObjectError} PLAINTEXT_REJECTED for a plain object under the default policy
   * @throws {IntegrityError} INTEGRITY_RANGE / _LENGTH / _TRUNCATED / _CRC64 / _MD5
   * @example
   *   const { content } = await client.get('a.bin', { headers: { Range: 'bytes=5-70000' } });
   */
  get(name: string, options?: Record<string, unknown>): Promise<WebGetResult> {
    return webGet(this.context, name, options);
  }

  /**
   * A decrypting WHATWG ReadableStream over an object or a byte range (ali-oss `getStream`). Headers are
   * checked before the promise settles; body failures (truncation, CRC-64, MD5) error the stream.
   * @example
   *   const { stream } = await client.getStream('video.mp4', { headers: { Range: 'bytes=1048576-' } });
   *   return new Response(stream);
   */
  getStream(name: string, options?: Record<string, unknown>): Promise<WebGetStreamResult> {
    return webGetStream(this.context, name, options);
  }

  /**
   * Node only: a parallel download into a file. Rejects with `OPERATION_UNSUPPORTED` naming the runtime; read
   * ranges with `getStream` instead.
   * @example
   *   await client.resumableDownload('big.iso', '/data/big.iso'); // rejects outside Node's client
   */
  async resumableDownload(name: string, file: string, _options?: Record<string, unknown>): Promise<never> {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `resumableDownload ${JSON.stringify(name)} to ${JSON.stringify(file)}: writing a file needs Node's client (ali-oss-crypto), ` +
        `and ${runtimeName()} gives this client no file system; read ranges with getStream instead`,
    );
  }
}
