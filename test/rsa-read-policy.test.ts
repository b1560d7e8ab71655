/**
 * The RSA read policy (issue 12 §2, bindings/keys/rsa-read-policy.ts): `pkcs1: 'implicit-rejection'` returns a
 * synthetic key for a bad PKCS#1 v1.5 block, equal to the construction recomputed with node:crypto, the same on
 * every engine and deterministic per ciphertext, with the same HMAC work for good and bad blocks; `acceptWrapAlgs`
 * refuses PKCS#1 v1.5 reads; both survive withEngine/preferNodeRsaEngine. Over real HTTP: an OAEP object
 * relabelled `RSA/NONE/PKCS1Padding` fails the key commitment (COMMITMENT_MISMATCH) under implicit rejection,
 * KEY_UNWRAP_FAILED by default, META_UNSUPPORTED for an OAEP-only reader.
 * @module
 */
import { constants, createHmac, createPrivateKey, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { IntegrityError, KeyUnwrapError, MetadataError } from '../bindings/errors.js';
import { forgeRsaEngine, portableRsaEngine, rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine, preferNodeRsaEngine } from '../bindings/keys/rsa-native.js';
import type { WrappedContentKey } from '../bindings/keys/types.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, rejects } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const PKCS1 = 'RSA/NONE/PKCS1Padding';
const OAEP = 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding';
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const DER = createPrivateKey(privateKey).export({ type: 'pkcs8', format: 'der' });
const ENGINES = [portableRsaEngine, forgeRsaEngine, nodeRsaEngine];
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A raw RSA encryption of `block` (k bytes): lets the test store any padding it likes. */
const raw = (block: Uint8Array) => publicEncrypt({ key: pair.publicKey, padding: constants.RSA_NO_PADDING }, block);

/** `00 02 PS 00 M` with |M| = `length` (a valid block when length is 32 for the key or 16 for the IV). */
function block(length: number, header = 0x02): Buffer {
  const em = Buffer.alloc(256, 0x5a);
  em[0] = 0;
  em[1] = header;
  em[256 - length - 1] = 0;
  pseudoRandomBytes(length, length).forEach((b, i) => (em[256 - length + i] = b));
  return em;
}

function wrappedOf(keyBlock: Buffer, startBlock: Buffer, wrapAlg = PKCS1): WrappedContentKey {
  return { format: 'v2', wrapAlg, wrappedKey: b64(raw(keyBlock)), wrappedStart: b64(raw(startBlock)), matdesc: {} };
}

/** The spec of rsa-read-policy.ts, recomputed with node:crypto. */
function expectedSynthetic(w: WrappedContentKey) {
  const s = createHmac('sha256', DER).update('ali-oss-crypto/pkcs1-implicit-rejection/v1').digest();
  const prf = (d: number, c: string) => createHmac('sha256', s).update(Buffer.concat([Buffer.from([d]), Buffer.from(c, 'base64')])).digest();
  return { key: prf(1, w.wrappedKey), iv: prf(2, w.wrappedStart).subarray(0, 16) };
}

const unit = suite('RSA read policy: implicit rejection and acceptWrapAlgs');

unit('a good block unwraps to the real key under implicit rejection, on every engine', async () => {
  const good = wrappedOf(block(32), block(16));
  for (const engine of ENGINES) {
    const got = await rsaKeyWrapper({ privateKey, engine, pkcs1: 'implicit-rejection' }).unwrap(good);
    assert.equal(Buffer.from(got!.key), Buffer.from(pseudoRandomBytes(32, 32)), engine.name);
    assert.equal(Buffer.from(got!.iv), Buffer.from(pseudoRandomBytes(16, 16)), engine.name);
  }
});

unit('a bad block: KEY_UNWRAP_FAILED by default; the synthetic key of the spec under implicit rejection, on every engine', async () => {
  const bad = [
    ['key of 31 bytes', wrappedOf(block(31), block(16))],
    ['IV block type 1', wrappedOf(block(32), block(16, 0x01))],
    ['both bad', wrappedOf(block(33), block(15))],
  ] as const;
  for (const [name, w] of bad) {
    const want = expectedSynthetic(w);
    for (const engine of ENGINES) {
      await rejects(rsaKeyWrapper({ privateKey, engine }).unwrap(w), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
      const got = await rsaKeyWrapper({ privateKey, engine, pkcs1: 'implicit-rejection' }).unwrap(w);
      assert.equal(Buffer.from(got!.key), want.key, `${name} / ${engine.name}`);
      assert.equal(Buffer.from(got!.iv), want.iv, `${name} / ${engine.name}`);
    }
  }
  const again = await rsaKeyWrapper({ privateKey, pkcs1: 'implicit-rejection' }).unwrap(bad[0][1]);
  assert.equal(Buffer.from(again!.key), expectedSynthetic(bad[0][1]).key, 'deterministic per ciphertext');
  assert.is.not(b64(expectedSynthetic(bad[0][1]).key), b64(expectedSynthetic(bad[2][1]).key));
});

unit('good and bad blocks do the same HMAC work (two PRF calls each)', async () => {
  const w = rsaKeyWrapper({ privateKey, engine: nodeRsaEngine, pkcs1: 'implicit-rejection' });
  await w.unwrap(wrappedOf(block(32), block(16))); // the secret is derived once, before counting
  const subtle = globalThis.crypto.subtle;
  const original = subtle.sign;
  let calls = 0;
  Object.defineProperty(subtle, 'sign', { configurable: true, value: (...a: Parameters<SubtleCrypto['sign']>) => (calls++, original.apply(subtle, a)) });
  try {
    await w.unwrap(wrappedOf(block(32), block(16)));
    const good = calls;
    calls = 0;
    await w.unwrap(wrappedOf(block(31), block(16)));
    assert.is(good, 2);
    assert.is(calls, good);
  } finally {
    delete (subtle as unknown as Record<string, unknown>).sign;
  }
});

unit('acceptWrapAlgs: an OAEP-only reader refuses PKCS#1 v1.5 before any private operation; options are checked and kept', async () => {
  const oaepOnly = rsaKeyWrapper({ privateKey, acceptWrapAlgs: [OAEP] });
  await rejects(oaepOnly.unwrap(wrappedOf(block(32), block(16))), MetadataError, 'META_UNSUPPORTED', /does not accept/);
  const oaepObject = await rsaKeyWrapper({ privateKey, padding: 'oaep' }).wrap({ key: new Uint8Array(32).fill(7), iv: new Uint8Array(16).fill(9) });
  assert.equal([...(await oaepOnly.unwrap(oaepObject))!.key], new Array(32).fill(7));
  await rejects(preferNodeRsaEngine(oaepOnly)!.unwrap(wrappedOf(block(32), block(16))) as Promise<unknown>, MetadataError, 'META_UNSUPPORTED');
  const implicit = preferNodeRsaEngine(rsaKeyWrapper({ privateKey, pkcs1: 'implicit-rejection' }))!;
  assert.ok(await implicit.unwrap(wrappedOf(block(31), block(16))), 'implicit rejection survives preferNodeRsaEngine');
  assert.throws(() => rsaKeyWrapper({ privateKey, acceptWrapAlgs: ['KMS/ALICLOUD'] }), RangeError);
  assert.throws(() => rsaKeyWrapper({ privateKey, pkcs1: 'lenient' as never }), RangeError);
});

// ---------------------------------------------------------------------------------------------------------------
const http = suite('RSA read policy over HTTP: an OAEP object relabelled PKCS#1 v1.5');
const env = { oss: undefined as unknown as OssServer, dir: '' };
useStandIns(http, env, { tmpPrefix: 'oss-crypto-rsa-policy-' });

http('implicit rejection + commitment: COMMITMENT_MISMATCH; default: KEY_UNWRAP_FAILED; OAEP-only: META_UNSUPPORTED', async () => {
  const bucket = 'relabel-bkt';
  const writer = new CryptoClient(env.oss.client(bucket) as any, { material: rsaKeyWrapper({ privateKey, padding: 'oaep' }), commitment: 'write', retry: false });
  const data = Buffer.from(pseudoRandomBytes(3000, 3));
  await writer.put('obj', data);
  const reader = (opts: Record<string, unknown>) => new CryptoClient(env.oss.client(bucket) as any, { material: rsaKeyWrapper({ privateKey, ...opts }), retry: false });
  assert.equal((await reader({ pkcs1: 'implicit-rejection' }).get('obj')).content, data, 'an untouched OAEP object reads');
  const stored = env.oss.getObject(bucket, 'obj')!;
  const headers: Record<string, string> = {};
  for (const [n, v] of Object.entries(stored.headers)) if (n.startsWith('x-oss-meta-')) headers[n] = v;
  headers['x-oss-meta-client-side-encryption-wrap-alg'] = PKCS1;
  env.oss.putObjectRaw(bucket, 'obj', stored.body!, headers);
  await rejects(reader({ pkcs1: 'implicit-rejection' }).get('obj'), IntegrityError, 'COMMITMENT_MISMATCH');
  // The client reports a failed unwrap of a committed object as the same COMMITMENT_MISMATCH.
  await rejects(reader({}).get('obj'), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(reader({ acceptWrapAlgs: [OAEP] }).get('obj'), MetadataError, 'META_UNSUPPORTED');
});

http('without a commitment: KEY_UNWRAP_FAILED by default; implicit rejection trades it for garbage, caught here by the MD5', async () => {
  const bucket = 'relabel-plain-bkt';
  const writer = new CryptoClient(env.oss.client(bucket) as any, { material: rsaKeyWrapper({ privateKey, padding: 'oaep' }), retry: false });
  await writer.put('obj', Buffer.from(pseudoRandomBytes(3000, 4)), { contentMd5: true });
  const stored = env.oss.getObject(bucket, 'obj')!;
  const headers: Record<string, string> = {};
  for (const [n, v] of Object.entries(stored.headers)) if (n.startsWith('x-oss-meta-')) headers[n] = v;
  headers['x-oss-meta-client-side-encryption-wrap-alg'] = PKCS1;
  env.oss.putObjectRaw(bucket, 'obj', stored.body!, headers);
  const reader = (opts: Record<string, unknown>) => new CryptoClient(env.oss.client(bucket) as any, { material: rsaKeyWrapper({ privateKey, ...opts }), retry: false });
  await rejects(reader({}).get('obj'), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
  await rejects(reader({ pkcs1: 'implicit-rejection' }).get('obj'), IntegrityError, 'INTEGRITY_MD5');
});

unit.run();
http.run();
