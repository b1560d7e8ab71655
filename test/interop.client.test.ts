/**
 * Interop through the whole client over real HTTP: every object of test/fixtures/interop (written by oss2 2.19.1,
 * oss2 2.10.0, the C++ SDK 1.10.1 and the Go/C++/V1 published samples) is stored in the OSS stand-in exactly as
 * the official SDK stored it (bytes + `x-oss-meta-*` headers, raw accessor), then read through CryptoClient with
 * the real `ali-oss` client (and, for KMS, the real `@alicloud/kms20160120` client against the KMS stand-in
 * preloaded with kms-table.json): byte-exact whole reads (memory and stream, with the server's CRC-64 and any
 * recorded length/MD5 verified), and every ranges.json case over HTTP with the Content-Range the case expects.
 * matdesc vectors are read by a client whose default material is another key. docs/FORMAT.md §1–§6.
 * @module
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { kmsKeyWrapper } from '../bindings/keys/kms.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { KeyWrapper } from '../bindings/keys/types.js';
import {
  ciphertextOf,
  fixtureKey,
  interopPath,
  interopRanges,
  interopVectors,
  plaintextOf,
  putVector,
  sha256,
  type InteropVector,
} from './support/fixtures-server.js';
import { readKmsTable, startKmsServer, type KmsServer } from './support/kms-server.js';
import { startOssServer, type OssServer } from './support/oss-server.js';

const BUCKET = 'interop-bkt';
const vectors = interopVectors();
const ranges = interopRanges();
const env = { oss: undefined as unknown as OssServer, kms: undefined as unknown as KmsServer };

const isKms = (v: InteropVector) => v.wrap_alg === 'KMS/ALICLOUD' || v.wrap_alg === 'kms';
const matdescOf = (v: InteropVector): Record<string, string> | undefined => {
  const text = v.headers['x-oss-meta-client-side-encryption-matdesc'];
  return text === undefined ? undefined : JSON.parse(text);
};

/** A reading client for one vector; matdesc vectors get their key as an extra material and another default. */
function clientFor(v: InteropVector): CryptoClient {
  const oss = env.oss.client(BUCKET) as any;
  if (isKms(v)) {
    const material = kmsKeyWrapper({
      region: 'cn-hangzhou', ...env.kms.credentials, endpoint: env.kms.endpoint, protocol: 'http',
      passphrase: v.keys.kms_passphrase ?? undefined, retry: { attempts: 1 },
    });
    return new CryptoClient(oss, { material });
  }
  const own = fixtureKey(v.keys.rsa_private_pem_file!);
  const matdesc = matdescOf(v);
  if (matdesc === undefined) return new CryptoClient(oss, { material: rsaKeyWrapper({ privateKey: own }) });
  const other: KeyWrapper = rsaKeyWrapper({ privateKey: fixtureKey('keys/rsaprovider-main-rsa2048.private.pem') });
  return new CryptoClient(oss, { material: other, materials: [rsaKeyWrapper({ privateKey: own, matdesc })] });
}

const s = suite('interop through CryptoClient: every fixture object over HTTP');
s.before(async () => {
  env.oss = await startOssServer();
  env.kms = await startKmsServer({ table: readKmsTable(interopPath('kms-table.json')) });
  for (const v of vectors) putVector(env.oss, BUCKET, v);
});
s.after(async () => {
  await env.oss.close();
  await env.kms.close();
});

s('the stand-in serves each object as OSS did (same CRC-64, metadata as stored)', () => {
  assert.is(vectors.length, 30);
  for (const v of vectors) {
    const stored = env.oss.getObject(BUCKET, v.name)!;
    assert.is(stored.size, v.plaintext_length, v.name);
    if (v.oss_object['x-oss-hash-crc64ecma'] !== undefined) assert.is(String(stored.crc64), v.oss_object['x-oss-hash-crc64ecma'], v.name);
    for (const [k, value] of Object.entries(v.headers)) assert.is(stored.headers[k], value, `${v.name} ${k}`);
  }
});

for (const v of vectors) {
  s(`${v.name} (${v.wrap_alg}, ${v.plaintext_length} B): get and getStream are byte-exact`, async () => {
    const c = clientFor(v);
    const want = plaintextOf(v);
    const got = await c.get(v.name);
    assert.is(got.encrypted, true);
    assert.is(got.content!.length, v.plaintext_length);
    assert.is(sha256(got.content!), v.plaintext_sha256);
    assert.ok(got.content!.equals(want));
    assert.is(got.res.headers['x-oss-hash-crc64ecma'], String(env.oss.getObject(BUCKET, v.name)!.crc64), 'the CRC was there to check');
    const { stream } = await c.getStream(v.name);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.is(sha256(Buffer.concat(chunks)), v.plaintext_sha256);
    const head = await c.head(v.name);
    assert.is(head.envelope!.formatVersion, v.format === 'v1' ? 1 : 2);
  });
}

s('every ranges.json case over HTTP: Content-Range as expected, plaintext sha256 as expected (get and getStream)', async () => {
  assert.is(ranges.length, 25);
  for (const r of ranges) {
    const v = vectors.find((x) => x.name === r.vector)!;
    const c = clientFor(v);
    const got = await c.get(v.name, { headers: { Range: r.range } });
    assert.is(got.res.status, 206, `${r.vector} ${r.range}`);
    assert.is(got.res.headers['content-range'], r.content_range, `${r.vector} ${r.range}`);
    assert.is(got.content!.length, r.expected_length, `${r.vector} ${r.range}`);
    assert.is(sha256(got.content!), r.expected_sha256, `${r.vector} ${r.range}`);
    assert.ok(got.content!.equals(plaintextOf(v).subarray(r.start, r.end + 1)));
    const { stream } = await c.getStream(v.name, { headers: { Range: r.range } });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.is(sha256(Buffer.concat(chunks)), r.expected_sha256, `stream ${r.vector} ${r.range}`);
  }
});

s('the SDK-recorded unencrypted-content-md5 (V2 and V1) is verified: a flipped stored bit → INTEGRITY_MD5', async () => {
  const withMd5 = vectors.filter((v) => Object.keys(v.headers).some((k) => k.endsWith('unencrypted-content-md5')));
  assert.equal(withMd5.map((v) => v.format).sort(), ['v1', 'v2']);
  for (const v of withMd5) {
    const bytes = Buffer.from(ciphertextOf(v));
    bytes[bytes.length >> 1] ^= 0x01;
    env.oss.putObjectRaw(BUCKET, `${v.name}.flipped`, bytes, v.headers);
    let err: any;
    try {
      await clientFor(v).get(`${v.name}.flipped`);
    } catch (e) {
      err = e;
    }
    assert.is(err?.code, 'INTEGRITY_MD5', v.name);
  }
});

s('a matdesc vector read with only the default (other) key fails with KEY_NO_MATCH naming the matdesc', async () => {
  const v = vectors.find((x) => matdescOf(x) !== undefined)!;
  const c = new CryptoClient(env.oss.client(BUCKET) as any, {
    material: rsaKeyWrapper({ privateKey: fixtureKey('keys/rsaprovider-main-rsa2048.private.pem') }),
  });
  let err: any;
  try {
    await c.get(v.name);
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'KEY_NO_MATCH');
  assert.match(err.message, Object.keys(matdescOf(v)!)[0]);
});

s.run();
