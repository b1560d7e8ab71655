/**
 * CryptoClient with KMS key wrapping over real HTTP: the real `ali-oss` client against the OSS stand-in and the
 * real `@alicloud/kms20160120` client (inside kmsKeyWrapper) against the KMS stand-in. Both blob layerings
 * (`go`: the header is the CiphertextBlob; `oss2`: base64 of it, with a passphrase context), docs/FORMAT.md §2.2.
 * Proves round trips, the KMS call count per operation (put 2, get 2, ranged get of a multipart object 2 — not
 * 2 × parts), that an OSS retry does not unwrap again, that a KMS failure surfaces as KmsError without OSS
 * retries, and that one client reads RSA and KMS objects side by side (selection by matdesc).
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { isTransientError } from '../bindings/util/retry.js';
import { metaFromEnvelope } from '../bindings/envelope/codec.js';
import { KmsError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { kmsBlobFromHeader, kmsKeyWrapper, type KmsBlobLayout } from '../bindings/keys/kms.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { startKmsServer, type KmsServer } from './support/kms-server.js';
import { startOssServer, type OssServer } from './support/oss-server.js';
import { pseudoRandomBytes } from './_util.js';

const BUCKET = 'kms-bkt';
const PART = 102_400;
const env = { oss: undefined as unknown as OssServer, kms: undefined as unknown as KmsServer, keyId: '' };

function kms(layout: KmsBlobLayout, passphrase?: string, extra: Record<string, unknown> = {}) {
  return kmsKeyWrapper({
    keyId: env.keyId, region: 'cn-hangzhou', ...env.kms.credentials, endpoint: env.kms.endpoint, protocol: 'http',
    blobLayout: layout, passphrase, ...extra,
  });
}

function client(material: ReturnType<typeof kms>, extra: Record<string, unknown> = {}) {
  return new CryptoClient(env.oss.client(BUCKET) as any, { material, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 }, ...extra });
}

const layerings: Array<{ layout: KmsBlobLayout; passphrase?: string }> = [
  { layout: 'go' },
  { layout: 'oss2', passphrase: 'client kms passphrase' },
];

const s = suite('client: KMS (go and oss2 layering) over the real KMS client');
s.before(async () => {
  env.oss = await startOssServer();
  env.kms = await startKmsServer();
  env.keyId = env.kms.createKey();
});
s.after(async () => {
  await env.oss.close();
  await env.kms.close();
});
s.after.each(() => {
  env.oss.clearFaults();
  env.kms.clearFaults();
});

for (const { layout, passphrase } of layerings) {
  s(`${layout}: put makes 2 KMS calls, get 2 Decrypts; byte-exact; the header has the ${layout} layering`, async () => {
    const c = client(kms(layout, passphrase));
    const data = Buffer.from(pseudoRandomBytes(70_001, 51));
    const key = `k/${layout}`;
    env.kms.requests.length = 0;
    await c.put(key, data);
    assert.is(env.kms.requests.length, 2, `put: ${env.kms.requests.map((r) => r.action).join(', ')}`);
    assert.ok(env.kms.requests.every((r) => r.status === 200));
    if (passphrase) assert.equal(env.kms.requests[0].encryptionContext, { 'x-passphrase': passphrase });
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.is(stored.meta['client-side-encryption-wrap-alg'], 'KMS/ALICLOUD');
    assert.is(kmsBlobFromHeader(stored.meta['client-side-encryption-key']).layout, layout);
    assert.is(kmsBlobFromHeader(stored.meta['client-side-encryption-start']).layout, layout);

    env.kms.requests.length = 0;
    const got = await c.get(key);
    assert.ok(got.content!.equals(data));
    assert.equal(env.kms.requests.map((r) => r.action), ['Decrypt', 'Decrypt']);

    env.kms.requests.length = 0;
    const ranged = await c.get(key, { headers: { Range: 'bytes=333-4444' } });
    assert.ok(ranged.content!.equals(data.subarray(333, 4445)));
    assert.is(env.kms.count('Decrypt'), 2);

    const h = await c.head(key);
    assert.is(h.envelope!.keyKind, 'kms');
    assert.is(h.envelope!.kmsBlobLayering, layout === 'go' ? 'blob' : 'base64-of-blob');
  });

  s(`${layout}: a ranged get of a multipart object across parts costs 2 Decrypts, not 2 × parts`, async () => {
    const wrapper = kms(layout, passphrase);
    const c = client(wrapper);
    const data = Buffer.from(pseudoRandomBytes(3 * PART + 999, 52));
    const key = `k/${layout}/multipart`;
    const ring = new KeyRing({ default: wrapper });
    const { content, wrapped } = await ring.createContentKey();
    const oss: any = env.oss.client(BUCKET);
    const meta = metaFromEnvelope({ format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped, dataSize: data.length, partSize: PART });
    const { uploadId } = await oss.initMultipartUpload(key, { meta });
    const parts = [];
    for (let n = 1, off = 0; off < data.length; n++, off += PART) {
      const body = aesCtrXor(content.key, content.iv, data.subarray(off, off + PART), off, { backend: nativeBackend });
      parts.push({ number: n, etag: (await oss.uploadPart(key, uploadId, n, Buffer.from(body), 0, body.length)).etag });
    }
    await oss.completeMultipartUpload(key, uploadId, parts);
    assert.is(env.oss.getObject(BUCKET, key)!.type, 'Multipart');

    env.kms.requests.length = 0;
    const r = await c.get(key, { headers: { Range: `bytes=${PART - 5}-${3 * PART + 5}` } });
    assert.ok(r.content!.equals(data.subarray(PART - 5, 3 * PART + 6)));
    assert.is(env.kms.count('Decrypt'), 2);
    env.kms.requests.length = 0;
    const whole = await c.get(key);
    assert.ok(whole.content!.equals(data));
    assert.is(env.kms.count('Decrypt'), 2);
  });
}

s('an OSS body reset and retry does not unwrap again; a KMS failure is a KmsError with no OSS retry', async () => {
  const c = client(kms('go', undefined, { retry: { attempts: 1 } }));
  const data = Buffer.from(pseudoRandomBytes(200_000, 53));
  await c.put('k/retry', data);
  env.oss.inject({ kind: 'get', key: 'k/retry', reset: { afterBytes: 100_000 } });
  env.kms.requests.length = 0;
  let mark = env.oss.log.length;
  assert.ok((await c.get('k/retry')).content!.equals(data));
  assert.is(env.oss.log.length - mark, 2);
  assert.is(env.kms.count('Decrypt'), 2);

  env.kms.failNext(10, { action: 'Decrypt' });
  mark = env.oss.log.length;
  let err: any;
  try {
    await c.get('k/retry');
  } catch (e) {
    err = e;
  }
  assert.instance(err, KmsError);
  assert.is(err.code, 'KMS_ERROR');
  assert.is(env.oss.log.length - mark, 1, 'the OSS GET is not repeated for a KMS failure');
  assert.is(isTransientError(err), false);
});

s('one client reads RSA and KMS objects side by side, selected by matdesc', async () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const rsa = rsaKeyWrapper({ privateKey: pem, padding: 'oaep' });
  const kmsMaterial = kms('oss2', 'p', { matdesc: { kind: 'kms' } });
  const rsaData = Buffer.from('written with RSA');
  const kmsData = Buffer.from('written with KMS');
  await client(rsa as any).put('k/mixed-rsa', rsaData);
  await client(kmsMaterial).put('k/mixed-kms', kmsData);
  const reader = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsa, materials: [kmsMaterial] });
  assert.ok((await reader.get('k/mixed-rsa')).content!.equals(rsaData));
  assert.ok((await reader.get('k/mixed-kms')).content!.equals(kmsData));
  assert.equal((await reader.head('k/mixed-kms')).envelope!.matdesc, { kind: 'kms' });
});

s.run();
