/**
 * The `ali-oss-crypto/web` entry: the same `CryptoClient` for every runtime with fetch, Web Crypto and Web
 * Streams (browsers, Cloudflare Workers, Deno, Bun, Node), over `fetchObjectStore`, with the key wrappers (RSA,
 * and KMS over `fetchKmsClient`), `KeyRing`, the cipher and the errors: everything `ali-oss-crypto/core`
 * exports, plus the client. Nothing it reaches imports a Node builtin (test/web-entry.test.ts walks its import
 * graph), and the debug WASM build is not in its bundle.
 *
 * Call `await init()` once before the first encryption where synchronous WebAssembly compilation is forbidden
 * (a browser's main thread); in a Cloudflare Worker pass the platform-compiled core: `await init({ module })`.
 * Re-exports only; no logic.
 * @module
 */
export * from './core.js';
export { initWasm as init } from './cipher/wasm.js';

// the client over fetch
export { CryptoClient } from './client/web-client.js';
export { fetchObjectStore } from './oss/fetch/store.js';
export type { FetchObjectStore, FetchObjectStoreOptions } from './oss/fetch/store.js';
export { OssRequestError } from './oss/fetch/errors.js';
export type { Credentials, CredentialsInput, ProvidedCredentials } from './util/credentials.js';
export type { CryptoClientOptions } from './transfer/options.js';
export type { ClientKeyRing, PlaintextPolicy } from './transfer/context.js';
export type { CommitmentPolicy } from './transfer/commitment-policy.js';
export type { VerifyPolicy } from './transfer/verify-policy.js';
export type { ObjectStore } from './oss/object-store.js';
export type { RetryPolicy } from './util/retry.js';
export type { PutOptions } from './client/put-common.js';
export type { GetResponse } from './client/get-types.js';
export type { WebGetResult, WebGetStreamResult } from './client/web-read.js';
export type { HeadResult } from './client/object.js';

// KMS over fetch
export { kmsKeyWrapper } from './keys/kms-web.js';
export { fetchKmsClient } from './keys/kms-fetch.js';
export type { FetchKmsOptions } from './keys/kms-fetch.js';
export { KMS_WRAP_ALG, KMS_V1_WRAP_ALG, DEFAULT_KMS_BLOB_LAYOUT } from './keys/kms-wrapper.js';
export type { KmsBlobLayout, KmsCiphertext, KmsClient, KmsKeyWrapper, KmsKeyWrapperOptions, KmsPlaintext, KmsRetryOptions } from './keys/kms-wrapper.js';

// multipart uploads: managed (checkpoint objects) and low level (crypto context)
export { isCancelError } from './upload/cancel.js';
export type { MultipartUploadOptions, MultipartUploadResult, MultipartCancelError, MultipartProgress } from './upload/managed-options.js';
export type { UploadBody } from './upload/source.js';
export type {
  InitMultipartUploadOptions,
  InitMultipartUploadResult,
  UploadPartResult,
  CompleteMultipartUploadOptions,
  CompleteMultipartUploadResult,
} from './upload/parts-api.js';
export { parseMultipartCryptoContext, serializeMultipartCryptoContext, parseUploadCheckpoint, serializeUploadCheckpoint } from './upload/checkpoint.js';
export type { MultipartCryptoContext, UploadCheckpoint, UploadedPart } from './upload/checkpoint.js';
