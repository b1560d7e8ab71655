/**
 * Reads the RSA key structures an {@link RsaEngine} is handed: SubjectPublicKeyInfo (RFC 5280 §4.1, with the
 * RSAPublicKey of RFC 8017 §A.1.1) and PKCS#8 PrivateKeyInfo (RFC 5208 §5, with the RSAPrivateKey of RFC 8017
 * §A.1.2), in DER. Only what the WebAssembly engine needs, without node-forge: the integers as big-endian bytes
 * (views into the input; the caller copies what it keeps).
 *
 * Deliberately not here: PEM and encrypted keys (rsa.ts parses those once, with node-forge, and hands engines DER).
 * @module
 */
import { KeyInvalidError } from '../errors.js';
import type { RsaPrivateComponents } from '../wasm/rsa.js';

/** The rsaEncryption algorithm identifier, 1.2.840.113549.1.1.1, as DER content bytes. */
const RSA_ENCRYPTION_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;

/**
 * The modulus and public exponent of an RSA SubjectPublicKeyInfo.
 * @throws {KeyInvalidError} `KEY_INVALID` when the DER is not an RSA SubjectPublicKeyInfo
 * @example
 *   const { n, e } = readRsaSpki(spkiDer);
 */
export function readRsaSpki(der: Uint8Array): { n: Uint8Array; e: Uint8Array } {
  const outer = children(der, whole(der, SEQUENCE, 'publicKey'), 'publicKey');
  checkAlgorithm(der, outer[0], 'publicKey');
  const bits = expect(outer[1], BIT_STRING, 'publicKey');
  if (der[bits.start] !== 0) throw invalid('publicKey');
  const inner = der.subarray(bits.start + 1, bits.end);
  const [n, e] = children(inner, whole(inner, SEQUENCE, 'publicKey'), 'publicKey').map((x) => integer(inner, x, 'publicKey'));
  return { n, e };
}

/**
 * The CRT components of an RSA PKCS#8 PrivateKeyInfo (two-prime keys only).
 * @throws {KeyInvalidError} `KEY_INVALID` when the DER is not an unencrypted two-prime RSA PrivateKeyInfo
 * @example
 *   const key = readRsaPkcs8(pkcs8Der); // { n, e, p, q, dP, dQ, qInv }
 */
export function readRsaPkcs8(der: Uint8Array): RsaPrivateComponents {
  const outer = children(der, whole(der, SEQUENCE, 'privateKey'), 'privateKey');
  checkAlgorithm(der, outer[1], 'privateKey');
  const octets = expect(outer[2], OCTET_STRING, 'privateKey');
  const inner = der.subarray(octets.start, octets.end);
  const fields = children(inner, whole(inner, SEQUENCE, 'privateKey'), 'privateKey');
  if (fields.length !== 9) throw invalid('privateKey'); // version 0 has nine fields; multi-prime keys have more
  const [version, n, e, , p, q, dP, dQ, qInv] = fields.map((x) => integer(inner, x, 'privateKey'));
  if (version.length !== 1 || version[0] !== 0) throw invalid('privateKey');
  return { n, e, p, q, dP, dQ, qInv };
}

// ---------------------------------------------------------------------------------------------------------------

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function tlvAt(der: Uint8Array, at: number, limit: number, name: string): Tlv {
  if (at + 2 > limit) throw invalid(name);
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > limit) throw invalid(name);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  if (start + length > limit) throw invalid(name);
  return { tag, start, end: start + length };
}

function whole(der: Uint8Array, tag: number, name: string): Tlv {
  const tlv = expect(tlvAt(der, 0, der.length, name), tag, name);
  if (tlv.end !== der.length) throw invalid(name);
  return tlv;
}

function children(der: Uint8Array, parent: Tlv, name: string): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = tlvAt(der, at, parent.end, name);
    out.push(child);
    at = child.end;
  }
  return out;
}

function expect(tlv: Tlv | undefined, tag: number, name: string): Tlv {
  if (tlv === undefined || tlv.tag !== tag) throw invalid(name);
  return tlv;
}

function checkAlgorithm(der: Uint8Array, tlv: Tlv | undefined, name: string): void {
  const [oid] = children(der, expect(tlv, SEQUENCE, name), name);
  const id = der.subarray(expect(oid, OID, name).start, oid.end);
  if (id.length !== RSA_ENCRYPTION_OID.length || id.some((b, i) => b !== RSA_ENCRYPTION_OID[i])) throw invalid(name);
}

/** A non-negative INTEGER's content bytes (a leading zero sign byte may remain; the core trims it). */
function integer(der: Uint8Array, tlv: Tlv | undefined, name: string): Uint8Array {
  const t = expect(tlv, INTEGER, name);
  if (t.end === t.start || der[t.start] & 0x80) throw invalid(name);
  return der.subarray(t.start, t.end);
}

function invalid(name: string): KeyInvalidError {
  return new KeyInvalidError('KEY_INVALID', `"${name}" is not a DER-encoded RSA ${name === 'publicKey' ? 'SubjectPublicKeyInfo' : 'PKCS#8 PrivateKeyInfo'}`);
}
