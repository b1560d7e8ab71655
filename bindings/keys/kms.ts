/**
 * `kmsKeyWrapper` for Node: the KMS key wrapper (kms-wrapper.ts) whose default client is the official
 * `@alicloud/kms20160120` SDK (kms-client.ts loads it on first use). Runtimes without Node use kms-web.ts, whose
 * default client is fetchKmsClient; the wrap format is the same.
 * @module
 */
import { sdkClientFromSettings } from './kms-client.js';
import { kmsKeyWrapperWith, type KmsKeyWrapper, type KmsKeyWrapperOptions } from './kms-wrapper.js';

export { DEFAULT_KMS_BLOB_LAYOUT, KMS_V1_WRAP_ALG, KMS_WRAP_ALG, kmsBlobFromHeader } from './kms-wrapper.js';
export type { KmsBlobLayout, KmsCiphertext, KmsClient, KmsKeyWrapper, KmsKeyWrapperOptions, KmsPlaintext, KmsRetryOptions, KmsSdkClient } from './kms-wrapper.js';
export { kmsClientFromSdk } from './kms-client.js';

/**
 * Creates a KMS key wrapper over the official SDK (or an injected `client`).
 * @param options CMK, region and credentials (or an injected `client`), passphrase, layering, matdesc
 * @returns a {@link KmsKeyWrapper}; no KMS call is made before the first wrap/unwrap
 * @throws {TypeError} when an option has the wrong type, or neither credentials nor a client are given
 * @throws {RangeError} when `blobLayout`, `protocol` or `retry` has an unsupported value
 * @example
 *   const kms = kmsKeyWrapper({
 *     keyId: 'key-id', region: 'cn-hangzhou',
 *     accessKeyId: process.env.AK!, accessKeySecret: process.env.SK!,
 *   });
 *   const wrapped = await kms.wrap({ key, iv }); // two KMS Encrypt calls
 */
export function kmsKeyWrapper(options: KmsKeyWrapperOptions): KmsKeyWrapper {
  return kmsKeyWrapperWith(options, sdkClientFromSettings);
}
