/**
 * A safe, JSON-able description of an object's encryption metadata, for `head()` results, the CLI and error
 * messages (docs/FORMAT.md §2, §2.2, §3).
 *
 * It says how the object was encrypted (metadata generation, algorithms, matdesc, recorded sizes, and for KMS
 * which blob layering the writer used) and never contains key material or wrapped-key bytes: only the lengths
 * of the wrapped values, which tell an RSA modulus size apart without revealing anything.
 * @module
 */
import type { Matdesc } from './types.js';
import { decodeBase64 } from '../util/base64.js';
import type { Envelope } from './codec.js';
import { WRAP_ALG } from './headers.js';

/**
 * What {@link describeEnvelope} returns. Plain data: `JSON.stringify` it freely.
 * @example
 *   const d: EnvelopeDescription = describeEnvelope(env);
 *   if (d.keyKind === 'kms' && d.kmsBlobLayering === 'base64-of-blob') console.log('written by Python oss2');
 */
export interface EnvelopeDescription {
  /** `2` for `x-oss-meta-client-side-encryption-*`, `1` for the deprecated `x-oss-meta-oss-crypto-*`. */
  readonly formatVersion: 1 | 2;
  /** The body cipher: always AES/CTR/NoPadding (V1 objects label it AES/GCM/NoPadding, falsely; docs/FORMAT.md §3). */
  readonly cekAlg: string;
  /** The wrap algorithm as stored (V1: `rsa` or `kms`). */
  readonly wrapAlg: string;
  /** Which kind of master key the object needs. */
  readonly keyKind: 'rsa' | 'kms';
  /** The material description (`{}` when the object has none). */
  readonly matdesc: Matdesc;
  /**
   * KMS objects only, when visible: `base64-of-blob` = the header is base64 of the CiphertextBlob text
   * (oss2 `AliKMSProvider`); `blob` = the header is the CiphertextBlob itself (Go, Java, V1).
   */
  readonly kmsBlobLayering?: 'base64-of-blob' | 'blob';
  /** Decoded byte lengths of the wrapped key and start (for RSA: the modulus size in bytes). */
  readonly wrappedKeyBytes: number;
  readonly wrappedStartBytes: number;
  readonly unencryptedContentLength?: number;
  readonly unencryptedContentMd5?: string;
  readonly dataSize?: number;
  readonly partSize?: number;
}

/**
 * Describes an envelope without key material.
 * @example
 *   const env = decodeEnvelope(res.headers);
 *   if (env) console.log(JSON.stringify(describeEnvelope(env)));
 *   // {"formatVersion":2,"cekAlg":"AES/CTR/NoPadding","wrapAlg":"RSA/NONE/PKCS1Padding","keyKind":"rsa",...}
 */
export function describeEnvelope(env: Envelope): EnvelopeDescription {
  if (env === null || typeof env !== 'object' || env.wrapped === null || typeof env.wrapped !== 'object') {
    throw new TypeError(`"env" expected an Envelope, got ${env === null ? 'null' : typeof env}`);
  }
  const w = env.wrapped;
  const isKms = w.wrapAlg === WRAP_ALG.kms || w.wrapAlg === WRAP_ALG.v1Kms;
  const key = decodeBase64(w.wrappedKey);
  const start = decodeBase64(w.wrappedStart);
  const out: { -readonly [K in keyof EnvelopeDescription]: EnvelopeDescription[K] } = {
    formatVersion: env.format === 'v1' ? 1 : 2,
    cekAlg: env.cekAlg,
    wrapAlg: w.wrapAlg,
    keyKind: isKms ? 'kms' : 'rsa',
    matdesc: { ...w.matdesc },
    wrappedKeyBytes: key?.length ?? 0,
    wrappedStartBytes: start?.length ?? 0,
  };
  if (isKms && key !== undefined) out.kmsBlobLayering = looksLikeBase64Text(key) ? 'base64-of-blob' : 'blob';
  if (env.unencryptedContentLength !== undefined) out.unencryptedContentLength = env.unencryptedContentLength;
  if (env.unencryptedContentMd5 !== undefined) out.unencryptedContentMd5 = env.unencryptedContentMd5;
  if (env.dataSize !== undefined) out.dataSize = env.dataSize;
  if (env.partSize !== undefined) out.partSize = env.partSize;
  return out;
}

/**
 * True when the bytes are themselves base64 text: what oss2's extra layer leaves after one decode. A raw KMS
 * blob decodes to binary (or to a key id followed by binary), which never passes.
 */
function looksLikeBase64Text(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length % 4 !== 0) return false;
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return decodeBase64(text) !== undefined;
}
