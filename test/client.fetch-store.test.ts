/**
 * `CryptoClient` over `fetchObjectStore` (bindings/oss/fetch/store.ts) on Node, over real HTTP against the OSS
 * stand-in: every operation of the issue (put from Uint8Array, Blob and ReadableStream; get whole and in every
 * range form; getStream; head with the envelope; list, copy, delete; the low-level parts API with the crypto
 * context; multipartUpload from a Blob and a ReadableStream with parallel parts, progress, an AbortSignal and a
 * checkpoint object resumed), and objects written through either store read byte-exact through the other
 * (ali-oss's real client on the other side), whole and in ranges. Also: one retry layer (a transient 503 is
 * retried by the client, once per attempt, not by the store too).
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import { pseudoRandomBytes } from './_util.js';
import { standInFetchStore } from './support/fetch-store.js';
import type { OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'fetch-client-bkt';
const test = suite('CryptoClient over fetchObjectStore (Node, real HTTP)');
const env = {} as { oss: OssServer; dir: string };
useStandIns(test, env, { tmpPrefix: 'oss-crypto-fetch-client-' });

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const material = rsaKeyWrapper({ privateKey });
const fetchClient = (extra: Record<string, unknown> = {}) => new CryptoClient(standInFetchStore(env.oss, BUCKET), { material, ...extra });
const aliClient = () => new CryptoClient(env.oss.client(BUCKET) as never, { material, retry: { baseDelayMs: 1, maxDelayMs: 2 } });

const same = (want: Uint8Array, got: Uint8Array | undefined, what: string) =>
  assert.ok(got !== undefined && Buffer.from(got).equals(Buffer.from(want)), `${what}: bytes differ (${want.length} vs ${got?.length})`);
const RANGES: Array<[string, (d: Uint8Array) => Uint8Array]> = [
  ['bytes=-1000', (d) => d.subarray(d.length - 1000)],
  ['bytes=5-70000', (d) => d.subarray(5, 70001)],
  ['bytes=100000-', (d) => d.subarray(100000)],
  ['bytes=0-0', (d) => d.subarray(0, 1)],
];

async function collect(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function webStream(data: Uint8Array, chunk = 7000): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, (at += chunk)));
    },
  });
}

test('written through the fetch store, read byte-exact through ali-oss (whole and ranged), and the reverse', async () => {
  const data = pseudoRandomBytes(100 * 1024, 11);
  await fetchClient().put('x/fetch-written.bin', data);
  assert.not.ok(Buffer.from(env.oss.getObject(BUCKET, 'x/fetch-written.bin')!.body!).equals(Buffer.from(data)), 'stored as ciphertext');
  same(data, (await aliClient().get('x/fetch-written.bin')).content, 'ali-oss reads the fetch write');
  for (const [range, slice] of RANGES) {
    same(slice(data), (await aliClient().get('x/fetch-written.bin', { headers: { Range: range } })).content, `ali-oss ${range}`);
  }
  await aliClient().put('x/ali-written.bin', data);
  same(data, (await fetchClient().get('x/ali-written.bin')).content, 'fetch reads the ali-oss write');
  for (const [range, slice] of RANGES) {
    same(slice(data), (await fetchClient().get('x/ali-written.bin', { headers: { Range: range } })).content, `fetch ${range}`);
  }
  const { stream, res } = await fetchClient().getStream('x/ali-written.bin', { headers: { Range: 'bytes=5-70000' } });
  assert.is(res.status, 206);
  same(data.subarray(5, 70001), await collect(stream), 'getStream ranged');
  same(data, await collect((await fetchClient().getStream('x/fetch-written.bin')).stream), 'getStream whole');
});

test('put from a Blob (its type kept) and from a WHATWG ReadableStream; head shows the envelope', async () => {
  const data = pseudoRandomBytes(40_000, 12);
  await fetchClient().put('b/blob.txt', new Blob([data], { type: 'text/plain' }));
  assert.is(env.oss.getObject(BUCKET, 'b/blob.txt')!.contentType, 'text/plain');
  same(data, (await aliClient().get('b/blob.txt')).content, 'Blob put');
  await fetchClient().put('b/stream.bin', webStream(data));
  same(data, (await aliClient().get('b/stream.bin')).content, 'ReadableStream put');
  const head = await fetchClient().head('b/blob.txt');
  assert.ok(head.encrypted);
  assert.is(head.envelope?.wrapAlg, 'RSA/NONE/PKCS1Padding');
  assert.is(head.envelope?.unencryptedContentLength, data.length);
});

test('list, copy and delete through the fetch store; the copy still decrypts', async () => {
  const data = pseudoRandomBytes(5000, 13);
  const c = fetchClient();
  await c.put('l/one.bin', data);
  await c.copy('l/two.bin', 'l/one.bin');
  same(data, (await aliClient().get('l/two.bin')).content, 'copied object');
  const { objects } = await c.list({ prefix: 'l/' });
  assert.equal(objects.map((o: { name: string }) => o.name).sort(), ['l/one.bin', 'l/two.bin']);
  assert.is(objects[0].size, data.length);
  await c.delete('l/one.bin');
  assert.is(env.oss.getObject(BUCKET, 'l/one.bin'), undefined);
});

test('low-level parts API with the crypto context, over the fetch store; ali-oss reads the result', async () => {
  const data = pseudoRandomBytes(250 * 1024, 14);
  const c = fetchClient();
  const partSize = 100 * 1024;
  const { uploadId, context } = await c.initMultipartUpload('p/parts.bin', { dataSize: data.length, partSize });
  const parts = [];
  for (let n = 1, at = 0; at < data.length; n++, at += partSize) {
    // A context that went through JSON, as a worker elsewhere would get it.
    const { part } = await c.uploadPart('p/parts.bin', uploadId, n, data.subarray(at, at + partSize), JSON.parse(JSON.stringify(context)));
    parts.push(part);
  }
  await c.completeMultipartUpload('p/parts.bin', uploadId, parts, { context });
  same(data, (await aliClient().get('p/parts.bin')).content, 'parts API object');
  same(data.subarray(102_390, 204_900), (await aliClient().get('p/parts.bin', { headers: { Range: 'bytes=102390-204899' } })).content, 'across parts');
});

test('multipartUpload from a Blob: parallel 2, progress, aborted by a signal, resumed from the checkpoint object', async () => {
  const data = pseudoRandomBytes(3 << 20, 15);
  const c = fetchClient();
  const controller = new AbortController();
  let saved: UploadCheckpoint | undefined;
  const reported: number[] = [];
  const first = await c
    .multipartUpload('m/big.bin', new Blob([data]), {
      partSize: 512 * 1024,
      parallel: 2,
      signal: controller.signal,
      progress: (p: number, cp: UploadCheckpoint | null) => {
        reported.push(p);
        // Persisted as a caller would (IndexedDB, KV): through JSON.
        if (cp) saved = JSON.parse(JSON.stringify(cp));
        if (reported.length === 2) controller.abort(new Error('user went away'));
      },
    })
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  assert.ok(first instanceof Error, 'the abort rejects the upload');
  assert.ok(saved !== undefined && saved.doneParts.length >= 1 && saved.doneParts.length < 6, `checkpoint after abort: ${saved?.doneParts.length} parts`);
  const resumed: number[] = [];
  await c.multipartUpload('m/big.bin', new Blob([data]), { checkpoint: saved, parallel: 2, progress: (p: number) => resumed.push(p) });
  assert.is(resumed.at(-1), 1);
  assert.ok(resumed.every((p, i) => i === 0 || p >= resumed[i - 1]), `progress never goes back: ${resumed}`);
  same(data, (await aliClient().get('m/big.bin')).content, 'resumed multipart object');
  same(data.subarray(524_280, 524_300), (await fetchClient().get('m/big.bin', { headers: { Range: 'bytes=524280-524299' } })).content, 'ranged across a part boundary');
});

test('multipartUpload from a WHATWG ReadableStream of unknown length', async () => {
  const data = pseudoRandomBytes(700 * 1024, 16);
  await fetchClient().multipartUpload('m/stream.bin', webStream(data, 64 * 1024), { partSize: 256 * 1024, parallel: 2 });
  same(data, (await aliClient().get('m/stream.bin')).content, 'stream multipart object');
});

test('one retry layer: a transient 503 on PUT is retried by the client only (two requests for one fault)', async () => {
  const data = pseudoRandomBytes(1000, 17);
  const once = env.oss.inject({ kind: 'put', key: 'r/once.bin', status: 503, code: 'ServiceUnavailable' });
  await fetchClient().put('r/once.bin', data);
  assert.is(once.seen, 2, 'one failed attempt and one retry');
  same(data, (await aliClient().get('r/once.bin')).content, 'the retried put');
  const never = env.oss.inject({ kind: 'put', key: 'r/never.bin', status: 503, code: 'ServiceUnavailable', times: Infinity });
  const err = await fetchClient({ retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 } }).put('r/never.bin', data).catch((e: unknown) => e as Record<string, unknown>);
  assert.is(err.status, 503);
  assert.is(err.code, 'ServiceUnavailable');
  assert.is(never.seen, 3, 'retries: 2 means three requests in all, not nine');
});

test.run();
