/**
 * Key commitment over real HTTP (issue 12 §5): the real `ali-oss` client against the loopback OSS stand-in.
 * Writers add `x-oss-meta-ali-oss-crypto-commitment` under `commitment: 'write'` (put from a Buffer, a path and a
 * stream; multipartUpload) and not by default; every reader (get whole and ranged, getStream,
 * resumableDownload) verifies it; a reader without the option reads such objects, and so does a decryption that
 * knows only the official V2 headers; `require` refuses uncommitted objects before any unwrap. A table of
 * tampered envelopes (the stored metadata edited in the stand-in) is detected, each row with the code of the
 * check that catches it first.
 * @module
 */
import { createDecipheriv, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { COMMITMENT_HEADER } from '../bindings/envelope/commitment.js';
import { IntegrityError, KeyUnwrapError, MetadataError, OssCryptoError, UnsupportedOperationError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, rejects } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'commit-bkt';
const FAST_RETRY = { retries: 1, baseDelayMs: 1, maxDelayMs: 2 };
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const H = {
  key: 'x-oss-meta-client-side-encryption-key',
  start: 'x-oss-meta-client-side-encryption-start',
  cekAlg: 'x-oss-meta-client-side-encryption-cek-alg',
  wrapAlg: 'x-oss-meta-client-side-encryption-wrap-alg',
  matdesc: 'x-oss-meta-client-side-encryption-matdesc',
  length: 'x-oss-meta-client-side-encryption-unencrypted-content-length',
  md5: 'x-oss-meta-client-side-encryption-unencrypted-content-md5',
  dataSize: 'x-oss-meta-client-side-encryption-data-size',
  partSize: 'x-oss-meta-client-side-encryption-part-size',
};

const env = { oss: undefined as unknown as OssServer, dir: '' };

// Two materials over the same key pair, told apart by matdesc: an edited matdesc then still unwraps, and only
// the commitment can tell.
const materialA = () => rsaKeyWrapper({ privateKey, padding: 'pkcs1', matdesc: { key: 'A' } });
const materialB = () => rsaKeyWrapper({ privateKey, padding: 'pkcs1', matdesc: { key: 'B' } });

function client(extra: Record<string, unknown> = {}): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET) as any, { material: materialA(), materials: [materialB()], retry: FAST_RETRY, ...extra });
}

/** What an SDK that reads only the official V2 headers does: decode, unwrap, AES-256-CTR from offset 0. */
async function officialHeadersOnlyDecrypt(key: string): Promise<Buffer> {
  const stored = env.oss.getObject(BUCKET, key)!;
  const known = Object.fromEntries(Object.entries(stored.headers).filter(([n]) => n.startsWith('x-oss-meta-client-side-encryption-')));
  const envelope = decodeEnvelope(known)!;
  const content = await new KeyRing({ default: materialA() }).unwrap(envelope.wrapped);
  const d = createDecipheriv('aes-256-ctr', content.key, content.iv);
  return Buffer.concat([d.update(stored.body!), d.final()]);
}

/** Re-stores `key` with its metadata edited by `edit` (same body unless `body` is given), as a raw store edit. */
function tamper(key: string, edit: (meta: Record<string, string>) => void, body?: Buffer): void {
  const stored = env.oss.getObject(BUCKET, key)!;
  const headers: Record<string, string> = { 'content-type': stored.contentType };
  for (const [n, v] of Object.entries(stored.headers)) if (n.startsWith('x-oss-meta-')) headers[n] = v;
  edit(headers);
  env.oss.putObjectRaw(BUCKET, key, body ?? stored.body!, headers);
}

