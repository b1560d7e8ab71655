/**
 * What a key wrapper is: the contract between the envelope (metadata) layer and a master key
 * (an RSA key pair or an Alibaba Cloud KMS key). docs/FORMAT.md §2.1–§2.3, §3.
 *
 * The "not mine" contract: `unwrap()` returns `null` when the wrapped key was not made by this kind of
 * wrapper (another wrap algorithm family); it throws `KeyUnwrapError`/`KmsError` only when it is its own
 * kind but the key or the call is broken. Which wrapper an object uses is chosen by matdesc (keyring.ts),
 * never by trying keys blindly.
 * @module
 */
import type { ContentKey, Matdesc, WrappedContentKey } from '../envelope/types.js';

export type { ContentKey, Matdesc, WrappedContentKey } from '../envelope/types.js';

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
