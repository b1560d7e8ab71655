/**
 * Rewrites in place (bindings/client/encrypt-existing.ts, decrypt-existing.ts, verify.ts, rewrite.ts,
 * object-state.ts) over real HTTP: the real ali-oss client against the loopback OSS stand-in. Metadata and content
 * headers survive; an encrypted object is refused; multipart rewrites for large objects; a concurrent writer that
 * lands between the read and the write wins (OBJECT_CHANGED, its object kept, the multipart upload aborted); verify
 * names what fails by code.
 * @module
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { IntegrityError, KeyUnwrapError, PlaintextObjectError, UnsupportedOperationError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { listPrefix } from '../bindings/jobs/listing.js';
import { fixturePath, pseudoRandomBytes, rejects } from './_util.js';
import type { OssLogEntry, OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'rotate-bucket';
const MAIN_KEY = await readFile(fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem'), 'utf8');
const OTHER_KEY = await readFile(fixturePath('interop', 'keys', 'rsaprovider-matdesc-rsa3072.private.pem'), 'utf8');
const FAST_RETRY = { retries: 2, baseDelayMs: 1, maxDelayMs: 4 };
const THRESHOLD = 256 * 1024;
const PART = 100 * 1024;

const env = { oss: undefined as unknown as OssServer, dir: '' };

function client(privateKey = MAIN_KEY): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey }), retry: FAST_RETRY, multipartThreshold: THRESHOLD, partSize: PART });
}

const CONTENT_HEADERS = {
  'Content-Type': 'text/csv; charset=utf-8',
  'Cache-Control': 'max-age=60',
  'Content-Disposition': 'attachment; filename="r.csv"',
  'Content-Language': 'de',
  'x-oss-meta-owner': 'ops',
  'x-oss-meta-Project': 'Apollo',
};

function plain(key: string, size: number, seed = size + 1): Buffer {
  const body = Buffer.from(pseudoRandomBytes(size, seed));
  env.oss.putObjectRaw(BUCKET, key, body, CONTENT_HEADERS);
  return body;
}

/** Decrypts the stored bytes without the client (codec + key ring, node:crypto). */
async function independentDecrypt(key: string): Promise<Buffer> {
  const stored = env.oss.getObject(BUCKET, key)!;
  const content = await new KeyRing({ default: rsaKeyWrapper({ privateKey: MAIN_KEY }) }).unwrap(decodeEnvelope(stored.headers)!.wrapped);
  const d = createDecipheriv('aes-256-ctr', content.key, content.iv);
  return Buffer.concat([d.update(stored.body!), d.final()]);
}

