/**
 * CRC-64/XZ in the WebAssembly core: drives the core's CRC_STATE window and `crc64Update` export
 * (assembly/crc64.ts, slicing-by-16 over 64-bit tables) for bindings/integrity/crc64.ts, which decides when it
 * is worth it and falls back to JavaScript when this returns false.
 *
 * The bytes are copied into the IO window IO-sized slices at a time. They are stored bytes (ciphertext for an
 * encrypted object), public, so nothing needs zeroing afterwards; the core's AES windows are not touched.
 *
 * Deliberately not here: instantiating the module (bindings/wasm/core.ts, docs/ARCHITECTURE.md §3), the CRC
 * parameters and the JavaScript engine (crc64.ts).
 * @module
 */
import { loadedWasmCore, wasmCore, type WasmBuild, type WasmCore } from '../wasm/core.js';

/** Builds whose synchronous instantiation failed here (a browser's main thread before `initWasm()`). */
const unavailable: Record<WasmBuild, boolean> = { release: false, debug: false };

/**
 * Runs a CRC-64/XZ register over `data` in the core. The register is the complement of the CRC so far, as two
 * 32-bit halves, updated in place.
 * @param register `[low 32 bits, high 32 bits]` of the register; read and written
 * @param data the bytes to checksum
 * @param debug use the debug build (tests)
 * @returns false, having done nothing, when the core cannot be instantiated synchronously here: the caller then
 *   uses its JavaScript engine
 * @example
 *   const register = new Uint32Array([0xffffffff, 0xffffffff]);
 *   if (!wasmCrc64Update(register, chunk)) jsUpdate(register, chunk);
 */
export function wasmCrc64Update(register: Uint32Array, data: Uint8Array, debug = false): boolean {
  const core = coreFor(debug ? 'debug' : 'release');
  if (core === undefined) return false;
  const { io, crc } = core.views();
  crc.setUint32(0, register[0], true);
  crc.setUint32(4, register[1], true);
  for (let done = 0; done < data.length; ) {
    const n = Math.min(core.ioBytes, data.length - done);
    io.set(data.subarray(done, done + n));
    core.exports.crc64Update(n);
    done += n;
  }
  register[0] = crc.getUint32(0, true);
  register[1] = crc.getUint32(4, true);
  return true;
}

function coreFor(build: WasmBuild): WasmCore | undefined {
  // A core that initWasm() instantiated later is found here even after a failed synchronous attempt.
  const loaded = loadedWasmCore(build);
  if (loaded !== undefined || unavailable[build]) return loaded;
  try {
    return wasmCore(build);
  } catch {
    // Remembered: a forbidden synchronous compile must not be retried for every chunk.
    unavailable[build] = true;
    return undefined;
  }
}
