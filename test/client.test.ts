/**
 * CryptoClient over real HTTP: the real `ali-oss` client against the loopback OSS stand-in, RSA PKCS#1 v1.5 and
 * OAEP materials, the default (WASM) and native cipher engines. Proves put/putStream from every source, get to
 * memory / file / Writable, getStream, head, list, delete, copy/putMeta keeping the metadata, the refused
 * operations (zero requests), the plaintext policy both ways, every integrity failure, the MD5/length recording,
 * and retries of transient faults (with ali-oss's own error after the bounded attempts).
 * @module
 */
import { createDecipheriv, createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CtrBackend } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { AliOssStore } from '../bindings/oss/ali-oss.js';
import type { ObjectStore } from '../bindings/oss/object-store.js';
import { defaultBackendFor } from '../bindings/transfer/default-backend.js';
import { isTransientError, withRetry } from '../bindings/util/retry.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { IntegrityError, OssCryptoError, PlaintextObjectError, UnsupportedOperationError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { startRewritingProxy, type RewritingProxy } from './support/fixtures-server.js';
import type { OssServer } from './support/oss-server.js';
import { isCode, pseudoRandomBytes, rejects } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'client-bkt';
const FAST_RETRY = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const materials = [
  { name: 'rsa-pkcs1', wrapAlg: 'RSA/NONE/PKCS1Padding', make: () => rsaKeyWrapper({ privateKey, padding: 'pkcs1' }) },
  { name: 'rsa-oaep', wrapAlg: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', make: () => rsaKeyWrapper({ privateKey, padding: 'oaep' }) },
];
const backends: Array<{ name: string; backend: CtrBackend | undefined }> = [
  { name: 'wasm', backend: wasmBackend() },
  { name: 'native', backend: nativeBackend },
];

const env = { oss: undefined as unknown as OssServer, dir: '' };

function client(extra: Record<string, unknown> = {}, ossExtra: Record<string, unknown> = {}): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET, ossExtra) as any, { material: materials[0].make(), retry: FAST_RETRY, ...extra });
}

/** Decrypts a stored object without the client: codec + keyring for the key, node:crypto for the body. */
async function independentDecrypt(key: string): Promise<Buffer> {
  const stored = env.oss.getObject(BUCKET, key)!;
  const envelope = decodeEnvelope(stored.headers)!;
  const content = await new KeyRing({ default: materials[0].make() }).unwrap(envelope.wrapped);
  const d = createDecipheriv('aes-256-ctr', content.key, content.iv);
  return Buffer.concat([d.update(stored.body!), d.final()]);
}



const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
const requestsSince = (mark: number) => env.oss.log.slice(mark);

function setup(s: ReturnType<typeof suite>) {
  useStandIns(s, env, { tmpPrefix: 'oss-crypto-client-' });
}

// ---------------------------------------------------------------------------------------------------------------
const roundTrip = suite('client: put/get round trips (RSA pkcs1 + oaep, wasm + native)');
setup(roundTrip);

for (const m of materials) {
  for (const b of backends) {
    const sizes = b.backend === backends[0].backend ? [0, 1, 17, 65_539, 300_001] : [0, 4097];
    roundTrip(`${m.name} / ${b.name}: Buffer put → get is byte-exact; stored as V2 ciphertext`, async () => {
      const c = new CryptoClient(env.oss.client(BUCKET) as any, { material: m.make(), backend: b.backend });
      for (const size of sizes) {
        const data = Buffer.from(pseudoRandomBytes(size, size + 7));
        const key = `rt/${m.name}/${b.name}/${size}`;
        const put = await c.put(key, data);
        assert.is(put.res.status, 200);
        assert.is(put.name, key);
        const stored = env.oss.getObject(BUCKET, key)!;
        assert.is(stored.meta['client-side-encryption-wrap-alg'], m.wrapAlg);
        assert.is(stored.meta['client-side-encryption-cek-alg'], 'AES/CTR/NoPadding');
        assert.is(stored.meta['client-side-encryption-unencrypted-content-length'], String(size));
        assert.is(stored.size, size);
        if (size > 16) assert.not.ok(stored.body!.equals(data), 'stored bytes must not be the plaintext');
        assert.ok((await independentDecrypt(key)).equals(data), 'node:crypto decrypts what we stored');
        const got = await c.get(key);
        assert.is(got.encrypted, true);
        assert.is(got.res.status, 200);
        assert.ok(got.content!.equals(data), `size ${size}`);
      }
    });
  }
}

roundTrip('every new object gets its own key and IV (bytes 8..11 of the IV zero)', async () => {
  const c = client();
  const data = Buffer.alloc(64, 1);
  await c.put('rt/same-1', data);
  await c.put('rt/same-2', data);
  const a = env.oss.getObject(BUCKET, 'rt/same-1')!;
  const b = env.oss.getObject(BUCKET, 'rt/same-2')!;
  assert.is.not(a.body!.toString('hex'), b.body!.toString('hex'));
  const ring = new KeyRing({ default: materials[0].make() });
  const iv = (await ring.unwrap(decodeEnvelope(a.headers)!.wrapped)).iv;
  assert.equal([...iv.subarray(8, 12)], [0, 0, 0, 0]);
});

roundTrip.run();

// ---------------------------------------------------------------------------------------------------------------
const sources = suite('client: put sources (path, Readable, putStream, Uint8Array)');
setup(sources);

sources('put(path) streams the file, records its length, takes Content-Type from the extension', async () => {
  const data = Buffer.from(pseudoRandomBytes(250_000, 3));
  const path = join(env.dir, 'photo.jpg');
  writeFileSync(path, data);
  const c = client();
  const mark = env.oss.log.length;
  await c.put('src/photo.jpg', path);
  const req = requestsSince(mark).find((e) => e.kind === 'put')!;
  assert.is(req.headers['content-length'], String(data.length));
  assert.is(req.headers['content-type'], 'image/jpeg');
  const stored = env.oss.getObject(BUCKET, 'src/photo.jpg')!;
  assert.is(stored.meta['client-side-encryption-unencrypted-content-length'], String(data.length));
  assert.ok((await independentDecrypt('src/photo.jpg')).equals(data));
  assert.ok((await c.get('src/photo.jpg')).content!.equals(data));
});

sources('put(Readable) with contentLength records it; without it goes chunked and records no length', async () => {
  const data = Buffer.from(pseudoRandomBytes(70_001, 4));
  const c = client();
  let mark = env.oss.log.length;
  await c.put('src/known', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { contentLength: data.length });
  assert.is(requestsSince(mark).find((e) => e.kind === 'put')!.headers['content-length'], String(data.length));
  assert.is(env.oss.getObject(BUCKET, 'src/known')!.meta['client-side-encryption-unencrypted-content-length'], String(data.length));
  assert.ok((await c.get('src/known')).content!.equals(data));

  mark = env.oss.log.length;
  await c.putStream('src/unknown', Readable.from([data.subarray(0, 3), data.subarray(3, 40_000), data.subarray(40_000)]));
  const req = requestsSince(mark).find((e) => e.kind === 'put')!;
  assert.is(req.headers['transfer-encoding'], 'chunked');
  const meta = env.oss.getObject(BUCKET, 'src/unknown')!.meta;
  assert.is(meta['client-side-encryption-unencrypted-content-length'], undefined);
  assert.ok((await c.get('src/unknown')).content!.equals(data));
});

