/**
 * Ranged reads through CryptoClient over real HTTP (real `ali-oss` against the OSS stand-in), docs/FORMAT.md §4, §8:
 * every Range form (`a-b`, `a-`, `-n`, unaligned starts, across multipart part boundaries, an end past the end,
 * a suffix longer than the object) on a single-PUT object and on a real multipart object, through `get` to memory,
 * `get` to a file and `getStream`, on the default (WASM) and native engines. The request always carries the
 * caller's Range and `x-oss-range-behavior: standard`; a start past the end is OSS's 416 passed through as
 * ali-oss's error; the object's key is unwrapped once per operation.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor, type CtrBackend } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import type { ClientKeyRing } from '../bindings/transfer/context.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { metaFromEnvelope } from '../bindings/envelope/codec.js';
import { OssCryptoError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { startOssServer, type OssServer } from './support/oss-server.js';
import { pseudoRandomBytes } from './_util.js';

const BUCKET = 'ranges-bkt';
const SINGLE = 'r/single';
const MULTI = 'r/multi';
const PART = 102_400;
const single = Buffer.from(pseudoRandomBytes(300_001, 41));
const multi = Buffer.from(pseudoRandomBytes(2 * PART + 45_203, 42));

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const backends: Array<{ name: string; backend: CtrBackend | undefined }> = [
  { name: 'wasm', backend: wasmBackend() },
  { name: 'native', backend: nativeBackend },
];

const env = { oss: undefined as unknown as OssServer, dir: '', unwraps: 0, keyring: undefined as unknown as ClientKeyRing };

function client(backend?: CtrBackend, extra: Record<string, unknown> = {}): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET) as any, { keyring: env.keyring, backend, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 }, ...extra });
}

/** Writes `data` as a real multipart upload (Initiate with the V2 headers + data/part size, encrypted parts, Complete). */
async function putMultipart(key: string, data: Buffer): Promise<void> {
  const oss: any = env.oss.client(BUCKET);
  const { content, wrapped } = await env.keyring.createContentKey();
  const meta = metaFromEnvelope({
    format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped, unencryptedContentLength: data.length, dataSize: data.length, partSize: PART,
  });
  const { uploadId } = await oss.initMultipartUpload(key, { meta });
  const parts = [];
  for (let n = 1, off = 0; off < data.length; n++, off += PART) {
    const body = aesCtrXor(content.key, content.iv, data.subarray(off, off + PART), off, { backend: nativeBackend });
    const r = await oss.uploadPart(key, uploadId, n, Buffer.from(body), 0, body.length);
    parts.push({ number: n, etag: r.etag });
  }
  await oss.completeMultipartUpload(key, uploadId, parts);
}

/** [Range header, expected [start, endExclusive)] for an object of `size` bytes. */
function cases(size: number): Array<[string, number, number]> {
  return [
    ['bytes=0-0', 0, 1],
    ['bytes=0-15', 0, 16],
    ['bytes=16-31', 16, 32],
    ['bytes=5-99', 5, 100],
    ['bytes=15-16', 15, 17],
    [`bytes=${PART - 7}-${PART + 9}`, PART - 7, PART + 10],
    [`bytes=${PART}-${PART + 15}`, PART, PART + 16],
    [`bytes=${2 * PART - 1}-`, 2 * PART - 1, size],
    [`bytes=${PART + 3}-${2 * PART + 20}`, PART + 3, 2 * PART + 21],
    ['bytes=17-', 17, size],
    ['bytes=0-', 0, size],
    ['bytes=-17', size - 17, size],
    ['bytes=-1', size - 1, size],
    [`bytes=-${size}`, 0, size],
    [`bytes=-${size + 100}`, 0, size],
    [`bytes=${size - 1}-${size - 1}`, size - 1, size],
    [`bytes=10-${size + 1000}`, 10, size],
  ];
}

const s = suite('client: ranged reads (single PUT and multipart, every form)');

s.before(async () => {
  env.oss = await startOssServer();
  env.dir = mkdtempSync(join(tmpdir(), 'oss-crypto-ranges-'));
  // OAEP unwraps through Web Crypto in ~2 ms; PKCS#1 v1.5 needs node-forge (~40 ms per private op), and this
  // suite makes a few hundred reads. The padding is irrelevant to ranges (client.test.ts covers both).
  const ring = new KeyRing({ default: rsaKeyWrapper({ privateKey: pem, padding: 'oaep' }) });
  env.keyring = {
    createContentKey: () => ring.createContentKey(),
    unwrap: (w) => {
      env.unwraps++;
      return ring.unwrap(w);
    },
  };
  await client().put(SINGLE, single);
  await putMultipart(MULTI, multi);
});
s.after(async () => {
  await env.oss.close();
  rmSync(env.dir, { recursive: true, force: true });
});
s.after.each(() => env.oss.clearFaults());

