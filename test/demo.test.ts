/**
 * The quickstart demo (test/demo.ts) run as users run it, in a child process: on the loopback stand-ins with a
 * small file it must exit 0 and print a summary whose every line checks out against the sizes it was given
 * (parts, ranged slice, envelope fields, the KMS round trip), show progress on stderr, never print key
 * material, and leave no temporary file behind. Bad arguments, and the real-bucket path without credentials,
 * must exit 2 with a message saying what is missing, before any request is made.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const DEMO = fileURLToPath(new URL('./demo.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const test = suite('quickstart demo (npm run demo)');
const tmp = mkdtempSync(join(tmpdir(), 'demo-test-'));

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('local run: exit 0, a summary consistent with --size/--part-size/--parallel, progress, no key material', async () => {
  const size = 2_000_003;
  const partSize = 256 * 1024;
  const r = await runDemo(['--size', String(size), '--part-size', '256KiB', '--parallel', '3']);
  assert.is(r.code, 0, `exit code ${r.code}; stderr:\n${r.stderr}`);
  const s = summaryOf(r.stdout);

  assert.match(s.plaintext, new RegExp(`^${size} bytes \\(1\\.9 MiB\\)`));
  assert.is(s.multipart, `${Math.ceil(size / partSize)} parts of ${partSize} bytes, parallel 3`);
  assert.match(s.upload, /^\d+\.\d\d s, \d+\.\d MiB\/s \(encrypt \+ upload\)$/);
  assert.match(s.stored, new RegExp(`^ciphertext, ${size} bytes read with plain ali-oss; equal to the plaintext at (\\d+\\.\\d\\d)% of positions`));
  assert.ok(Number(/at (\d+\.\d\d)%/.exec(s.stored)![1]) < 1.5, s.stored);
  const start = Math.floor(size / 3) + 5;
  const end = Math.floor((2 * size) / 3) + 2;
  assert.is(s['ranged read'], `bytes=${start}-${end} (${end - start + 1} bytes) OK`);
  assert.is(s['full read'], 'getStream, sha256 OK');
  assert.match(s['kms round trip'], /^65543 bytes OK \(KMS\/ALICLOUD, blob, \d+ KMS calls\)$/);
  assert.is(s.result, 'OK');

  const env = JSON.parse(s.envelope);
  assert.equal(env, {
    formatVersion: 2,
    cekAlg: 'AES/CTR/NoPadding',
    wrapAlg: 'RSA/NONE/PKCS1Padding',
    keyKind: 'rsa',
    matdesc: { demo: 'rsa' },
    wrappedKeyBytes: 256,
    wrappedStartBytes: 256,
    dataSize: size,
    partSize,
  });

  // Progress on stderr (a pipe gets a line per quarter), the summary on stdout.
  assert.equal(r.stderr.match(/encrypt\+upload +\d+%/g), ['encrypt+upload  25%', 'encrypt+upload  50%', 'encrypt+upload  75%', 'encrypt+upload 100%']);
  for (const out of [r.stdout, r.stderr]) {
    assert.not.match(out, /PRIVATE KEY|-----BEGIN/);
    // No long base64 run (a key, an IV or a wrapped key would be one) anywhere in what the demo prints.
    assert.not.match(out, /[A-Za-z0-9+/]{40,}={0,2}/);
  }
  assert.equal(readdirSync(r.tmpdir).filter((n) => n.startsWith('ali-oss-crypto-demo-')), [], 'the temporary file was left behind');
});

test('bad arguments exit 2 and say why', async () => {
  const cases: [string[], RegExp][] = [
    [['--part-size', '100'], /--part-size must be a positive multiple of 16 bytes, got 100/],
    [['--parallel', '0'], /--parallel must be an integer from 1 to 64, got 0/],
    [['--keep'], /--keep applies to a real bucket only/],
    // Loopback "endpoints" only: these must fail before any request, and must not go anywhere if they did not.
    [['--endpoint', 'http://127.0.0.1:9'], /a real bucket needs --region, --bucket, --rsa-public-key, --rsa-private-key as well/],
    [['--endpoint', '127.0.0.1:9', '--region', 'r', '--bucket', 'b', '--rsa-public-key', 'x', '--rsa-private-key', 'y'], /--endpoint expected a URL/],
  ];
  // Side by side: each child spends its time loading modules, not working.
  const results = await Promise.all(cases.map(([args]) => runDemo(args)));
  for (const [i, [args, expected]] of cases.entries()) {
    const r = results[i];
    assert.is(r.code, 2, `${args.join(' ')} → exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, expected, args.join(' '));
    assert.not.match(r.stdout, /summary/);
  }
});

test('the real-bucket path without credentials exits 2 naming the variables, before any request', async () => {
  const args = ['--endpoint', 'http://127.0.0.1:9', '--region', 'oss-cn-hangzhou', '--bucket', 'b', '--rsa-public-key', 'pub.pem', '--rsa-private-key', 'key.pem'];
  const [r, r2] = await Promise.all([
    runDemo(args, { OSS_ACCESS_KEY_ID: '', OSS_ACCESS_KEY_SECRET: '' }),
    runDemo(args, { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 'secret' }),
  ]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /--endpoint needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET in the environment/);
  // With credentials but unreadable key files it still stops at the arguments.
  assert.is(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /--rsa-public-key pub\.pem: ENOENT/);
});

test.run();

/** Runs the demo with its own TMPDIR; resolves with exit code and output. */
function runDemo(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; tmpdir: string }> {
  const dir = mkdtempSync(join(tmp, 'run-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, tmpdir: dir });
    });
  });
}

/** The `== summary ==` block as key → value. */
function summaryOf(stdout: string): Record<string, string> {
  const at = stdout.indexOf('== summary ==');
  assert.ok(at >= 0, `no summary in:\n${stdout}`);
  const out: Record<string, string> = {};
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^([a-z ]+):\s+(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