sources('put(Uint8Array) and user meta/headers travel next to the encryption metadata', async () => {
  const data = pseudoRandomBytes(1234, 5);
  const c = client();
  await c.put('src/u8', data, { meta: { owner: 'alice' }, headers: { 'Cache-Control': 'no-cache' }, mime: 'text/plain' });
  const stored = env.oss.getObject(BUCKET, 'src/u8')!;
  assert.is(stored.meta.owner, 'alice');
  assert.is(stored.headers['cache-control'], 'no-cache');
  assert.is(stored.contentType, 'text/plain');
  assert.ok(stored.meta['client-side-encryption-key'].length > 0);
  assert.ok((await c.get('src/u8')).content!.equals(Buffer.from(data)));
});

sources('putStream: a stream shorter or longer than contentLength → INTEGRITY_LENGTH and nothing stored', async () => {
  const c = client();
  const data = Buffer.from(pseudoRandomBytes(5000, 6));
  await rejects(c.putStream('src/short', Readable.from([data.subarray(0, 4000)]), { contentLength: 5000 }), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  assert.is(env.oss.getObject(BUCKET, 'src/short'), undefined);
  await rejects(c.putStream('src/long', Readable.from([data, Buffer.alloc(10)]), { contentLength: 5000 }), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  assert.is(env.oss.getObject(BUCKET, 'src/long'), undefined);
});

sources('bad arguments are programmer errors naming the argument', async () => {
  const c = client();
  await rejects(c.put('x', 42 as any), (err) => {
    assert.instance(err, TypeError);
    assert.match(err.message, /"file" expected/);
  });
  await rejects(c.putStream('x', Buffer.alloc(1) as any), (err) => assert.instance(err, TypeError));
  assert.throws(() => new CryptoClient(env.oss.client(BUCKET) as any, {} as any), /key material/);
  assert.throws(() => new CryptoClient({} as any, { material: materials[0].make() }), /"oss" expected/);
  assert.throws(() => new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), partSize: 100_001 }), /"partSize".*100001/);
  assert.throws(() => new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), plaintext: 'maybe' as any }), /"plaintext"/);
});

sources.run();

// ---------------------------------------------------------------------------------------------------------------
const md5s = suite('client: unencrypted-content-md5 on put (computed, claimed, verified)');
setup(md5s);

md5s('contentMd5: true records the plaintext MD5 (Buffer and path); the client option makes it the default', async () => {
  const data = Buffer.from(pseudoRandomBytes(3000, 8));
  const c = client();
  await c.put('md5/buf', data, { contentMd5: true });
  assert.is(env.oss.getObject(BUCKET, 'md5/buf')!.meta['client-side-encryption-unencrypted-content-md5'], md5(data).toString('base64'));
  const path = join(env.dir, 'md5.bin');
  writeFileSync(path, data);
  await c.put('md5/path', path, { contentMd5: true });
  assert.is(env.oss.getObject(BUCKET, 'md5/path')!.meta['client-side-encryption-unencrypted-content-md5'], md5(data).toString('base64'));
  await client({ contentMd5: true }).put('md5/default', data);
  assert.is(env.oss.getObject(BUCKET, 'md5/default')!.meta['client-side-encryption-unencrypted-content-md5'], md5(data).toString('base64'));
  await c.put('md5/none', data);
  assert.is(env.oss.getObject(BUCKET, 'md5/none')!.meta['client-side-encryption-unencrypted-content-md5'], undefined);
  assert.ok((await c.get('md5/path')).content!.equals(data));
});

md5s('a claimed MD5 (hex, base64, or a Content-MD5 header) is verified against the plaintext', async () => {
  const data = Buffer.from(pseudoRandomBytes(3000, 9));
  const other = md5(Buffer.from('something else'));
  const c = client();
  await c.put('md5/claim-hex', data, { contentMd5: md5(data).toString('hex') });
  assert.is(env.oss.getObject(BUCKET, 'md5/claim-hex')!.meta['client-side-encryption-unencrypted-content-md5'], md5(data).toString('base64'));
  const mark = env.oss.log.length;
  await c.put('md5/claim-header', data, { headers: { 'Content-MD5': md5(data).toString('base64') } });
  // The request's own Content-MD5 is ali-oss's, of the ciphertext (OSS checks it).
  const stored = env.oss.getObject(BUCKET, 'md5/claim-header')!;
  assert.is(requestsSince(mark).find((e) => e.kind === 'put')!.headers['content-md5'], md5(stored.body!).toString('base64'));
  // A wrong claim on a Buffer fails before any request.
  const before = env.oss.log.length;
  await rejects(c.put('md5/wrong', data, { contentMd5: other.toString('hex') }), isCode(IntegrityError, 'INTEGRITY_MD5'));
  assert.is(env.oss.log.length, before);
  // On a stream it fails at the end, with the last chunk held back: nothing is stored.
  await rejects(
    c.putStream('md5/wrong-stream', Readable.from([data.subarray(0, 100), data.subarray(100)]), { contentMd5: other.toString('base64'), contentLength: data.length }),
    isCode(IntegrityError, 'INTEGRITY_MD5'),
  );
  assert.is(env.oss.getObject(BUCKET, 'md5/wrong-stream'), undefined);
  await c.putStream('md5/right-stream', Readable.from([data]), { contentMd5: md5(data).toString('hex') });
  assert.ok((await c.get('md5/right-stream')).content!.equals(data));
});

md5s('contentMd5: true with a Readable is refused (the MD5 header must go first); a malformed claim is a TypeError', async () => {
  const c = client();
  const before = env.oss.log.length;
  await rejects(c.put('md5/stream', Readable.from([Buffer.alloc(3)]), { contentMd5: true }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.put('md5/bad', Buffer.alloc(3), { contentMd5: 'xyz' }), (err) => assert.instance(err, TypeError));
  assert.is(env.oss.log.length, before);
});

md5s.run();

// ---------------------------------------------------------------------------------------------------------------
const targets = suite('client: get targets, getStream, head, list, delete');
setup(targets);

targets('get to a file path: complete file, no temporary left; an existing file is replaced', async () => {
  const data = Buffer.from(pseudoRandomBytes(200_000, 10));
  const c = client();
  await c.put('t/file', data);
  const path = join(env.dir, 'out-file.bin');
  writeFileSync(path, 'old content');
  const r = await c.get('t/file', path);
  assert.is(r.encrypted, true);
  assert.is(r.content, undefined);
  assert.is(r.res.status, 200);
  assert.is(r.res.size, data.length);
  assert.ok(readFileSync(path).equals(data));
  assert.equal(readdirSync(env.dir).filter((n) => n.includes('out-file.bin') && n !== 'out-file.bin'), []);
});

targets('get to a file path: a byte range (decrypted from its offset), an empty object, a plain object under allow', async () => {
  const data = Buffer.from(pseudoRandomBytes(100_000, 12));
  const c = client();
  await c.put('t/ranged-file', data);
  const path = join(env.dir, 'out-range.bin');
  for (const [range, from, to] of [['bytes=100-199', 100, 200], ['bytes=99990-', 99_990, 100_000], ['bytes=-17', 100_000 - 17, 100_000], ['bytes=0-0', 0, 1]] as const) {
    const r = await c.get('t/ranged-file', path, { headers: { Range: range } });
    assert.is(r.res.status, 206, range);
    assert.ok(readFileSync(path).equals(data.subarray(from, to)), range);
  }
  await c.put('t/empty-file', Buffer.alloc(0));
  await c.get('t/empty-file', path);
  assert.is(readFileSync(path).length, 0);
  env.oss.putObjectRaw(BUCKET, 't/plain-file', data.subarray(0, 5000));
  const allowed = client({ plaintext: 'allow' });
  const plainRead = await allowed.get('t/plain-file', path);
  assert.is(plainRead.encrypted, false);
  assert.ok(readFileSync(path).equals(data.subarray(0, 5000)));
  assert.equal(readdirSync(env.dir).filter((n) => n.startsWith('.out-range.bin.')), [], 'no temporary left');
});

targets('get into a Writable, and get(name, options) with the options in the file position', async () => {
  const data = Buffer.from(pseudoRandomBytes(40_000, 11));
  const c = client();
  await c.put('t/writable', data);
  const chunks: Buffer[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (chunks.push(chunk), cb()) });
  const r = await c.get('t/writable', sink);
  assert.ok(Buffer.concat(chunks).equals(data));
  assert.is(r.encrypted, true);
  const ranged = await c.get('t/writable', { headers: { Range: 'bytes=100-199' } });
  assert.ok(ranged.content!.equals(data.subarray(100, 200)));
});

