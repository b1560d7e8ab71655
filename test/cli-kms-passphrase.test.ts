/**
 * The CLI's KMS passphrase sources (issue 12 §4, bindings/cli/kms-passphrase.ts): `--kms-passphrase-file` and
 * `OSS_CRYPTO_KMS_PASSPHRASE` keep the secret off argv. Unit rules through parseCliArgs, then `oss-crypto` run in
 * a child process against the OSS and KMS stand-ins: an object put with the passphrase from the environment reads
 * back with it from a file, a wrong one from the environment fails, and argv never holds it.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCliArgs } from '../bindings/cli/args.js';
import { startKmsServer, type KmsServer } from './support/kms-server.js';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';

const MAIN = fileURLToPath(new URL('../bindings/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KMS_FLAGS = ['--kms-key-id', 'k', '--kms-region', 'cn-hangzhou'];

const passphraseOf = (argv: string[], env: Record<string, string> = {}) =>
  (parseCliArgs(argv, { OSS_REGION: 'oss-cn-hangzhou', OSS_ACCESS_KEY_ID: 'a', OSS_ACCESS_KEY_SECRET: 'b', ...env }) as any).keys.kms.passphrase;

const unit = suite('cli: KMS passphrase sources');
let dir = '';
unit.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oss-crypto-pass-'));
});
unit.after(async () => rm(dir, { recursive: true, force: true }));

unit('flag, then file, then OSS_CRYPTO_KMS_PASSPHRASE; both flags or an unreadable file are usage errors', async () => {
  const file = join(dir, 'pass.txt');
  await writeFile(file, 'from file\n');
  const get = ['get', 'oss://bkt/k', 'out', ...KMS_FLAGS];
  assert.is(passphraseOf([...get, '--kms-passphrase', 'from argv'], { OSS_CRYPTO_KMS_PASSPHRASE: 'from env' }), 'from argv');
  assert.is(passphraseOf([...get, '--kms-passphrase-file', file], { OSS_CRYPTO_KMS_PASSPHRASE: 'from env' }), 'from file');
  assert.is(passphraseOf(get, { OSS_CRYPTO_KMS_PASSPHRASE: 'from env' }), 'from env');
  assert.is(passphraseOf(get), undefined);
  await writeFile(file, 'two\nlines\r\n');
  assert.is(passphraseOf([...get, '--kms-passphrase-file', file]), 'two\nlines', 'only one trailing newline is removed');
  assert.throws(() => passphraseOf([...get, '--kms-passphrase', 'x', '--kms-passphrase-file', file]), /not both/);
  assert.throws(() => passphraseOf([...get, '--kms-passphrase-file', join(dir, 'missing')]), /cannot be read \(ENOENT\)/);
});

const child = suite('cli (child process): the KMS passphrase from the environment and a file');
let oss: OssServer;
let kms: KmsServer;

function cli(argv: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        OSS_ENDPOINT: oss.endpoint,
        OSS_REGION: oss.region,
        OSS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
        OSS_ACCESS_KEY_SECRET: TEST_ACCESS_KEY_SECRET,
        KMS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
        KMS_ACCESS_KEY_SECRET: kms.credentials.accessKeySecret,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

child.before(async () => {
  oss = await startOssServer();
  kms = await startKmsServer();
  dir = await mkdtemp(join(tmpdir(), 'oss-crypto-pass-child-'));
});
child.after(async () => {
  await oss.close();
  await kms.close();
  await rm(dir, { recursive: true, force: true });
});

child('put with OSS_CRYPTO_KMS_PASSPHRASE, get with --kms-passphrase-file; a wrong env passphrase fails', async () => {
  oss.createBucket('pass-bkt');
  const keyId = kms.createKey();
  const conn = ['--kms-key-id', keyId, '--kms-endpoint', kms.endpoint, '--kms-protocol', 'http', '--kms-region', 'cn-hangzhou'];
  const src = join(dir, 'plain.txt');
  await writeFile(src, 'secret via env');
  const secret = 'correct horse battery staple';
  const put = await cli(['put', src, 'oss://pass-bkt/p.txt', ...conn, '-q'], { OSS_CRYPTO_KMS_PASSPHRASE: secret });
  assert.is(put.code, 0, put.stderr);
  const encrypt = kms.requests.find((r) => r.action === 'Encrypt' || r.action === 'GenerateDataKey');
  assert.equal(encrypt?.encryptionContext, { 'x-passphrase': secret }, 'the passphrase reached KMS as the context');
  const file = join(dir, 'pass');
  await writeFile(file, secret + '\n', { mode: 0o600 });
  const got = await cli(['get', 'oss://pass-bkt/p.txt', '-', ...conn, '--kms-passphrase-file', file], {});
  assert.is(got.code, 0, got.stderr);
  assert.is(got.stdout.toString(), 'secret via env');
  const wrong = await cli(['get', 'oss://pass-bkt/p.txt', '-', ...conn], { OSS_CRYPTO_KMS_PASSPHRASE: 'wrong' });
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /^error KMS_ERROR: /);
  assert.not.ok(wrong.stderr.includes('wrong') && wrong.stderr.includes('x-passphrase'), 'the passphrase is not printed');
});

unit.run();
child.run();
