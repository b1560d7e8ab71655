/**
 * The public API of ali-oss-crypto: re-exports only, no logic.
 *
 * Layers, bottom up: the AES-256-CTR cipher (WASM core by default, node:crypto on request), the metadata
 * envelope (FORMATS.md §2, §3), key wrapping (RSA, KMS, several materials), CRC-64, and the ali-oss-compatible
 * client. Everything below `client` is free of Node-only imports; the client uses node:fs / node:stream.
 * @module
 */

// errors
export {
  OssCryptoError,
  MetadataError,
  KeyUnwrapError,
  KeyWrapError,
  KmsError,
  IntegrityError,
  PartError,
  CheckpointError,
  PlaintextObjectError,
  UnsupportedOperationError,
  WasmCoreError,
} from './errors.js';
export type { OssCryptoErrorCode } from './errors.js';

// cipher
export { aesCtr, aesCtrXor, counterAt, KEY_BYTES, IV_BYTES, BLOCK_BYTES } from './cipher/aes-ctr.js';
export type { AesCtrOptions, CtrStream, CtrBackend, CtrSession } from './cipher/aes-ctr.js';
export { nativeBackend } from './cipher/native.js';
export { initWasm, wasmBackend, wasmDebugBackend } from './wasm/core.js';

// envelope
export {
  encodeEnvelope,
  decodeEnvelope,
  matdescEquals,
  canonicalMatdesc,
  metaFromEnvelope,
  headersFromMeta,
} from './envelope/codec.js';
export type { Envelope, HeaderValue, HeadersInput } from './envelope/codec.js';
export { describeEnvelope } from './envelope/describe.js';
export type { EnvelopeDescription } from './envelope/describe.js';
export { ENVELOPE_HEADERS, CEK_ALG, WRAP_ALG, V2_WRAP_ALGS, META_PREFIX, metaKey } from './envelope/headers.js';

// keys
export type { ContentKey, WrappedContentKey, KeyWrapper, Matdesc } from './keys/types.js';
export { KeyRing } from './keys/keyring.js';
export type { KeyRingOptions, KeyResolver, NewContentKey } from './keys/keyring.js';
export {
  RsaKeyWrapper,
  rsaKeyWrapper,
  generateRsaKeyPair,
  portableRsaEngine,
  forgeRsaEngine,
  RSA_MIN_BITS,
  RSA_MAX_BITS,
} from './keys/rsa.js';
export type { RsaPadding, RsaKeyWrapperOptions, RsaEngine, RsaPublicKeyOps, RsaPrivateKeyOps } from './keys/rsa.js';
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

// integrity
export { crc64, Crc64, crc64Combine, crc64ToDecimal, parseCrc64Decimal } from './integrity/crc64.js';

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
export { withRetry, isTransientError, resolveRetryPolicy, DEFAULT_RETRY_POLICY } from './client/retry.js';
export type { RetryPolicy, RetryOptions } from './client/retry.js';
export { REFUSED_REASONS } from './client/refused.js';
export type { PutOptions } from './client/put.js';
export type { GetResult, GetStreamResult, GetResponse } from './client/get.js';
export type { HeadResult } from './client/object.js';

// resumable download
export { downloadFile } from './download/resumable.js';
export type { DownloadFileOptions, DownloadFileResult, DownloadCancelError } from './download/resumable.js';
