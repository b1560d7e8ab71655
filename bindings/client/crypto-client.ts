/**
 * `CryptoClient` for Node: {@link CryptoClientBase} with Node's sources and sinks (Buffers, file paths, Node
 * Readables and Writables; Blob and WHATWG ReadableStream accepted too) and the file system for file paths,
 * checkpoint files and `resumableDownload` (upload/node-files.ts). The web entry's `CryptoClient`
 * (web-client.ts) has the same methods over Uint8Array, Blob/File and WHATWG streams.
 * @module
 */
import { downloadFile, type DownloadFileOptions, type DownloadFileResult } from '../download/resumable.js';
import type { AliOssLike } from '../oss/ali-oss.js';
import type { ObjectStore } from '../oss/object-store.js';
import type { CryptoClientOptions } from '../transfer/options.js';
import { preferNodeRsaEngine } from '../keys/rsa-native.js';
import { defaultBackendFor } from '../transfer/default-backend.js';
import { nodeFiles } from '../upload/node-files.js';
import type { GetOptions, PutResult } from './call-types.js';
import { CryptoClientBase } from './client-base.js';
import { decryptExisting, type DecryptExistingOptions } from './decrypt-existing.js';
import { encryptExisting, type EncryptExistingOptions, type RewriteResult } from './encrypt-existing.js';
import { get, getStream, type GetResult, type GetStreamResult } from './get.js';
import { put, putStream, type PutOptions } from './put.js';
import { verify, type VerifyResult } from './verify.js';
import { rewrap, type RewrapOptions, type RewrapResult } from './rewrap.js';

/**
 * Client-side encryption over an `ali-oss` client (or any {@link ObjectStore}, such as `fetchObjectStore`).
 * @example
 *   import OSS from 'ali-oss';
 *   const oss = new OSS({ region, bucket, accessKeyId, accessKeySecret });
 *   const client = new CryptoClient(oss, { material: rsaKeyWrapper({ privateKey }) });
 *   await client.put('report.pdf', '/tmp/report.pdf');
 *   const { content } = await client.get('report.pdf');
 */
export class CryptoClient extends CryptoClientBase {
  /**
   * @param oss an `ali-oss` client instance (its endpoint, bucket, credentials and agent are used as is), or any
   *   {@link ObjectStore}
   * @param options key material (`keyring`, or `material` / `materials` / `resolve`), `backend`,
   *   `plaintext` ('reject' | 'allow'), `retry`, `partSize`, `parallel`, `contentMd5`
   * @throws {TypeError} when `oss` is not an ali-oss client or no key material is given
   * @throws {RangeError} when a number option is out of range
   */
  constructor(oss: AliOssLike | ObjectStore, options: CryptoClientOptions) {
    super(oss, options, { files: nodeFiles, adaptMaterial: preferNodeRsaEngine, defaultBackend: (store) => defaultBackendFor(store) });
  }

  /**
   * Encrypts and uploads an object in one request (ali-oss `put`). Buffers are encrypted at once; file paths
   * and Readables stream with bounded memory. Records `unencrypted-content-length` when known, and
   * `unencrypted-content-md5` with `contentMd5` (true to compute; a string/`Content-MD5` header = your MD5 of
   * the plaintext, verified). Large files: `multipartUpload`.
   * @throws {UnsupportedOperationError} when `meta`/`headers` name encryption metadata
   * @throws {IntegrityError} INTEGRITY_MD5 / INTEGRITY_LENGTH when the content is not what was announced
   * @example
   *   await client.put('a.bin', Buffer.from('hello'), { meta: { owner: 'me' } });
   *   await client.put('b.iso', '/data/b.iso', { contentMd5: true });
   */
  put(name: string, file: Buffer | Uint8Array | Blob | string | NodeJS.ReadableStream | ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return put(this.context, name, file, options);
  }

  /**
   * Encrypts and uploads a stream in one request (ali-oss `putStream`; chunked unless `contentLength` is
   * given, which is then recorded and checked). Not retried: a consumed stream cannot be re-sent.
   * @throws {IntegrityError} INTEGRITY_LENGTH / INTEGRITY_MD5 (nothing is stored)
   * @example
   *   await client.putStream('log.txt', fs.createReadStream('log.txt'));
   */
  putStream(name: string, stream: NodeJS.ReadableStream, options?: PutOptions): Promise<PutResult> {
    return putStream(this.context, name, stream, options);
  }

