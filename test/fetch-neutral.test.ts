/**
 * The fetch transports stay runtime-neutral: every file under bindings/oss/fetch/, bindings/keys/kms-fetch.ts and
 * everything they import (found by bundling them with esbuild for `platform: 'neutral'`) imports no Node builtin
 * (`node:*` or a bare builtin name) and names neither `Buffer` nor `process`. The scanner is shown to catch
 * each of those.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from './browser/bundle.js';

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

test.run();
