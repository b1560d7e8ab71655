/**
 * The public API of ali-oss-crypto: re-exports only, no logic.
 *
 * Layers, bottom up: the AES-256-CTR cipher (WASM core by default, node:crypto on request), the metadata
 * envelope (FORMATS.md §2, §3), key wrapping (RSA, KMS, several materials), CRC-64, and the ali-oss-compatible
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

// client
export { CryptoClient } from './client/crypto-client.js';
export type { AliOssLike, ClientContext, ClientKeyRing, PlaintextPolicy } from './client/context.js';
export {
  createClientContext,
  DEFAULT_CLIENT_PART_SIZE,
  DEFAULT_PARALLEL,
  DEFAULT_MULTIPART_THRESHOLD,
} from './client/options.js';
export type { CryptoClientOptions } from './client/options.js';
export type { CommitmentPolicy } from './client/commitment-policy.js';
export type { VerifyPolicy } from './client/verify-policy.js';
export { withRetry, isTransientError, resolveRetryPolicy, DEFAULT_RETRY_POLICY } from './client/retry.js';
export type { RetryPolicy, RetryOptions } from './client/retry.js';
export { REFUSED_REASONS } from './client/refused.js';
export type { PutOptions } from './client/put.js';
export type { GetResult, GetStreamResult, GetResponse } from './client/get.js';
export type { HeadResult } from './client/object.js';

// resumable download
export { downloadFile } from './download/resumable.js';
export type { DownloadFileOptions, DownloadFileResult, DownloadCancelError } from './download/resumable.js';

// encrypted multipart upload: the part loop, the low-level calls with their crypto context, checkpoints, plans
export { EncryptedMultipartUpload, multipartUpload, cancelMultipartUploads, isCancelError } from './upload/orchestrator.js';
export type { MultipartUploadOptions, MultipartUploadResult, MultipartCancelError, MultipartProgress, UploadBody } from './upload/orchestrator.js';
export { initMultipartUpload, uploadPart, completeMultipartUpload, abortMultipartUpload, listParts, disposeMultipartCryptoContext } from './upload/multipart.js';
export type {
  InitMultipartUploadOptions,
  InitMultipartUploadResult,
  UploadPartResult,
  CompleteMultipartUploadOptions,
  CompleteMultipartUploadResult,
} from './upload/multipart.js';
export {
  parseMultipartCryptoContext,
  serializeMultipartCryptoContext,
  parseUploadCheckpoint,
  serializeUploadCheckpoint,
} from './upload/checkpoint.js';
export type { MultipartCryptoContext, UploadCheckpoint, UploadedPart } from './upload/checkpoint.js';
export { planParts, choosePartSize, MIN_PART_SIZE, MAX_PARTS } from './upload/plan.js';
export type { PartPlan, PlannedPart } from './upload/plan.js';