  /**
   * Downloads and decrypts an object or a byte range (`headers: { Range: 'bytes=a-b' | 'bytes=a-' |
   * 'bytes=-n' }`) to memory (`content`), a file path (written to a temporary file, renamed when complete and
   * verified) or a Writable (ali-oss `get`). The result adds `encrypted`.
   * @throws {PlaintextObjectError} PLAINTEXT_REJECTED for a plain object under the default policy
   * @throws {IntegrityError} INTEGRITY_RANGE / _LENGTH / _TRUNCATED / _CRC64 / _MD5
   * @example
   *   const { content } = await client.get('a.bin');
   *   await client.get('a.bin', '/tmp/a.bin');
   */
  get(name: string, file?: string | NodeJS.WritableStream | GetOptions, options?: GetOptions): Promise<GetResult> {
    return get(this.context, name, file, options);
  }

  /**
   * A decrypting Readable over an object or a byte range (ali-oss `getStream`). Headers are checked before the
   * promise settles; body failures (truncation, CRC-64, MD5) are the stream's `error`.
   * @example
   *   const { stream } = await client.getStream('a.bin', { headers: { Range: 'bytes=100-' } });
   */
  getStream(name: string, options?: GetOptions): Promise<GetStreamResult> {
    return getStream(this.context, name, options);
  }

  /**
   * Downloads and decrypts an object into a file in parallel ranged parts (`If-Match` on the HEAD's ETag, CRC-64
   * of the whole object checked), resumably: with `checkpoint` (a file path, or the object `progress` and
   * errors hand out) a failed or cancelled download carries on where it stopped. The file appears only when
   * complete and verified. Options: `partSize` (default 8 MiB, or the client's when larger), `parallel`, `checkpoint`,
   * `progress(p, checkpoint, res)`, `signal`, `versionId`, `timeout`.
   * @throws {IntegrityError} OBJECT_CHANGED (replaced during the download), INTEGRITY_CRC64, INTEGRITY_LENGTH, INTEGRITY_MD5
   * @throws {CheckpointError} CHECKPOINT_MALFORMED / CHECKPOINT_MISMATCH; an Error named `cancel` when `signal` aborts
   * @example
   *   await client.resumableDownload('big.iso', '/data/big.iso', { checkpoint: '/data/big.iso.cp.json', parallel: 4 });
   */
  resumableDownload(name: string, file: string, options?: DownloadFileOptions): Promise<DownloadFileResult> {
    return downloadFile(this.context, name, file, options);
  }

  /**
   * Encrypts a plaintext object in place, keeping its user metadata and content headers; the write happens only
   * if the object is unchanged since it was read (README "Rotating keys" states the remaining window).
   * @throws {UnsupportedOperationError} OBJECT_ENCRYPTED for an object already encrypted
   * @throws {IntegrityError} OBJECT_CHANGED when another writer replaced it meanwhile (its object is kept)
   * @example
   *   const { etag, previousEtag } = await client.encryptExisting('reports/2024.csv');
   */
  encryptExisting(name: string, options?: EncryptExistingOptions): Promise<RewriteResult> {
    return encryptExisting(this.context, name, options);
  }

  /**
   * Stores an encrypted object decrypted, in place (leaving client-side encryption); needs `removeEncryption: true`.
   * @throws {UnsupportedOperationError} OBJECT_NOT_ENCRYPTED for a plaintext object
   * @throws {IntegrityError} OBJECT_CHANGED, INTEGRITY_* (nothing written)
   * @example
   *   await client.decryptExisting('a.bin', { removeEncryption: true });
   */
  decryptExisting(name: string, options: DecryptExistingOptions): Promise<RewriteResult> {
    return decryptExisting(this.context, name, options);
  }

  /**
   * Wraps an object's content key with `options.to` (key rotation), rewriting its unchanged ciphertext (client/rewrap.ts).
   * @throws {IntegrityError} OBJECT_CHANGED (nothing written); {KeyUnwrapError} when the current key cannot read it
   * @example
   *   const { changed, from, to } = await client.rewrap('a.bin', { to: rsaKeyWrapper({ publicKey }) });
   */
  rewrap(name: string, options: RewrapOptions): Promise<RewrapResult> {
    return rewrap(this.context, name, options);
  }

  /**
   * Reads an encrypted object whole with the configured keys, checking length, CRC-64 and MD5 where recorded.
   * @throws {KeyUnwrapError}, {MetadataError}, {IntegrityError}, {PlaintextObjectError}: what failed, by code
   * @example
   *   const { checked } = await client.verify('a.bin');
   */
  verify(name: string, options?: { signal?: AbortSignal }): Promise<VerifyResult> {
    return verify(this.context, name, options);
  }
}
