/**
 * The loader of the WebAssembly AES-256-CTR core (assembly/): the only file that touches `WebAssembly`.
 *
 * It instantiates the embedded module (core.wasm.ts) once per build, lazily: synchronously on first use where
 * the runtime allows it (Node, Deno, Bun, workers), or ahead of time with `await initWasm()` where synchronous
 * compilation is forbidden (a browser's main thread). It exposes each instance as a {@link WasmCore}: the raw
 * exports and views over the KEY, CTR, IO and CRC_STATE windows, rebuilt after a memory grow.
 *
 * Deliberately not here: keystream sessions and the CTR engine contract (bindings/cipher/wasm.ts drives the
 * core), the CRC-64 register loop (bindings/integrity/crc64-wasm.ts drives it), input validation
 * (bindings/cipher/aes-ctr.ts). This folder imports nothing from cipher/ or integrity/.
 * @module
 */
import { WasmCoreError } from '../errors.js';
import { RELEASE_WASM_BASE64 } from './core.wasm.js';

/** Size of the core's KEY window (assembly/windows.ts): one AES-256 key. */
const KEY_WINDOW_BYTES = 32;
/** Size of the core's CTR window (assembly/windows.ts): one counter block. */
const CTR_WINDOW_BYTES = 16;
/** Size of the core's CRC_STATE window (assembly/crc64.ts): one 64-bit CRC register. */
const CRC_WINDOW_BYTES = 8;

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
  /** Address of the 8-byte CRC-64 register window (the complemented CRC, little-endian). */
  readonly CRC_STATE: WebAssembly.Global;
  /** Runs the CRC-64/XZ register in CRC_STATE over IO[0..len). */
  crc64Update(len: number): void;
}

/** Which build of the core: `release` (optimised, no assertions) or `debug` (assertions, for tests). */
export type WasmBuild = 'release' | 'debug';

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
  const builds: WasmBuild[] = options.debug ? ['release', 'debug'] : ['release'];
  for (const build of builds) {
    if (cores[build] !== undefined) continue;
    let instance: WebAssembly.Instance;
    const holder: { core?: WasmCore } = {};
    try {
      const module =
        build === 'release' && options.module !== undefined ? options.module : await WebAssembly.compile(wasmBytes(build));
      instance = await WebAssembly.instantiate(module, imports(holder));
    } catch (err) {
      throw instantiationError(build, err);
    }
    cores[build] ??= new WasmCore(instance, holder);
  }
}

const cores: Partial<Record<WasmBuild, WasmCore>> = {};
/** The debug build's bytes, handed in by the debug backend (so that only code using it bundles them). */
let debugBase64: string | undefined;

/**
 * Makes the debug build available (its bytes live in core-debug.wasm.ts, which only the debug backend imports).
 * @example
 *   provideDebugCore(DEBUG_WASM_BASE64);
 *   const core = wasmCore('debug');
 */
export function provideDebugCore(base64: string): void {
  debugBase64 ??= base64;
}

/** One instantiated core and the views over its windows. */
export class WasmCore {
  readonly exports: CoreExports;
  readonly ioBytes: number;
  /** How much of IO any session filled since the last wipe: what `wipe` must zero. */
  ioUsed = 0;
  #buffer: ArrayBuffer | undefined;
  #key!: Uint8Array;
  #ctr!: Uint8Array;
  #io!: Uint8Array;
  #crc!: DataView;

  constructor(instance: WebAssembly.Instance, holder: { core?: WasmCore }) {
    this.exports = instance.exports as unknown as CoreExports;
    this.ioBytes = this.exports.IO_BYTES.value as number;
    holder.core = this;
  }

  /** Zeroes every window (the used part of IO). */
  wipe(): void {
    this.exports.wipe(this.ioUsed);
    this.ioUsed = 0;
  }