/** Runs `act` once a request matching `match` has arrived at the stand-in (it is held there by an injected delay). */
async function whenRequest(match: (e: OssLogEntry) => boolean, act: () => void): Promise<void> {
  const mark = env.oss.log.length;
  for (let i = 0; i < 2000; i++) {
    if (env.oss.log.slice(mark).some(match)) return act();
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the awaited request never arrived');
}

const writesOf = (key: string) => env.oss.log.filter((e) => e.key === key && (e.kind === 'put' || e.kind === 'complete') && e.status === 200).length;

// ---------------------------------------------------------------------------------------------------------------
const enc = suite('encryptExisting: a plaintext object becomes encrypted in place, metadata kept');
useStandIns(enc, env, { tmpPrefix: 'oss-crypto-rotate-' });

for (const size of [0, 1, 4096, 100_001]) {
  enc(`${size} bytes: one PUT; same plaintext, user metadata and content headers; MD5 recorded`, async () => {
    const key = `enc/${size}`;
    const body = plain(key, size);
    const before = env.oss.getObject(BUCKET, key)!;
    const r = await client().encryptExisting(key);
    const after = env.oss.getObject(BUCKET, key)!;
    assert.is(r.multipart, false);
    assert.is(r.previousEtag, before.etag);
    assert.is(r.etag, after.etag);
    assert.is(r.bytes, size);
    assert.is(after.type, 'Normal');
    assert.equal(await independentDecrypt(key), body);
    if (size > 0) assert.not.equal(after.body, body);
    assert.is(after.contentType, 'text/csv; charset=utf-8');
    for (const h of ['cache-control', 'content-disposition', 'content-language']) assert.is(after.headers[h], before.headers[h], h);
    assert.is(after.meta.owner, 'ops');
    assert.is(after.meta.project, 'Apollo');
    const envelope = decodeEnvelope(after.headers)!;
    assert.is(envelope.unencryptedContentLength, size);
    assert.is(envelope.unencryptedContentMd5, createHash('md5').update(body).digest('base64'));
    assert.equal((await client().get(key)).content, body);
    assert.is(writesOf(key), 1);
  });
}

enc('at or above the threshold: a multipart rewrite, byte-exact, metadata kept, CRC-64 checked', async () => {
  const key = 'enc/multipart';
  const body = plain(key, 3 * PART + 77);
  const r = await client().encryptExisting(key);
  assert.is(r.multipart, true);
  const after = env.oss.getObject(BUCKET, key)!;
  assert.is(after.type, 'Multipart');
  assert.is(after.meta.owner, 'ops');
  assert.is(after.contentType, 'text/csv; charset=utf-8');
  assert.equal(await independentDecrypt(key), body);
  assert.equal((await client().get(key)).content, body);
  assert.equal(env.oss.uploads(BUCKET), []);
});

enc('Content-Encoding: gzip: the stored bytes are encrypted as they are (never inflated on the way), the header kept', async () => {
  const key = 'enc/gzip';
  const gz = gzipSync(Buffer.from('a'.repeat(10_000)));
  env.oss.putObjectRaw(BUCKET, key, gz, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
  await client().encryptExisting(key);
  assert.equal(await independentDecrypt(key), gz);
  assert.is(env.oss.getObject(BUCKET, key)!.headers['content-encoding'], 'gzip');
});

enc('multipart: uploadStarted hears the upload id before the first part; if it fails, the upload is aborted and nothing written', async () => {
  const key = 'enc/announce';
  plain(key, 3 * PART);
  const heard: string[] = [];
  const mark = env.oss.log.length;
  await client().encryptExisting(key, { uploadStarted: async (id) => void heard.push(id) });
  const initiated = env.oss.log.slice(mark).filter((e) => e.kind === 'initiate');
  assert.is(heard.length, 1);
  assert.ok(env.oss.log.slice(mark).some((e) => e.kind === 'complete' && e.uploadId === heard[0]));
  assert.is(initiated.length, 1);
  const key2 = 'enc/announce-fails';
  plain(key2, 3 * PART);
  await rejects(client().encryptExisting(key2, { uploadStarted: async () => { throw new Error('journal disk full'); } }), (err) => assert.match(err.message, /disk full/));
  assert.equal(env.oss.uploads(BUCKET), []);
  assert.is(writesOf(key2), 0);
  assert.is(env.oss.log.filter((e) => e.key === key2 && e.kind === 'uploadPart').length, 0);
});

enc('an encrypted object is refused with OBJECT_ENCRYPTED and left untouched', async () => {
  const key = 'enc/already';
  await client().put(key, Buffer.from('secret'));
  const before = env.oss.getObject(BUCKET, key)!;
  await rejects(client().encryptExisting(key), UnsupportedOperationError, 'OBJECT_ENCRYPTED');
  assert.is(env.oss.getObject(BUCKET, key)!.etag, before.etag);
  assert.is(writesOf(key), 1);
});

enc('ifMatch: another ETag than expected is OBJECT_CHANGED; the conditional GET answers 412 and nothing is read or written', async () => {
  const key = 'enc/if-match';
  plain(key, 10);
  await rejects(client().encryptExisting(key, { ifMatch: '"0123456789ABCDEF0123456789ABCDEF"' }), IntegrityError, 'OBJECT_CHANGED');
  assert.equal(env.oss.log.filter((e) => e.key === key && e.kind === 'get').map((e) => [e.status, e.bytesOut > 0]), [[412, true]]);
  assert.is(writesOf(key), 0);
  const r = await client().encryptExisting(key, { ifMatch: env.oss.getObject(BUCKET, key)!.etag });
  assert.is(r.bytes, 10);
});

enc('a writer that replaces the object between the read and the write wins: OBJECT_CHANGED, its bytes kept', async () => {
  const key = 'enc/race-single';
  plain(key, 5000);
  const theirs = Buffer.from('the concurrent writer\'s object');
  // The HEAD before the write (the state came from the GET) is held while the other writer stores its object.
  env.oss.inject({ kind: 'head', key, nth: 1, delayMs: 1000 });
  const racing = whenRequest((e) => e.kind === 'head' && e.key === key && e.status === 0, () => void env.oss.putObjectRaw(BUCKET, key, theirs));
  await rejects(client().encryptExisting(key), IntegrityError, 'OBJECT_CHANGED', /replaced by another writer/);
  await racing;
  assert.equal(env.oss.getObject(BUCKET, key)!.body, theirs);
  assert.is(writesOf(key), 0);
});

enc('multipart: the check sits right before Complete; a concurrent writer wins and the upload is aborted', async () => {
  const key = 'enc/race-multipart';
  plain(key, 3 * PART);
  const theirs = Buffer.from('newer');
  env.oss.inject({ kind: 'head', key, nth: 1, delayMs: 1000 });
  const racing = whenRequest((e) => e.kind === 'head' && e.key === key && e.status === 0 && env.oss.log.some((u) => u.kind === 'uploadPart' && u.key === key), () =>
    void env.oss.putObjectRaw(BUCKET, key, theirs),
  );
  await rejects(client().encryptExisting(key), IntegrityError, 'OBJECT_CHANGED');
  await racing;
  assert.equal(env.oss.getObject(BUCKET, key)!.body, theirs);
  assert.equal(env.oss.uploads(BUCKET), []);
  assert.is(env.oss.log.filter((e) => e.key === key && e.kind === 'complete').length, 0);
});

enc.run();

// ---------------------------------------------------------------------------------------------------------------
const dec = suite('decryptExisting: behind removeEncryption, the object is stored decrypted in place');
useStandIns(dec, env, { tmpPrefix: 'oss-crypto-rotate-' });

dec('refuses without removeEncryption: true; decrypts single and multipart objects, metadata kept; a plain one is OBJECT_NOT_ENCRYPTED', async () => {
  const c = client();
  const small = Buffer.from(pseudoRandomBytes(5000, 3));
  const large = Buffer.from(pseudoRandomBytes(3 * PART + 5, 4));
  await c.put('dec/small', small, { meta: { owner: 'ops' }, headers: { 'Content-Type': 'image/png' } });
  await c.put('dec/large', large, { meta: { owner: 'ops' } });
  await rejects(c.decryptExisting('dec/small', {} as never), (err) => assert.match(err.message, /removeEncryption: true/));
  for (const [key, body, multipart] of [['dec/small', small, false], ['dec/large', large, true]] as const) {
    const r = await c.decryptExisting(key, { removeEncryption: true });
    assert.is(r.multipart, multipart);
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.equal(stored.body, body);
    assert.is(decodeEnvelope(stored.headers), null);
    assert.equal(Object.keys(stored.meta), ['owner']);
  }
  assert.is(env.oss.getObject(BUCKET, 'dec/small')!.contentType, 'image/png');
  await rejects(c.decryptExisting('dec/small', { removeEncryption: true }), UnsupportedOperationError, 'OBJECT_NOT_ENCRYPTED');
});

dec.run();

// ---------------------------------------------------------------------------------------------------------------
const ver = suite('verify: an object decrypts with the configured keys and matches what was recorded');
useStandIns(ver, env, { tmpPrefix: 'oss-crypto-rotate-' });

ver('a sound object verifies and says which checks applied', async () => {
  const c = client();
  await c.put('v/md5', Buffer.from('hello world'), { contentMd5: true });
  await c.put('v/no-md5', Buffer.from('hello world'));
  assert.equal((await c.verify('v/md5')).checked, { length: true, crc64: true, md5: true, commitment: false });
  const r = await c.verify('v/no-md5');
  assert.equal(r.checked, { length: true, crc64: true, md5: false, commitment: false });
  assert.is(r.bytes, 11);
});

ver('tampered bytes (CRC-64 recomputed by the store) are INTEGRITY_MD5; another key is KEY_UNWRAP_FAILED; a plain object PLAINTEXT_REJECTED', async () => {
  const c = client();
  await c.put('v/tampered', Buffer.from('pay 100 to alice'), { contentMd5: true });
  const stored = env.oss.getObject(BUCKET, 'v/tampered')!;
  const body = Buffer.from(stored.body!);
  body[4] ^= 0x01;
  const headers = Object.fromEntries(Object.entries(stored.headers).filter(([k]) => k.startsWith('x-oss-meta-') || k === 'content-type'));
  env.oss.putObjectRaw(BUCKET, 'v/tampered', body, headers);
  await rejects(c.verify('v/tampered'), IntegrityError, 'INTEGRITY_MD5');
  await c.put('v/other', Buffer.from('x'));
  await rejects(client(OTHER_KEY).verify('v/other'), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
  env.oss.putObjectRaw(BUCKET, 'v/plain', Buffer.from('x'));
  await rejects(c.verify('v/plain'), PlaintextObjectError, 'PLAINTEXT_REJECTED');
});

ver('a committed object: the commitment is checked, and a commitment that is not its own is COMMITMENT_MISMATCH', async () => {
  const committing = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: MAIN_KEY }), commitment: 'write' });
  await committing.put('v/committed', Buffer.from('hello world'));
  assert.equal((await client().verify('v/committed')).checked, { length: true, crc64: true, md5: false, commitment: true });
  // The same bytes, key and envelope with another object's (valid) commitment: it does not match this envelope,
  // so the object fails before a byte is decrypted.
  await committing.put('v/committed-2', Buffer.from('hello world'));
  const stored = env.oss.getObject(BUCKET, 'v/committed')!;
  const headers = Object.fromEntries(Object.entries(stored.headers).filter(([k]) => k.startsWith('x-oss-meta-') || k === 'content-type'));
  const commitmentHeader = Object.keys(headers).find((k) => k.endsWith('-commitment'))!;
  const otherCommitment = env.oss.getObject(BUCKET, 'v/committed-2')!.headers[commitmentHeader];
  assert.ok(otherCommitment !== undefined && otherCommitment !== headers[commitmentHeader]);
  env.oss.putObjectRaw(BUCKET, 'v/committed', Buffer.from(stored.body!), { ...headers, [commitmentHeader]: otherCommitment });
  await rejects(client().verify('v/committed'), IntegrityError, 'COMMITMENT_MISMATCH');
});