targets('getStream decrypts as it streams; res carries status and headers', async () => {
  const data = Buffer.from(pseudoRandomBytes(150_000, 12));
  const c = client();
  await c.put('t/stream', data);
  const { stream, res, encrypted } = await c.getStream('t/stream');
  assert.is(res.status, 200);
  assert.is(encrypted, true);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.ok(Buffer.concat(chunks).equals(data));
});

targets('head adds encrypted + envelope (no key material); a plain object says encrypted: false', async () => {
  const c = client();
  await c.put('t/head', Buffer.alloc(321, 3), { contentMd5: true, meta: { owner: 'bob' } });
  const h = await c.head('t/head');
  assert.is(h.status, 200);
  assert.is(h.encrypted, true);
  assert.is(h.meta!.owner, 'bob');
  assert.is(h.envelope!.wrapAlg, 'RSA/NONE/PKCS1Padding');
  assert.is(h.envelope!.unencryptedContentLength, 321);
  assert.is(h.envelope!.unencryptedContentMd5, md5(Buffer.alloc(321, 3)).toString('base64'));
  const stored = env.oss.getObject(BUCKET, 't/head')!;
  const text = JSON.stringify(h.envelope);
  assert.not.ok(text.includes(stored.meta['client-side-encryption-key'].slice(0, 40)));
  assert.not.ok(text.includes(stored.meta['client-side-encryption-start'].slice(0, 40)));
  env.oss.putObjectRaw(BUCKET, 't/plain', Buffer.from('plain'));
  const p = await c.head('t/plain');
  assert.is(p.encrypted, false);
  assert.is(p.envelope, null);
});

targets('list and delete pass through to ali-oss', async () => {
  const c = client();
  await c.put('t/list/a', Buffer.alloc(10));
  await c.put('t/list/b', Buffer.alloc(20));
  const listed = await c.list({ prefix: 't/list/' });
  assert.equal(listed.objects.map((o: any) => [o.name, o.size]), [['t/list/a', 10], ['t/list/b', 20]]);
  const v2 = await c.listV2({ prefix: 't/list/' });
  assert.is(v2.objects.length, 2);
  await c.delete('t/list/a');
  assert.is(env.oss.getObject(BUCKET, 't/list/a'), undefined);
  assert.equal(env.oss.listKeys(BUCKET).filter((k) => k.startsWith('t/list/')), ['t/list/b']);
});

targets.run();

// ---------------------------------------------------------------------------------------------------------------
const copies = suite('client: copy and putMeta keep the encryption metadata');
setup(copies);

copies('copy with the default COPY directive is a passthrough; the copy decrypts', async () => {
  const data = Buffer.from(pseudoRandomBytes(5000, 13));
  const c = client();
  await c.put('c/src', data, { meta: { owner: 'a' } });
  const mark = env.oss.log.length;
  const r = await c.copy('c/dst', 'c/src');
  assert.ok(r.data.etag);
  assert.equal(requestsSince(mark).map((e) => e.kind), ['copy']);
  assert.ok((await c.get('c/dst')).content!.equals(data));
});

copies('copy with new meta (REPLACE) re-attaches the source metadata as stored, on the source ETag', async () => {
  const data = Buffer.from(pseudoRandomBytes(5000, 14));
  const c = client();
  await c.put('c/src2', data, { meta: { owner: 'a' } });
  const src = env.oss.getObject(BUCKET, 'c/src2')!;
  const mark = env.oss.log.length;
  await c.copy('c/dst2', 'c/src2', { meta: { owner: 'b' } });
  const reqs = requestsSince(mark);
  assert.equal(reqs.map((e) => e.kind), ['head', 'copy']);
  assert.is(reqs[1].headers['x-oss-metadata-directive'], 'REPLACE');
  assert.is(reqs[1].headers['x-oss-copy-source-if-match'], src.etag);
  const dst = env.oss.getObject(BUCKET, 'c/dst2')!;
  assert.is(dst.meta.owner, 'b');
  for (const k of Object.keys(src.meta).filter((k) => k.startsWith('client-side-encryption-'))) assert.is(dst.meta[k], src.meta[k], k);
  assert.ok((await c.get('c/dst2')).content!.equals(data));
  // A content header alone also means REPLACE in ali-oss.
  await c.copy('c/dst3', 'c/src2', { headers: { 'Content-Type': 'text/csv' } });
  assert.is(env.oss.getObject(BUCKET, 'c/dst3')!.contentType, 'text/csv');
  assert.ok((await c.get('c/dst3')).content!.equals(data));
});

copies('copy from another bucket (REPLACE) heads the source there; putMeta keeps the object decryptable', async () => {
  const data = Buffer.from(pseudoRandomBytes(777, 15));
  const other = new CryptoClient(env.oss.client('other-bkt') as any, { material: materials[0].make() });
  await other.put('x/src', data);
  const c = client();
  await c.copy('c/cross', 'x/src', 'other-bkt', { meta: { from: 'other' } });
  const head = env.oss.log.filter((e) => e.kind === 'head').at(-1)!;
  assert.is(head.bucket, 'other-bkt');
  assert.ok((await c.get('c/cross')).content!.equals(data));
  // OSS forbids changing an encrypted object's metadata in place (0005-00000421): putMeta needs { rewrite: true },
  // which writes the object again from its ciphertext.
  await c.putMeta('c/cross', { tag: 'x' }, { rewrite: true });
  const meta = env.oss.getObject(BUCKET, 'c/cross')!.meta;
  assert.is(meta.tag, 'x');
  assert.is(meta.from, undefined);
  assert.ok((await c.get('c/cross')).content!.equals(data));
});

