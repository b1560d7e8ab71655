/**
 * RSA key material as text: finds and parses the PEM blocks a user gives (`PUBLIC KEY`, `RSA PUBLIC KEY`,
 * `RSA PRIVATE KEY`, `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), checks the key size, turns parsed keys into the DER
 * an RSA engine (rsa-engine.ts) imports, and generates new PEM key pairs. Over node-forge; no `node:` import.
 *
 * Every failure is `KEY_INVALID`, and no error carries key bytes: node-forge's errors are reduced to their
 * message ({@link scrubCause}).
 *
 * Deliberately not here: wrapping (rsa.ts), the RSA arithmetic (rsa-engine.ts).
 * @module
 */
import forge from 'node-forge';
import { KeyInvalidError } from '../errors.js';
import { describe } from '../util/describe.js';

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

const PRIVATE_TYPES = ['RSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];
const PUBLIC_TYPES = ['PUBLIC KEY', 'RSA PUBLIC KEY'];

/** The RSA private key in `input` (PEM text or bytes), decrypted with `passphrase` when it is encrypted. */
export function parsePrivateKey(input: string | Uint8Array, passphrase: string | undefined): forge.pki.rsa.PrivateKey {
  const block = findPem(input, 'privateKey', PRIVATE_TYPES);
  const encrypted = block.type === 'ENCRYPTED PRIVATE KEY' || block.procType?.type === 'ENCRYPTED';
  const pem = forge.pem.encode(block);
  let key: forge.pki.rsa.PrivateKey | null;
  try {
    if (encrypted) {
      if (passphrase === undefined) {
        throw new KeyInvalidError('KEY_INVALID', `"privateKey" is encrypted (${block.type}): give its "passphrase"`);
      }
      // node-forge takes a byte string; OpenSSL (which writes these files) uses the passphrase's UTF-8 bytes.
      key = forge.pki.decryptRsaPrivateKey(pem, forge.util.encodeUtf8(passphrase));
      if (key === null) {
        throw new KeyInvalidError('KEY_INVALID', `"privateKey" could not be decrypted: wrong passphrase, or an encryption scheme node-forge does not support`);
      }
    } else {
      key = forge.pki.privateKeyFromPem(pem);
    }
  } catch (err) {
    if (err instanceof KeyInvalidError) throw err;
    throw new KeyInvalidError('KEY_INVALID', `"privateKey" (${block.type}) is not a readable RSA private key`, { cause: scrubCause(err) });
  }
  if (key === null || typeof key !== 'object' || !('d' in key) || key.n === undefined) {
    throw new KeyInvalidError('KEY_INVALID', `"privateKey" (${block.type}) is not an RSA private key`);
  }
  return key;
}

/** The RSA public key in `input` (PEM text or bytes). */
export function parsePublicKey(input: string | Uint8Array): forge.pki.rsa.PublicKey {
  const block = findPem(input, 'publicKey', PUBLIC_TYPES);
  try {
    const key = forge.pki.publicKeyFromPem(forge.pem.encode(block));
    if (key === null || typeof key !== 'object' || key.n === undefined) throw new Error('not an RSA key');
    return key;
  } catch (err) {
    throw new KeyInvalidError('KEY_INVALID', `"publicKey" (${block.type}) is not a readable RSA public key`, { cause: scrubCause(err) });
  }
}

function findPem(input: unknown, name: string, types: readonly string[]): forge.pem.ObjectPEM {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) text = toBinary(input);
  else throw new TypeError(`"${name}" expected a PEM string or Uint8Array, got ${describe(input)}`);
  let blocks: forge.pem.ObjectPEM[];
  try {
    blocks = forge.pem.decode(text);
  } catch (err) {
    throw new KeyInvalidError('KEY_INVALID', `"${name}" is not valid PEM`, { cause: scrubCause(err) });
  }
  const block = blocks.find((b) => types.includes(b.type));
  if (block === undefined) {
    const found = blocks.length === 0 ? 'no PEM block' : `PEM blocks of type ${blocks.map((b) => b.type).join(', ')}`;
    throw new KeyInvalidError('KEY_INVALID', `"${name}" expected a PEM ${types.join(' or ')} block, found ${found}`);
  }
  return block;
}

/** `bits` when it is a supported modulus size; `name` is the option the key came from. */
export function checkBits(bits: number, name: string): number {
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new KeyInvalidError(
      'KEY_INVALID',
      `"${name}" is an RSA-${bits} key; supported sizes are ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`,
    );
  }
  return bits;
}

/** The public half of a private key. */
export function publicHalf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.rsa.setPublicKey(key.n, key.e);
}

/** SubjectPublicKeyInfo DER of a public key. */
export function spkiDer(key: forge.pki.rsa.PublicKey): Uint8Array<ArrayBuffer> {
  return fromBinary(forge.asn1.toDer(forge.pki.publicKeyToAsn1(key)).getBytes());
}

/** PKCS#8 DER of a private key; the caller zeroes it after use. */
export function pkcs8Der(key: forge.pki.rsa.PrivateKey): Uint8Array<ArrayBuffer> {
  return fromBinary(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes());
}

/** node-forge's byte string of `bytes`. */
export function toBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** The bytes of a node-forge byte string. */
export function fromBinary(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * node-forge's error objects can carry the decrypted block or key bytes as properties; keep only the message
 * so that no key material travels in `cause`.
 */
export function scrubCause(err: unknown): Error {
  return new Error(err instanceof Error ? err.message : String(err));
}
