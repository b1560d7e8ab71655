/**
 * TEMPORARY: replaced by the WebAssembly core loader (issue: WASM AES-256-CTR core).
 * @module
 */
import type { CtrBackend } from '../cipher/backend.js';
import { WasmCoreError } from '../errors.js';

/** The WebAssembly AES-256-CTR engine (not built yet). */
export function wasmBackend(): CtrBackend {
  throw new WasmCoreError('WASM_CORE', 'the WebAssembly core is not built yet');
}
