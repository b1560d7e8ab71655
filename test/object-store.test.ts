/**
 * The `ObjectStore` contract (bindings/oss/object-store.ts), run as one suite per implementation over real HTTP
 * against the loopback OSS stand-in (docs/ARCHITECTURE.md §4): the ali-oss adapter (bindings/oss/ali-oss.ts) over the
 * real `ali-oss` client, and the fetch store (bindings/oss/fetch/store.ts) over Node's global fetch; both pass the same
 * cases.
 *
 * What every store must do: put (bytes and stream) and get back the same bytes with the typed facts (status,
 * ETag, CRC-64, request id); stream a GET (whole, ranged, 304) and turn an error answer into the library's own
 * error read from the error body (`InvalidRange` for a 416, `NoSuchKey` for a 404, with the status); HEAD in its
 * own and in another bucket; copy, list, delete; the multipart calls (initiate, parts, list parts, complete,
 * abort); signed GET URLs that serve the stored bytes (the synchronous V1 `signatureUrl` either serves them too
 * or is refused with a TypeError naming the async alternatives); and tell its default bucket and an object's URL.
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { AliOssStore, type AliOssLike } from '../bindings/oss/ali-oss.js';
import { fetchObjectStore } from '../bindings/oss/fetch/store.js';
import type { ObjectStore } from '../bindings/oss/object-store.js';
import { responseFacts } from '../bindings/oss/response.js';
import { crc64ToDecimal, crc64 } from '../bindings/integrity/crc64.js';
import { pseudoRandomBytes } from './_util.js';
import { TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'store-bkt';
const OTHER = 'store-other';

/** Every implementation of the contract, built over the running stand-in. */
const STORES: ReadonlyArray<{ name: string; make: (oss: OssServer, bucket: string, hostname?: string) => ObjectStore }> = [
  {
    name: 'ali-oss adapter',
    // ali-oss builds object URLs only from a host name (not an IP address): `localhost` with path-style addressing.
    make: (oss, bucket, hostname) =>
      new AliOssStore(
        oss.client(bucket, hostname === undefined ? {} : ({ endpoint: oss.endpoint.replace('127.0.0.1', hostname), sldEnable: true } as never)) as unknown as AliOssLike,
      ),
  },
  {
    name: 'fetch store',
    make: (oss, bucket, hostname) =>
      fetchObjectStore({
        endpoint: hostname === undefined ? oss.endpoint : oss.endpoint.replace('127.0.0.1', hostname),
        bucket,
        region: oss.region,
        credentials: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
        pathStyle: true,
      }),
  },
];

/** A stored body, from a Node Readable or a WHATWG ReadableStream (both are async iterables of bytes). */
async function bytesOf(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function rejection(p: Promise<unknown>): Promise<{ code?: unknown; status?: unknown; name?: unknown; requestId?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: unknown; status?: unknown; name?: unknown };
  }
  throw new Error('expected a rejection');
}

