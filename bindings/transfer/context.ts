/**
 * The shared state every transfer receives: the object store, the key ring, the cipher engine and the client's
 * policies. It is a plain, frozen value built once by `CryptoClient` (see options.ts); the client, upload and
 * download modules export functions `(ctx, ...ali-oss-style args)` and never reach back into the facade.
 *
 * Deliberately not here: behaviour. This file holds types only, so that any client module can import it
 * without pulling in another module's code.
 * @module
 */
import type { CtrBackend } from '../cipher/backend.js';
import type { ContentKey, WrappedContentKey } from '../keys/types.js';
import type { ObjectStore } from '../oss/object-store.js';
import type { LocalFiles } from './local-files.js';
import type { RetryPolicy } from '../util/retry.js';
import type { CommitmentPolicy } from './commitment-policy.js';
import type { VerifyPolicy } from './verify-policy.js';

/**
 * What the client needs from a key ring (bindings/keys/keyring.ts `KeyRing` satisfies it): a fresh content key
 * wrapped by the default material for writing, and the unwrap of a stored key for reading. Callers unwrap once
 * per operation and reuse the result for every range and part (docs/FORMAT.md §7: oss2 unwraps per part).
 * @example
 *   const keyring: ClientKeyRing = new KeyRing({ default: rsaKeyWrapper({ privateKey: pem }) });
 *   const client = new CryptoClient(oss, { keyring });
 */
export interface ClientKeyRing {
  /** A fresh random CEK and IV (IV bytes 8..11 zero), and the same wrapped by the default material. */
  createContentKey(): Promise<{ content: ContentKey; wrapped: WrappedContentKey }>;
  /** The content key of a stored object, selected by matdesc (docs/FORMAT.md §2.3). */
  unwrap(wrapped: WrappedContentKey): Promise<ContentKey>;
}

/**
 * What to do with an object that has no encryption metadata (docs/FORMAT.md §7: never silent).
 * `reject` (default) throws `PlaintextObjectError` (PLAINTEXT_REJECTED); `allow` returns it as is, and the
 * result says `encrypted: false`.
 * @example
 *   const migrating = new CryptoClient(oss, { material, plaintext: 'allow' satisfies PlaintextPolicy });
 *   const { content, encrypted } = await migrating.get('old.csv'); // encrypted === false for legacy objects
 */
export type PlaintextPolicy = 'reject' | 'allow';

/**
 * Everything a client operation needs. Built once per `CryptoClient`; frozen.
 * @example
 *   export async function myOperation(ctx: ClientContext, name: string) {
 *     const res = await withRetry(() => ctx.store.headObject(name, {}), ctx.retry);
 *     ...
 *   }
 */
export interface ClientContext {
  /** Every request goes through it (over ali-oss: its auth, endpoint and agent apply). */
  readonly store: ObjectStore;
  /** Selects the material for reading (by matdesc) and wraps new content keys (default material). */
  readonly keyring: ClientKeyRing;
  /** AES-256-CTR engine, the caller's or the client's default (transfer/default-backend.ts); `undefined` means the WebAssembly core. */
  readonly backend: CtrBackend | undefined;
  /** Objects without encryption metadata: `reject` (default) or `allow`. */
  readonly plaintext: PlaintextPolicy;
  /** Retries of transient failures (5xx, 429, resets, timeouts). `retries: 0` disables them. */
  readonly retry: RetryPolicy;
  /** Default multipart part size in bytes (a multiple of 16). */
  readonly partSize: number;
  /** Default number of parts in flight for multipart uploads and parallel downloads. */
  readonly parallel: number;
  /** Objects at least this large are sent by multipart upload by callers that choose (CLI). */
  readonly multipartThreshold: number;
  /** Record `unencrypted-content-md5` on writes by default (computing the MD5 of the plaintext). */
  readonly contentMd5: boolean;
  /** The file system for file paths and checkpoint files: node:fs for Node's client, none on the web. */
  readonly files: LocalFiles | undefined;
  /** Key commitment: `verify` (default when absent), `write` or `require` (transfer/commitment-policy.ts). */
  readonly commitment?: CommitmentPolicy;
  /** Whether the recorded length and MD5 must be present (transfer/verify-policy.ts); absent means check-if-present. */
  readonly verify?: VerifyPolicy;
}
