/**
 * The AES-256-CTR engine a `CryptoClient` uses when the caller names none (docs/ARCHITECTURE.md §3): node:crypto
 * (`nativeBackend`) over the ali-oss store on x64 and arm64, the WebAssembly core everywhere else.
 *
 * Why node:crypto there: on those architectures OpenSSL's AES runs on the CPU's AES instructions (AES-NI on x64,
 * the ARMv8 Cryptography Extensions on arm64), which are constant-time in hardware like the bitsliced WASM core,
 * and cheaper. Measured with `npm run bench:download` (256 MiB, contenders in the same run, a loaded 2-core
 * machine where the client is CPU-bound), node:crypto instead of the WASM core saved 1.1–3.1 ms of client CPU per
 * MB over two runs (get to a file 7.6 → 6.5 and 7.8 → 6.3 ms/MB, resumableDownload parallel 4 6.6 → 4.6 and
 * 7.4 → 4.3 ms/MB; the README's Speed section has the table); `npm run bench:aes` puts the cipher alone at
 * 0.16–0.54× the WASM core's time. On other architectures OpenSSL may fall back to table-based AES, which is not constant-time, so the
 * WASM core stays the default there, as it does for any other store (a fetch-based store is meant for browsers
 * and edge runtimes, where node:crypto does not exist).
 *
 * The ali-oss store is the cue for Node: the Node transport is chosen here (transfer/options.ts builds it from an
 * ali-oss client), so this module is reached only from the Node-only client path, never from the
 * `ali-oss-crypto/core` entry, which must import nothing from node:crypto. No `typeof process` sniffing.
 *
 * Deliberately not here: the engines themselves (cipher/), validating a caller's `backend` (transfer/options.ts).
 * A caller's `backend` (e.g. `wasmBackend()`) always wins.
 * @module
 */
import { arch } from 'node:os';
import type { CtrBackend } from '../cipher/backend.js';
import { nativeBackend } from '../cipher/native.js';
import { AliOssStore } from '../oss/ali-oss.js';
import type { ObjectStore } from '../oss/object-store.js';

/** Architectures whose node:crypto AES runs on constant-time AES instructions (see the module comment). */
export const NATIVE_AES_ARCHITECTURES: readonly string[] = ['x64', 'arm64'];

/**
 * The engine for a client over `store` that names none.
 * @param store the client's object store
 * @param architecture the CPU architecture (default: this process's, `os.arch()`); a parameter for tests
 * @returns `nativeBackend` for the ali-oss store on x64/arm64; otherwise `undefined`, which every cipher call
 *   reads as the WebAssembly core
 * @example
 *   const backend = options.backend ?? defaultBackendFor(store);
 */
export function defaultBackendFor(store: ObjectStore, architecture: string = arch()): CtrBackend | undefined {
  return store instanceof AliOssStore && NATIVE_AES_ARCHITECTURES.includes(architecture) ? nativeBackend : undefined;
}
