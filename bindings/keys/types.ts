/**
 * What a key wrapper is: the contract between the envelope (metadata) layer and a master key
 * (an RSA key pair or an Alibaba Cloud KMS key). FORMATS.md §2.1–§2.3, §3.
 *
 * The "not mine" contract: `unwrap()` returns `null` when the wrapped key was not made by this kind of
 * wrapper (another wrap algorithm family); it throws `KeyUnwrapError`/`KmsError` only when it is its own
 * kind but the key or the call is broken. Which wrapper an object uses is chosen by matdesc (keyring.ts),
 * never by trying keys blindly.
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

/**
 * A master key able to wrap new content keys (public half) and/or unwrap stored ones (private half).
 * Implement it to keep master keys elsewhere (an HSM, a vault); `unwrap` returns `null` for a wrap algorithm
 * that is not its own ("not mine") and throws only when the key is its own but cannot be unwrapped.
 * @example
 *   const vault: KeyWrapper = {
 *     wrapAlg: 'RSA/NONE/PKCS1Padding', matdesc: { vault: 'prod' }, canWrap: true, canUnwrap: true,
 *     wrap: (content) => vaultClient.wrap(content),
 *     unwrap: async (w) => (w.wrapAlg === 'RSA/NONE/PKCS1Padding' ? vaultClient.unwrap(w) : null),
 *   };
 *   const client = new CryptoClient(oss, { material: vault });
 */
export interface KeyWrapper {
  /** The V2 wrap algorithm that `wrap()` writes. */
  readonly wrapAlg: string;
  /** The material description written with (and used to select this wrapper for) objects. */
  readonly matdesc: Matdesc;
  /** True when this wrapper holds what `wrap()` needs (an RSA public key, a KMS key id). */
  readonly canWrap: boolean;
  /** True when this wrapper holds what `unwrap()` needs (an RSA private key, KMS credentials). */
  readonly canUnwrap: boolean;
  /** Wraps a content key for a new V2 object. */
  wrap(content: ContentKey): Promise<WrappedContentKey>;
  /** Unwraps a stored key; `null` when the wrapped key is not of this wrapper's kind. */
  unwrap(wrapped: WrappedContentKey): Promise<ContentKey | null>;
}
