/**
 * The package as npm ships it (issue 11 §4): `npm pack` makes a tarball whose JSON report is the only thing on
 * stdout, the tarball holds LICENSE, the `./testing` support files and only source maps that carry their sources,
 * and, installed into a fresh folder like any user's project, it works from an ES module, from CommonJS
 * (`require()` of an ES module, Node >= 20.19, the floor `engines` declares), through the `oss-crypto` bin, and
 * from TypeScript type-checked by this project's tsc under moduleResolution node16, bundler and node10
 * (`typesVersions`). An RSA-only program never loads the KMS SDK (`@alicloud/*`, 37 packages): it is imported
 * on the first KMS call only (keys/kms.ts `loadSdk`), which a KMS program shows as the positive control.
 * The `./web` entry (issue 10) ships and runs from the install (fetchObjectStore against the stand-in, key
 * commitment written), and the debug WASM build sits in its own module, exported by `/advanced` only.
 *
 * The install is offline when npm's cache already holds the dependencies (`--offline`), else it falls back to
 * `--prefer-offline`, which fetches only what the cache lacks. `npm pack` runs the `prepare` build (asc + tsc,
 * about a minute) only with SLOW=1; otherwise it packs the dist/ that `npm test` has just built.
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const PACKAGE = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  devDependencies: Record<string, string>;
};

interface PackedFile {
  path: string;
}
interface Ctx {
  dir: string;
  tarball: string;
  files: string[];
  app: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const pkg = suite<Ctx>('package: npm pack, installed in a fresh folder');

pkg.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'oss-crypto-pkg-'));
  const args = ['pack', '--json', '--pack-destination', ctx.dir, ...(process.env.SLOW === '1' ? [] : ['--ignore-scripts'])];
  const packed = await run(NPM, args, ROOT);
  assert.is(packed.code, 0, packed.stderr);
  // The whole of stdout must be the JSON report: build output (asc, generate.mjs, tsc) goes to stderr.
  let report: { filename: string; files: PackedFile[] }[];
  try {
    report = JSON.parse(packed.stdout);
  } catch {
    throw new Error(`npm pack --json printed more than JSON on stdout:\n${packed.stdout.slice(0, 2000)}`);
  }
  ctx.tarball = join(ctx.dir, report[0].filename);
  ctx.files = report[0].files.map((f) => f.path);

  ctx.app = join(ctx.dir, 'app');
  await mkdir(ctx.app);
  await writeFile(join(ctx.app, 'package.json'), JSON.stringify({ name: 'user-app', private: true }));
  const wanted = [ctx.tarball, `@types/node@${PACKAGE.devDependencies['@types/node']}`, `@types/ali-oss@${PACKAGE.devDependencies['@types/ali-oss']}`];
  const common = ['install', '--no-audit', '--no-fund', '--no-package-lock', ...wanted];
  let installed = await run(NPM, [...common, '--offline'], ctx.app);
  if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) installed = await run(NPM, [...common, '--prefer-offline'], ctx.app);
  assert.is(installed.code, 0, installed.stderr);
});

pkg.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

pkg('the tarball: LICENSE, README, the entries and ./testing support; every source map carries its sources', async (ctx) => {
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/bindings/index.js', 'dist/bindings/index.d.ts', 'dist/bindings/cli/main.js', 'dist/bindings/testing.js']) {
    assert.ok(ctx.files.includes(f), `${f} is in the package`);
  }
  for (const f of ['dist/bindings/web.js', 'dist/bindings/web.d.ts', 'dist/bindings/wasm/core-debug.wasm.js']) {
    assert.ok(ctx.files.includes(f), `${f} is in the package (the ./web entry; the debug WASM build in its own module)`);
  }
  // The debug WASM build moved out of /core (issue 10): only /advanced's wasmDebugBackend names it.
  const installed = (f: string) => readFile(join(ctx.app, 'node_modules', PACKAGE.name, f), 'utf8');
  assert.not.match(await installed('dist/bindings/core.d.ts'), /wasmDebugBackend/, '/core does not export wasmDebugBackend');
  assert.match(await installed('dist/bindings/advanced.d.ts'), /wasmDebugBackend/, '/advanced exports wasmDebugBackend');
  assert.not.match(await installed('dist/bindings/wasm/core.wasm.js'), /DEBUG_WASM/, 'the release module does not carry the debug build');
  assert.ok(ctx.files.some((f) => f.startsWith('dist/test/support/')), 'the ./testing entry ships its support files');
  assert.not.ok(ctx.files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');
  const maps = ctx.files.filter((f) => f.endsWith('.map'));
  for (const map of maps) {
    const parsed = JSON.parse(await readFile(join(ctx.app, 'node_modules', PACKAGE.name, map), 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
    assert.is(parsed.sourcesContent?.length, parsed.sources.length, `${map} carries sourcesContent for every source`);
  }
  const license = await readFile(join(ctx.app, 'node_modules', PACKAGE.name, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License/);
});

pkg('an ES module: RSA put/get against ./testing; the KMS SDK is never loaded', async (ctx) => {
  await writeFile(join(ctx.app, 'rsa.mjs'), RSA_PROGRAM('esm'));
  const r = await run(process.execPath, ['rsa.mjs'], ctx.app);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { content: string; kmsModules: string[]; anyModules: number };
  assert.is(out.content, 'hello from a user');
  assert.ok(out.anyModules > 0, 'the detector sees CommonJS modules (ali-oss)');
  assert.equal(out.kmsModules, [], 'no @alicloud module was loaded');
});

pkg('positive control: a KMS put/get from the same install loads the KMS SDK (so the detector can fail)', async (ctx) => {
  await writeFile(join(ctx.app, 'kms.mjs'), KMS_PROGRAM);
  const r = await run(process.execPath, ['kms.mjs'], ctx.app);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { content: string; before: number; after: number };
  assert.is(out.content, 'kms');
  assert.is(out.before, 0, 'not loaded by the import');
  assert.ok(out.after > 0, 'loaded by the first KMS call');
});

pkg('the ./web entry from the install: put/get over fetchObjectStore against ./testing, with key commitment', async (ctx) => {
  await writeFile(join(ctx.app, 'web.mjs'), WEB_PROGRAM);
  const r = await run(process.execPath, ['web.mjs'], ctx.app);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { content: string; committed: boolean };
  assert.is(out.content, 'hello from the web entry');
  assert.ok(out.committed, "commitment: 'write' wrote the header");
});

pkg('CommonJS: require() of the ESM package (Node >= 20.19, as engines says)', async (ctx) => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  assert.ok(major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19), `this Node (${process.version}) is inside engines ${PACKAGE.engines.node}`);
  await writeFile(join(ctx.app, 'rsa.cjs'), RSA_PROGRAM('cjs'));
  const r = await run(process.execPath, ['rsa.cjs'], ctx.app);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { content: string; kmsModules: string[] };
  assert.is(out.content, 'hello from a user');
  assert.equal(out.kmsModules, []);
});

pkg('the bin: node_modules/.bin/oss-crypto --version prints the package version', async (ctx) => {
  const r = await run(join(ctx.app, 'node_modules', '.bin', 'oss-crypto'), ['--version'], ctx.app);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), PACKAGE.version);
});

for (const mode of ['node16', 'bundler', 'node10'] as const) {
  pkg(`TypeScript (moduleResolution ${mode}): every entry resolves and a typed program checks under strict`, async (ctx) => {
    // node16 decides a file's format by extension and package.json "type": the consumer is an ES module (.mts).
    const file = join(ctx.app, mode === 'node16' ? `consumer-${mode}.mts` : `consumer-${mode}.ts`);
    await writeFile(file, TS_PROGRAM);
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      types: ['node'],
      ...(mode === 'node16'
        ? { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }
        : mode === 'bundler'
          ? { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }
          : { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }),
    };
    const program = ts.createProgram([file], options);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || !d.file.fileName.includes('/node_modules/@types/'))
      .map((d) => `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    assert.equal(problems, []);
    // The types come from the installed package, not from this repository.
    const resolved = program.getSourceFiles().map((s) => s.fileName).filter((f) => f.includes(`/node_modules/${PACKAGE.name}/`));
    for (const entry of ['index', 'core', 'native', 'testing', 'web', 'advanced']) {
      assert.ok(resolved.some((f) => f.endsWith(`/dist/bindings/${entry}.d.ts`)), `${entry}.d.ts resolved from the install (${mode})`);
    }
  });
}

pkg.run();

// ---------------------------------------------------------------------------------------------------------------

/** An RSA-only user program; reports the content it read back and every @alicloud module loaded. */
function RSA_PROGRAM(kind: 'esm' | 'cjs'): string {
  const head =
    kind === 'esm'
      ? `import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import OSS from 'ali-oss';
import { CryptoClient, rsaKeyWrapper } from 'ali-oss-crypto';
import { startOssServer } from 'ali-oss-crypto/testing';
const loaded = () => Object.keys(createRequire(import.meta.url).cache);
`
      : `const { generateKeyPairSync } = require('node:crypto');
const OSS = require('ali-oss');
const { CryptoClient, rsaKeyWrapper } = require('ali-oss-crypto');
const { startOssServer } = require('ali-oss-crypto/testing');
const loaded = () => Object.keys(require.cache);
`;
  const body = `const server = await startOssServer();
try {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const client = new CryptoClient(new OSS(server.clientOptions('user-bucket')), { material: rsaKeyWrapper({ privateKey }) });
  await client.put('hello.txt', Buffer.from('hello from a user'));
  const { content } = await client.get('hello.txt');
  const all = loaded();
  console.log(JSON.stringify({ content: Buffer.from(content).toString(), anyModules: all.length, kmsModules: all.filter((p) => p.includes('@alicloud')) }));
} finally {
  await server.close();
}
`;
  return kind === 'esm' ? head + body : `${head}(async () => {\n${body}})().catch((e) => { console.error(e); process.exitCode = 1; });\n`;
}

