/**
 * The public API of ali-oss-crypto (`ali-oss-crypto`): re-exports only, no logic. What users call; the plumbing
 * under `CryptoClient` (the context, retries, the part loop, plans, the object-store adapter) is exported by
 * `ali-oss-crypto/advanced` (advanced.ts) for callers who build on it.
 *
 * Layers, bottom up: the AES-256-CTR cipher (WASM core by default, node:crypto on request), the metadata
 * envelope (docs/FORMAT.md §2, §3), key wrapping (RSA, KMS, several materials), CRC-64, and the ali-oss-compatible
 * client. The core path (everything `./core.js` exports) is free of Node-only imports and is re-exported whole;
 * what follows it is Node-only: the native engines, the KMS wrapper's default client, and the client (node:fs,
 * node:stream, ali-oss).
 * @module
 */

// the core path: errors, cipher, envelope, RSA key wrapping, KeyRing, CRC-64 (also `ali-oss-crypto/core`)
export * from './core.js';

// Node-only engines (also `ali-oss-crypto/native`)
export { nativeBackend } from './cipher/native.js';
export { nodeRsaEngine, preferNodeRsaEngine } from './keys/rsa-native.js';
export {
  kmsKeyWrapper,
  kmsClientFromSdk,
  kmsBlobFromHeader,
  KMS_WRAP_ALG,
  KMS_V1_WRAP_ALG,
  DEFAULT_KMS_BLOB_LAYOUT,
} from './keys/kms.js';
export type {
  KmsBlobLayout,
  KmsClient,
  KmsCiphertext,
  KmsPlaintext,
  KmsRetryOptions,
  KmsKeyWrapperOptions,
  KmsKeyWrapper,
  KmsSdkClient,
} from './keys/kms.js';

// the client: what users call (plumbing that takes a ClientContext is in `ali-oss-crypto/advanced`)
export { CryptoClient } from './client/crypto-client.js';
export { DEFAULT_CLIENT_PART_SIZE, DEFAULT_PARALLEL, DEFAULT_MULTIPART_THRESHOLD } from './transfer/options.js';
export type { CryptoClientOptions } from './transfer/options.js';
export type { ClientKeyRing, PlaintextPolicy } from './transfer/context.js';
export type { CommitmentPolicy } from './transfer/commitment-policy.js';
export type { VerifyPolicy } from './transfer/verify-policy.js';
export type { AliOssLike } from './oss/ali-oss.js';
export type { ObjectStore } from './oss/object-store.js';
export type { RetryPolicy } from './util/retry.js';
export { REFUSED_REASONS } from './client/refused.js';
export type { PutOptions } from './client/put.js';
export type { GetResult, GetStreamResult, GetResponse } from './client/get.js';
export type { HeadResult } from './client/object.js';
export type {
  CallOptions,
  CopyOptions,
  CopyResult,
  DeleteMultiOptions,
  DeleteMultiResult,
  GetOptions,
  ListedObject,
  ListPartsPage,
  ListPartsQuery,
  ListQuery,
  ListResult,
  ListUploadsQuery,
  ListUploadsResult,
  ListV2Query,
  ListV2Result,
  MultipartUploadCopyResult,
  ObjectMetaResult,
  OssResponse,
  PutMetaOptions,
  PutResult,
  RequestHeaders,
  ResponseOnly,
  SignatureUrlOptions,
  UploadPartCopyResult,
  UserMeta,
  VersionedCallOptions,
} from './client/call-types.js';

// rewrites in place and verification (CryptoClient#encryptExisting, #decryptExisting, #verify)
export type { EncryptExistingOptions, RewriteResult } from './client/encrypt-existing.js';
export type { DecryptExistingOptions } from './client/decrypt-existing.js';
export type { VerifyResult } from './client/verify.js';

// resumable download (CryptoClient#resumableDownload)
export type { DownloadFileOptions, DownloadFileResult, DownloadCancelError } from './download/download-options.js';

// encrypted multipart upload: options and results, crypto contexts and checkpoints a caller persists
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
export {
  parseMultipartCryptoContext,
  serializeMultipartCryptoContext,
  parseUploadCheckpoint,
  serializeUploadCheckpoint,
} from './upload/checkpoint.js';
export type { MultipartCryptoContext, UploadCheckpoint, UploadedPart } from './upload/checkpoint.js';
