/**
 * Issue 12 on the `ali-oss-crypto/web` client (bindings/client/web-put.ts, web-read.ts over read-plan.ts and
 * put-common.ts), over real HTTP (fetchObjectStore against the OSS stand-in): under `commitment: 'write'` the web
 * client writes the key commitment on put (bytes and ReadableStream) and multipartUpload; its get and getStream
 * verify a commitment when present, so a swapped wrapped key is COMMITMENT_MISMATCH; `require` refuses an
 * uncommitted object with COMMITMENT_MISSING; objects committed by one client read under `require` on the other;
 * `verify: { md5: 'require' }` and an unparsable recorded MD5 are refused as on Node; the MD5 mismatch message of a
 * web put does not print the computed digest.
 * @module
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient as NodeClient } from '../bindings/client/crypto-client.js';
import { COMMITMENT_HEADER } from '../bindings/envelope/commitment.js';
import { rsaKeyWrapper as nodeRsa } from '../bindings/keys/rsa.js';
import { CryptoClient, IntegrityError, MetadataError, rsaKeyWrapper } from '../bindings/web.js';
import { pseudoRandomBytes, rejects } from './_util.js';
import { standInFetchStore } from './support/fetch-store.js';
import type { OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'web-commit-bkt';
const test = suite('ali-oss-crypto/web: key commitment and verify policy (real HTTP)');
const env = {} as { oss: OssServer; dir: string };
useStandIns(test, env, { tmpPrefix: 'oss-crypto-web-commit-' });

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const store = () => standInFetchStore(env.oss, BUCKET);
const web = (extra: Record<string, unknown> = {}) => new CryptoClient(store(), { material: rsaKeyWrapper({ privateKey }), ...extra });
const node = (extra: Record<string, unknown> = {}) =>
  new NodeClient(env.oss.client(BUCKET) as never, { material: nodeRsa({ privateKey }), ...extra });

const same = (want: Uint8Array, got: Uint8Array | undefined, what: string) =>
  assert.ok(got !== undefined && Buffer.from(got).equals(Buffer.from(want)), `${what}: bytes differ (${want.length} vs ${got?.length})`);

const stored = (key: string) => env.oss.getObject(BUCKET, key)!;

/** Re-stores `key` with its metadata edited by `edit`, as a raw store edit. */
function tamper(key: string, edit: (meta: Record<string, string>) => void): void {
  const object = stored(key);
  const headers: Record<string, string> = { 'content-type': object.contentType };
  for (const [n, v] of Object.entries(object.headers)) if (n.startsWith('x-oss-meta-')) headers[n] = v;
  edit(headers);
  env.oss.putObjectRaw(BUCKET, key, object.body!, headers);
}

test("commitment: 'write' on the web client commits put (bytes, stream) and multipartUpload; both clients read them under 'require'", async () => {
  const data = pseudoRandomBytes(40_000, 71);
  await web({ commitment: 'write' }).put('c/bytes.bin', data);
  let at = 0;
  const source = new ReadableStream<Uint8Array>({ pull: (c) => (at >= data.length ? c.close() : c.enqueue(data.slice(at, (at += 4096)))) });
  await web({ commitment: 'write' }).put('c/stream.bin', source, { contentLength: data.length });
  const big = pseudoRandomBytes(2 << 20, 72);
  await web({ commitment: 'write' }).multipartUpload('c/multi.bin', new Blob([big]), { partSize: 1 << 20, parallel: 2 });
  for (const [key, want] of [
    ['c/bytes.bin', data],
    ['c/stream.bin', data],
    ['c/multi.bin', big],
  ] as const) {
    assert.match(stored(key).headers[COMMITMENT_HEADER] ?? '', /^v1:/, `${key}: the commitment header is written`);
    same(want, (await web({ commitment: 'require' }).get(key)).content, `${key}: web reads under require`);
    same(want, (await node({ commitment: 'require' }).get(key)).content, `${key}: Node reads under require`);
  }
  await node({ commitment: 'write' }).put('c/node.bin', data);
  same(data, (await web({ commitment: 'require' }).get('c/node.bin')).content, 'web reads a Node-committed object');
  await web().put('c/plain-default.bin', data);
  assert.is(stored('c/plain-default.bin').headers[COMMITMENT_HEADER], undefined, 'no commitment by default');
});

test("web get and getStream verify a present commitment (swapped wrapped key: COMMITMENT_MISMATCH); 'require' refuses an uncommitted object", async () => {
  const data = pseudoRandomBytes(10_000, 73);
  await web({ commitment: 'write' }).put('c/a.bin', data);
  await web({ commitment: 'write' }).put('c/b.bin', pseudoRandomBytes(10_000, 74));
  const other = stored('c/b.bin').headers;
  tamper('c/a.bin', (m) => {
    m['x-oss-meta-client-side-encryption-key'] = other['x-oss-meta-client-side-encryption-key'];
    m['x-oss-meta-client-side-encryption-start'] = other['x-oss-meta-client-side-encryption-start'];
  });
  await rejects(web().get('c/a.bin'), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(web().getStream('c/a.bin'), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(web().get('c/a.bin', { headers: { Range: 'bytes=5-70' } }), IntegrityError, 'COMMITMENT_MISMATCH');
  await web().put('c/uncommitted.bin', data);
  await rejects(web({ commitment: 'require' }).get('c/uncommitted.bin'), IntegrityError, 'COMMITMENT_MISSING');
  await rejects(web({ commitment: 'require' }).getStream('c/uncommitted.bin'), IntegrityError, 'COMMITMENT_MISSING');
  same(data, (await web().get('c/uncommitted.bin')).content, "the default 'verify' reads an uncommitted object");
});

test("verify policy on the web client: md5 'require' and an unparsable recorded MD5 are refused; a put MD5 mismatch does not print the computed digest", async () => {
  const data = pseudoRandomBytes(5_000, 75);
  await web().put('v/no-md5.bin', data);
  await rejects(web({ verify: { md5: 'require' } }).get('v/no-md5.bin'), MetadataError, 'META_MISSING');
  await web().put('v/md5.bin', data, { contentMd5: true });
  same(data, (await web({ verify: { md5: 'require' } }).get('v/md5.bin')).content, 'a recorded MD5 satisfies require');
  tamper('v/md5.bin', (m) => (m['x-oss-meta-client-side-encryption-unencrypted-content-md5'] = 'not-an-md5'));
  await rejects(web().get('v/md5.bin'), MetadataError, 'META_MALFORMED');
  await rejects(web().getStream('v/md5.bin'), MetadataError, 'META_MALFORMED');
  const claimed = '00112233445566778899aabbccddeeff';
  const err = await rejects(web().put('v/bad.bin', data, { contentMd5: claimed }), IntegrityError, 'INTEGRITY_MD5');
  assert.ok(String(err.message).includes(claimed), 'the message names the MD5 the caller gave');
  const computed = createHash('md5').update(data).digest('hex');
  assert.not.ok(String(err.message).includes(computed), 'the message does not print the computed digest');
  assert.is(env.oss.getObject(BUCKET, 'v/bad.bin'), undefined, 'nothing stored');
});

test.run();
