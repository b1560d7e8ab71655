/**
 * The loader of the WebAssembly AES-256-CTR core (assembly/): the only file that touches `WebAssembly`.
 *
 * It instantiates the embedded module (core.wasm.ts) once, lazily: synchronously on first use where the runtime
 * allows it (Node, Deno, Bun, workers), or ahead of time with `await initWasm()` where synchronous compilation is
 * forbidden (a browser's main thread). It then offers the core as a {@link CtrBackend}: copy the input into the
 * IO window, call `ctrXor`, copy the result out, in IO-sized slices (STYLE.md §C).
 *
 * JS owns every stream's state (a copy of the key, the current counter block, the skip into it) and writes key
 * and counter before each call, so any number of open streams share one instance safely: JS is single-threaded
 * and each call is synchronous. The core zeroes its key and round keys at the end of every call; `dispose()`
 * also zeroes the JS copies and every window.
 *
 * Deliberately not here: input validation (bindings/cipher/aes-ctr.ts does it once) and counter arithmetic
 * beyond "+n blocks" (bindings/cipher/counter.ts).
 * @module
 */
import type { CtrBackend, CtrSession } from '../cipher/backend.js';
import { incrementInPlace } from '../cipher/counter.js';
import { WasmCoreError } from '../errors.js';
import { DEBUG_WASM_BASE64, RELEASE_WASM_BASE64 } from './core.wasm.js';

/** The exports of assembly/index.ts, by hand (the ABI is small and numbers only). */
interface CoreExports {
  readonly memory: WebAssembly.Memory;
  /** Address of the 32-byte key window. */
  readonly KEY: WebAssembly.Global;
  /** Address of the 16-byte counter-block window. */
  readonly CTR: WebAssembly.Global;
  /** Address of the IO window. */
  readonly IO: WebAssembly.Global;
  /** Size of the IO window in bytes. */
  readonly IO_BYTES: WebAssembly.Global;
  /** XORs the keystream (key KEY, counter block CTR, skipping `skip` bytes) into IO[0..len). */
  ctrXor(len: number, skip: number): void;
  /** Zeroes KEY, CTR, the round keys and scratch areas, and IO[0..ioBytes). */
  wipe(ioBytes: number): void;
}

/** Which build of the core: `release` (optimised, no assertions) or `debug` (assertions, for tests). */
type Build = 'release' | 'debug';

/**
 * Instantiates the release core (and, with `{ debug: true }`, the debug core) asynchronously. Needed only where
 * synchronous compilation is forbidden, such as a browser's main thread; elsewhere the first use instantiates
 * it. Calling it again is harmless.
 *
 * Where no code may be compiled from bytes at all (Cloudflare Workers / workerd), pass the release core compiled
 * by the platform as `module` (a Worker imports the `.wasm` file as a module: `import core from './core.wasm'`);
 * it is checked to export the core's ABI and then only instantiated.
 * @throws {TypeError} when `module` is not a WebAssembly.Module
 * @throws {WasmCoreError} when the runtime refuses to compile or instantiate the module, or `module` is not the
 *   core (code `WASM_CORE`)
 * @example
 *   import { initWasm, aesCtrXor } from 'ali-oss-crypto';
 *   await initWasm();
 *   const ct = aesCtrXor(cek, iv, plaintext);
 */
export async function initWasm(options: { debug?: boolean; module?: WebAssembly.Module } = {}): Promise<void> {
  if (options.module !== undefined) checkCoreModule(options.module);
  const builds: Build[] = options.debug ? ['release', 'debug'] : ['release'];
  for (const build of builds) {
    if (cores[build] !== undefined) continue;
    let instance: WebAssembly.Instance;
    const holder: { core?: Core } = {};
    try {
      const module = build === 'release' && options.module !== undefined ? options.module : await WebAssembly.compile(wasmBytes(build));
      instance = await WebAssembly.instantiate(module, imports(holder));
    } catch (err) {
      throw instantiationError(build, err);
    }
    cores[build] ??= new Core(instance, holder);
  }
}

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
  return debugBackend;
}

const cores: Partial<Record<Build, Core>> = {};

const releaseBackend: CtrBackend = {
  name: 'wasm',
  open: (key, counter, skip) => openSession('release', key, counter, skip),
};
const debugBackend: CtrBackend = {
  name: 'wasm-debug',
  open: (key, counter, skip) => openSession('debug', key, counter, skip),
};

function openSession(build: Build, key: Uint8Array, counter: Uint8Array, skip: number): CtrSession {
  return new WasmSession(core(build), key, counter, skip);
}