  /** Views over KEY, CTR, IO and CRC_STATE, rebuilt when the memory's buffer changed identity (after a grow). */
  views(): { key: Uint8Array; ctr: Uint8Array; io: Uint8Array; crc: DataView } {
    const buffer = this.exports.memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#key = new Uint8Array(buffer, this.exports.KEY.value as number, KEY_WINDOW_BYTES);
      this.#ctr = new Uint8Array(buffer, this.exports.CTR.value as number, CTR_WINDOW_BYTES);
      this.#io = new Uint8Array(buffer, this.exports.IO.value as number, this.ioBytes);
      this.#crc = new DataView(buffer, this.exports.CRC_STATE.value as number, CRC_WINDOW_BYTES);
    }
    return { key: this.#key, ctr: this.#ctr, io: this.#io, crc: this.#crc };
  }

  /** Reads an AssemblyScript string (UTF-16; byte length in the 4 bytes before it) out of memory. */
  readString(pointer: number): string {
    if (pointer === 0) return '';
    const bytes = new Uint32Array(this.exports.memory.buffer, pointer - 4, 1)[0];
    return String.fromCharCode(...new Uint16Array(this.exports.memory.buffer, pointer, bytes >>> 1));
  }
}

/**
 * The core of one build if it is already instantiated (by {@link initWasm} or an earlier {@link wasmCore}),
 * without trying to instantiate it: for callers with a fallback that must not retry a forbidden synchronous
 * compile on every call.
 * @example
 *   const core = loadedWasmCore('release'); // undefined until first use or initWasm()
 */
export function loadedWasmCore(build: WasmBuild): WasmCore | undefined {
  return cores[build];
}

/**
 * The instantiated core of one build, instantiating it synchronously on first use.
 * @throws {WasmCoreError} when the runtime refuses to compile or instantiate the module (code `WASM_CORE`)
 * @example
 *   const core = wasmCore('release');
 *   const { io } = core.views();
 */
export function wasmCore(build: WasmBuild): WasmCore {
  const existing = cores[build];
  if (existing !== undefined) return existing;
  const holder: { core?: WasmCore } = {};
  let instance: WebAssembly.Instance;
  try {
    const module = new WebAssembly.Module(wasmBytes(build));
    instance = new WebAssembly.Instance(module, imports(holder));
  } catch (err) {
    throw instantiationError(build, err);
  }
  const created = new WasmCore(instance, holder);
  cores[build] = created;
  return created;
}

/** The exports a module must have to be the core (assembly/index.ts's ABI). */
const CORE_EXPORTS = ['memory', 'KEY', 'CTR', 'IO', 'IO_BYTES', 'ctrXor', 'wipe'];

function checkCoreModule(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(
      `"module" expected a WebAssembly.Module (the compiled release core), got ${module === null ? 'null' : typeof module}`,
    );
  }
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new WasmCoreError('WASM_CORE', `the WebAssembly module given to initWasm is not the AES core: it lacks ${missing.join(', ')}`);
  }
}

function imports(holder: { core?: WasmCore }): WebAssembly.Imports {
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

function instantiationError(build: WasmBuild, err: unknown): WasmCoreError {
  const reason = err instanceof Error ? err.message : String(err);
  return new WasmCoreError(
    'WASM_CORE',
    `could not instantiate the ${build} WebAssembly core: ${reason}. Where synchronous compilation is ` +
      'forbidden (a browser main thread), call `await initWasm()` once before encrypting; a Content-Security-Policy ' +
      "must allow 'wasm-unsafe-eval'.",
    { cause: err },
  );
}

function wasmBytes(build: WasmBuild): Uint8Array<ArrayBuffer> {
  const text = build === 'release' ? RELEASE_WASM_BASE64 : debugBase64;
  if (text === undefined) {
    throw new WasmCoreError('WASM_CORE', 'the debug WebAssembly core is not loaded: call wasmDebugBackend() (it loads it) before using it');
  }
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
