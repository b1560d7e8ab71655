/**
 * The options of `new CryptoClient(oss, options)` and their checked, defaulted form, the {@link ClientContext}.
 *
 * Key material comes either as a ready key ring (`keyring`) or as sugar: `material` (the default key wrapper:
 * writes new objects and reads objects without matdesc), `materials` (more wrappers, selected by the object's
 * matdesc) and `resolve` (an async lookup for matdescs not listed), which build a `KeyRing`
 * (docs/FORMAT.md §2.3). Everything else has a default that matches ali-oss's behaviour where one exists.
 *
 * Deliberately not here: network calls. Building a context never contacts OSS or KMS.
 * @module
 */
import type { CtrBackend } from '../cipher/backend.js';
import type { KeyWrapper } from '../keys/types.js';
import { KeyRing, type KeyResolver } from '../keys/keyring.js';
import { AliOssStore, type AliOssLike } from '../oss/ali-oss.js';
import type { ObjectStore } from '../oss/object-store.js';
import type { LocalFiles } from './local-files.js';
import { describe } from '../util/describe.js';
import { resolveRetryPolicy, type RetryPolicy } from '../util/retry.js';
import type { ClientContext, ClientKeyRing, PlaintextPolicy } from './context.js';
import { resolveCommitmentPolicy, type CommitmentPolicy } from './commitment-policy.js';
import { resolveVerifyPolicy, type VerifyPolicy } from './verify-policy.js';

/**
 * Default multipart part size: 1 MiB (a multiple of 16; ali-oss's own default is 1 MiB too).
 * @example
 *   const client = new CryptoClient(oss, { material, partSize: 8 * DEFAULT_CLIENT_PART_SIZE });
 */
export const DEFAULT_CLIENT_PART_SIZE = 1024 * 1024;
/**
 * Default parts in flight: 5, ali-oss's `parallel` default.
 * @example
 *   await client.multipartUpload(name, path, { parallel: DEFAULT_PARALLEL * 2 });
 */
export const DEFAULT_PARALLEL = 5;
/**
 * Default size from which callers that choose (the CLI) switch to multipart upload: 100 MiB.
 * @example
 *   const size = (await stat(path)).size;
 *   await (size >= DEFAULT_MULTIPART_THRESHOLD ? client.multipartUpload(name, path) : client.put(name, path));
 */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;

/**
 * Options of `new CryptoClient(oss, options)`.
 * @example
 *   const options: CryptoClientOptions = {
 *     material: rsaKeyWrapper({ privateKey: pem }),     // writes new objects, reads those without matdesc
 *     materials: [rsaKeyWrapper({ privateKey: oldPem, matdesc: { key: '2019' } })],
 *     backend: nativeBackend, plaintext: 'reject', retry: { retries: 5 }, partSize: 8 << 20, parallel: 4,
 *   };
 */
export interface CryptoClientOptions {
  /** A ready key ring. Give either this or `material` / `materials` / `resolve`. */
  readonly keyring?: ClientKeyRing;
  /** The default key wrapper: wraps new content keys; reads objects without matdesc (and with its matdesc). */
  readonly material?: KeyWrapper;
  /** More wrappers for reading, each selected when an object's matdesc equals its own (parsed-map equality). */
  readonly materials?: readonly KeyWrapper[];
  /** Async lookup of a wrapper for a matdesc that no configured wrapper has. */
  readonly resolve?: KeyResolver;
  /**
   * AES-256-CTR engine. Default: `nativeBackend` (node:crypto, AES instructions) over an ali-oss client on x64 and
   * arm64, the WebAssembly core otherwise (transfer/default-backend.ts). `wasmBackend()` picks the core anywhere.
   */
  readonly backend?: CtrBackend;
  /** Objects without encryption metadata: `reject` (default; PlaintextObjectError) or `allow`. */
  readonly plaintext?: PlaintextPolicy;
  /** Retries of transient failures; `false` disables them. Default `{ retries: 3, baseDelayMs: 100, maxDelayMs: 2000 }`. */
  readonly retry?: Partial<RetryPolicy> | false;
  /** Default multipart part size, a multiple of 16. Default 1 MiB. */
  readonly partSize?: number;
  /** Default parts in flight. Default 5. */
  readonly parallel?: number;
  /** Size from which the CLI (and other choosers) use multipart upload. Default 100 MiB. */
  readonly multipartThreshold?: number;
  /** Record the plaintext MD5 (`unencrypted-content-md5`) on every write. Default false (per-call `contentMd5`). */
  readonly contentMd5?: boolean;
  /** Key commitment: `verify` (default: check when present), `write` (add to new objects), `require` (also refuse objects without). */
  readonly commitment?: CommitmentPolicy;
  /** `{ length: 'require', md5: 'require' }` refuses objects that do not record them. Default: check what is recorded. */
  readonly verify?: Partial<VerifyPolicy>;
}

/**
 * True for an {@link ObjectStore} (as opposed to an ali-oss client, which has none of these methods).
 * @example
 *   const store = isObjectStore(x) ? x : new AliOssStore(x);
 */
export function isObjectStore(value: unknown): value is ObjectStore {
  const v = value as Partial<ObjectStore> | null;
  return v !== null && typeof v === 'object' && typeof v.openObject === 'function' && typeof v.headObject === 'function' && typeof v.putObject === 'function';
}

