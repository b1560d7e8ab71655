/**
 * The WebAssembly core as a {@link CtrBackend}: keystream sessions over the instance that bindings/wasm/core.ts
 * loads. Each `process` call copies the input into the IO window, calls `ctrXor`, and copies the result out, in
 * IO-sized slices (docs/ARCHITECTURE.md §3).
 *
 * JS owns every stream's state (a copy of the key, the current counter block, the skip into it) and writes key
 * and counter before each call, so any number of open streams share one instance safely: JS is single-threaded
 * and each call is synchronous. The core zeroes its key and round keys at the end of every call; `dispose()`
 * also zeroes the JS copies and every window.
 *
 * Deliberately not here: instantiating the module (wasm/core.ts), input validation (aes-ctr.ts does it once).
 * @module
 */
import type { CtrBackend, CtrSession } from './backend.js';
import { BLOCK_BYTES, incrementInPlace } from './counter.js';
import { DEBUG_WASM_BASE64 } from '../wasm/core-debug.wasm.js';
import { provideDebugCore, wasmCore, type WasmBuild, type WasmCore } from '../wasm/core.js';

export { initWasm } from '../wasm/core.js';

/**
 * The WebAssembly core (release build) as a CTR engine: the default of `aesCtr`.
 * @throws {WasmCoreError} on first use, when the runtime forbids synchronous compilation and `initWasm()` has
 *   not completed (code `WASM_CORE`)
 * @example
 *   const stream = aesCtr(cek, iv, 0, { backend: wasmBackend() });
 *   const ct = stream.update(plaintext);
 *   stream.dispose();
 */
export function wasmBackend(): CtrBackend {
  return releaseBackend;
}

/**
 * The debug build of the core as a CTR engine: unoptimised, with its assertions compiled in (an assertion
 * failure becomes a `WasmCoreError`). Same bytes out as {@link wasmBackend}; for tests and bug hunts.
 * @example
 *   const ct = aesCtrXor(cek, iv, data, 0, { backend: wasmDebugBackend() });
 */
export function wasmDebugBackend(): CtrBackend {
  // Only code that asks for the debug engine references its bytes, so production bundles leave them out.
  provideDebugCore(DEBUG_WASM_BASE64);
  return debugBackend;
}

const releaseBackend: CtrBackend = {
  name: 'wasm',
  open: (key, counter, skip) => openSession('release', key, counter, skip),
};
const debugBackend: CtrBackend = {
  name: 'wasm-debug',
  open: (key, counter, skip) => openSession('debug', key, counter, skip),
};

function openSession(build: WasmBuild, key: Uint8Array, counter: Uint8Array, skip: number): CtrSession {
  return new WasmSession(wasmCore(build), key, counter, skip);
}

/** A keystream over a shared core; its whole state lives here, in JS. */
class WasmSession implements CtrSession {
  readonly #core: WasmCore;
  #key: Uint8Array | undefined;
  readonly #counter: Uint8Array;
  #skip: number;

  constructor(core: WasmCore, key: Uint8Array, counter: Uint8Array, skip: number) {
    this.#core = core;
    // Copies, not views: `Buffer#slice` would share memory, and dispose() must not zero the caller's key.
    this.#key = new Uint8Array(key);
    this.#counter = new Uint8Array(counter);
    this.#skip = skip;
  }

  process(input: Uint8Array, output: Uint8Array): void {
    const key = this.#key;
    if (key === undefined) throw new TypeError('this CTR session was disposed');
    // An output that starts inside the input, after its start, would overwrite input bytes not read yet.
    if (overlapsAhead(input, output)) input = new Uint8Array(input);
    const core = this.#core;
    const windows = core.views();
    try {
      // Every slice but the last is IO_BYTES long, a multiple of 16, so `skip` stays the same between slices.
      for (let done = 0; done < input.length; ) {
        const n = Math.min(core.ioBytes, input.length - done);
        windows.key.set(key);
        windows.ctr.set(this.#counter);
        windows.io.set(input.subarray(done, done + n));
        core.ioUsed = Math.max(core.ioUsed, n);
        core.exports.ctrXor(n, this.#skip);
        output.set(windows.io.subarray(0, n), done);
        const consumed = this.#skip + n;
        incrementInPlace(this.#counter, Math.floor(consumed / BLOCK_BYTES));
        this.#skip = consumed % BLOCK_BYTES;
        done += n;
      }
    } catch (err) {
      // A trap leaves the core mid-call, with key material in its windows.
      core.wipe();
      throw err;
    }
  }

  dispose(): void {
    // Best effort: JS gives no guarantee that the engine kept no other copy (a moved or swapped-out buffer), but
    // what we can reach, we zero: our key and counter copies and every window of the core.
    this.#key?.fill(0);
    this.#counter.fill(0);
    if (this.#key !== undefined) this.#core.wipe();
    this.#key = undefined;
  }
}

function overlapsAhead(input: Uint8Array, output: Uint8Array): boolean {
  return (
    input.buffer === output.buffer &&
    output.byteOffset > input.byteOffset &&
    output.byteOffset < input.byteOffset + input.byteLength
  );
}
