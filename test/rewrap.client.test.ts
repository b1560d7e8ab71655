/**
 * `client.rewrap` (bindings/client/rewrap.ts) over real HTTP: the real ali-oss client against the OSS and KMS
 * stand-ins. RSA→RSA with a new key pair, RSA→KMS, KMS→RSA, PKCS#1→OAEP, matdesc, multipart and 0-byte objects:
 * afterwards the old key no longer reads the object, the new one reads it byte-exact whole and in ranges, the stored
 * ciphertext (read raw with plain ali-oss) and its CRC-64 are unchanged, metadata and content headers are kept, a
 * committed object stays valid; an object already under the target is skipped; a concurrent writer wins.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { IntegrityError, OssCryptoError } from '../bindings/errors.js';
import { kmsKeyWrapper } from '../bindings/keys/kms.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { KeyWrapper } from '../bindings/keys/types.js';
import { fixturePath, pseudoRandomBytes, rejects } from './_util.js';
import type { KmsServer } from './support/kms-server.js';
import type { OssServer } from './support/oss-server.js';
import { startRewritingProxy } from './support/fixtures-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'rewrap-bucket';
const pem = (name: string) => readFile(fixturePath('interop', 'keys', name), 'utf8');
const OLD_PRIVATE = await pem('rsaprovider-main-rsa2048.private.pem');
const NEW_PRIVATE = await pem('rsaprovider-matdesc-rsa3072.private.pem');
const NEW_PUBLIC = await pem('rsaprovider-matdesc-rsa3072.public.pem');
const FAST_RETRY = { retries: 2, baseDelayMs: 1, maxDelayMs: 4 };
const THRESHOLD = 256 * 1024;
const PART = 100 * 1024;
const META = { owner: 'ops', project: 'Apollo' };
const HEADERS = { 'Content-Type': 'text/csv; charset=utf-8', 'Cache-Control': 'max-age=60', 'Content-Disposition': 'attachment; filename="r.csv"' };

const env = { oss: undefined as unknown as OssServer, kms: undefined as unknown as KmsServer, dir: '', keyId: '' };

function client(material: KeyWrapper, extra: Record<string, unknown> = {}): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET) as any, { material, retry: FAST_RETRY, multipartThreshold: THRESHOLD, partSize: PART, ...extra });
}

function kms(matdesc?: Record<string, string>): KeyWrapper {
  return kmsKeyWrapper({ keyId: env.keyId, region: 'cn-hangzhou', ...env.kms.credentials, endpoint: env.kms.endpoint, protocol: 'http', matdesc });
}

const oldRsa = (extra: Record<string, unknown> = {}) => rsaKeyWrapper({ privateKey: OLD_PRIVATE, ...extra });
const newRsa = (extra: Record<string, unknown> = {}) => rsaKeyWrapper({ privateKey: NEW_PRIVATE, matdesc: { key: '2025' }, ...extra });

/** Writes `size` bytes encrypted under `material` (multipart above THRESHOLD), with user metadata and content headers. */
async function seed(key: string, size: number, material: KeyWrapper, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const body = Buffer.from(pseudoRandomBytes(size, size + key.length));
  const c = client(material, extra);
  if (size >= THRESHOLD) await c.multipartUpload(key, body, { meta: META, headers: HEADERS, partSize: PART } as any);
  else await c.put(key, body, { meta: META, headers: HEADERS });
  return body;
}

/** The stored ciphertext as plain ali-oss reads it (no client in between). */
async function rawBytes(key: string): Promise<{ body: Buffer; headers: Record<string, string> }> {
  const r = await env.oss.client(BUCKET).get(key);
  return { body: Buffer.from(r.content), headers: r.res.headers as Record<string, string> };
}

async function assertReads(c: CryptoClient, key: string, body: Buffer): Promise<void> {
  assert.equal(Buffer.from((await c.get(key)).content as Uint8Array), body, 'whole object');
  if (body.length < 3) return;
  for (const [a, b] of [[0, 0], [1, Math.min(body.length - 1, 40)], [Math.floor(body.length / 3), body.length - 1]]) {
    const got = await c.get(key, { headers: { Range: `bytes=${a}-${b}` } } as any);
    assert.equal(Buffer.from(got.content as Uint8Array), body.subarray(a, b + 1), `range ${a}-${b}`);
  }
}

async function assertOldRefused(c: CryptoClient, key: string): Promise<void> {
  const err = await rejects(c.get(key));
  assert.ok(err instanceof OssCryptoError && ['KEY_NO_MATCH', 'KEY_UNWRAP_FAILED', 'COMMITMENT_MISMATCH'].includes(err.code), `old key refused, got ${err?.code}`);
}

