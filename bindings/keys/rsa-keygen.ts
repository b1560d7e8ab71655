/**
 * New RSA key pairs (PEM) and the modulus sizes this package accepts. Its own file, apart from the PEM parsing of
 * rsa-pem.ts, because these are public: nothing here names a node-forge type in its signature, so the shipped
 * declarations of the public entries never import `node-forge` (whose types are not a dependency of the package).
 * @module
 */
import forge from 'node-forge';

/**
 * Smallest RSA modulus accepted (oss2's own test keys are 1024-bit).
 * @example
 *   if (bits < RSA_MIN_BITS) throw new RangeError('key too small for OSS client-side encryption');
 */
export const RSA_MIN_BITS = 1024;
/**
 * Largest RSA modulus accepted.
 * @example
 *   const bits = Math.min(requestedBits, RSA_MAX_BITS);
 */
export const RSA_MAX_BITS = 4096;

/**
 * Generates an RSA key pair for the CLI and demos: PKCS#8 `PRIVATE KEY` and SubjectPublicKeyInfo `PUBLIC KEY`
 * PEM. node-forge uses the runtime's native generator when there is one (Node, Web Crypto).
 * @param bits modulus size, 1024..4096 (default 2048)
 * @throws {RangeError} when `bits` is outside 1024..4096 or not an integer
 * @example
 *   const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(3072);
 *   const wrapper = rsaKeyWrapper({ privateKey: privateKeyPem });
 */
export async function generateRsaKeyPair(bits = 2048): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new RangeError(`"bits" expected an integer from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}, got ${bits}`);
  }
  const pair = await new Promise<forge.pki.rsa.KeyPair>((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (err, keypair) => (err ? reject(err) : resolve(keypair)));
  });
  return {
    privateKeyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(pair.privateKey))),
    publicKeyPem: forge.pki.publicKeyToPem(pair.publicKey),
  };
}
