/**
 * RSA key material as text: finds and parses the PEM blocks a user gives (`PUBLIC KEY`, `RSA PUBLIC KEY`,
 * `RSA PRIVATE KEY`, `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), checks the key size, turns parsed keys into the DER
 * an RSA engine (rsa-engine.ts) imports. Over node-forge; no `node:` import. Internal: its signatures name
 * node-forge types, so no public entry re-exports from it.
 *
 * Every failure is `KEY_INVALID`, and no error carries key bytes: node-forge's errors are reduced to their
 * message ({@link scrubCause}).
 *
 * Deliberately not here: wrapping (rsa.ts), the RSA arithmetic (rsa-engine.ts), new key pairs and the accepted
 * modulus sizes (rsa-keygen.ts).
 * @module
 */
import forge from 'node-forge';
import { KeyInvalidError } from '../errors.js';
import { describe } from '../util/describe.js';
import { RSA_MAX_BITS, RSA_MIN_BITS } from './rsa-keygen.js';

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
      // A wrong passphrase usually fails the CBC padding (null), but about one time in 256 the padding passes and
      // the garbage fails to parse instead (a throw): both are the same wrong passphrase.
      let cause: unknown;
      try {
        key = forge.pki.decryptRsaPrivateKey(pem, forge.util.encodeUtf8(passphrase));
      } catch (err) {
        (key = null), (cause = scrubCause(err));
      }
      if (key === null) {
        throw new KeyInvalidError(
          'KEY_INVALID',
          `"privateKey" could not be decrypted: wrong passphrase, or an encryption scheme node-forge does not support`,
          cause === undefined ? undefined : { cause },
        );
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