const KMS_PROGRAM = `import { createRequire } from 'node:module';
import OSS from 'ali-oss';
import { CryptoClient, kmsKeyWrapper } from 'ali-oss-crypto';
import { startOssServer, startKmsServer } from 'ali-oss-crypto/testing';
const alicloud = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@alicloud')).length;
const before = alicloud();
const oss = await startOssServer();
const kms = await startKmsServer();
try {
  const material = kmsKeyWrapper({ keyId: kms.createKey(), region: 'cn-hangzhou', ...kms.credentials, endpoint: kms.endpoint, protocol: 'http' });
  const client = new CryptoClient(new OSS(oss.clientOptions('user-bucket')), { material });
  await client.put('k.txt', Buffer.from('kms'));
  const { content } = await client.get('k.txt');
  console.log(JSON.stringify({ content: Buffer.from(content).toString(), before, after: alicloud() }));
} finally {
  await oss.close();
  await kms.close();
}
`;

/** A TypeScript user's program touching every entry; type errors in it fail the check. */
const TS_PROGRAM = `import OSS from 'ali-oss';
import { CryptoClient, rsaKeyWrapper, OssCryptoError, type CryptoClientOptions } from 'ali-oss-crypto';
import { aesCtr, KEY_BYTES, IV_BYTES } from 'ali-oss-crypto/core';
import { nativeBackend } from 'ali-oss-crypto/native';
import { startOssServer, startKmsServer } from 'ali-oss-crypto/testing';
import { CryptoClient as WebClient, fetchObjectStore, type CryptoClientOptions as WebOptions } from 'ali-oss-crypto/web';
import { wasmDebugBackend } from 'ali-oss-crypto/advanced';

export function webClient(endpoint: string, options: WebOptions): WebClient {
  const store = fetchObjectStore({ endpoint, bucket: 'b', region: 'oss-cn-hangzhou', credentials: { accessKeyId: 'a', accessKeySecret: 's' } });
  return new WebClient(store, { ...options, commitment: 'write', backend: wasmDebugBackend() });
}

export async function main(pem: string): Promise<number> {
  const server = await startOssServer();
  const options: CryptoClientOptions = { material: rsaKeyWrapper({ privateKey: pem }) };
  const client = new CryptoClient(new OSS(server.clientOptions('b')), options);
  await client.put('k', Buffer.from('x'));
  const stream = aesCtr(new Uint8Array(KEY_BYTES), new Uint8Array(IV_BYTES), 0);
  const out: Uint8Array = stream.update(new Uint8Array(3));
  const kms = await startKmsServer();
  const code: string | undefined = new OssCryptoError('KEY_NO_MATCH', 'm').code;
  await server.close();
  await kms.close();
  return out.length + (typeof nativeBackend === 'undefined' ? 0 : 1) + (code ?? '').length;
}
`;

/** A user program on the ./web entry: fetchObjectStore against the OSS stand-in, commitment 'write'. */
const WEB_PROGRAM = `import { generateKeyPairSync } from 'node:crypto';
import { CryptoClient, fetchObjectStore, rsaKeyWrapper, COMMITMENT_HEADER } from 'ali-oss-crypto/web';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET } from 'ali-oss-crypto/testing';
const server = await startOssServer();
try {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const store = fetchObjectStore({
    endpoint: server.endpoint, bucket: 'web-bucket', region: server.region,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
  });
  const client = new CryptoClient(store, { material: rsaKeyWrapper({ privateKey }), commitment: 'write' });
  await client.put('hello.txt', new TextEncoder().encode('hello from the web entry'));
  const { content } = await client.get('hello.txt', { });
  const head = await client.head('hello.txt');
  const committed = typeof head.res.headers[COMMITMENT_HEADER] === 'string';
  console.log(JSON.stringify({ content: new TextDecoder().decode(content), committed }));
} finally {
  await server.close();
}
`;