for (const impl of STORES) {
  const env = {} as { oss: OssServer; dir: string };
  const s = suite(`ObjectStore contract: ${impl.name}`);
  useStandIns(s, env, { tmpPrefix: 'oss-crypto-store-' });
  const store = () => impl.make(env.oss, BUCKET);

  s('putObject then getObject and headObject: the same bytes, and the typed facts of each response', async () => {
    const data = pseudoRandomBytes(70_001, 1);
    const put = await store().putObject('c/a.bin', data, { meta: { owner: 'me' } });
    assert.is(put.name, 'c/a.bin');
    const putFacts = responseFacts(put.res);
    assert.is(putFacts.status, 200);
    assert.is(putFacts.crc64, crc64ToDecimal(crc64(data)));
    assert.ok(putFacts.etag && putFacts.requestId, 'PUT answers an ETag and a request id');
    const got = await store().getObject('c/a.bin', {});
    assert.ok(Buffer.from(got.content as Uint8Array).equals(Buffer.from(data)));
    const head = await store().headObject('c/a.bin', {});
    assert.is(head.status, 200);
    assert.is(head.meta?.owner, 'me');
    assert.is(responseFacts(head.res).etag, putFacts.etag);
    assert.is(responseFacts(head.res).headers['content-length'], String(data.length));
  });

  s('putObjectStream sends a stream of unknown length', async () => {
    const data = pseudoRandomBytes(50_000, 2);
    await store().putObjectStream('c/stream.bin', Readable.from([data.subarray(0, 20_000), data.subarray(20_000)]), {});
    assert.ok(Buffer.from(env.oss.getObject(BUCKET, 'c/stream.bin')!.body!).equals(Buffer.from(data)));
  });

  s('openObject streams whole and ranged bodies (200, 206) and answers 304 without a body', async () => {
    const data = pseudoRandomBytes(10_000, 3);
    const { res } = await store().putObject('c/open.bin', data, {});
    const whole = await store().openObject('c/open.bin', {});
    assert.is(whole.status, 200);
    assert.ok((await bytesOf(whole.body)).equals(Buffer.from(data)));
    const ranged = await store().openObject('c/open.bin', { headers: { Range: 'bytes=100-199' } });
    assert.is(ranged.status, 206);
    assert.is(ranged.headers['content-range'], `bytes 100-199/${data.length}`);
    assert.ok((await bytesOf(ranged.body)).equals(Buffer.from(data.subarray(100, 200))));
    const etag = responseFacts(res).etag!;
    const same = await store().openObject('c/open.bin', { headers: { 'If-None-Match': etag } });
    assert.is(same.status, 304);
    assert.is((await bytesOf(same.body)).length, 0);
  });

  s('openObject turns an error answer into the library error read from its body (InvalidRange 416, NoSuchKey 404)', async () => {
    await store().putObject('c/short.bin', pseudoRandomBytes(100, 4), {});
    const past = await rejection(store().openObject('c/short.bin', { headers: { Range: 'bytes=500-600', 'x-oss-range-behavior': 'standard' } }));
    assert.is(past.status, 416);
    assert.is(past.code, 'InvalidRange');
    const missing = await rejection(store().openObject('c/none.bin', {}));
    assert.is(missing.status, 404);
    assert.is(missing.code, 'NoSuchKey');
    assert.match(String((missing as { requestId?: unknown }).requestId), /\S/, 'the error carries the request id');
  });

  s('headObject reaches another bucket with the same credentials; a missing object is a 404', async () => {
    await impl.make(env.oss, OTHER).putObject('c/elsewhere.bin', pseudoRandomBytes(33, 5), {});
    const head = await store().headObject('c/elsewhere.bin', {}, OTHER);
    assert.is(head.status, 200);
    assert.is(responseFacts(head.res).headers['content-length'], '33');
    const own = await rejection(store().headObject('c/elsewhere.bin', {}));
    assert.is(own.status, 404);
  });

  // (deleteObjects is not in the contract run: the stand-in has no DeleteMultipleObjects.)
  s('copyObject, listObjects and deleteObject', async () => {
    const data = pseudoRandomBytes(1000, 6);
    await store().putObject('l/one.bin', data, {});
    await store().copyObject('l/two.bin', 'l/one.bin', undefined, {});
    assert.ok(Buffer.from(env.oss.getObject(BUCKET, 'l/two.bin')!.body!).equals(Buffer.from(data)));
    const listed = (await store().listObjects({ prefix: 'l/' }, {})) as unknown as { objects: Array<{ name: string; size: number }> };
    assert.equal(listed.objects.map((o) => o.name).sort(), ['l/one.bin', 'l/two.bin']);
    const listedV2 = (await store().listObjectsV2({ prefix: 'l/' }, {})) as unknown as { objects: Array<{ name: string }> };
    assert.is(listedV2.objects.length, 2);
    await store().deleteObject('l/one.bin');
    assert.is(env.oss.getObject(BUCKET, 'l/one.bin'), undefined);
    assert.ok(env.oss.getObject(BUCKET, 'l/two.bin'));
  });

  s('the multipart calls: initiate, parts, list parts, complete; and abort', async () => {
    const data = pseudoRandomBytes(250 * 1024, 7);
    const parts = [data.subarray(0, 200 * 1024), data.subarray(200 * 1024)];
    const init = await store().initiateMultipartUpload('m/big.bin', { meta: { owner: 'me' } });
    assert.is(init.bucket, BUCKET);
    assert.ok(init.uploadId.length > 0);
    const sent = [];
    for (const [i, part] of parts.entries()) {
      const r = await store().uploadPart('m/big.bin', init.uploadId, i + 1, new Uint8Array(part), {});
      assert.is(responseFacts(r.res).crc64, crc64ToDecimal(crc64(part)));
      sent.push({ number: i + 1, etag: r.etag });
    }
    const listed = await store().listParts('m/big.bin', init.uploadId, { 'max-parts': 1000 }, {});
    const listedParts = Array.isArray(listed.parts) ? listed.parts : [listed.parts!];
    assert.equal(listedParts.map((p) => Number(p.PartNumber)), [1, 2]);
    const done = await store().completeMultipartUpload('m/big.bin', init.uploadId, sent, {});
    assert.is(responseFacts(done.res).crc64, crc64ToDecimal(crc64(data)));
    assert.ok(Buffer.from(env.oss.getObject(BUCKET, 'm/big.bin')!.body!).equals(Buffer.from(data)));
    const other = await store().initiateMultipartUpload('m/dropped.bin', {});
    await store().abortMultipartUpload('m/dropped.bin', other.uploadId, {});
    const gone = await rejection(store().listParts('m/dropped.bin', other.uploadId, undefined, {}));
    assert.is(gone.status, 404);
  });

  s('signed GET URLs serve the stored bytes; the store names its bucket and an object URL', async () => {
    const data = pseudoRandomBytes(500, 8);
    const named = impl.make(env.oss, BUCKET, 'localhost');
    await named.putObject('u/a.bin', data, {});
    const urls = [await named.asyncSignatureUrl('u/a.bin', { expires: 600 }), await named.signatureUrlV4('GET', 600, undefined, 'u/a.bin')];
    try {
      urls.push(named.signatureUrl('u/a.bin', { expires: 600 }));
    } catch (err) {
      assert.instance(err, TypeError);
      assert.match((err as Error).message, /asyncSignatureUrl\(\) or signatureUrlV4\(\)/);
    }
    for (const url of urls) {
      const res = await fetch(url);
      assert.is(res.status, 200);
      assert.is(createHash('sha256').update(new Uint8Array(await res.arrayBuffer())).digest('hex'), createHash('sha256').update(data).digest('hex'));
    }
    assert.is(named.bucket, BUCKET);
    assert.match(named.objectUrl('u/a.bin') ?? '', /u\/a\.bin$/);
    assert.match(named.runtime, /\S/);
  });

  s.run();
}