/** Rewraps `key` and checks everything the issue asks for. */
async function rotateAndCheck(key: string, size: number, from: KeyWrapper, to: KeyWrapper, reader: KeyWrapper, seedExtra: Record<string, unknown> = {}): Promise<void> {
  const body = await seed(key, size, from, seedExtra);
  const before = await rawBytes(key);
  const writes = env.oss.log.length;
  const r = await client(from, seedExtra).rewrap(key, { to });
  assert.ok(r.changed);
  assert.is(r.from.wrapAlg, decodeEnvelope(before.headers)!.wrapped.wrapAlg);
  assert.is(r.to.wrapAlg, to.wrapAlg);
  assert.equal(r.to.matdesc, to.matdesc);
  assert.is(r.multipart, size >= THRESHOLD);
  const after = await rawBytes(key);
  assert.ok(after.body.equals(before.body), 'ciphertext unchanged byte for byte');
  assert.is(after.headers['x-oss-hash-crc64ecma'], before.headers['x-oss-hash-crc64ecma']);
  for (const [name, value] of Object.entries(META)) assert.is(after.headers[`x-oss-meta-${name}`], value);
  assert.is(after.headers['content-type'], HEADERS['Content-Type']);
  assert.is(after.headers['cache-control'], HEADERS['Cache-Control']);
  assert.is(decodeEnvelope(after.headers)!.wrapped.wrapAlg, to.wrapAlg);
  // The object's own part plan, and every other envelope field as it was.
  for (const field of ['partSize', 'dataSize', 'unencryptedContentLength', 'cekAlg'] as const) {
    assert.is(decodeEnvelope(after.headers)![field], decodeEnvelope(before.headers)![field], field);
  }
  const commitment = 'x-oss-meta-ali-oss-crypto-commitment';
  if (before.headers[commitment] !== undefined) assert.ok(after.headers[commitment] !== undefined && after.headers[commitment] !== before.headers[commitment], 'commitment recomputed');
  assert.ok(env.oss.log.slice(writes).every((e) => e.kind !== 'copy'), 'no CopyObject');
  await assertReads(client(reader, seedExtra), key, body);
  await assertOldRefused(client(from, seedExtra), key);
}

const s = suite('rewrap: the same content key under new material, the ciphertext unchanged');
useStandIns(s, env, { kms: true, tmpPrefix: 'oss-crypto-rewrap-' });
s.before(() => {
  env.keyId = env.kms.createKey();
});

s('RSA → RSA (a new key pair with a matdesc), small object', () =>
  rotateAndCheck('rr/small', 4096, oldRsa(), rsaKeyWrapper({ publicKey: NEW_PUBLIC, matdesc: { key: '2025' } }), newRsa()));

s('RSA → RSA, multipart object: the object\'s own part plan, parts CRC-checked', () => rotateAndCheck('rr/multi', 3 * PART + 17 + THRESHOLD, oldRsa(), newRsa(), newRsa()));

s('RSA → RSA, 0-byte object', () => rotateAndCheck('rr/empty', 0, oldRsa(), newRsa(), newRsa()));

s('RSA → KMS', () => rotateAndCheck('rk/a', 10_000, oldRsa(), kms({ key: 'kms-2025' }), kms({ key: 'kms-2025' })));

s('KMS → RSA (multipart)', () => rotateAndCheck('kr/a', THRESHOLD + 5, kms(), newRsa(), newRsa()));