/**
 * What the runtime adds to a client: Node's `CryptoClient` passes its file system and its RSA engine preference
 * (node:crypto unless the caller chose an engine); the web client passes nothing, so no module it loads names a
 * Node builtin.
 * @example
 *   const ctx = createClientContext(store, options, { files: nodeFiles, adaptMaterial: preferNodeRsaEngine });
 */
export interface ClientPlatform {
  /** The file system for file paths and checkpoint files. */
  readonly files?: LocalFiles;
  /** Applied to every key material given as `material` / `materials` / `resolve`. */
  readonly adaptMaterial?: (wrapper: KeyWrapper) => KeyWrapper;
  /**
   * The engine when the caller names none (Node's client: transfer/default-backend.ts, node:crypto over the ali-oss
   * store on x64/arm64); absent or `undefined` means the WebAssembly core. A capability, so that the web entry
   * never imports node:crypto or node:os.
   */
  readonly defaultBackend?: (store: ObjectStore) => CtrBackend | undefined;
}

/**
 * Checks the options and builds the frozen context every client module receives.
 * @param oss an `ali-oss` client instance (wrapped in an {@link AliOssStore}) or an {@link ObjectStore}
 * @param options key material, engine and policies
 * @param platform what the runtime adds: its file system, its RSA engine preference (Node's client passes both)
 * @returns the context
 * @throws {TypeError} when `oss` is not an ali-oss client, or no key material is given
 * @throws {RangeError} when a number is out of range (e.g. `"partSize" expected a multiple of 16, got 100001`)
 * @example
 *   const ctx = createClientContext(new OSS({ ... }), {
 *     material: rsaKeyWrapper({ privateKey }),
 *     plaintext: 'reject',
 *   });
 */
export function createClientContext(oss: AliOssLike | ObjectStore, options: CryptoClientOptions, platform: ClientPlatform = {}): ClientContext {
  let store: ObjectStore;
  if (isObjectStore(oss)) {
    store = oss;
  } else {
    if (oss === null || typeof oss !== 'object' || typeof (oss as { get?: unknown }).get !== 'function') {
      throw new TypeError(`"oss" expected an ali-oss client instance, got ${describe(oss)}`);
    }
    store = new AliOssStore(oss);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`"options" expected an object, got ${describe(options)}`);
  }
  const plaintext = options.plaintext ?? 'reject';
  if (plaintext !== 'reject' && plaintext !== 'allow') {
    throw new RangeError(`"plaintext" expected 'reject' or 'allow', got ${JSON.stringify(plaintext)}`);
  }
  const partSize = options.partSize ?? DEFAULT_CLIENT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize <= 0 || partSize % 16 !== 0) {
    throw new RangeError(`"partSize" expected a positive multiple of 16, got ${String(partSize)}`);
  }
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isSafeInteger(parallel) || parallel < 1) {
    throw new RangeError(`"parallel" expected a positive integer, got ${String(parallel)}`);
  }
  const multipartThreshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  if (!Number.isSafeInteger(multipartThreshold) || multipartThreshold < 0) {
    throw new RangeError(`"multipartThreshold" expected a non-negative integer, got ${String(multipartThreshold)}`);
  }
  const backend = options.backend;
  if (backend !== undefined && (backend === null || typeof backend.open !== 'function')) {
    throw new TypeError(`"backend" expected a CtrBackend (an object with open()), got ${describe(backend)}`);
  }
  // A store that leaves retries to the client (the fetch store) says how patient to be, unless the caller does.
  const retry: RetryPolicy =
    options.retry === false ? resolveRetryPolicy({ retries: 0 }) : resolveRetryPolicy(options.retry ?? store.retryPolicy);
  return Object.freeze({
    store,
    keyring: keyringFrom(options, platform.adaptMaterial ?? ((w) => w)),
    // Unnamed: the platform's default (Node: node:crypto over the ali-oss store on x64/arm64), else the WASM core.
    backend: backend ?? platform.defaultBackend?.(store),
    plaintext,
    retry,
    partSize,
    parallel,
    multipartThreshold,
    contentMd5: options.contentMd5 === true,
    files: platform.files,
    commitment: resolveCommitmentPolicy(options.commitment),
    verify: resolveVerifyPolicy(options.verify),
  });
}

function keyringFrom(options: CryptoClientOptions, adapt: (wrapper: KeyWrapper) => KeyWrapper): ClientKeyRing {
  const sugar = options.material !== undefined || options.materials !== undefined || options.resolve !== undefined;
  if (options.keyring !== undefined) {
    if (sugar) {
      throw new TypeError('"keyring" cannot be combined with "material", "materials" or "resolve": put them in the KeyRing');
    }
    const k = options.keyring as Partial<ClientKeyRing>;
    if (typeof k.unwrap !== 'function' || typeof k.createContentKey !== 'function') {
      throw new TypeError(`"keyring" expected a KeyRing (createContentKey() and unwrap()), got ${describe(options.keyring)}`);
    }
    return options.keyring;
  }
  if (!sugar) {
    throw new TypeError('"options" expected key material: "keyring", or "material" / "materials" / "resolve"');
  }
  // The client is Node-only, so RSA materials use node:crypto's raw RSA (about 70x faster PKCS#1 v1.5 unwraps than
  // node-forge) unless the caller chose an engine; resolved materials get the same preference.
  const resolve = options.resolve;
  return new KeyRing({
    default: options.material === undefined ? undefined : adapt(options.material),
    materials: options.materials?.map(adapt),
    resolve: resolve && (async (matdesc, wrapped) => {
      const found = await resolve(matdesc, wrapped);
      return found === undefined || found === null ? found : adapt(found);
    }),
  });
}
