/**
 * The contract between the validating CTR layer (aes-ctr.ts) and an AES-256-CTR engine.
 *
 * An engine receives input that is already validated: a 32-byte key, the 16-byte counter block of the
 * first keystream block it must use, and how many bytes of that first block to skip (0..15). It never
 * sees offsets or IVs, so it needs no counter arithmetic beyond "+1 per block, mod 2^128".
 * @module
 */

/**
 * An open keystream: XORs successive chunks, continuing where the previous call stopped.
 * @example
 *   const session: CtrSession = nativeBackend.open(key, counterAt(iv, 0), 0);
 *   session.process(chunk, chunk); // in place
 *   session.dispose();
 */
export interface CtrSession {
  /**
   * XORs the keystream into `input`, writing `output` (same length; may be the same array).
   * Successive calls continue the keystream, whatever the chunk sizes.
   */
  process(input: Uint8Array, output: Uint8Array): void;
  /**
   * Optional: XORs the keystream into `input` and returns the result in a new array. Only for engines whose API
   * allocates its output anyway (node:crypto's `update`), so a caller that may take any array skips a copy.
   */
  produce?(input: Uint8Array): Uint8Array;
  /** Zeroes the key material held by this session. The session is unusable afterwards. */
  dispose(): void;
}

/**
 * An AES-256-CTR engine: the WASM core (default) or the runtime's native AES. Pass one as `backend` to
 * `aesCtr` or to `new CryptoClient(oss, { backend })`.
 * @example
 *   const engine: CtrBackend = inNode ? nativeBackend : wasmBackend(); // nativeBackend: ali-oss-crypto/native
 *   const ct = aesCtrXor(cek, iv, data, 0, { backend: engine });
 */
export interface CtrBackend {
  /** Short name for benchmarks and error messages: `"wasm"`, `"wasm-debug"`, `"native"`. */
  readonly name: string;
  /**
   * Opens a keystream at `counter` (a 16-byte big-endian 128-bit counter block), skipping the first
   * `skip` (0..15) keystream bytes. The engine copies `key` and `counter`; the caller may reuse them.
   */
  open(key: Uint8Array, counter: Uint8Array, skip: number): CtrSession;
}
