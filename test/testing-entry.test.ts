/**
 * Proof that the stand-ins ship to users (issue 11 §5): `ali-oss-crypto/testing` imported the way a user imports
 * it (the package's self-reference, resolved through package.json `exports` to the built dist/ file, which
 * `npm test` builds first) starts an OSS stand-in that the real ali-oss client and the package's own CryptoClient
 * work against, and a KMS stand-in; and `oss-crypto serve` (the built bin) prints an endpoint, bucket and
 * credentials that ali-oss and the `oss-crypto` commands then use, and stops cleanly on SIGTERM.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OSS from 'ali-oss';
import { pseudoRandomBytes, rejects } from './_util.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BIN = join(ROOT, PACKAGE.bin['oss-crypto']);

/** The entry as a user's code loads it, after checking that it resolves to the built file and not to a source. */
async function importTesting(): Promise<typeof import('ali-oss-crypto/testing')> {
  const resolved = fileURLToPath(import.meta.resolve('ali-oss-crypto/testing'));
  assert.is(resolved, join(ROOT, 'dist', 'bindings', 'testing.js'), 'the self-reference resolves to the built entry');
  return import('ali-oss-crypto/testing');
}

const entry = suite('ali-oss-crypto/testing (built entry)');

entry('startOssServer: createBucket, clientOptions and close; a real ali-oss put/get; CSE rules on', async () => {
  const { startOssServer, CSE_EC } = await importTesting();
  const oss = await startOssServer({ autoCreateBuckets: false });
  try {
    assert.match(oss.endpoint, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    const options = oss.clientOptions('users-bucket');
    assert.is(options.endpoint, oss.endpoint);
    assert.is(options.bucket, 'users-bucket');
    const client = new OSS(options);
    const missing = await rejects(client.put('a.txt', Buffer.from('x')));
    assert.is(missing.code, 'NoSuchBucket', 'autoCreateBuckets: false is honoured');
    oss.createBucket('users-bucket');
    const body = Buffer.from(pseudoRandomBytes(3000, 5));
    await client.put('dir/a.bin', body, { meta: { owner: 'me' } } as never);
    assert.equal(Buffer.from((await client.get('dir/a.bin')).content), body);
    assert.equal((await client.head('dir/a.bin')).meta, { owner: 'me' });
    // The rules of docs/FORMAT.md §9 are on for users too: an incomplete envelope is refused as OSS refuses it.
    const refused = await rejects(client.put('b.bin', body, { meta: { 'client-side-encryption-key': 'a2V5' } } as never));
    assert.is(refused.status, 400);
    assert.is(refused.ecCode, CSE_EC.startMissing);
  } finally {
    await oss.close();
  }
  const after = await rejects(new OSS({ ...oss.clientOptions('users-bucket'), timeout: 2000, retryMax: 0 } as never).get('dir/a.bin'));
  // A network error (ali-oss status -1: a refused connection, or its kept-alive socket cut by close()).
  assert.is(after.status, -1, `closed: ${after.code} ${after.message}`);
});

entry('startKmsServer with the package\'s KMS wrapper: CryptoClient put/get against both stand-ins stores ciphertext', async () => {
  const { startOssServer, startKmsServer } = await importTesting();
  const { CryptoClient, kmsKeyWrapper } = await import('ali-oss-crypto');
  const oss = await startOssServer();
  const kms = await startKmsServer();
  try {
    assert.match(kms.endpoint, /^127\.0\.0\.1:[0-9]+$/);
    const wrapper = kmsKeyWrapper({ keyId: kms.createKey(), region: 'cn-hangzhou', ...kms.credentials, endpoint: kms.endpoint, protocol: 'http' });
    const crypto = new CryptoClient(new OSS(oss.clientOptions('enc')), { material: wrapper });
    const body = Buffer.from(pseudoRandomBytes(5000, 9));
    await crypto.put('secret.bin', body);
    assert.equal(Buffer.from((await crypto.get('secret.bin')).content as Uint8Array), body);
    const stored = oss.getObject('enc', 'secret.bin');
    assert.is(stored?.meta['client-side-encryption-wrap-alg'], 'KMS/ALICLOUD');
    assert.is.not(Buffer.compare(stored?.body ?? Buffer.alloc(0), body), 0, 'OSS holds ciphertext');
    assert.ok(kms.count('GenerateDataKey') + kms.count('Encrypt') >= 1 && kms.count('Decrypt') >= 1);
  } finally {
    await oss.close();
    await kms.close();
  }
});

entry("the README's own-test example runs as printed, as a user's ESM file inside a project that depends on the package", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Testing your own code')[1]?.split('\n#')[0] ?? '';
  const block = /```mjs\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the README has a "Testing your own code" section with an mjs example');
  // Inside the repository, `ali-oss-crypto` resolves to the built package by its own name, as in a user's project.
  const dir = mkdtempSync(join(ROOT, 'test', '.readme-example-'));
  try {
    const file = join(dir, 'own-test.mjs');
    writeFileSync(file, block!);
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.is(run.code, 0, `the example failed:\n${run.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

entry.run();

// ---------------------------------------------------------------------------------------------------------------

const serve = suite<{ dir: string }>('oss-crypto serve (built bin)');
serve.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'oss-crypto-serve-'));
});
serve.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