/** A counting key ring: proves when a read refuses before any unwrap. */
function countingKeyRing() {
  const inner = new KeyRing({ default: materialA(), materials: [materialB()] });
  const calls = { unwrap: 0 };
  return {
    calls,
    keyring: {
      createContentKey: () => inner.createContentKey(),
      unwrap: (w: Parameters<KeyRing['unwrap']>[0]) => (calls.unwrap++, inner.unwrap(w)),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
const write = suite('commitment over HTTP: writers and readers');
useStandIns(write, env, { tmpPrefix: 'oss-crypto-commit-' });

write('default policy writes no commitment; write adds it for Buffer, path, stream and multipart uploads', async () => {
  const data = Buffer.from(pseudoRandomBytes(250_001, 3));
  await client().put('w/plain-default', data);
  assert.is(env.oss.getObject(BUCKET, 'w/plain-default')!.headers[COMMITMENT_HEADER], undefined);

  const c = client({ commitment: 'write' });
  const path = join(env.dir, 'src.bin');
  writeFileSync(path, data);
  await c.put('w/buffer', data, { contentMd5: true });
  await c.put('w/path', path);
  await c.putStream('w/stream', Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
  await c.multipartUpload('w/multipart', path, { partSize: 100 * 1024, parallel: 2 });
  for (const key of ['w/buffer', 'w/path', 'w/stream', 'w/multipart']) {
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.match(stored.headers[COMMITMENT_HEADER], /^v1:[A-Za-z0-9+/]{43}=$/, key);
    assert.equal((await c.get(key)).content, data, key);
  }
  assert.ok(env.oss.getObject(BUCKET, 'w/multipart')!.headers[H.partSize], 'the multipart envelope has a part size');
});

write('every reader verifies: ranged get, getStream, resumableDownload, and a reader without the option', async () => {
  const data = Buffer.from(pseudoRandomBytes(50_000, 9));
  await client({ commitment: 'write' }).put('r/obj', data);
  const reader = client();
  assert.equal((await reader.get('r/obj')).content, data);
  assert.equal((await reader.get('r/obj', { headers: { Range: 'bytes=100-4099' } })).content, data.subarray(100, 4100));
  const { stream } = await reader.getStream('r/obj');
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks), data);
  const file = join(env.dir, 'r.bin');
  await reader.resumableDownload('r/obj', file, { partSize: 8192 });

  tamper('r/obj', (m) => (m[H.partSize] = '1024', m[H.dataSize] = String(data.length)));
  await rejects(reader.get('r/obj'), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(reader.get('r/obj', { headers: { Range: 'bytes=0-15' } }), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(reader.getStream('r/obj'), IntegrityError, 'COMMITMENT_MISMATCH');
  await rejects(reader.resumableDownload('r/obj', join(env.dir, 'r2.bin'), { partSize: 8192 }), IntegrityError, 'COMMITMENT_MISMATCH');
});

write('readers that know only the official headers read committed objects unchanged', async () => {
  const data = Buffer.from(pseudoRandomBytes(4097, 5));
  await client({ commitment: 'require' }).put('o/obj', data, { contentMd5: true });
  assert.ok(env.oss.getObject(BUCKET, 'o/obj')!.headers[COMMITMENT_HEADER]);
  assert.equal(await officialHeadersOnlyDecrypt('o/obj'), data);
  assert.equal((await client().get('o/obj')).content, data);
});

write("require refuses an uncommitted encrypted object before any unwrap; verify reads it", async () => {
  await client().put('q/old', Buffer.from('written before commitments'));
  const { keyring, calls } = countingKeyRing();
  const strict = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, commitment: 'require', retry: FAST_RETRY });
  await rejects(strict.get('q/old'), IntegrityError, 'COMMITMENT_MISSING', /commitment/);
  await rejects(strict.resumableDownload('q/old', join(env.dir, 'q.bin')), IntegrityError, 'COMMITMENT_MISSING');
  assert.is(calls.unwrap, 0);
  assert.is((await client().get('q/old')).content!.toString(), 'written before commitments');
});

write('the commitment header is encryption metadata: callers cannot set it; putMeta and copy keep it', async () => {
  const c = client({ commitment: 'write' });
  const strict = client({ commitment: 'require' });
  await rejects(c.put('m/x', Buffer.from('x'), { meta: { 'ali-oss-crypto-commitment': 'v1:x' } }), UnsupportedOperationError, 'OPERATION_UNSUPPORTED');
  await c.put('m/obj', Buffer.from('keep me'));
  const committed = (key: string) => env.oss.getObject(BUCKET, key)!.headers[COMMITMENT_HEADER];
  assert.match(committed('m/obj'), /^v1:/);
  // OSS refuses a metadata change of an encrypted object in place (0005-00000421): putMeta asks for a rewrite.
  await rejects(c.putMeta('m/obj', { owner: 'me' }), UnsupportedOperationError, 'OPERATION_UNSUPPORTED');
  // The rewrite adds data-size / part-size, so the commitment is recomputed for the new envelope, not dropped.
  await c.putMeta('m/obj', { owner: 'me' }, { rewrite: true });
  const rewritten = committed('m/obj');
  assert.match(rewritten, /^v1:/);
  // A second rewrite under the same plan commits to the same fields: the value is kept as it is.
  await c.putMeta('m/obj', { owner: 'me too' }, { rewrite: true });
  assert.is(committed('m/obj'), rewritten);
  await c.copy('m/copy', 'm/obj', { meta: { owner: 'you' } });
  for (const key of ['m/obj', 'm/copy']) {
    assert.is(committed(key), rewritten, key);
    assert.is((await strict.get(key)).content!.toString(), 'keep me', key);
  }
  assert.is((await c.head('m/obj')).meta.owner, 'me too');
  // A rewrite never launders an edited envelope into a freshly committed one.
  await c.put('m/edited', Buffer.from('edited'));
  tamper('m/edited', (m) => (m[H.matdesc] = JSON.stringify({ key: 'B' })));
  await rejects(c.putMeta('m/edited', { owner: 'me' }, { rewrite: true }), IntegrityError, 'COMMITMENT_MISMATCH');
});

write('a committed object whose RSA unwrap fails: COMMITMENT_MISMATCH after the same commitment work as a good one', async () => {
  const c = client({ commitment: 'write' });
  await c.put('u/good', Buffer.from('good'));
  await c.put('u/bad', Buffer.from('bad!'));
  tamper('u/bad', (m) => (m[H.key] = (m[H.key][0] === 'A' ? 'B' : 'A') + m[H.key].slice(1)));
  const subtle = globalThis.crypto.subtle;
  const original = subtle.verify;
  let verifies = 0;
  Object.defineProperty(subtle, 'verify', { configurable: true, value: (...a: Parameters<SubtleCrypto['verify']>) => (verifies++, original.apply(subtle, a)) });
  try {
    await c.get('u/good');
    const good = verifies;
    verifies = 0;
    const err = await rejects(c.get('u/bad'), IntegrityError, 'COMMITMENT_MISMATCH');
    assert.is(good, 1);
    assert.is(verifies, good);
    assert.is(err.cause, undefined, 'the unwrap failure is not attached');
  } finally {
    delete (subtle as unknown as Record<string, unknown>).verify;
  }
});

write('the option is checked', () => {
  assert.throws(() => client({ commitment: 'yes' }), (e: unknown) => e instanceof RangeError && /"commitment" expected/.test((e as Error).message));
});

// ---------------------------------------------------------------------------------------------------------------
const table = suite('commitment over HTTP: every single-field tamper of a committed object is detected');
useStandIns(table, env, { tmpPrefix: 'oss-crypto-tamper-' });

const DATA = Buffer.from(pseudoRandomBytes(250_000, 11));

/**
 * Each row edits one stored field. `code` is what the first check to notice it reports: the commitment for every
 * field that reaches it (a failed RSA unwrap of a committed object is reported as the same COMMITMENT_MISMATCH),
 * the length check (before any unwrap) for recorded sizes, the decoder for an unknown cek-alg, the key ring for a
 * matdesc no material has, the MD5 for the body.
 */
const rows: Array<{ name: string; multipart?: boolean; edit: (m: Record<string, string>, other: Record<string, string>) => void; body?: (b: Buffer) => Buffer; code: string; cls: Function }> = [
  { name: 'wrapped key from another object', edit: (m, o) => (m[H.key] = o[H.key]), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'wrapped start from another object', edit: (m, o) => (m[H.start] = o[H.start]), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'key and start both from another object (a whole pasted envelope key)', edit: (m, o) => ((m[H.key] = o[H.key]), (m[H.start] = o[H.start])), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'matdesc relabelled to another material of the same key', edit: (m) => (m[H.matdesc] = '{"key":"B"}'), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'md5 replaced', edit: (m) => (m[H.md5] = 'AAAAAAAAAAAAAAAAAAAAAA=='), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'md5 removed', edit: (m) => delete m[H.md5], code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'length removed', edit: (m) => delete m[H.length], code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'length changed', edit: (m) => (m[H.length] = String(DATA.length + 1)), code: 'INTEGRITY_LENGTH', cls: IntegrityError },
  { name: 'commitment replaced by another object’s', edit: (m, o) => (m[COMMITMENT_HEADER] = o[COMMITMENT_HEADER]), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'commitment garbled', edit: (m) => (m[COMMITMENT_HEADER] = 'v1:' + 'A'.repeat(43) + '='), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'wrap-alg relabelled to OAEP', edit: (m) => (m[H.wrapAlg] = 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding'), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'key and start swapped', edit: (m) => ([m[H.key], m[H.start]] = [m[H.start], m[H.key]]), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'cek-alg changed', edit: (m) => (m[H.cekAlg] = 'AES/GCM/NoPadding'), code: 'META_UNSUPPORTED', cls: MetadataError },
  { name: 'matdesc relabelled to a material nobody has', edit: (m) => (m[H.matdesc] = '{"key":"Z"}'), code: 'KEY_NO_MATCH', cls: KeyUnwrapError },
  { name: 'wrapped key garbled (one base64 character)', edit: (m) => (m[H.key] = (m[H.key][0] === 'A' ? 'B' : 'A') + m[H.key].slice(1)), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'body byte flipped (MD5 recorded)', edit: () => undefined, body: (b) => ((b[b.length >> 1] ^= 1), b), code: 'INTEGRITY_MD5', cls: IntegrityError },
  { name: 'multipart: part size changed', multipart: true, edit: (m) => (m[H.partSize] = '204800'), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'multipart: data and part size removed', multipart: true, edit: (m) => (delete m[H.partSize], delete m[H.dataSize]), code: 'COMMITMENT_MISMATCH', cls: IntegrityError },
  { name: 'multipart: data size changed', multipart: true, edit: (m) => (m[H.dataSize] = String(DATA.length - 16)), code: 'INTEGRITY_LENGTH', cls: IntegrityError },
];

for (const row of rows) {
  table(row.name, async () => {
    const c = client({ commitment: 'write' });
    const key = `t/${row.name}`;
    const path = join(env.dir, 'data.bin');
    writeFileSync(path, DATA);
    if (row.multipart) {
      await c.multipartUpload(key, path, { partSize: 100 * 1024 });
      await c.multipartUpload(`${key}/other`, path, { partSize: 100 * 1024 });
    } else {
      await c.put(key, DATA, { contentMd5: true });
      await c.put(`${key}/other`, DATA, { contentMd5: true });
    }
    assert.equal((await c.get(key)).content, DATA, 'reads before the edit');
    const other = env.oss.getObject(BUCKET, `${key}/other`)!.headers;
    const stored = env.oss.getObject(BUCKET, key)!;
    tamper(key, (m) => row.edit(m, other), row.body?.(Buffer.from(stored.body!)));
    // Every reader without the option verifies too.
    for (const reader of [c, client()]) {
      const err = await rejects(reader.get(key));
      assert.instance(err, row.cls, `${err?.name} ${err?.code}: ${err?.message}`);
      assert.is((err as OssCryptoError).code, row.code, (err as Error).message);
    }
  });
}

write.run();
table.run();
