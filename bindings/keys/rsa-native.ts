/**
 * The node:crypto (OpenSSL) {@link RsaEngine} for Node services that unwrap many content keys (docs/FORMAT.md §2.1,
 * §3): about 70× faster than node-forge at PKCS#1 v1.5 unwrapping, and OpenSSL's private operation is
 * blinded and constant-time where node-forge's is not.
 *
 * Node 20 refuses `privateDecrypt` with RSA_PKCS1_PADDING (CVE-2023-46809, the Marvin attack) unless the
 * process runs with a security-revert flag; this engine never needs that flag. It performs the private
 * operation as raw RSA (`RSA_NO_PADDING`, allowed) and leaves the PKCS#1 v1.5 unpadding to rsa.ts, which does
 * it with masks and one generic error (pkcs1.ts). OAEP-SHA1 decryption and both public encryptions are plain
 * node:crypto calls, which Node allows. The calls are synchronous: about half a millisecond per RSA-2048
 * operation on the event loop.
 *
 * Node-only (imports `node:crypto`): exported from the package's main entry, never from the browser entry.
 * Deliberately not here: key parsing (rsa.ts parses PEM once and hands this engine DER).
 * @module
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { RsaKeyWrapper, type RsaEngine, type RsaPrivateKeyOps, type RsaPublicKeyOps } from './rsa.js';
import type { KeyWrapper } from './types.js';

/**
 * RSA through node:crypto: raw RSA for PKCS#1 v1.5 unwrapping, OAEP-SHA1, and both public encryptions.
 * @example
 *   import { rsaKeyWrapper, nodeRsaEngine } from 'ali-oss-crypto';
 *   const reader = rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine });
 *   const content = await reader.unwrap(wrapped);
 */
export const nodeRsaEngine: RsaEngine = Object.freeze({
  name: 'node',
  importPublicKey(spki: Uint8Array): RsaPublicKeyOps {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return {
      encryptPkcs1: (data) => publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data),
      encryptOaep: (data) => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, data),
    };
  },
  importPrivateKey(pkcs8: Uint8Array): RsaPrivateKeyOps {
    // Buffer.from copies; the copy is zeroed once OpenSSL holds the key (the caller zeroes `pkcs8`).
    const der = Buffer.from(pkcs8);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
    return {
      decryptRaw: (data) => privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, data),
      decryptOaep: (data) => privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, data),
    };
  },
});

/**
 * Moves an RSA wrapper whose engine the user did not choose onto {@link nodeRsaEngine}; returns anything else
 * (KMS wrappers, RSA wrappers with an explicit `engine` or `webCrypto`, `undefined`) unchanged. For Node hosts
 * (the client, the CLI) that want the fast engine by default without overriding a user's choice.
 * @param wrapper a key wrapper, or undefined
 * @returns the wrapper to use
 * @example
 *   const material = preferNodeRsaEngine(options.material);
 *   const materials = options.materials?.map(preferNodeRsaEngine);
 */
export function preferNodeRsaEngine<W extends KeyWrapper | undefined>(wrapper: W): W {
  return (wrapper instanceof RsaKeyWrapper ? wrapper.preferEngine(nodeRsaEngine) : wrapper) as W;
}
