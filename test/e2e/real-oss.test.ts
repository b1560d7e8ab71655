/**
 * End-to-end against real Alibaba Cloud OSS (and KMS), for a machine that has credentials. Everything else in
 * test/ runs against the loopback stand-ins; this file proves the same client against the real services. It
 * reports itself skipped, saying which variables are missing, unless these are set:
 *
 *   OSS_E2E_REGION (e.g. oss-cn-hangzhou), OSS_E2E_BUCKET, OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET
 *   optional: OSS_E2E_ENDPOINT, OSS_SESSION_TOKEN; for KMS: KMS_E2E_KEY_ID, KMS_E2E_REGION (e.g. cn-hangzhou)
 *
 * Objects go under `ali-oss-crypto-e2e/<random>/` and are deleted at the end.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import OSS from 'ali-oss';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../../bindings/envelope/codec.js';
import { kmsKeyWrapper } from '../../bindings/keys/kms.js';
import { generateRsaKeyPair, rsaKeyWrapper } from '../../bindings/keys/rsa.js';
import type { KeyWrapper } from '../../bindings/keys/types.js';

const env = process.env;
const required = ['OSS_E2E_REGION', 'OSS_E2E_BUCKET', 'OSS_ACCESS_KEY_ID', 'OSS_ACCESS_KEY_SECRET'];
const missing = required.filter((name) => !env[name]);
const test = suite('real OSS (end to end)');

if (missing.length > 0) {
  test.skip(`real OSS round trips (SKIPPED: set ${missing.join(', ')})`, () => {});
} else {
  const prefix = `ali-oss-crypto-e2e/${randomUUID()}/`;
  const oss = new OSS({
    region: env.OSS_E2E_REGION!,
    bucket: env.OSS_E2E_BUCKET!,
    accessKeyId: env.OSS_ACCESS_KEY_ID!,
    accessKeySecret: env.OSS_ACCESS_KEY_SECRET!,
    ...(env.OSS_SESSION_TOKEN ? { stsToken: env.OSS_SESSION_TOKEN } : {}),
    ...(env.OSS_E2E_ENDPOINT ? { endpoint: env.OSS_E2E_ENDPOINT } : {}),
    secure: true,
  });
  const materials: Array<{ name: string; make: () => Promise<KeyWrapper> }> = [
    { name: 'rsa pkcs1', make: async () => rsaKeyWrapper({ privateKey: (await generateRsaKeyPair(2048)).privateKeyPem }) },
  ];
  if (env.KMS_E2E_KEY_ID && env.KMS_E2E_REGION) {
    for (const blobLayout of ['go', 'oss2'] as const) {
      materials.push({
        name: `kms ${blobLayout}`,
        make: async () =>
          kmsKeyWrapper({
            keyId: env.KMS_E2E_KEY_ID!,
            region: env.KMS_E2E_REGION!,
            accessKeyId: env.KMS_ACCESS_KEY_ID ?? env.OSS_ACCESS_KEY_ID!,
            accessKeySecret: env.KMS_ACCESS_KEY_SECRET ?? env.OSS_ACCESS_KEY_SECRET!,
            ...(env.OSS_SESSION_TOKEN ? { securityToken: env.OSS_SESSION_TOKEN } : {}),
            blobLayout,
          }),
      });
    }
  }

  test.after(async () => {
    const listed = await oss.list({ prefix, 'max-keys': 1000 }, {});
    for (const o of listed.objects ?? []) await oss.delete(o.name);
  });

  for (const m of materials) {
    test(`${m.name}: put, get, every range form, head, multipart; OSS stores ciphertext`, async () => {
      const client = new CryptoClient(oss, { material: await m.make() });
      const small = randomBytes(70_001);
      const name = `${prefix}${m.name.replace(/\s/g, '-')}.bin`;
      await client.put(name, small);
      assert.ok(Buffer.from((await client.get(name)).content!).equals(small));
      for (const [range, from, to] of [['bytes=5-99', 5, 100], ['bytes=70000-', 70_000, 70_001], ['bytes=-17', 70_001 - 17, 70_001]] as const) {
        const { content } = await client.get(name, { headers: { Range: range } });
        assert.ok(Buffer.from(content!).equals(small.subarray(from, to)), range);
      }
      const stored = await oss.get(name);
      assert.not.ok(Buffer.from(stored.content).equals(small), 'OSS must hold ciphertext');
      assert.ok(decodeEnvelope(stored.res.headers as Record<string, string>) !== null);
      assert.ok((await client.head(name)).envelope !== null);

      const big = randomBytes(300 * 1024 + 5);
      const bigName = `${name}.multipart`;
      await client.multipartUpload(bigName, big, { partSize: 100 * 1024 });
      assert.ok(Buffer.from((await client.get(bigName)).content!).equals(big));
      const { content } = await client.get(bigName, { headers: { Range: 'bytes=102390-204810' } });
      assert.ok(Buffer.from(content!).equals(big.subarray(102_390, 204_811)), 'range across part boundaries');
    });
  }
}

test.run();
