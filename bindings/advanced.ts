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
  ListPartsEncryption,
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

// bulk jobs over a prefix: the engine, its files, shards, and the per-object actions of the client
export { runJob } from './jobs/run-job.js';
export type { JobOptions, JobProgress, JobSummary } from './jobs/run-job.js';
export type { ActionContext, ActionOutcome, JobResult, ListedObject, ObjectAction } from './jobs/action.js';
export { listPrefix } from './jobs/listing.js';
export { openJournal } from './jobs/journal-file.js';
export type { JobJournal } from './jobs/journal-file.js';
export { parseJournal, formatHeader, formatRecord, checkJournalHeader } from './jobs/journal.js';
export type { JournalHeader, JournalRecord, ParsedJournal } from './jobs/journal.js';
export { openReport } from './jobs/report.js';
export type { ReportEntry, ReportFile } from './jobs/report.js';
export { parseShard, shardOfKey, inShard, formatShard } from './jobs/shard.js';
export type { Shard } from './jobs/shard.js';
export { encryptExistingAction, decryptExistingAction, rewrapAction, verifyAction } from './client/bulk-actions.js';
export { rewrap } from './client/rewrap.js';
export type { BulkRewriteOptions } from './client/bulk-actions.js';
export { encryptExisting } from './client/encrypt-existing.js';
export { decryptExisting } from './client/decrypt-existing.js';
export { verify } from './client/verify.js';