s('the multipart object is a real multipart upload (3 parts) and decrypts whole', async () => {
  const stored = env.oss.getObject(BUCKET, MULTI)!;
  assert.is(stored.type, 'Multipart');
  assert.match(stored.etag, /-3"$/);
  assert.is(stored.meta['client-side-encryption-part-size'], String(PART));
  assert.ok((await client().get(MULTI)).content!.equals(multi));
});

for (const b of backends) {
  for (const [key, data] of [[SINGLE, single], [MULTI, multi]] as const) {
    s(`${b.name}: ${key} — every form through get (memory), get (file) and getStream is byte-exact`, async () => {
      const c = client(b.backend);
      for (const [range, start, end] of cases(data.length)) {
        const want = data.subarray(start, end);
        const mark = env.oss.log.length;
        const r = await c.get(key, { headers: { Range: range } });
        assert.ok(r.content!.equals(want), `get ${range}: ${r.content!.length} bytes, want ${want.length}`);
        assert.is(r.res.status, 206, range);
        assert.is(r.res.headers['content-range'], `bytes ${start}-${end - 1}/${data.length}`);
        const req = env.oss.log[mark];
        assert.is(req.range, range, 'the caller\'s range is sent as is (never widened)');
        assert.is(req.headers['x-oss-range-behavior'], 'standard');

        const path = join(env.dir, 'range.bin');
        await c.get(key, path, { headers: { range } });
        assert.ok(readFileSync(path).equals(want), `file ${range}`);

        const { stream, res } = await c.getStream(key, { headers: { RANGE: range } });
        assert.is(res.status, 206);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        assert.ok(Buffer.concat(chunks).equals(want), `getStream ${range}`);
      }
    });
  }
}

s('a start past the end: OSS 416 passes through as ali-oss\'s error (get, file, stream); no file left', async () => {
  const c = client();
  for (const range of [`bytes=${single.length}-`, `bytes=${single.length + 5}-${single.length + 10}`]) {
    const path = join(env.dir, 'past-end.bin');
    for (const call of [() => c.get(SINGLE, { headers: { Range: range } }), () => c.get(SINGLE, path, { headers: { Range: range } }), () => c.getStream(SINGLE, { headers: { Range: range } })]) {
      const mark = env.oss.log.length;
      let err: any;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      assert.ok(err, range);
      assert.not.instance(err, OssCryptoError);
      assert.is(err.status, 416);
      assert.is(err.code, 'InvalidRange');
      assert.is(err.name, 'InvalidRangeError');
      assert.is(env.oss.log.length - mark, 1, '416 is not retried');
    }
    assert.not.ok(existsSync(path));
  }
  await c.put('r/empty', Buffer.alloc(0));
  let err: any;
  try {
    await c.get('r/empty', { headers: { Range: 'bytes=0-' } });
  } catch (e) {
    err = e;
  }
  assert.is(err?.status, 416);
  assert.is((await c.get('r/empty')).content!.length, 0);
});

s('malformed and multi-range requests are RangeErrors before any request', async () => {
  const c = client();
  const mark = env.oss.log.length;
  for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'items=0-1', 'bytes=-0']) {
    let err: any;
    try {
      await c.get(SINGLE, { headers: { Range: range } });
    } catch (e) {
      err = e;
    }
    assert.instance(err, RangeError, range);
  }
  assert.is(env.oss.log.length, mark);
});

s('the key is unwrapped once per operation: whole, ranged, multipart ranged, and across a retried body', async () => {
  const c = client();
  for (const [key, opts] of [
    [SINGLE, {}],
    [SINGLE, { headers: { Range: 'bytes=1000-2000' } }],
    [MULTI, { headers: { Range: `bytes=${PART - 100}-${2 * PART + 100}` } }],
    [MULTI, {}],
  ] as const) {
    env.unwraps = 0;
    await c.get(key, opts);
    assert.is(env.unwraps, 1, `${key} ${JSON.stringify(opts)}`);
  }
  env.oss.inject({ kind: 'get', key: MULTI, reset: { afterBytes: 150_000 } });
  env.unwraps = 0;
  const mark = env.oss.log.length;
  assert.ok((await c.get(MULTI)).content!.equals(multi));
  assert.is(env.oss.log.length - mark, 2, 'the broken body was fetched again');
  assert.is(env.unwraps, 1, 'and the key was not unwrapped again');
});

s.run();