ver.run();

// ---------------------------------------------------------------------------------------------------------------
const standIn = suite('the OSS stand-in, like OSS, has no conditional PutObject (why rewrites re-HEAD instead)');
useStandIns(standIn, env, { tmpPrefix: 'oss-crypto-rotate-' });

standIn('PutObject with If-Match / If-None-Match / If-(Un)Modified-Since is 400 NotImplemented and stores nothing', async () => {
  const ali = env.oss.client(BUCKET);
  const { res } = await ali.put('cond/a', Buffer.from('v1'));
  const etag = res.headers.etag as string;
  for (const [header, value] of [['If-Match', etag], ['If-None-Match', '*'], ['If-Unmodified-Since', new Date().toUTCString()], ['If-Modified-Since', new Date(0).toUTCString()]]) {
    const err = await rejects(ali.put('cond/a', Buffer.from('v2'), { headers: { [header]: value } }));
    assert.is(err.status, 400, header);
    assert.is(err.code, 'NotImplemented', header);
  }
  assert.equal(env.oss.getObject(BUCKET, 'cond/a')!.body, Buffer.from('v1'));
});

standIn('listPrefix pages through ListObjects with markers: every key under the prefix once, in order, odd keys included', async () => {
  const keys = Array.from({ length: 23 }, (_, i) => `list/${i % 3 === 0 ? 'ä ö+%/' : ''}${String(i).padStart(2, '0')}`).sort();
  for (const k of keys) env.oss.putObjectRaw(BUCKET, k, Buffer.from(k));
  env.oss.putObjectRaw(BUCKET, 'lisu', Buffer.from('outside'));
  const mark = env.oss.log.length;
  const listed: string[] = [];
  for await (const o of listPrefix(client().context.store, 'list/', { pageSize: 5 })) {
    listed.push(o.key);
    assert.is(o.size, Buffer.byteLength(o.key));
    assert.ok(o.etag);
  }
  assert.equal(listed, env.oss.listKeys(BUCKET).filter((k) => k.startsWith('list/')));
  assert.is(listed.length, 23);
  assert.is(env.oss.log.slice(mark).filter((e) => e.kind === 'list').length, 5);
  const none: string[] = [];
  for await (const o of listPrefix(client().context.store, 'nothing-here/')) none.push(o.key);
  assert.equal(none, []);
});

standIn.run();