s('PKCS#1 → OAEP with the same key pair and a new matdesc', async () => {
  const to = rsaKeyWrapper({ privateKey: OLD_PRIVATE, padding: 'oaep', matdesc: { pad: 'oaep' } });
  await rotateAndCheck('po/a', 5000, oldRsa(), to, to);
  assert.is(decodeEnvelope((await rawBytes('po/a')).headers)!.wrapped.wrapAlg, 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding');
});

s('an object with a matdesc, read through `from`; a committed object stays valid under require', async () => {
  const from = rsaKeyWrapper({ privateKey: OLD_PRIVATE, matdesc: { key: '2024' } });
  await rotateAndCheck('md/a', 3000, from, newRsa(), newRsa(), { commitment: 'write' });
  const stored = await rawBytes('md/a');
  assert.ok(stored.headers['x-oss-meta-ali-oss-crypto-commitment'] !== undefined, 'commitment kept');
  await assertReads(client(newRsa(), { commitment: 'require' }), 'md/a', (await client(newRsa()).get('md/a')).content as Buffer);
  const big = await seed('md/big', THRESHOLD + 100, from, { commitment: 'write' });
  await client(oldRsa(), { commitment: 'write' }).rewrap('md/big', { to: newRsa(), from });
  await assertReads(client(newRsa(), { commitment: 'require' }), 'md/big', big);
});

s('already under the target: skipped, nothing written (a public-only target too)', async () => {
  await seed('skip/a', 100, oldRsa());
  await client(oldRsa()).rewrap('skip/a', { to: newRsa() });
  const writes = env.oss.log.filter((e) => e.kind === 'put' || e.kind === 'complete').length;
  assert.is((await client(oldRsa()).rewrap('skip/a', { to: newRsa() })).changed, false);
  assert.is((await client(oldRsa()).rewrap('skip/a', { to: rsaKeyWrapper({ publicKey: NEW_PUBLIC, matdesc: { key: '2025' } }) })).changed, false);
  assert.is(env.oss.log.filter((e) => e.kind === 'put' || e.kind === 'complete').length, writes);
});

s('a new key pair under the same labels (no matdesc): the old wrapping is unwrapped once, and a rerun skips', async () => {
  const body = await seed('same-label/a', 3000, oldRsa());
  const base = oldRsa();
  let unwraps = 0;
  const from = new Proxy(base, {
    get(target, prop) {
      if (prop === 'unwrap') return (w: Parameters<KeyWrapper['unwrap']>[0]) => (unwraps++, target.unwrap(w));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const to = rsaKeyWrapper({ publicKey: NEW_PUBLIC });
  const r = await client(oldRsa()).rewrap('same-label/a', { to, from });
  assert.ok(r.changed);
  assert.is(unwraps, 1, 'the already-under-to check and the rewrite share one unwrap');
  await assertReads(client(rsaKeyWrapper({ privateKey: NEW_PRIVATE })), 'same-label/a', body);
  const writes = env.oss.log.filter((e) => e.kind === 'put' || e.kind === 'complete').length;
  assert.is((await client(oldRsa()).rewrap('same-label/a', { to, from })).changed, false);
  assert.is(env.oss.log.filter((e) => e.kind === 'put' || e.kind === 'complete').length, writes);
});

s('a concurrent writer between the read and the write wins (OBJECT_CHANGED, its object kept)', async () => {
  for (const [key, size, nth] of [['race/small', 1000, 1], ['race/multi', THRESHOLD + 10, 2]] as const) {
    await seed(key, size, oldRsa());
    const theirs = Buffer.from('the concurrent writer\'s object');
    env.oss.inject({ kind: 'head', key, nth, delayMs: 1000 });
    const mark = env.oss.log.length;
    const racing = (async () => {
      for (let i = 0; i < 2000; i++) {
        const heads = env.oss.log.slice(mark).filter((e) => e.kind === 'head' && e.key === key);
        if (heads.length >= nth && heads[nth - 1].status === 0) return void env.oss.putObjectRaw(BUCKET, key, theirs);
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error('the HEAD never arrived');
    })();
    await rejects(client(oldRsa()).rewrap(key, { to: newRsa() }), IntegrityError, 'OBJECT_CHANGED');
    await racing;
    assert.equal(env.oss.getObject(BUCKET, key)!.body, theirs);
    assert.equal(env.oss.uploads(BUCKET), []);
  }
});

s('small object: bytes damaged on the way in are refused before any write; the PutObject carries their MD5', async () => {
  const key = 'dmg/a';
  await seed(key, 5000, oldRsa());
  const before = await rawBytes(key);
  const proxy = await startRewritingProxy(env.oss.endpoint);
  try {
    // One bit flipped in the GET body, headers (ETag, CRC-64, length) as OSS sent them.
    proxy.rewrite = (req, res) => {
      if (req.method !== 'GET' || res.body.length !== 5000) return;
      res.body = Buffer.from(res.body);
      res.body[100] ^= 1;
    };
    const viaProxy = new CryptoClient(env.oss.client(BUCKET, { endpoint: proxy.endpoint }) as any, { material: oldRsa(), retry: false, multipartThreshold: THRESHOLD });
    const mark = env.oss.log.length;
    await rejects(viaProxy.rewrap(key, { to: newRsa() }), IntegrityError, 'INTEGRITY_CRC64');
    assert.ok(env.oss.log.slice(mark).every((e) => e.kind !== 'put'), 'nothing written');
  } finally {
    await proxy.close();
  }
  assert.ok((await rawBytes(key)).body.equals(before.body), 'the object is as it was');

  // Undamaged: the ETag (a PutObject's is the MD5 of its bytes) vouches for them, and the write sends that MD5, so
  // OSS itself would refuse bytes damaged on the way out.
  const mark = env.oss.log.length;
  await client(oldRsa()).rewrap(key, { to: newRsa() });
  const put = env.oss.log.slice(mark).find((e) => e.kind === 'put')!;
  assert.is(put.headers['content-md5'], createHash('md5').update(before.body).digest('base64'));
  assert.ok((await rawBytes(key)).body.equals(before.body));
});

s('small object whose ETag is not an MD5 (written by a multipart upload): checked by CRC-64 instead', async () => {
  const key = 'dmg/multi-etag';
  const body = Buffer.from(pseudoRandomBytes(3000, 77));
  await client(oldRsa()).multipartUpload(key, body, { partSize: PART } as any);
  const before = await rawBytes(key);
  assert.match(String(env.oss.getObject(BUCKET, key)!.etag), /-1"?$/);
  await client(oldRsa()).rewrap(key, { to: newRsa() });
  assert.ok((await rawBytes(key)).body.equals(before.body));
  await assertReads(client(newRsa()), key, body);
});

s('ifMatch: another ETag is refused before anything is read', async () => {
  await seed('ifm/a', 10, oldRsa());
  await rejects(client(oldRsa()).rewrap('ifm/a', { to: newRsa(), ifMatch: '"0123456789ABCDEF0123456789ABCDEF"' }), IntegrityError, 'OBJECT_CHANGED');
});

s.run();
