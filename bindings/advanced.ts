/**
 * The plumbing under `CryptoClient`, as the `ali-oss-crypto/advanced` entry: re-exports only, no logic. For
 * callers who build their own operations on the same pieces: the client context (`createClientContext`), the
 * transport boundary (`ObjectStore`, the ali-oss adapter, response facts), the retry policy, the operations as
 * plain functions `(ctx, ...args)` that the client's methods delegate to, and part plans. Node-only, like the
 * main entry. The main entry (`ali-oss-crypto`) is what most users need.
 * @module
 */

// the context every operation receives
export { createClientContext, isObjectStore } from './transfer/options.js';
export type { ClientContext } from './transfer/context.js';

// the transport boundary
export { AliOssStore, aliOssStore, ALI_OSS_MEMBERS } from './oss/ali-oss.js';
export { responseFacts, headerOf, CRC64_HEADER } from './oss/response.js';
export type { ResponseFacts } from './oss/response.js';
export type {
  ObjectStore,
  StoreHeaders,
  StoreResponse,
  StoreOptions,
  StoreResult,
  PutObjectResult,
  GetObjectResult,
  OpenedObject,
  HeadObjectResult,
  InitiateResult,
  UploadPartReply,
  CompleteResult,
  ListPartsResult,
} from './oss/object-store.js';

// retries
export { withRetry, isTransientError, resolveRetryPolicy, DEFAULT_RETRY_POLICY } from './util/retry.js';
export type { RetryPolicy, RetryOptions } from './util/retry.js';

// the operations as functions of a context
export { downloadFile } from './download/resumable.js';
// The debug build of the WASM core (assertions), for tests; no production entry bundles it.
export { wasmDebugBackend } from './cipher/wasm.js';
export { EncryptedMultipartUpload, multipartUpload, cancelMultipartUploads } from './upload/managed-upload.js';
export {
  initMultipartUpload,
  uploadPart,
  completeMultipartUpload,
  abortMultipartUpload,
  listParts,
  disposeMultipartCryptoContext,
} from './upload/parts-api.js';

// part plans
export { planParts, choosePartSize, MIN_PART_SIZE, MAX_PARTS } from './upload/plan.js';
export type { PartPlan, PlannedPart } from './upload/plan.js';