/** One instantiated core and the views over its windows. */
class Core {
  readonly exports: CoreExports;
  readonly ioBytes: number;
  /** How much of IO any session filled since the last wipe: what `wipe` must zero. */
  ioUsed = 0;
  #buffer: ArrayBuffer | undefined;
  #key!: Uint8Array;
  #ctr!: Uint8Array;
  #io!: Uint8Array;

  constructor(instance: WebAssembly.Instance, holder: { core?: Core }) {
    this.exports = instance.exports as unknown as CoreExports;
    this.ioBytes = this.exports.IO_BYTES.value as number;
    holder.core = this;
  }

  /** Zeroes every window (the used part of IO). */
  wipe(): void {
    this.exports.wipe(this.ioUsed);
    this.ioUsed = 0;
  }

  /** Views over KEY, CTR and IO, rebuilt when the memory's buffer changed identity (after a grow). */
  views(): { key: Uint8Array; ctr: Uint8Array; io: Uint8Array } {
    const buffer = this.exports.memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#key = new Uint8Array(buffer, this.exports.KEY.value as number, 32);
      this.#ctr = new Uint8Array(buffer, this.exports.CTR.value as number, 16);
      this.#io = new Uint8Array(buffer, this.exports.IO.value as number, this.ioBytes);
    }
    return { key: this.#key, ctr: this.#ctr, io: this.#io };
  }

  /** Reads an AssemblyScript string (UTF-16; byte length in the 4 bytes before it) out of memory. */
  readString(pointer: number): string {
    if (pointer === 0) return '';
    const bytes = new Uint32Array(this.exports.memory.buffer, pointer - 4, 1)[0];
    return String.fromCharCode(...new Uint16Array(this.exports.memory.buffer, pointer, bytes >>> 1));
  }
}

/** A keystream over a shared core; its whole state lives here, in JS. */
class WasmSession implements CtrSession {
  readonly #core: Core;
  #key: Uint8Array | undefined;
  readonly #counter: Uint8Array;
  #skip: number;

  constructor(core: Core, key: Uint8Array, counter: Uint8Array, skip: number) {
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
        incrementInPlace(this.#counter, Math.floor(consumed / 16));
        this.#skip = consumed % 16;
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

function core(build: Build): Core {
  const existing = cores[build];
  if (existing !== undefined) return existing;
  const holder: { core?: Core } = {};
  let instance: WebAssembly.Instance;
  try {
    const module = new WebAssembly.Module(wasmBytes(build));
    instance = new WebAssembly.Instance(module, imports(holder));
  } catch (err) {
    throw instantiationError(build, err);
  }
  const created = new Core(instance, holder);
  cores[build] = created;
  return created;
}

/** The exports a module must have to be the core (assembly/index.ts's ABI). */
const CORE_EXPORTS = ['memory', 'KEY', 'CTR', 'IO', 'IO_BYTES', 'ctrXor', 'wipe'];

function checkCoreModule(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`"module" expected a WebAssembly.Module (the compiled release core), got ${module === null ? 'null' : typeof module}`);
  }
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((name) => !names.has(name));
  if (missing.length > 0) throw new WasmCoreError('WASM_CORE', `the WebAssembly module given to initWasm is not the AES core: it lacks ${missing.join(', ')}`);
}

function imports(holder: { core?: Core }): WebAssembly.Imports {
  return {
    env: {
      // Called by the debug build when an assertion fails (the release build has none).
      abort(message: number, file: number, line: number, column: number): never {
        const where = holder.core ? `${holder.core.readString(file)}:${line}:${column}` : `line ${line}`;
        const what = holder.core ? holder.core.readString(message) : 'assertion failed';
        throw new WasmCoreError('WASM_CORE', `the WebAssembly core aborted: ${what} (${where})`);
      },
    },
  };
}

function instantiationError(build: Build, err: unknown): WasmCoreError {
  const reason = err instanceof Error ? err.message : String(err);
  return new WasmCoreError(
    'WASM_CORE',
    `could not instantiate the ${build} WebAssembly core: ${reason}. Where synchronous compilation is ` +
      'forbidden (a browser main thread), call `await initWasm()` once before encrypting; a Content-Security-Policy ' +
      "must allow 'wasm-unsafe-eval'.",
    { cause: err },
  );
}

function wasmBytes(build: Build): Uint8Array<ArrayBuffer> {
  const text = build === 'release' ? RELEASE_WASM_BASE64 : DEBUG_WASM_BASE64;
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function overlapsAhead(input: Uint8Array, output: Uint8Array): boolean {
  return (
    input.buffer === output.buffer &&
    output.byteOffset > input.byteOffset &&
    output.byteOffset < input.byteOffset + input.byteLength
  );
}
