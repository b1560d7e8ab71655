/**
 * The core-path check: bindings/core.ts (the browser/edge entry) bundles for `platform: 'browser'` without any
 * Node builtin or Node-only package, the bundle embeds the WebAssembly core, and it runs in a bare `vm` context
 * (no `require`, `process`, `Buffer`, `module`) where it encrypts, wraps and unwraps byte-exact with what Node's
 * own crypto computes. Also: the check really fails, naming the import chain, when an entry reaches Node.
 *
 * The bundle is built in memory by test/browser/bundle.ts, the same code `npm run build:browser` runs.
 * @module
 */
import { constants, createCipheriv, createPrivateKey, generateKeyPairSync, privateDecrypt, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import vm from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as advanced from '../bindings/advanced.js';
import * as core from '../bindings/core.js';
import * as main from '../bindings/index.js';
import { RELEASE_WASM_BASE64 } from '../bindings/wasm/core.wasm.js';
import { buildCoreBundle, CORE_ENTRY, CorePathError, isNodeBuiltin, REPO_ROOT, type CoreBundle } from './browser/bundle.js';
import { pseudoRandomBytes, toHex } from './_util.js';

/**
 * Names of the Node entries (main, and `advanced` for the plumbing) that need Node (node:crypto, node:fs, the KMS
 * SDK) and so must stay out of core.
 */
const NODE_ONLY_EXPORTS = [
  'nativeBackend',
  'kmsKeyWrapper',
  'kmsClientFromSdk',
  'CryptoClient',
  'createClientContext',
  'withRetry',
];

const test = suite('core path (bindings/core.ts)');

const tmp = mkdtempSync(join(tmpdir(), 'core-path-'));
// Built lazily, once, inside the tests: a build failure must fail the tests that need it, not the hooks (uvu
// stops the whole run when a hook throws).
let builds: Promise<[CoreBundle, CoreBundle]> | undefined;
const bundles = () => (builds ??= Promise.all([buildCoreBundle(), buildCoreBundle({ format: 'iife', minify: false })]));

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('the ESM bundle imports nothing: no external import survives, no input reaches a Node builtin', async () => {
  const [esm] = await bundles();
  const outputs = Object.values(esm.metafile.outputs);
  assert.is(outputs.length, 1);
  assert.equal(outputs[0].imports, [], 'the bundle must be self-contained');
  for (const [file, input] of Object.entries(esm.metafile.inputs)) {
    for (const imp of input.imports) {
      assert.not.ok(imp.external, `${file} imports external ${imp.path}`);
      const stubbed = imp.path.startsWith('(disabled):');
      assert.not.ok(isNodeBuiltin(imp.path) && !stubbed, `${file} imports the Node builtin ${imp.path}`);
      if (stubbed) {
        // Only node-forge maps a builtin away (its browser field: crypto → false; it uses it only under Node).
        assert.ok(file.startsWith('node_modules/node-forge/'), `${file} relies on a stubbed ${imp.original}`);
        assert.is(imp.original, 'crypto');
      }
    }
  }
  assert.ok(esm.stubbedBuiltins.length > 0 && esm.stubbedBuiltins.every((s) => s.specifier === 'crypto' && s.importer.startsWith('node_modules/node-forge/')));
  // Nothing is loaded lazily (a dynamic import would be a second request, or a Node module, at run time)...
  const dynamic = Object.values(esm.metafile.inputs).flatMap((i) => i.imports).filter((i) => i.kind === 'dynamic-import');
  assert.equal(dynamic, []);
  // ...and no loader call survives in the text (esbuild's own `__require` wrapper name aside).
  assert.not.match(esm.code, /\brequire\(\s*["'`]/);
  assert.not.match(esm.code, /from\s*["'`]node:/);
});

test('the bundle holds the core path and nothing of the client, KMS or ali-oss', async () => {
  const [esm] = await bundles();
  const ours = esm.inputs.filter((p) => p.startsWith('bindings/'));
  const packages = new Set(esm.inputs.filter((p) => p.startsWith('node_modules/')).map((p) => p.split('/')[1]));
  assert.equal([...packages], ['node-forge']);
  for (const path of ['bindings/core.ts', 'bindings/wasm/core.ts', 'bindings/wasm/core.wasm.ts', 'bindings/keys/rsa.ts', 'bindings/envelope/codec.ts']) {
    assert.ok(ours.includes(path), `${path} missing from the bundle`);
  }
  for (const forbidden of ['bindings/client/', 'bindings/keys/kms.ts', 'bindings/cipher/native.ts', 'bindings/upload/', 'bindings/download/', 'bindings/cli/']) {
    assert.not.ok(ours.some((p) => p.startsWith(forbidden)), `${forbidden} must not be in the core bundle`);
  }
  // The WebAssembly core is embedded (as base64 text), so the browser needs no second request to load it.
  assert.ok(esm.code.includes(RELEASE_WASM_BASE64.slice(0, 200)));
});

test('core exports are the main entry\'s own values (no second copy), and none of the Node-only ones', () => {
  const coreNames = Object.keys(core);
  assert.ok(coreNames.length >= 40, `only ${coreNames.length} exports`);
  for (const name of coreNames) {
    assert.ok(name in main, `core exports ${name}, the main entry does not`);
    assert.is((core as Record<string, unknown>)[name], (main as Record<string, unknown>)[name], name);
  }
  for (const name of NODE_ONLY_EXPORTS) {
    assert.ok(name in main || name in advanced, `${name} expected in the main or the advanced entry`);
    assert.not.ok(name in core, `${name} needs Node and must not be exported by core`);
  }
});

test('the check fails, naming the chain, when an entry reaches node:crypto through bindings/', async () => {
  const entry = join(tmp, 'leaks-native.ts');
  writeFileSync(entry, `export * from ${JSON.stringify(CORE_ENTRY)};\nexport { nativeBackend } from ${JSON.stringify(join(REPO_ROOT, 'bindings/cipher/native.ts'))};\n`);
  const err = await buildCoreBundle({ entry }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, CorePathError);
  const chains = (err as CorePathError).chains;
  assert.equal(chains, [`${relative(REPO_ROOT, entry)} → bindings/cipher/native.ts → "node:crypto" (a Node builtin)`]);
  assert.match((err as Error).message, /bindings\/cipher\/native\.ts → "node:crypto"/);
});

test('the check fails for a bare builtin, a dynamic node: import, ali-oss and @alicloud/*', async () => {
  const cases: [string, RegExp][] = [
    [`import { readFileSync } from 'fs'; export const f = readFileSync;`, /"fs" \(a Node builtin\)/],
    [`export const load = () => import('node:zlib');`, /"node:zlib" \(a Node builtin\)/],
    [`import OSS from 'ali-oss'; export { OSS };`, /"ali-oss" \(a Node-only package\)/],
    [`export const k = () => import('@alicloud/kms20160120');`, /"@alicloud\/kms20160120" \(a Node-only package\)/],
    [`export * from ${JSON.stringify(join(REPO_ROOT, 'bindings/index.ts'))};`, /bindings\/index\.ts → (?:[^ ]+ → )*bindings\/keys\/kms-client\.ts → "@alicloud\/kms20160120"/],
  ];
  for (const [i, [source, expected]] of cases.entries()) {
    const entry = join(tmp, `bad-${i}.ts`);
    writeFileSync(entry, source);
    const err = await buildCoreBundle({ entry }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, CorePathError, source);
    assert.match((err as Error).message, expected);
  }
});

test('the bundle runs in a bare vm context: WASM CTR equals node:crypto, RSA wrap/unwrap both ways, CRC-64', async () => {
  const [, iife] = await bundles();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const context = vm.createContext({
    // What every browser and edge runtime has, and nothing Node-specific.
    atob,
    crypto: { getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) },
  });
  // Browsers, workers, Deno and Bun all name the global scope `self` (node-forge looks for it).
  vm.runInContext('globalThis.self = globalThis;', context);
  vm.runInContext(iife.code, context, { filename: 'ali-oss-crypto.iife.js' });
  const globals = JSON.parse(vm.runInContext(`JSON.stringify([typeof require, typeof process, typeof Buffer, typeof module, typeof AliOssCrypto])`, context));
  assert.equal(globals, ['undefined', 'undefined', 'undefined', 'undefined', 'object']);

  const key = pseudoRandomBytes(32, 7);
  const iv = pseudoRandomBytes(16, 8);
  const data = pseudoRandomBytes(70_001, 9);
  const offset = 12_345;
  context.input = { keyHex: toHex(key), ivHex: toHex(iv), dataHex: toHex(data), offset, publicKey, privateKey };
  // Values cross the realm boundary as strings only: the bundle's `instanceof Uint8Array` is the context's own.
  const out = await vm.runInContext(
    `(async () => {
      const L = AliOssCrypto;
      const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
      const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      await L.initWasm();
      const ct = L.aesCtrXor(fromHex(input.keyHex), fromHex(input.ivHex), fromHex(input.dataHex), input.offset);
      const writer = new L.KeyRing({ default: L.rsaKeyWrapper({ publicKey: input.publicKey, matdesc: { from: 'vm' } }) });
      const { content, wrapped } = await writer.createContentKey();
      const headers = L.encodeEnvelope({ format: 'v2', cekAlg: L.CEK_ALG.ctr, wrapped });
      const sealed = L.aesCtrXor(content.key, content.iv, fromHex(input.dataHex));
      const reader = new L.KeyRing({ default: L.rsaKeyWrapper({ privateKey: input.privateKey }), materials: [L.rsaKeyWrapper({ privateKey: input.privateKey, matdesc: { from: 'vm' } })] });
      const again = await reader.unwrap(L.decodeEnvelope(headers).wrapped);
      const reopened = L.aesCtrXor(again.key, again.iv, sealed);
      return JSON.stringify({
        ct: toHex(ct), headers, sealed: toHex(sealed), reopenedEqual: toHex(reopened) === input.dataHex,
        crc: L.crc64ToDecimal(L.crc64(new Uint8Array([...'123456789'].map((c) => c.charCodeAt(0))))),
        describe: L.describeEnvelope(L.decodeEnvelope(headers)),
      });
    })()`,
    context,
  );
  const r = JSON.parse(out as string);

  const expected = createCipheriv('aes-256-ctr', key, counterPlus(iv, Math.floor(offset / 16)));
  expected.update(new Uint8Array(offset % 16));
  assert.is(r.ct, toHex(expected.update(data)), 'WASM CTR at an unaligned offset in the vm differs from node:crypto');
  assert.ok(r.reopenedEqual, 'the vm could not decrypt what it encrypted');
  assert.is(r.crc, BigInt.asUintN(64, 0x995dc9bbdf1939fan).toString(10));
  assert.is(r.describe.wrapAlg, 'RSA/NONE/PKCS1Padding');
  assert.equal(r.describe.matdesc, { from: 'vm' });

  // Node, with its own RSA and AES, opens what the vm wrote: the wrapped key/IV are PKCS#1 v1.5 to our public key.
  const env = main.decodeEnvelope(r.headers)!;
  const pk = createPrivateKey(privateKey);
  const cek = pkcs1v15Decrypt(pk, env.wrapped.wrappedKey);
  const civ = pkcs1v15Decrypt(pk, env.wrapped.wrappedStart);
  assert.is(cek.length, 32);
  assert.equal([...civ.subarray(8, 12)], [0, 0, 0, 0], 'IV bytes 8..11 are zero, as every SDK writes them');
  const decipher = createCipheriv('aes-256-ctr', cek, civ);
  assert.is(toHex(decipher.update(Buffer.from(r.sealed, 'hex'))), toHex(data));
});

test.run();

/**
 * RSAES-PKCS1-v1_5 decryption (RFC 8017 §7.2.2) by hand over raw RSA: Node 20 refuses PKCS#1 v1.5 private
 * decryption (CVE-2023-46809), and node-forge is what the bundle itself uses, so it would not be independent.
 */
function pkcs1v15Decrypt(key: KeyObject, base64: string): Buffer {
  const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.from(base64, 'base64'));
  const sep = em.indexOf(0, 2);
  assert.ok(em[0] === 0 && em[1] === 2 && sep >= 10, 'not a PKCS#1 v1.5 encryption block');
  return em.subarray(sep + 1);
}

/** `iv + n` as a 128-bit big-endian integer (mod 2^128), computed independently of bindings/cipher/counter.ts. */
function counterPlus(iv: Uint8Array, n: number): Uint8Array {
  const value = (BigInt('0x' + toHex(iv)) + BigInt(n)) & ((1n << 128n) - 1n);
  return Buffer.from(value.toString(16).padStart(32, '0'), 'hex');
}
