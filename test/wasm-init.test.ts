/**
 * initWasm({ module }): the platform-compiled core that Cloudflare Workers (which compile nothing from bytes)
 * hand over is checked before use: not a WebAssembly.Module → TypeError; a module without the core's ABI →
 * WasmCoreError `WASM_CORE`; the real core is accepted. (That workerd really runs on it is shown by
 * test/runtimes/runtimes.test.ts.)
 * @module
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor } from '../bindings/cipher/aes-ctr.js';
import { WasmCoreError } from '../bindings/errors.js';
import { RELEASE_WASM_BASE64 } from '../bindings/wasm/core.wasm.js';
import { initWasm } from '../bindings/wasm/core.js';
import { rejects } from './_util.js';

const test = suite('initWasm with a precompiled module');

test('a value that is not a WebAssembly.Module is a TypeError', async () => {
  await rejects(initWasm({ module: new Uint8Array(8) as unknown as WebAssembly.Module }), (err) => {
    assert.instance(err, TypeError);
    assert.match(err.message, /"module" expected a WebAssembly.Module/);
  });
});

test('a module that is not the core is refused, naming what it lacks', async () => {
  // The smallest valid module: magic and version, no exports.
  const empty = new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  await rejects(initWasm({ module: empty }), WasmCoreError, 'WASM_CORE', /not the AES core: it lacks memory, KEY, CTR, IO, IO_BYTES, ctrXor, wipe/);
});

test('the real core compiled by the caller is accepted and encrypts', async () => {
  const module = new WebAssembly.Module(Uint8Array.from(atob(RELEASE_WASM_BASE64), (c) => c.charCodeAt(0)));
  await initWasm({ module });
  const key = new Uint8Array(32).fill(1);
  const iv = new Uint8Array(16).fill(2);
  const data = new Uint8Array(100).fill(3);
  assert.equal([...aesCtrXor(key, iv, aesCtrXor(key, iv, data))], [...data]);
});

test.run();
