/**
 * The fetch transports stay runtime-neutral: every file under bindings/oss/fetch/, bindings/keys/kms-fetch.ts and
 * everything they import (found by bundling them with esbuild for `platform: 'neutral'`) imports no Node builtin
 * (`node:*` or a bare builtin name) and names neither `Buffer` nor `process`. The scanner is shown to catch
 * each of those.
 *
 * The whole `ali-oss-crypto/web` entry too: its import graph, as esbuild resolves it for a browser (the way the
 * core path is checked, test/browser/bundle.ts), reaches no Node builtin and no Node-only package (node-forge's
 * optional `crypto`, which its `browser` field disables, aside), and neither the web nor the core bundle carries
 * the debug WASM build (esbuild's metafile: bytes of core-debug.wasm.ts in the output).
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCoreBundle, REPO_ROOT } from './browser/bundle.js';

const FETCH_DIR = join(REPO_ROOT, 'bindings/oss/fetch');
const ENTRIES = [join(FETCH_DIR, 'index.ts'), join(REPO_ROOT, 'bindings/keys/kms-fetch.ts')];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const test = suite('fetch transports are runtime-neutral');

/** Why `source` is not runtime-neutral: one line per offence, empty when it is. */
function offences(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
    if (m[1].startsWith('node:') || BUILTINS.has(m[1])) found.push(`imports ${m[1]}`);
  }
  if (/\bBuffer\b/.test(code)) found.push('names Buffer');
  if (/\bprocess\b/.test(code)) found.push('names process');
  return found;
}

test('the scanner catches node: imports, bare builtins, dynamic imports, Buffer and process, not comments', () => {
  assert.equal(offences("import { x } from 'node:crypto';"), ['imports node:crypto']);
  assert.equal(offences("import fs from 'fs';"), ['imports fs']);
  assert.equal(offences("const m = await import('node:http');"), ['imports node:http']);
  assert.equal(offences('const b = Buffer.from(x);'), ['names Buffer']);
  assert.equal(offences('if (process.env.X) {}'), ['names process']);
  assert.equal(offences("// Buffer and process in a comment\n/* import 'node:fs' */\nconst a = 1;"), []);
});

test('every file under bindings/oss/fetch/ is free of Node builtins, Buffer and process', () => {
  const files = readdirSync(FETCH_DIR, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, `expected the transport's files, found ${files.length}`);
  for (const file of files) assert.equal(offences(readFileSync(join(FETCH_DIR, file), 'utf8')), [], `bindings/oss/fetch/${file}`);
});

test('everything the transports import, transitively, is free of them too and bundles for platform neutral', async () => {
  const result = await esbuild.build({ entryPoints: ENTRIES, bundle: true, write: false, platform: 'neutral', format: 'esm', metafile: true, outdir: 'out', logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('bindings/util/retry.ts') && inputs.includes('bindings/oss/fetch/signer-v4.ts'), inputs.join(', '));
  for (const input of inputs) {
    assert.ok(input.startsWith('bindings/'), `${input}: the transports pull in a package`);
    assert.equal(offences(readFileSync(join(REPO_ROOT, input), 'utf8')), [], input);
    for (const imp of result.metafile.inputs[input].imports) assert.not.ok(imp.external || BUILTINS.has(imp.path), `${input} imports ${imp.path}`);
  }
  assert.not.ok(inputs.some((p) => p === 'bindings/keys/kms.ts'), 'kms-fetch.ts takes only types from kms.ts');
  assert.ok(relative(REPO_ROOT, ENTRIES[1]) === 'bindings/keys/kms-fetch.ts');
});

test('the whole ali-oss-crypto/web entry: no Node builtin anywhere in its import graph, and the client is in it', async () => {
  const bundle = await buildCoreBundle({ entry: join(REPO_ROOT, 'bindings/web.ts') });
  for (const input of bundle.inputs) {
    for (const imp of bundle.metafile.inputs[input].imports) {
      assert.not.ok(imp.path.startsWith('node:') || (BUILTINS.has(imp.path) && !imp.path.startsWith('(disabled)')), `${input} imports ${imp.path}`);
    }
    assert.ok(input.startsWith('bindings/') || input.startsWith('node_modules/node-forge/') || input.startsWith('(disabled):'), `${input}: a package the web entry must not reach`);
  }
  assert.equal([...new Set(bundle.stubbedBuiltins.map((s) => s.specifier))], ['crypto'], 'only node-forge optional crypto is stubbed');
  for (const needed of ['bindings/client/web-client.ts', 'bindings/oss/fetch/store.ts', 'bindings/keys/kms-web.ts', 'bindings/upload/upload-run.ts']) {
    assert.ok(bundle.inputs.includes(needed), `${needed} is part of the web entry`);
  }
  for (const nodeOnly of ['bindings/client/get.ts', 'bindings/client/put.ts', 'bindings/upload/node-files.ts', 'bindings/keys/kms-client.ts', 'bindings/keys/rsa-native.ts']) {
    assert.not.ok(bundle.inputs.includes(nodeOnly), `${nodeOnly} (Node) is not reached from the web entry`);
  }
});

test('no production bundle (web, core) carries the debug WASM build; the release build is in both', async () => {
  for (const entry of ['bindings/web.ts', 'bindings/core.ts']) {
    const bundle = await buildCoreBundle({ entry: join(REPO_ROOT, entry) });
    const output = Object.values(bundle.metafile.outputs)[0].inputs;
    assert.is(output['bindings/wasm/core-debug.wasm.ts']?.bytesInOutput ?? 0, 0, `${entry}: debug build in the bundle`);
    assert.ok((output['bindings/wasm/core.wasm.ts']?.bytesInOutput ?? 0) > 12_000, `${entry}: the release build is in the bundle`);
  }
});

test.run();
