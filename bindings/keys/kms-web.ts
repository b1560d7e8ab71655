/**
 * `kmsKeyWrapper` for every runtime: the KMS key wrapper (kms-wrapper.ts) whose default client is
 * {@link fetchKmsClient} (fetch + Web Crypto, the RPC signature the official SDK sends), made from the same
 * options as the Node wrapper (`region` or `endpoint`, `protocol`, `accessKeyId`, `accessKeySecret`,
 * `securityToken`). The ali-oss-crypto/web entry exports it as `kmsKeyWrapper`.
 * @module
 */
import { fetchKmsClient } from './kms-fetch.js';
import type { KmsClient } from './kms-client.js';
import { kmsKeyWrapperWith, type KmsKeyWrapper, type KmsKeyWrapperOptions } from './kms-wrapper.js';

/**
 * Creates a KMS key wrapper over fetch (or an injected `client`).
 * @param options CMK, region or endpoint, access key (and STS token), passphrase, layering, matdesc
 * @returns a {@link KmsKeyWrapper}; no KMS call is made before the first wrap/unwrap
 * @throws {TypeError} when an option has the wrong type, or neither credentials nor a client are given
 * @example
 *   const kms = kmsKeyWrapper({ keyId, region: 'cn-hangzhou', accessKeyId, accessKeySecret });
 *   const client = new CryptoClient(fetchObjectStore(storeOptions), { material: kms });
 */
export function kmsKeyWrapper(options: KmsKeyWrapperOptions): KmsKeyWrapper {
  return kmsKeyWrapperWith(options, fetchClientFromSettings);
}

function fetchClientFromSettings(options: KmsKeyWrapperOptions): KmsClient {
  const { accessKeyId, accessKeySecret, securityToken } = options;
  if (typeof accessKeyId !== 'string' || accessKeyId === '' || typeof accessKeySecret !== 'string' || accessKeySecret === '') {
    throw new TypeError('"accessKeyId" and "accessKeySecret" expected non-empty strings (or pass "client")');
  }
  return fetchKmsClient({
    region: options.region,
    endpoint: options.endpoint,
    protocol: options.protocol,
    credentials: securityToken === undefined ? { accessKeyId, accessKeySecret } : { accessKeyId, accessKeySecret, securityToken },
  });
}
