/**
 * Measures what `ali-oss-crypto/web` costs a browser bundle (`npm run sizes:web`): esbuild bundles a few
 * typical uses of the entry for the browser (ESM, minified, tree-shaken, as an application bundler would) and
 * prints each one's minified and gzipped size, and whether the debug WASM build got in (it must not).
 * A measuring script, not a test: the figures go into the README as measured.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WEB = join(ROOT, 'bindings/web.ts').replace(/\\/g, '/');

/** Each use: what an application imports and calls. */
const USES: Record<string, string> = {
  'AES only (init, aesCtr, aesCtrXor)': `import { init, aesCtr, aesCtrXor } from '${WEB}';\nexport { init, aesCtr, aesCtrXor };`,
  'client + RSA (CryptoClient, fetchObjectStore, rsaKeyWrapper)': `import { init, CryptoClient, fetchObjectStore, rsaKeyWrapper } from '${WEB}';\nexport { init, CryptoClient, fetchObjectStore, rsaKeyWrapper };`,
  'client + KMS (CryptoClient, fetchObjectStore, kmsKeyWrapper)': `import { init, CryptoClient, fetchObjectStore, kmsKeyWrapper } from '${WEB}';\nexport { init, CryptoClient, fetchObjectStore, kmsKeyWrapper };`,
  'the whole entry (export *)': `export * from '${WEB}';`,
};

const dir = mkdtempSync(join(tmpdir(), 'web-sizes-'));
try {
  for (const [use, source] of Object.entries(USES)) {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, source);
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].contents;
    const inputs = Object.values(result.metafile.outputs)[0].inputs;
    const debug = Object.entries(inputs).some(([path, i]) => path.endsWith('core-debug.wasm.ts') && i.bytesInOutput > 0);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(`${use}: ${kib(code.length)} minified, ${kib(gzipSync(code).length)} gzipped${debug ? ' (DEBUG WASM INCLUDED)' : ''}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
