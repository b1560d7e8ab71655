/**
 * The `ali-oss-crypto/web` entry's `CryptoClient` (bindings/client/web-client.ts), imported through the entry
 * file and run on Node over real HTTP (fetchObjectStore against the OSS stand-in; KMS over fetchKmsClient
 * against the KMS stand-in): put from Uint8Array, Blob and ReadableStream; get (a Uint8Array) and getStream (a
 * WHATWG ReadableStream) whole and in every range form; head with the envelope; multipartUpload from a Blob with
 * parallel parts, progress and a checkpoint object; KMS put/get through the web kmsKeyWrapper; objects read
 * byte-exact by Node's client (ali-oss) and the reverse; integrity failures on the WHATWG stream; and the Node-only
 * features (file paths, checkpoint files, resumableDownload) refused with OPERATION_UNSUPPORTED.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient as NodeClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper as nodeRsa } from '../bindings/keys/rsa.js';
import { CryptoClient, IntegrityError, kmsKeyWrapper, rsaKeyWrapper, UnsupportedOperationError, type UploadCheckpoint } from '../bindings/web.js';
import { pseudoRandomBytes } from './_util.js';
import type { KmsServer } from './support/kms-server.js';
import { standInFetchStore } from './support/fetch-store.js';
import type { OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'web-client-bkt';
const test = suite('ali-oss-crypto/web CryptoClient (Node, real HTTP)');
const env = {} as { oss: OssServer; kms: KmsServer; dir: string };
useStandIns(test, env, { tmpPrefix: 'oss-crypto-web-client-', kms: true });

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const store = () => standInFetchStore(env.oss, BUCKET);
const web = () => new CryptoClient(store(), { material: rsaKeyWrapper({ privateKey }) });
const node = () => new NodeClient(env.oss.client(BUCKET) as never, { material: nodeRsa({ privateKey }) });

const same = (want: Uint8Array, got: Uint8Array | undefined, what: string) =>
  assert.ok(got !== undefined && Buffer.from(got).equals(Buffer.from(want)), `${what}: bytes differ (${want.length} vs ${got?.length})`);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test('put bytes; get whole and every range form as Uint8Array; getStream is a WHATWG stream; Node reads it and the reverse', async () => {
  const data = pseudoRandomBytes(100 * 1024, 21);
  await web().put('w/a.bin', data);
  const whole = await web().get('w/a.bin');
  assert.ok(whole.content instanceof Uint8Array && !Buffer.isBuffer(whole.content), 'a Uint8Array, not a Buffer');
  same(data, whole.content, 'whole');
  for (const [range, want] of [
    ['bytes=-1000', data.subarray(data.length - 1000)],
    ['bytes=5-70000', data.subarray(5, 70001)],
    ['bytes=100000-', data.subarray(100000)],
  ] as const) {
    same(want, (await web().get('w/a.bin', { headers: { Range: range } })).content, range);
  }
  const { stream, res } = await web().getStream('w/a.bin', { headers: { Range: 'bytes=5-70000' } });
  assert.ok(stream instanceof ReadableStream);
  assert.is(res.status, 206);
  same(data.subarray(5, 70001), await readAll(stream), 'getStream ranged');
  same(data, (await node().get('w/a.bin')).content, 'Node client reads the web write');
  await node().put('w/n.bin', data);
  same(data, (await web().get('w/n.bin')).content, 'web client reads the Node write');
  same(data.subarray(5, 70001), (await web().get('w/n.bin', { headers: { Range: 'bytes=5-70000' } })).content, 'ranged');
});

test('put a Blob and a ReadableStream (contentLength recorded); head shows the envelope; contentMd5 recorded and verified', async () => {
  const data = pseudoRandomBytes(30_000, 22);
  await web().put('w/blob.txt', new Blob([data], { type: 'text/plain' }), { contentMd5: true });
  const head = await web().head('w/blob.txt');
  assert.ok(head.encrypted);
  assert.is(head.envelope?.unencryptedContentLength, data.length);
  assert.ok(head.envelope?.unencryptedContentMd5, 'MD5 recorded');
  same(data, (await node().get('w/blob.txt')).content, 'Node verifies the web-computed MD5');
  let at = 0;
  const source = new ReadableStream<Uint8Array>({ pull: (c) => (at >= data.length ? c.close() : c.enqueue(data.slice(at, (at += 4096)))) });
  await web().put('w/stream.bin', source, { contentLength: data.length });
  same(data, (await web().get('w/stream.bin')).content, 'stream put');
  const short = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(data.slice(0, 100)), c.close()) });
  const err = await web().put('w/short.bin', short, { contentLength: data.length }).catch((e: unknown) => e);
  assert.instance(err, IntegrityError);
  assert.is((err as IntegrityError).code, 'INTEGRITY_LENGTH');
  assert.is(env.oss.getObject(BUCKET, 'w/short.bin'), undefined, 'nothing stored');
});

test('an answer whose CRC-64 disagrees with its bytes fails the WHATWG stream with INTEGRITY_CRC64', async () => {
  const data = pseudoRandomBytes(20_000, 23);
  await web().put('w/damaged.bin', data);
  // The real answer, with its x-oss-hash-crc64ecma replaced on the way (as a damaged body would disagree with it).
  const tampering: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (init?.method !== 'GET') return res;
    const headers = new Headers(res.headers);
    headers.set('x-oss-hash-crc64ecma', '12345');
    return new Response(res.body, { status: res.status, headers });
  };
  const tampered = standInFetchStore(env.oss, BUCKET, { fetch: tampering });
  const { stream } = await new CryptoClient(tampered, { material: rsaKeyWrapper({ privateKey }) }).getStream('w/damaged.bin');
  const err = await readAll(stream).catch((e: unknown) => e);
  assert.instance(err, IntegrityError);
  assert.is((err as IntegrityError).code, 'INTEGRITY_CRC64');
});

test('multipartUpload from a Blob: parallel 2, progress, a checkpoint object; Node reads it byte-exact', async () => {
  const data = pseudoRandomBytes(3 << 20, 24);
  const seen: number[] = [];
  let checkpoint: UploadCheckpoint | undefined;
  await web().multipartUpload('w/big.bin', new Blob([data]), {
    partSize: 1 << 20,
    parallel: 2,
    progress: (p: number, cp: UploadCheckpoint | null) => {
      seen.push(p);
      if (cp) checkpoint = cp;
    },
  });
  assert.is(seen.at(-1), 1);
  assert.ok(checkpoint !== undefined && checkpoint.doneParts.length >= 1);
  same(data, (await node().get('w/big.bin')).content, 'multipart object');
  same(data.subarray((1 << 20) - 7, (1 << 20) + 9), (await web().get('w/big.bin', { headers: { Range: `bytes=${(1 << 20) - 7}-${(1 << 20) + 8}` } })).content, 'across parts');
});

test('KMS through the web kmsKeyWrapper (its default client is fetchKmsClient; the stand-in checks the signature): put and get', async () => {
  const kms = kmsKeyWrapper({
    keyId: env.kms.createKey(),
    endpoint: env.kms.endpoint,
    protocol: 'http',
    ...env.kms.credentials,
  });
  const c = new CryptoClient(store(), { material: kms });
  const data = pseudoRandomBytes(5000, 25);
  await c.put('w/kms.bin', data);
  assert.is((await c.head('w/kms.bin')).envelope?.wrapAlg, 'KMS/ALICLOUD');
  same(data, (await c.get('w/kms.bin')).content, 'KMS round trip');
});

test('multipartUpload of a WHATWG stream of unknown length: up to 16 MiB measured in memory (whatever the part size), longer refused before Initiate asking for contentLength', async () => {
  const streamOf = (data: Uint8Array, chunk: number) => {
    let at = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= data.length) return controller.close();
        controller.enqueue(data.slice(at, (at += chunk)));
      },
    });
  };
  const initiates = () => env.oss.log.filter((e) => e.kind === 'initiate').length;
  // Three parts' worth, no size given: measured in memory, then uploaded with its exact data-size.
  const small = pseudoRandomBytes(700 * 1024, 26);
  await web().multipartUpload('w/stream-small.bin', streamOf(small, 64 * 1024), { partSize: 256 * 1024, parallel: 2 });
  same(small, (await node().get('w/stream-small.bin')).content, 'the measured stream, read by Node');
  // Over 16 MiB, no size, no file system to spool to: refused, and OSS never sees an Initiate without data-size.
  const big = pseudoRandomBytes(16 * 1024 * 1024 + 300 * 1024, 27);
  const before = initiates();
  const err = await web()
    .multipartUpload('w/stream-big.bin', streamOf(big, 1024 * 1024), { partSize: 1024 * 1024 })
    .catch((e: unknown) => e as { code?: string; message?: string });
  assert.ok(err instanceof UnsupportedOperationError, String(err));
  assert.is(err.code, 'OPERATION_UNSUPPORTED');
  assert.match(String(err.message), /no file system/);
  assert.match(String(err.message), /contentLength/);
  assert.is(initiates(), before, 'no InitiateMultipartUpload was sent');
  // With contentLength it uploads.
  await web().multipartUpload('w/stream-big.bin', streamOf(big, 1024 * 1024), { partSize: 1024 * 1024, contentLength: big.length, parallel: 2 });
  same(big, (await node().get('w/stream-big.bin')).content, 'the stream uploaded with contentLength');
});

test('Node-only features are refused with OPERATION_UNSUPPORTED naming the runtime', async () => {
  const c = web();
  for (const attempt of [
    () => c.put('w/x', '/etc/hostname' as never),
    () => c.get('w/a.bin', '/tmp/out.bin' as never),
    () => c.resumableDownload('w/a.bin', '/tmp/out.bin'),
    () => c.multipartUpload('w/x', '/etc/hostname'),
    () => c.multipartUpload('w/x', new Blob([new Uint8Array(10)]), { checkpoint: '/tmp/x.cp' }),
  ]) {
    const err = await attempt().catch((e: unknown) => e);
    assert.instance(err, UnsupportedOperationError);
    assert.is((err as UnsupportedOperationError).code, 'OPERATION_UNSUPPORTED');
    assert.match((err as Error).message, /Node\.js|this runtime/);
  }
});

test.run();