copies('putMeta and REPLACE copy onto the same key of an encrypted object: refused (0005-00000421) after one HEAD; rewrite: true rewrites the ciphertext', async () => {
  const c = client();
  const data = Buffer.from(pseudoRandomBytes(3 * 100 * 1024 + 17, 16));
  await c.put('c/same', data, { meta: { owner: 'a' }, headers: { 'Content-Type': 'text/csv' } });
  const before = env.oss.getObject(BUCKET, 'c/same')!;
  let mark = env.oss.log.length;
  await rejects(c.putMeta('c/same', { owner: 'b' }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED', /0005-00000421.*rewrite: true/));
  await rejects(c.copy('c/same', 'c/same', { meta: { owner: 'b' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED', /0005-00000421/));
  await rejects(c.copy('c/same', 'c/same', { headers: { 'Content-Type': 'text/plain' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  assert.equal(requestsSince(mark).map((e) => e.kind), ['head', 'head', 'head'], 'nothing but the HEADs that found it encrypted');
  assert.is(env.oss.getObject(BUCKET, 'c/same')!.etag, before.etag);

  // The rewrite: same ciphertext, same wrapped key, new user metadata, in parts of 100 KiB (bounded memory).
  const c2 = new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), partSize: 100 * 1024, parallel: 2 });
  mark = env.oss.log.length;
  await c2.putMeta('c/same', { owner: 'b' }, { rewrite: true });
  const kinds = requestsSince(mark).map((e) => e.kind);
  assert.equal(kinds.filter((k) => k !== 'get' && k !== 'uploadPart'), ['head', 'head', 'initiate', 'complete']);
  assert.is(kinds.filter((k) => k === 'uploadPart').length, 4);
  assert.is(kinds.filter((k) => k === 'get').length, 4, 'one ranged GET per part');
  const after = env.oss.getObject(BUCKET, 'c/same')!;
  assert.ok(after.body!.equals(before.body!), 'the same ciphertext, byte for byte');
  assert.is(after.meta.owner, 'b');
  assert.is(after.contentType, 'text/csv', 'content headers kept');
  for (const k of ['key', 'start', 'cek-alg', 'wrap-alg', 'matdesc', 'unencrypted-content-length']) {
    assert.is(after.meta[`client-side-encryption-${k}`], before.meta[`client-side-encryption-${k}`], k);
  }
  assert.is(after.meta['client-side-encryption-data-size'], String(data.length));
  assert.is(after.meta['client-side-encryption-part-size'], String(100 * 1024));
  assert.ok((await c.get('c/same')).content!.equals(data));
  for (const e of requestsSince(mark).filter((x) => x.kind === 'uploadPart')) {
    assert.is(e.headers['x-oss-meta-client-side-encryption-key'], before.meta['client-side-encryption-key'], 'parts carry the V2 headers');
  }

  // A source that changes during the rewrite fails it (ranged GETs on the source's ETag), the object is the newer
  // one, and the rewrite's upload is aborted.
  const uploads = env.oss.uploads(BUCKET).length;
  env.oss.inject({ kind: 'initiate', key: 'c/same', times: 1, delayMs: 1000 });
  const raceMark = env.oss.log.length;
  const racing = c2.putMeta('c/same', { owner: 'c' }, { rewrite: true }).then(() => undefined, (e) => e);
  // Both HEADs (the copy's, the rewrite's) are in: the rewrite holds the old ETag and waits on its delayed Initiate.
  for (let i = 0; i < 200 && requestsSince(raceMark).filter((e) => e.kind === 'head').length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  await c.put('c/same', Buffer.from('replaced'));
  const failure = await racing;
  assert.ok(failure !== undefined, 'a rewrite over a replaced source fails');
  assert.is(failure.status, 412, String(failure));
  assert.is(env.oss.uploads(BUCKET).length, uploads, 'its upload was aborted');
  assert.ok((await c.get('c/same')).content!.equals(Buffer.from('replaced')));
});

copies('copy and multipartUpload pass x-oss-forbid-overwrite on (COPY and REPLACE copies, Complete): an existing target is kept', async () => {
  const data = Buffer.from(pseudoRandomBytes(3000, 14));
  const c = client();
  await c.put('c/fo-src', data);
  await c.put('c/fo-dst', Buffer.from('keep me'));
  const before = env.oss.getObject(BUCKET, 'c/fo-dst')!.body!;
  const forbid = { 'x-oss-forbid-overwrite': 'true' };
  await rejects(c.copy('c/fo-dst', 'c/fo-src', { headers: forbid }), (e) => assert.is(e.code, 'FileAlreadyExists'));
  await rejects(c.copy('c/fo-dst', 'c/fo-src', { headers: forbid, meta: { owner: 'b' } }), (e) => assert.is(e.code, 'FileAlreadyExists'));
  await rejects(c.multipartUpload('c/fo-dst', data, { headers: forbid }), (e) => assert.is(e.code, 'FileAlreadyExists'));
  assert.ok(env.oss.getObject(BUCKET, 'c/fo-dst')!.body!.equals(before));
  await c.copy('c/fo-new', 'c/fo-src', { headers: forbid, meta: { owner: 'b' } });
  assert.ok((await c.get('c/fo-new')).content!.equals(data));
});

copies('copy/put naming encryption metadata in meta or headers are refused before any request', async () => {
  const c = client();
  await c.put('c/src3', Buffer.alloc(10));
  const before = env.oss.log.length;
  await rejects(c.copy('c/x', 'c/src3', { meta: { 'client-side-encryption-key': 'AAAA' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.put('c/y', Buffer.alloc(1), { meta: { 'Client-Side-Encryption-Start': 'AAAA' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.put('c/y', Buffer.alloc(1), { headers: { 'x-oss-meta-client-side-encryption-wrap-alg': 'x' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.put('c/y', Buffer.alloc(1), { meta: { 'oss-crypto-key': 'AAAA' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.putMeta('c/src3', { 'client-side-encryption-matdesc': '{}' }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  assert.is(env.oss.log.length, before);
});

copies.run();

// ---------------------------------------------------------------------------------------------------------------
const engines = suite('client: the default engine (node:crypto over ali-oss on x64/arm64, else the WASM core)');
setup(engines);

engines('over an ali-oss client the default is nativeBackend on x64/arm64; its objects read back with either engine', async () => {
  const onAesArch = arch() === 'x64' || arch() === 'arm64';
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), retry: FAST_RETRY });
  assert.is(c.context.backend, onAesArch ? nativeBackend : undefined, `default engine on ${arch()}`);
  const plain = pseudoRandomBytes(70_001, 41);
  await c.put('e/default', plain);
  assert.equal(await independentDecrypt('e/default'), Buffer.from(plain));
  const { content } = await client({ backend: wasmBackend() }).get('e/default');
  assert.equal(new Uint8Array(content!), plain);
  await client({ backend: wasmBackend() }).put('e/wasm', plain);
  assert.equal(new Uint8Array((await c.get('e/wasm')).content!), plain);
});

engines('a named backend wins; other architectures and other stores get the WASM core (undefined)', () => {
  const named = new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), backend: wasmBackend() });
  assert.is(named.context.backend, wasmBackend());
  const store = new AliOssStore(env.oss.client(BUCKET) as any);
  assert.is(defaultBackendFor(store, 'x64'), nativeBackend);
  assert.is(defaultBackendFor(store, 'arm64'), nativeBackend);
  for (const other of ['ia32', 'arm', 'riscv64', 's390x', 'ppc64', 'loong64']) assert.is(defaultBackendFor(store, other), undefined, other);
  // A store that is not the ali-oss one (as a fetch-based store for browsers would be) keeps the portable core.
  const foreign = {
    runtime: 'test store',
    openObject: () => Promise.reject(new Error('unused')),
    headObject: () => Promise.reject(new Error('unused')),
    putObject: () => Promise.reject(new Error('unused')),
  } as unknown as ObjectStore;
  assert.is(defaultBackendFor(foreign, 'x64'), undefined);
  assert.is(new CryptoClient(foreign, { material: materials[0].make() }).context.backend, undefined);
});

engines.run();

// ---------------------------------------------------------------------------------------------------------------
const refused = suite('client: refused operations make zero requests');
setup(refused);

refused('append, PUT/POST signed URLs, processing, select: OPERATION_UNSUPPORTED before any request', async () => {
  const c = client();
  await c.put('r/obj', Buffer.alloc(100));
  const before = env.oss.log.length;
  const cases: Array<[string, () => unknown]> = [
    ['append', () => c.append('r/obj', Buffer.alloc(1))],
    ['signatureUrl PUT', () => c.signatureUrl('r/obj', { method: 'PUT' })],
    ['signatureUrl POST', () => c.signatureUrl('r/obj', { method: 'post' })],
    ['signatureUrl process', () => c.signatureUrl('r/obj', { process: 'image/resize,w_10' })],
    ['asyncSignatureUrl PUT', () => c.asyncSignatureUrl('r/obj', { method: 'PUT' })],
    ['signatureUrlV4 PUT', () => c.signatureUrlV4('PUT', 60, undefined, 'r/obj')],
    ['processObjectSave', () => c.processObjectSave('r/obj', 'r/out', 'image/resize,w_10')],
    ['selectObject', () => c.selectObject('r/obj', 'select * from ossobject')],
    ['createSelectObjectMeta', () => c.createSelectObjectMeta('r/obj')],
    ['get process', () => c.get('r/obj', { process: 'image/resize,w_10' })],
    ['get subres x-oss-process', () => c.get('r/obj', { subres: { 'x-oss-process': 'image/info' } })],
    ['getStream process', () => c.getStream('r/obj', { process: 'video/snapshot,t_0' })],
    ['put subres append', () => c.put('r/obj', Buffer.alloc(1), { subres: { append: '', position: '0' } })],
    ['put method POST', () => c.put('r/obj', Buffer.alloc(1), { method: 'POST' })],
  ];
  for (const [what, call] of cases) {
    let err: any;
    try {
      await call();
    } catch (e) {
      err = e;
    }
    assert.instance(err, UnsupportedOperationError, what);
    assert.is(err.code, 'OPERATION_UNSUPPORTED', what);
  }
  assert.is(env.oss.log.length, before, 'no request reached the server');
});

refused('signatureUrl GET passes through (serves the ciphertext)', async () => {
  const c = new CryptoClient(env.oss.client(BUCKET, { endpoint: env.oss.endpoint.replace('127.0.0.1', 'localhost'), sldEnable: true } as any) as any, {
    material: materials[0].make(),
  });
  const url = c.signatureUrl('r/obj', { expires: 60 });
  assert.match(url, /r\/obj\?/);
  assert.match(url, /Signature=/);
});

refused('uploadPartCopy / multipartUploadCopy: refused after one HEAD for an encrypted source; a plain source passes through', async () => {
  const c = client();
  await c.put('r/enc', Buffer.alloc(200_000, 1));
  env.oss.putObjectRaw(BUCKET, 'r/plain', Buffer.alloc(200_000, 2));
  const { uploadId } = await c.oss.initMultipartUpload('r/target');
  const mark = env.oss.log.length;
  await rejects(c.uploadPartCopy('r/target', uploadId, 1, '0-102399', { sourceKey: 'r/enc', sourceBucketName: BUCKET }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  assert.equal(requestsSince(mark).map((e) => e.kind), ['head']);
  const mark2 = env.oss.log.length;
  await rejects(c.multipartUploadCopy('r/target2', { sourceKey: 'r/enc', sourceBucketName: BUCKET }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  assert.equal(requestsSince(mark2).map((e) => e.kind), ['head']);
  const mark3 = env.oss.log.length;
  const ok = await c.uploadPartCopy('r/target', uploadId, 1, '0-102399', { sourceKey: 'r/plain', sourceBucketName: BUCKET });
  assert.ok(ok.etag);
  assert.equal(requestsSince(mark3).map((e) => e.kind), ['head', 'uploadPartCopy']);
  // ali-oss's own multipartUploadCopy for a plain source (it used to be a TypeError: ali-oss has no multipartCopy).
  const plainClient = new CryptoClient(env.oss.client(BUCKET) as any, { material: materials[0].make(), plaintext: 'allow' });
  await plainClient.multipartUploadCopy('r/plain-copy', { sourceKey: 'r/plain', sourceBucketName: BUCKET }, { partSize: 102400 });
  assert.ok(env.oss.getObject(BUCKET, 'r/plain-copy')!.body!.equals(Buffer.alloc(200_000, 2)));
});

refused.run();

// ---------------------------------------------------------------------------------------------------------------
const parity = suite('client: ali-oss pass-throughs (getObjectMeta, useBucket, isCancel, listUploads)');
setup(parity);

parity('getObjectMeta gives the plaintext size and ETag; listUploads lists uploads in progress', async () => {
  const c = client();
  const data = Buffer.from(pseudoRandomBytes(1234, 21));
  await c.put('pt/meta', data);
  const meta = await c.getObjectMeta('pt/meta');
  assert.is(meta.status, 200);
  assert.is(Number(meta.res.headers['content-length']), data.length);
  assert.is(meta.res.headers.etag, env.oss.getObject(BUCKET, 'pt/meta')!.etag);
  const { uploadId } = await c.initMultipartUpload('pt/pending', { dataSize: 300_000, partSize: 102400 });
  const listed = await c.listUploads({ prefix: 'pt/' });
  assert.ok(listed.uploads.some((u: any) => u.name === 'pt/pending' && u.uploadId === uploadId), JSON.stringify(listed.uploads));
  await c.abortMultipartUpload('pt/pending', uploadId);
});

parity('useBucket returns a client over the other bucket (same key material), and leaves this one on its bucket', async () => {
  const c = client();
  const other = c.useBucket('pt-other-bkt');
  assert.instance(other, CryptoClient);
  const data = Buffer.from(pseudoRandomBytes(4321, 22));
  await other.put('pt/x', data);
  assert.ok(env.oss.getObject('pt-other-bkt', 'pt/x') !== undefined, 'written to the other bucket');
  assert.is(env.oss.getObject(BUCKET, 'pt/x'), undefined, 'not to this one');
  assert.ok((await other.get('pt/x')).content!.equals(data));
  await c.put('pt/y', data);
  assert.ok(env.oss.getObject(BUCKET, 'pt/y') !== undefined, 'this client still writes to its own bucket');
  assert.is(c.oss.options.bucket, BUCKET, "the wrapped ali-oss client's bucket is unchanged");
  assert.throws(() => c.useBucket('Not_A_Bucket'));
});

parity('isCancel: false before, true after cancel(), false again once a multipartUpload starts', async () => {
  const c = client();
  assert.is(c.isCancel(), false);
  await c.cancel();
  assert.is(c.isCancel(), true);
  await c.multipartUpload('pt/after-cancel', Buffer.alloc(1000, 3));
  assert.is(c.isCancel(), false);
});

parity.run();

// ---------------------------------------------------------------------------------------------------------------
const policy = suite('client: plaintext policy');
setup(policy);

policy('reject (default): PLAINTEXT_REJECTED naming the object, for get, get to file and getStream', async () => {
  env.oss.putObjectRaw(BUCKET, 'p/plain.txt', Buffer.from('hello plain'));
  const c = client();
  const check = (err: any) => {
    isCode(PlaintextObjectError, 'PLAINTEXT_REJECTED')(err);
    assert.match(err.message, /p\/plain\.txt/);
  };
  await rejects(c.get('p/plain.txt'), check);
  await rejects(c.getStream('p/plain.txt'), check);
  const path = join(env.dir, 'plain-out.txt');
  await rejects(c.get('p/plain.txt', path), check);
  assert.not.ok(existsSync(path));
  assert.equal(readdirSync(env.dir).filter((n) => n.includes('plain-out')), []);
});

policy('allow: returned as is, and the result says encrypted: false (also ranges and streams)', async () => {
  env.oss.putObjectRaw(BUCKET, 'p/plain2.txt', Buffer.from('hello plain world'));
  const c = client({ plaintext: 'allow' });
  const r = await c.get('p/plain2.txt');
  assert.is(r.encrypted, false);
  assert.is(r.content!.toString(), 'hello plain world');
  const ranged = await c.get('p/plain2.txt', { headers: { Range: 'bytes=6-10' } });
  assert.is(ranged.content!.toString(), 'plain');
  const s = await c.getStream('p/plain2.txt');
  assert.is(s.encrypted, false);
  const chunks: Buffer[] = [];
  for await (const chunk of s.stream) chunks.push(chunk as Buffer);
  assert.is(Buffer.concat(chunks).toString(), 'hello plain world');
  // Encrypted objects still decrypt under 'allow'.
  await c.put('p/enc', Buffer.from('secret'));
  const e = await c.get('p/enc');
  assert.is(e.encrypted, true);
  assert.is(e.content!.toString(), 'secret');
});

policy.run();

// ---------------------------------------------------------------------------------------------------------------
const integrity = suite('client: integrity failures');
setup(integrity);
const proxyRef = { proxy: undefined as unknown as RewritingProxy };
integrity.before(async () => {
  proxyRef.proxy = await startRewritingProxy(env.oss.endpoint);
});
integrity.after(async () => {
  await proxyRef.proxy.close();
});
integrity.after.each(() => {
  proxyRef.proxy.rewrite = () => undefined;
});

/** Re-stores an object we wrote with changed metadata or bytes, as an attacker or a broken tool would. */
function tamper(key: string, to: string, change: { meta?: Record<string, string | undefined>; body?: (b: Buffer) => Buffer }) {
  const s = env.oss.getObject(BUCKET, key)!;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...s.meta, ...(change.meta ?? {}) })) if (v !== undefined) headers[`x-oss-meta-${k}`] = v;
  env.oss.putObjectRaw(BUCKET, to, change.body ? change.body(Buffer.from(s.body!)) : s.body!, headers);
}

integrity('recorded unencrypted-content-length ≠ object size → INTEGRITY_LENGTH before the body; no file left', async () => {
  const c = client();
  await c.put('i/len', Buffer.alloc(1000, 7));
  tamper('i/len', 'i/len-bad', { meta: { 'client-side-encryption-unencrypted-content-length': '1001' } });
  await rejects(c.get('i/len-bad'), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  await rejects(c.get('i/len-bad', { headers: { Range: 'bytes=0-9' } }), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  const path = join(env.dir, 'len-bad.bin');
  await rejects(c.get('i/len-bad', path), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  assert.not.ok(existsSync(path));
  // Truncated object (bytes dropped) with its original length recorded: same.
  tamper('i/len', 'i/len-cut', { body: (b) => b.subarray(0, 990) });
  await rejects(c.get('i/len-cut'), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
});

integrity('unencrypted-content-md5 mismatch (base64 or hex as stored) → INTEGRITY_MD5; no partial file', async () => {
  const data = Buffer.from(pseudoRandomBytes(20_000, 16));
  const c = client();
  await c.put('i/md5', data, { contentMd5: true });
  // A flipped ciphertext bit: OSS's CRC covers the stored (tampered) bytes, only the MD5 can notice.
  tamper('i/md5', 'i/md5-flip', { body: (b) => (b[12_345] ^= 0x20, b) });
  await rejects(c.get('i/md5-flip'), isCode(IntegrityError, 'INTEGRITY_MD5'));
  const path = join(env.dir, 'md5-flip.bin');
  await rejects(c.get('i/md5-flip', path), isCode(IntegrityError, 'INTEGRITY_MD5'));
  assert.not.ok(existsSync(path));
  assert.equal(readdirSync(env.dir).filter((n) => n.includes('md5-flip')), []);
  const s = await c.getStream('i/md5-flip');
  await rejects((async () => { for await (const _ of s.stream) void _; })(), isCode(IntegrityError, 'INTEGRITY_MD5'));
  // oss2 stores hex: accepted when right, caught when wrong.
  tamper('i/md5', 'i/md5-hex', { meta: { 'client-side-encryption-unencrypted-content-md5': md5(data).toString('hex') } });
  assert.ok((await c.get('i/md5-hex')).content!.equals(data));
  tamper('i/md5', 'i/md5-hex-bad', { meta: { 'client-side-encryption-unencrypted-content-md5': md5(Buffer.from('x')).toString('hex').toUpperCase() } });
  await rejects(c.get('i/md5-hex-bad'), isCode(IntegrityError, 'INTEGRITY_MD5'));
  // A range cannot be checked against a whole-object MD5, and is not.
  assert.ok((await c.get('i/md5-hex-bad', { headers: { Range: 'bytes=10-20' } })).content!.equals(data.subarray(10, 21)));
});

integrity('x-oss-hash-crc64ecma ≠ CRC-64 of the received bytes → INTEGRITY_CRC64 (whole-object GETs)', async () => {
  const data = Buffer.from(pseudoRandomBytes(9000, 17));
  await client().put('i/crc', data);
  const c = new CryptoClient(env.oss.client(BUCKET, { endpoint: proxyRef.proxy.endpoint }) as any, { material: materials[0].make(), retry: FAST_RETRY });
  assert.ok((await c.get('i/crc')).content!.equals(data), 'unchanged answers pass through the proxy');
  // A byte damaged in transit: the server's CRC (of what it stored) no longer matches.
  proxyRef.proxy.rewrite = (req, res) => {
    if (req.method === 'GET' && res.body.length > 100) res.body[100] ^= 1;
  };
  await rejects(c.get('i/crc'), isCode(IntegrityError, 'INTEGRITY_CRC64'));
  const path = join(env.dir, 'crc.bin');
  await rejects(c.get('i/crc', path), isCode(IntegrityError, 'INTEGRITY_CRC64'));
  assert.not.ok(existsSync(path));
  proxyRef.proxy.rewrite = (req, res) => {
    if (req.method === 'GET') res.headers['x-oss-hash-crc64ecma'] = '12345';
  };
  await rejects(c.get('i/crc'), isCode(IntegrityError, 'INTEGRITY_CRC64'));
});

integrity('a body cut short → INTEGRITY_TRUNCATED (retries off); no file; the stream errors', async () => {
  const data = Buffer.from(pseudoRandomBytes(100_000, 18));
  const c = client({ retry: false });
  await c.put('i/cut', data);
  env.oss.inject({ kind: 'get', key: 'i/cut', reset: { afterBytes: 5000 } });
  await rejects(c.get('i/cut'), isCode(IntegrityError, 'INTEGRITY_TRUNCATED'));
  env.oss.inject({ kind: 'get', key: 'i/cut', reset: { afterBytes: 5000 } });
  const path = join(env.dir, 'cut.bin');
  await rejects(c.get('i/cut', path), isCode(IntegrityError, 'INTEGRITY_TRUNCATED'));
  assert.not.ok(existsSync(path));
  env.oss.inject({ kind: 'get', key: 'i/cut', reset: { afterBytes: 5000 } });
  const s = await c.getStream('i/cut');
  await rejects((async () => { for await (const _ of s.stream) void _; })(), isCode(IntegrityError, 'INTEGRITY_TRUNCATED'));
  // A server that sends fewer bytes and a Content-Length that agrees with them is caught by the length/CRC checks.
  const proxied = new CryptoClient(env.oss.client(BUCKET, { endpoint: proxyRef.proxy.endpoint }) as any, { material: materials[0].make(), retry: false });
  proxyRef.proxy.rewrite = (req, res) => {
    if (req.method === 'GET') {
      res.body = res.body.subarray(0, 50_000);
      res.headers['content-length'] = '50000';
    }
  };
  await rejects(proxied.get('i/cut'), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
});

integrity('a Content-Range other than the one asked for → INTEGRITY_RANGE, nothing decrypted under a wrong counter', async () => {
  const data = Buffer.from(pseudoRandomBytes(5000, 19));
  await client().put('i/range', data);
  const c = new CryptoClient(env.oss.client(BUCKET, { endpoint: proxyRef.proxy.endpoint }) as any, { material: materials[0].make(), retry: false });
  proxyRef.proxy.rewrite = (req, res) => {
    if (req.method === 'GET' && res.status === 206) res.headers['content-range'] = 'bytes 16-115/5000';
  };
  await rejects(c.get('i/range', { headers: { Range: 'bytes=17-116' } }), isCode(IntegrityError, 'INTEGRITY_RANGE'));
  // A server ignoring the range (200 with the whole object) is caught too.
  proxyRef.proxy.rewrite = (req, res) => {
    if (req.method !== 'GET') return;
    const headers = { ...res.headers };
    delete headers['content-range'];
    return { status: 200, headers, body: res.body };
  };
  await rejects(c.get('i/range', { headers: { Range: 'bytes=17-116' } }), isCode(IntegrityError, 'INTEGRITY_RANGE'));
});

integrity.run();

// ---------------------------------------------------------------------------------------------------------------
const retries = suite('client: retries of transient faults');
setup(retries);

retries('put(Buffer) after a 503 and after a reset mid-body: byte-exact, one extra request each', async () => {
  const data = Buffer.from(pseudoRandomBytes(120_000, 20));
  const c = client();
  for (const fault of [{ status: 503 }, { reset: { afterBytes: 10_000 } as const }]) {
    env.oss.inject({ kind: 'put', key: 'f/buf', ...fault });
    const mark = env.oss.log.length;
    await c.put('f/buf', data);
    assert.is(requestsSince(mark).filter((e) => e.kind === 'put').length, 2);
    assert.ok((await c.get('f/buf')).content!.equals(data));
  }
});

retries('put(path) is re-read from the start under a new key; a caller Readable is not retried', async () => {
  const data = Buffer.from(pseudoRandomBytes(150_000, 21));
  const path = join(env.dir, 'retry.bin');
  writeFileSync(path, data);
  const c = client();
  env.oss.inject({ kind: 'put', key: 'f/path', reset: { afterBytes: 60_000 } });
  const mark = env.oss.log.length;
  await c.put('f/path', path);
  assert.is(requestsSince(mark).filter((e) => e.kind === 'put').length, 2);
  assert.ok((await c.get('f/path')).content!.equals(data));

  env.oss.inject({ kind: 'put', key: 'f/stream', status: 503 });
  const mark2 = env.oss.log.length;
  const err = await rejects(c.put('f/stream', Readable.from([data])), (e) => assert.is(e.status, 503));
  assert.not.instance(err, OssCryptoError);
  assert.is(requestsSince(mark2).filter((e) => e.kind === 'put').length, 1);
});

retries('put with x-oss-forbid-overwrite whose response was lost: the retry\'s 409 is our own object, so put succeeds', async () => {
  const data = Buffer.from(pseudoRandomBytes(50_000, 23));
  const path = join(env.dir, 'forbid.bin');
  writeFileSync(path, data);
  const c = client();
  const forbid = { headers: { 'x-oss-forbid-overwrite': 'true' } };
  for (const [key, source] of [['f/forbid-buf', data], ['f/forbid-path', path]] as const) {
    env.oss.inject({ kind: 'put', key, reset: true, afterApply: true });
    const mark = env.oss.log.length;
    const result = await c.put(key, source, forbid);
    const puts = requestsSince(mark).filter((e) => e.kind === 'put');
    assert.is(puts.length, 2, key);
    assert.is(puts[1].status, 409, `${key}: OSS refused the retry (FileAlreadyExists)`);
    assert.is(result.name, key);
    assert.is(result.res.status, 200, key);
    assert.ok((await c.get(key)).content!.equals(data), key);
  }
  // Someone else's object at the key is still refused, without a retry.
  await env.oss.client(BUCKET).put('f/forbid-other', Buffer.from('theirs'));
  const mark = env.oss.log.length;
  await rejects(c.put('f/forbid-other', data, forbid), (e) => {
    assert.is(e.status, 409);
    assert.is(e.code, 'FileAlreadyExists');
  });
  assert.is(requestsSince(mark).filter((e) => e.kind === 'put').length, 1);
  // A lost response, then another writer takes the key before the retry: still FileAlreadyExists.
  env.oss.inject({ kind: 'put', key: 'f/forbid-race', reset: true, afterApply: true });
  const real = (c.oss as any).put.bind(c.oss);
  let calls = 0;
  (c.oss as any).put = async (...args: unknown[]) => {
    if (calls++ === 1) await env.oss.client(BUCKET).put('f/forbid-race', Buffer.from('theirs'));
    return real(...args);
  };
  try {
    await rejects(c.put('f/forbid-race', data, forbid), (e) => assert.is(e.code, 'FileAlreadyExists'));
  } finally {
    (c.oss as any).put = real;
  }
  assert.ok(env.oss.getObject(BUCKET, 'f/forbid-race')!.body!.equals(Buffer.from('theirs')));
});

retries('get (memory, file, stream) and head retry a 5xx; get restarts a body reset mid-way', async () => {
  const data = Buffer.from(pseudoRandomBytes(200_000, 22));
  const c = client();
  await c.put('f/get', data);
  env.oss.inject({ kind: 'get', key: 'f/get', status: 500 });
  assert.ok((await c.get('f/get')).content!.equals(data));
  env.oss.inject({ kind: 'get', key: 'f/get', reset: { afterBytes: 70_000 } });
  let mark = env.oss.log.length;
  assert.ok((await c.get('f/get')).content!.equals(data));
  assert.is(requestsSince(mark).filter((e) => e.kind === 'get').length, 2);
  env.oss.inject({ kind: 'get', key: 'f/get', reset: { afterBytes: 70_000 } });
  const path = join(env.dir, 'retry-get.bin');
  await c.get('f/get', path);
  assert.ok(readFileSync(path).equals(data));
  env.oss.inject({ kind: 'get', key: 'f/get', status: 503 });
  const s = await c.getStream('f/get', { headers: { Range: 'bytes=1000-1999' } });
  const chunks: Buffer[] = [];
  for await (const chunk of s.stream) chunks.push(chunk as Buffer);
  assert.ok(Buffer.concat(chunks).equals(data.subarray(1000, 2000)));
  env.oss.inject({ kind: 'head', key: 'f/get', status: 502 });
  mark = env.oss.log.length;
  assert.is((await c.head('f/get')).encrypted, true);
  assert.is(requestsSince(mark).filter((e) => e.kind === 'head').length, 2);
});

retries('a persistent 5xx: ali-oss error passes through untouched after retries + 1 attempts; 4xx is never retried', async () => {
  const c = client();
  await c.put('f/persist', Buffer.alloc(10));
  for (const [kind, call] of [
    ['get', () => c.get('f/persist')],
    ['head', () => c.head('f/persist')],
    ['put', () => c.put('f/persist', Buffer.alloc(10))],
  ] as const) {
    env.oss.clearFaults();
    env.oss.inject({ kind, key: 'f/persist', status: 503, times: Infinity });
    const mark = env.oss.log.length;
    const err = await rejects(call(), (e) => {
      assert.is(e.status, 503, kind);
      assert.is(e.name, 'ServiceUnavailableError', `${kind}: ${e.name} ${e.message}`);
    });
    assert.not.instance(err, OssCryptoError);
    assert.is(requestsSince(mark).filter((e) => e.kind === kind).length, FAST_RETRY.retries + 1, kind);
  }
  env.oss.clearFaults();
  env.oss.inject({ kind: 'get', key: 'f/persist', status: 403, code: 'AccessDenied' });
  const mark = env.oss.log.length;
  await rejects(c.get('f/persist'), (e) => assert.is(e.code, 'AccessDenied'));
  assert.is(requestsSince(mark).length, 1);
  const gone = await rejects(c.get('f/missing'), (e) => assert.is(e.code, 'NoSuchKey'));
  assert.is(gone.status, 404);
});

retries('withRetry: bounded, exponential full-jitter delays, AbortSignal, non-retryable attempts', async () => {
  const delays: number[] = [];
  let calls = 0;
  await rejects(
    withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error('boom'), { status: 503 });
      },
      { retries: 4, baseDelayMs: 10, maxDelayMs: 40 },
      { random: () => 0.999, onRetry: (_e, _n, d) => delays.push(d) },
    ),
    (e) => assert.is(e.status, 503),
  );
  assert.is(calls, 5);
  assert.equal(delays, [9, 19, 39, 39]);
  calls = 0;
  await rejects(withRetry(async () => { calls++; throw { status: 503 }; }, FAST_RETRY, { retryable: false }), () => undefined);
  assert.is(calls, 1);
  const ac = new AbortController();
  calls = 0;
  const p = withRetry(async () => { calls++; ac.abort(new Error('stop')); throw { code: 'ECONNRESET' }; }, { retries: 5, baseDelayMs: 1000, maxDelayMs: 1000 }, { signal: ac.signal });
  await rejects(p, (e) => assert.ok(e.code === 'ECONNRESET' || e.message === 'stop'));
  assert.is(calls, 1);
  for (const [e, want] of [
    [{ status: 500 }, true], [{ status: 429 }, true], [{ status: -1 }, true], [{ status: -2 }, true],
    [{ status: 400 }, false], [{ status: 404 }, false], [{ status: 412 }, false],
    [{ code: 'ECONNRESET' }, true], [{ message: 'socket hang up' }, true], [{ name: 'ResponseTimeoutError' }, true],
    [new IntegrityError('INTEGRITY_TRUNCATED', 'x', { cause: { code: 'ECONNRESET' } }), true],
    [new IntegrityError('INTEGRITY_MD5', 'x'), false], [null, false],
  ] as const) {
    assert.is(isTransientError(e), want, JSON.stringify(e));
  }
});

retries.run();

// ---------------------------------------------------------------------------------------------------------------
const aborts = suite('client: AbortSignal');
setup(aborts);

aborts('an aborted signal stops get/put/head before any request; aborting a stream mid-way stores nothing', async () => {
  const c = client();
  await c.put('a/obj', Buffer.alloc(1000, 1));
  const ac = new AbortController();
  ac.abort(new Error('user stop'));
  const before = env.oss.log.length;
  for (const call of [() => c.get('a/obj', { signal: ac.signal }), () => c.put('a/x', Buffer.alloc(5), { signal: ac.signal }), () => c.head('a/obj', { signal: ac.signal })]) {
    await rejects(call(), (e) => assert.is(e.message, 'user stop'));
  }
  assert.is(env.oss.log.length, before);

  const live = new AbortController();
  const source = new Readable({ read() {} });
  source.push(Buffer.alloc(10_000, 2));
  const pending = c.putStream('a/aborted', source, { signal: live.signal, contentLength: 50_000 });
  setTimeout(() => live.abort(new Error('stop mid-way')), 50);
  // The stream never ends, so nothing but the abort can settle the call: it must reject with the signal's reason.
  await rejects(pending, (e) => assert.is(e.message, 'stop mid-way'));
  assert.is(env.oss.getObject(BUCKET, 'a/aborted'), undefined);

  await c.put('a/big', Buffer.from(pseudoRandomBytes(300_000, 30)));
  const reading = new AbortController();
  const { stream } = await c.getStream('a/big', { signal: reading.signal });
  reading.abort(new Error('reader gone'));
  await rejects((async () => { for await (const _ of stream) void _; })(), (e) => assert.is(e.message, 'reader gone'));
});

aborts('get to a file: a signal aborted mid-body rejects with its reason, stops the body, leaves no file', async () => {
  const data = Buffer.from(pseudoRandomBytes(300_000, 31));
  await client().put('a/file', data);
  // The real store's answer, with a body that hands over its first 64 KiB and then waits forever.
  const real = new AliOssStore(env.oss.client(BUCKET) as any);
  let stalled: Readable | undefined;
  const store = Object.assign(Object.create(real), {
    openObject: async (name: string, options: unknown) => {
      const result = await real.openObject(name, options as never);
      const body = result.body as Readable;
      let sent = false;
      stalled = new Readable({
        read() {
          if (sent) return;
          sent = true;
          body.once('readable', () => this.push(body.read(65_536) ?? body.read()));
        },
        destroy(err, done) {
          body.destroy();
          done(err);
        },
      });
      return { ...result, body: stalled };
    },
  }) as ObjectStore;
  const c = new CryptoClient(store, { material: materials[0].make() });
  const path = join(env.dir, 'aborted.bin');
  const ac = new AbortController();
  const pending = c.get('a/file', path, { signal: ac.signal });
  while (!readdirSync(env.dir).some((n) => n.startsWith('.aborted.bin.'))) await new Promise((r) => setTimeout(r, 2));
  ac.abort(new Error('stop the download'));
  await rejects(pending, (e) => assert.is(e.message, 'stop the download'));
  assert.ok(stalled?.destroyed, 'the body was stopped');
  assert.equal(readdirSync(env.dir).filter((n) => n.includes('aborted.bin')), []);
});

aborts('getStream: a signal aborted while the GET waits for its answer rejects the call (no stream is handed out)', async () => {
  const c = client();
  await c.put('a/slow', Buffer.from(pseudoRandomBytes(50_000, 31)));
  env.oss.inject({ kind: 'get', delayMs: 300 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('gave up waiting')), 50);
  await rejects(c.getStream('a/slow', { signal: ac.signal }), (e) => assert.is(e.message, 'gave up waiting'));
});

aborts.run();
