/**
 * RSA-2048 content-key wrapping and unwrapping through RsaKeyWrapper, beside node:crypto where Node allows
 * the operation (FORMATS.md §2.1). `npm run bench:rsa`.
 *
 * One operation = one content key = two RSA operations (the 32-byte key and the 16-byte IV are wrapped
 * separately), for every contender. node:crypto can `publicEncrypt` with both paddings and `privateDecrypt`
 * OAEP only: Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809), so that row has no baseline.
 * Before timing, every contender's output is checked by another one (a wrapped key must unwrap to the same
 * bytes), so a fast wrong answer cannot be reported.
 * @module
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import forge from 'node-forge';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';

const keyDir = new URL('../test/fixtures/interop/keys/', import.meta.url);
const privatePem = readFileSync(new URL('rsaprovider-main-rsa2048.private.pem', keyDir), 'utf8');
const publicPem = readFileSync(new URL('rsaprovider-main-rsa2048.public.pem', keyDir), 'utf8');
const nodePrivate = createPrivateKey(privatePem);
const nodePublic = createPublicKey(publicPem);

const content: ContentKey = { key: new Uint8Array(32).map((_, i) => i * 7 + 1), iv: new Uint8Array(16).map((_, i) => (i >= 8 && i < 12 ? 0 : i + 3)) };
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;

const ours = {
  pkcs1: rsaKeyWrapper({ privateKey: privatePem, padding: 'pkcs1' }),
  oaepWebCrypto: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep' }),
  oaepForge: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep', webCrypto: false }),
};

const nodeWrap = (padding: number, extra: object = {}): WrappedContentKey => ({
  format: 'v2',
  wrapAlg: padding === constants.RSA_PKCS1_PADDING ? 'RSA/NONE/PKCS1Padding' : 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding',
  wrappedKey: publicEncrypt({ key: nodePublic, padding, ...extra }, content.key).toString('base64'),
  wrappedStart: publicEncrypt({ key: nodePublic, padding, ...extra }, content.iv).toString('base64'),
  matdesc: {},
});
const nodeUnwrapOaep = (w: WrappedContentKey): ContentKey => ({
  key: privateDecrypt({ key: nodePrivate, ...OAEP }, Buffer.from(w.wrappedKey, 'base64')),
  iv: privateDecrypt({ key: nodePrivate, ...OAEP }, Buffer.from(w.wrappedStart, 'base64')),
});

// ---- cross-validation -----------------------------------------------------------------------------------------
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const expectContent = (got: ContentKey | null, who: string) => {
  if (got === null || hex(got.key) !== hex(content.key) || hex(got.iv) !== hex(content.iv)) throw new Error(`cross-validation failed: ${who}`);
};
const forgePrivate = forge.pki.privateKeyFromPem(privatePem);
const forgeUnwrapPkcs1 = (w: WrappedContentKey): ContentKey => ({
  key: Buffer.from(forgePrivate.decrypt(Buffer.from(w.wrappedKey, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary'),
  iv: Buffer.from(forgePrivate.decrypt(Buffer.from(w.wrappedStart, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary'),
});
expectContent(forgeUnwrapPkcs1(await ours.pkcs1.wrap(content)), 'ours pkcs1 wrap → node-forge');
expectContent(await ours.pkcs1.unwrap(nodeWrap(constants.RSA_PKCS1_PADDING)), 'node publicEncrypt pkcs1 → ours');
for (const [name, w] of [['web crypto', ours.oaepWebCrypto], ['node-forge', ours.oaepForge]] as const) {
  expectContent(nodeUnwrapOaep(await w.wrap(content)), `ours oaep (${name}) wrap → node privateDecrypt`);
  expectContent(await w.unwrap(nodeWrap(constants.RSA_PKCS1_OAEP_PADDING, { oaepHash: 'sha1' })), `node OAEP → ours (${name})`);
}

// ---- timing --------------------------------------------------------------------------------------------------
const pkcs1Object = await ours.pkcs1.wrap(content);
const oaepObject = await ours.oaepWebCrypto.wrap(content);

const bench = new Bench({ time: 1500, warmupTime: 200 });
bench
  .add('wrap pkcs1 | ours (BigInt public op)', async () => void (await ours.pkcs1.wrap(content)))
  .add('wrap pkcs1 | node:crypto publicEncrypt', () => void nodeWrap(constants.RSA_PKCS1_PADDING))
  .add('wrap oaep | ours (web crypto)', async () => void (await ours.oaepWebCrypto.wrap(content)))
  .add('wrap oaep | ours (node-forge)', async () => void (await ours.oaepForge.wrap(content)))
  .add('wrap oaep | node:crypto publicEncrypt', () => void nodeWrap(constants.RSA_PKCS1_OAEP_PADDING, { oaepHash: 'sha1' }))
  .add('unwrap pkcs1 | ours (node-forge)', async () => void (await ours.pkcs1.unwrap(pkcs1Object)))
  .add('unwrap oaep | ours (web crypto)', async () => void (await ours.oaepWebCrypto.unwrap(oaepObject)))
  .add('unwrap oaep | ours (node-forge)', async () => void (await ours.oaepForge.unwrap(oaepObject)))
  .add('unwrap oaep | node:crypto privateDecrypt', () => void nodeUnwrapOaep(oaepObject));
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result as { state: string; throughput?: { mean: number; rme: number }; latency?: { mean: number } };
  if (r.state !== 'completed' || r.throughput === undefined) throw new Error(`${t.name}: ${r.state}`);
  const [op, who] = t.name.split(' | ');
  return { op, who, opsPerSec: r.throughput.mean, rme: r.throughput.rme, ms: r.latency!.mean };
});
const baseline = (op: string) => rows.find((r) => r.op === op && r.who.startsWith('node:crypto'));
console.log(`RSA-2048, one op = one content key (2 RSA operations); Node ${process.version}, ${process.platform}/${process.arch}`);
console.table(
  rows.map((r) => {
    const base = baseline(r.op);
    return {
      operation: r.op,
      implementation: r.who,
      'ops/s': Math.round(r.opsPerSec),
      '± %': r.rme.toFixed(1),
      'ms/op': r.ms.toFixed(3),
      'vs node:crypto': base === undefined ? 'n/a (Node refuses)' : base === r ? '1.00×' : `${(r.opsPerSec / base.opsPerSec).toFixed(2)}×`,
    };
  }),
);