/** Spawns the built bin; resolves once stdout holds `until`, with everything printed so far. */
function startServe(args: string[], until: RegExp): Promise<{ proc: ChildProcess; out: string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve printed no ${until} within 30 s; stdout: ${out}; stderr: ${err}`));
    }, 30_000);
    proc.stderr?.on('data', (c: Buffer) => (err += c));
    proc.stdout?.on('data', (c: Buffer) => {
      out += c;
      if (until.test(out)) {
        clearTimeout(timer);
        resolve({ proc, out, exited });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) early; stdout: ${out}; stderr: ${err}`));
    });
  });
}

/** Runs the built bin to completion. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    const out: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c: Buffer) => (err += c));
    proc.once('exit', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** `name:   value` lines of serve's description. */
function field(out: string, name: string): string {
  const m = new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(out);
  assert.ok(m, `serve printed "${name}:"\n${out}`);
  return (m as RegExpExecArray)[1];
}

serve('prints endpoint, bucket and credentials; ali-oss and oss-crypto put/get (KMS) work with them; SIGTERM exits 0', async ({ dir }) => {
  const { proc, out, exited } = await startServe(['--bucket', 'served'], /oss-crypto get oss:\/\/[^\n]*\n/);
  try {
    const endpoint = field(out, 'OSS endpoint');
    const region = field(out, 'OSS region');
    const bucket = field(out, 'bucket');
    const accessKeyId = field(out, 'access key id');
    const accessKeySecret = field(out, 'access key secret');
    const kmsEndpoint = field(out, 'KMS endpoint');
    const kmsKeyId = field(out, 'KMS key id');
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    assert.match(kmsEndpoint, /^127\.0\.0\.1:[0-9]+$/);
    assert.is(bucket, 'served');

    const client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret });
    await client.put('hello.txt', Buffer.from('hello from a user'));
    assert.is(String((await client.get('hello.txt')).content), 'hello from a user');
    const wrong = await rejects(new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret: 'wrong' }).get('hello.txt'));
    assert.is(wrong.code, 'SignatureDoesNotMatch', 'the served OSS checks signatures');

    // The commands the description suggests: an encrypted put and get through the served KMS.
    const plain = Buffer.from(pseudoRandomBytes(4096, 3));
    writeFileSync(join(dir, 'in.bin'), plain);
    const env = { OSS_ENDPOINT: endpoint, OSS_REGION: region, OSS_ACCESS_KEY_ID: accessKeyId, OSS_ACCESS_KEY_SECRET: accessKeySecret };
    const kmsFlags = ['--kms-key-id', kmsKeyId, '--kms-endpoint', kmsEndpoint, '--kms-protocol', 'http', '-q'];
    const put = await runCli(['put', join(dir, 'in.bin'), `oss://${bucket}/enc.bin`, ...kmsFlags], env);
    assert.is(put.code, 0, put.stderr);
    const stored = Buffer.from((await client.get('enc.bin')).content);
    assert.is(stored.length, plain.length);
    assert.is.not(Buffer.compare(stored, plain), 0, 'the served OSS holds ciphertext');
    const get = await runCli(['get', `oss://${bucket}/enc.bin`, '-', ...kmsFlags], env);
    assert.is(get.code, 0, get.stderr);
    assert.equal(get.stdout, plain);
  } finally {
    proc.kill('SIGTERM');
  }
  assert.is(await exited, 0, 'SIGTERM stops serve with status 0');
});

serve('--json prints one JSON line; SIGINT exits 0; a usage mistake exits 2', async () => {
  const { proc, out, exited } = await startServe(['--json'], /\n/);
  const line = JSON.parse(out.trim()) as { oss: Record<string, string>; kms: Record<string, string>; pid: number };
  assert.is(line.pid, proc.pid);
  assert.is(line.oss.bucket, 'test-bucket');
  assert.is(line.kms.protocol, 'http');
  const client = new OSS({ endpoint: line.oss.endpoint, region: line.oss.region, bucket: line.oss.bucket, accessKeyId: line.oss.accessKeyId, accessKeySecret: line.oss.accessKeySecret });
  await client.put('k', Buffer.from('v'));
  proc.kill('SIGINT');
  assert.is(await exited, 0);

  const usage = await runCli(['serve', '--port', 'http'], {});
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /^error USAGE: --port expected a port/);
});

serve.run();
