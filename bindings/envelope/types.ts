/**
 * The key model the envelope (metadata) layer and the key wrappers share: a material description, a plain
 * content key, a wrapped content key as stored in metadata. Types only; a leaf that imports nothing, so that
 * envelope/ never depends on keys/ (keys/ builds on envelope/, not the other way round).
 * @module
 */

/**
 * A material description: a JSON object of string values, compared as a parsed map.
 * @example
 *   const matdesc: Matdesc = { owner: 'ops', key: '2024' };
 *   rsaKeyWrapper({ privateKey: pem, matdesc }); // written with new objects; selects this key when reading
 */
export type Matdesc = Readonly<Record<string, string>>;

/**
 * A plain content key: the 32-byte AES-256 key and the 16-byte initial counter block. Never persisted.
 * @example
 *   const { key, iv }: ContentKey = await keyring.unwrap(envelope.wrapped);
 *   const plain = aesCtrXor(key, iv, body);
 */
export interface ContentKey {
  /** 32 bytes. */
  readonly key: Uint8Array;
  /** 16 bytes: the initial counter block, a 128-bit big-endian integer. */
  readonly iv: Uint8Array;
}

/**
 * A wrapped content key as stored in an object's metadata. For V2 `wrappedKey`/`wrappedStart` are the header
 * values exactly as stored (`x-oss-meta-client-side-encryption-key` / `-start`); for V1 they are
 * `x-oss-meta-oss-crypto-key` / `-start` (the start wraps a decimal counter, not an IV).
 * @example
 *   const wrapped: WrappedContentKey = decodeEnvelope(res.headers)!.wrapped;
 *   wrapped.wrapAlg; // e.g. 'RSA/NONE/PKCS1Padding'
 *   wrapped.matdesc; // e.g. { owner: 'ops' }, or {} when the object has none
 */
export interface WrappedContentKey {
  readonly format: 'v1' | 'v2';
  /** V2: the wrap-alg header (`RSA/NONE/PKCS1Padding`, `RSA/NONE/OAEPWithSHA-1AndMGF1Padding`, `KMS/ALICLOUD`). V1: `rsa` or `kms`. */
  readonly wrapAlg: string;
  readonly wrappedKey: string;
  readonly wrappedStart: string;
  /** `{}` when the object has none. */
  readonly matdesc: Matdesc;
}