// ---------------------------------------------------------------------------------------------------------------
const client = suite('CryptoClient over any ObjectStore');
const env = {} as { oss: OssServer; dir: string };
useStandIns(client, env, { tmpPrefix: 'oss-crypto-store-client-' });

client('a CryptoClient built over a store that is not an ali-oss client sends everything through it', async () => {
  const inner = new AliOssStore(env.oss.client(BUCKET) as unknown as AliOssLike);
  const calls: string[] = [];
  // A store of its own (a plain object, not an AliOssStore): every method counted, then answered by the ali-oss
  // store, as a fetch-based store would answer.
  const counting: Record<string, unknown> = { runtime: 'a counting store', bucket: inner.bucket };
  for (const key of Object.getOwnPropertyNames(AliOssStore.prototype)) {
    const method = (inner as unknown as Record<string, unknown>)[key];
    if (key === 'constructor' || typeof method !== 'function') continue;
    counting[key] = (...args: unknown[]) => (calls.push(key), (method as (...a: unknown[]) => unknown).apply(inner, args));
  }
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const c = new CryptoClient(counting as unknown as ObjectStore, { material: rsaKeyWrapper({ privateKey }) });
  const data = pseudoRandomBytes(300_000, 9);
  await c.put('s/a.bin', data);
  const { content } = await c.get('s/a.bin');
  assert.ok(Buffer.from(content!).equals(Buffer.from(data)));
  const ranged = await c.get('s/a.bin', { headers: { Range: 'bytes=17-40016' } });
  assert.ok(Buffer.from(ranged.content!).equals(Buffer.from(data.subarray(17, 40017))));
  await c.multipartUpload('s/m.bin', Buffer.from(data), { partSize: 100 * 1024 });
  assert.ok((await c.head('s/m.bin')).encrypted);
  assert.equal([...new Set(calls)].sort(), ['completeMultipartUpload', 'headObject', 'initiateMultipartUpload', 'openObject', 'putObject', 'uploadPart']);
  assert.not.ok(Buffer.from(env.oss.getObject(BUCKET, 's/a.bin')!.body!).equals(Buffer.from(data)), 'stored as ciphertext');
  // There is no ali-oss client to hand back.
  assert.throws(() => c.oss, (err: unknown) => err instanceof TypeError && /not an ali-oss client/.test(err.message));
});

client.run();
