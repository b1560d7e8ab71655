/**
 * Proof that the OSS stand-in refuses what OSS refuses in client-side-encryption requests
 * (docs/FORMAT.md §9, test/support/oss-cse-rules.ts): for each EC, the offending request is sent with
 * the real ali-oss client (its raw calls with hand-made `x-oss-meta-client-side-encryption-*` headers) and must
 * come back as ali-oss surfaces an OSS argument error: HTTP 400, `code` InvalidArgument, a message, and `ecCode` the
 * rule's EC. Next to each refusal, where it means something, the conforming request is accepted.
 * @module
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type OSS from 'ali-oss';
import { startOssServer, type OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, rejects } from './_util.js';

const BUCKET = 'cse-rules';
const PREFIX = 'x-oss-meta-client-side-encryption-';

// A CSE upload of 2,500 bytes in 1,024-byte parts: parts 1 and 2 of 1,024 bytes, part 3 (the last) of 452.
const DATA_SIZE = 2500;
const PART_SIZE = 1024;
const DATA = Buffer.from(pseudoRandomBytes(DATA_SIZE, 11));

/** The headers a V2 object carries (wrapped key, IV, algorithms), as user metadata names. */
const ENVELOPE: Record<string, string> = {
  'client-side-encryption-key': 'd3JhcHBlZC1rZXk=',
  'client-side-encryption-start': 'd3JhcHBlZC1pdg==',
  'client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
  'client-side-encryption-wrap-alg': 'RSA/NONE/PKCS1Padding',
};
/** What Initiate (and a part that carries headers) needs on top of the envelope. */
const UPLOAD: Record<string, string> = {
  ...ENVELOPE,
  'client-side-encryption-data-size': String(DATA_SIZE),
  'client-side-encryption-part-size': String(PART_SIZE),
};

/** `meta` with some names dropped and some replaced (undefined drops). */
function withMeta(meta: Record<string, string>, changes: Record<string, string | undefined>): Record<string, string> {
  const out = { ...meta };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete out[`client-side-encryption-${name}`];
    else out[`client-side-encryption-${name}`] = value;
  }
  return out;
}

/** User metadata as request headers (what a part carries: ali-oss's uploadPart takes headers, not meta). */
function asHeaders(meta: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(meta).map(([k, v]) => [`x-oss-meta-${k}`, v]));
}

/** Awaits a rejection that is OSS's client-side-encryption refusal `ec`, as ali-oss surfaces it. */
async function refusedWith(call: Promise<unknown>, ec: string, what: string): Promise<void> {
  const err = await rejects(call);
  assert.is(err.status, 400, `${what}: status`);
  assert.is(err.code, 'InvalidArgument', `${what}: code`);
  assert.is(err.ecCode, ec, `${what}: EC`);
  assert.ok(typeof err.message === 'string' && err.message.length > 20, `${what}: a message`);
  assert.match(String(err.requestId), /^[0-9A-F]+$/, `${what}: request id`);
}

/** The part of DATA that part `n` of the upload carries. */
function partBytes(n: number): [number, number] {
  return [(n - 1) * PART_SIZE, Math.min(n * PART_SIZE, DATA_SIZE)];
}

const rules = suite<{ oss: OssServer; client: OSS; seq: number }>('oss-cse-rules: OSS refuses what docs/FORMAT.md §9 says');
rules.before(async (ctx) => {
  // Small parts keep the tests fast; OSS's 100 KB minimum (EntityTooSmall) is a separate rule.
  ctx.oss = await startOssServer({ minPartSize: 16 });
  ctx.client = ctx.oss.client(BUCKET);
  ctx.seq = 0;
});
rules.after(async (ctx) => {
  await ctx.oss.close();
});

/** A fresh key per call, so tests never see each other's objects. */
function keyOf(ctx: { seq: number }, name: string): string {
  return `${name}-${++ctx.seq}`;
}

async function initiateCse(ctx: { client: OSS; seq: number }, meta = UPLOAD): Promise<{ key: string; uploadId: string }> {
  const key = keyOf(ctx, 'mp');
  const { uploadId } = await ctx.client.initMultipartUpload(key, { meta } as never);
  return { key, uploadId };
}

function uploadPart(client: OSS, key: string, uploadId: string, n: number, headers?: Record<string, string>, range = partBytes(n)) {
  return client.uploadPart(key, uploadId, n, DATA, range[0], range[1], (headers ? { headers } : {}) as never);
}

const MISSING: [name: string, ec: string][] = [
  ['key', '0005-00000401'],
  ['start', '0005-00000402'],
  ['cek-alg', '0005-00000403'],
  ['wrap-alg', '0005-00000404'],
];

for (const [name, ec] of MISSING) {
  rules(`${ec}: ${name} missing → PutObject, AppendObject, Initiate and a part that carries headers are refused`, async (ctx) => {
    const { client, oss } = ctx;
    const put = keyOf(ctx, 'put');
    await refusedWith(client.put(put, Buffer.from('x'), { meta: withMeta(ENVELOPE, { [name]: undefined }) } as never), ec, 'PutObject');
    assert.is(oss.getObject(BUCKET, put), undefined, 'nothing stored');
    await refusedWith(client.append(keyOf(ctx, 'append'), Buffer.from('x'), { meta: withMeta(ENVELOPE, { [name]: undefined }) } as never), ec, 'AppendObject');
    await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { [name]: undefined }) } as never), ec, 'Initiate');
    const { key, uploadId } = await initiateCse(ctx);
    await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(withMeta(UPLOAD, { [name]: undefined }))), ec, 'UploadPart');
    assert.is(oss.uploads(BUCKET).find((u) => u.uploadId === uploadId)?.parts.length, 0, 'the refused part is not kept');
  });
}

rules('the full envelope is accepted by PutObject and AppendObject; HEAD and GET return the metadata as stored', async (ctx) => {
  const { client } = ctx;
  const key = keyOf(ctx, 'put');
  const meta = { ...ENVELOPE, 'client-side-encryption-matdesc': '{"k":"v"}', other: 'Kept' };
  await client.put(key, Buffer.from('ciphertext'), { meta } as never);
  const head = await client.head(key);
  assert.equal(head.meta, { ...meta, other: 'Kept' });
  const got = await client.get(key);
  assert.is(String(got.content), 'ciphertext');
  for (const [name, value] of Object.entries(meta)) assert.is((got.res.headers as Record<string, string>)[`x-oss-meta-${name}`], value, name);

  const appended = keyOf(ctx, 'append');
  const first = await client.append(appended, Buffer.from('abc'), { meta } as never);
  await client.append(appended, Buffer.from('def'), { position: first.nextAppendPosition } as never);
  assert.is(String((await client.get(appended)).content), 'abcdef');
  assert.equal((await client.head(appended)).meta, meta);
  // A plain put with no CSE header at all is no concern of these rules.
  await client.put(keyOf(ctx, 'plain'), Buffer.from('plain'));
});

rules('0005-00000405: wrap-alg "rsa" (V1) without magic-number-hmac is refused; with it, accepted', async (ctx) => {
  const { client } = ctx;
  const v1 = withMeta(ENVELOPE, { 'wrap-alg': 'rsa' });
  await refusedWith(client.put(keyOf(ctx, 'v1'), Buffer.from('x'), { meta: v1 } as never), '0005-00000405', 'PutObject');
  await refusedWith(client.initMultipartUpload(keyOf(ctx, 'v1'), { meta: { ...UPLOAD, ...v1 } } as never), '0005-00000405', 'Initiate');
  const { key, uploadId } = await initiateCse(ctx);
  await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders({ ...UPLOAD, ...v1 })), '0005-00000405', 'UploadPart');
  const withHmac = { ...v1, 'client-side-encryption-magic-number-hmac': 'aG1hYw==' };
  await client.put(keyOf(ctx, 'v1'), Buffer.from('x'), { meta: withHmac } as never);
  await client.initMultipartUpload(keyOf(ctx, 'v1'), { meta: { ...UPLOAD, ...withHmac } } as never);
});

rules('0005-00000406 / 407: Initiate and a part that carries headers need data-size and part-size', async (ctx) => {
  const { client } = ctx;
  for (const [name, ec] of [['data-size', '0005-00000406'], ['part-size', '0005-00000407']]) {
    await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { [name]: undefined }) } as never), ec, `Initiate without ${name}`);
    const { key, uploadId } = await initiateCse(ctx);
    await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(withMeta(UPLOAD, { [name]: undefined }))), ec, `UploadPart without ${name}`);
  }
  // PutObject needs neither: a single object is one piece.
  await client.put(keyOf(ctx, 'put'), Buffer.from('x'), { meta: ENVELOPE } as never);
});

rules('0005-00000408 / 409: data-size and part-size must be integers (Initiate, UploadPart, Complete)', async (ctx) => {
  const { client } = ctx;
  for (const [name, ec, bad] of [['data-size', '0005-00000408', '25x0'], ['part-size', '0005-00000409', '1024.0']]) {
    await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { [name]: bad }) } as never), ec, `Initiate ${name}=${bad}`);
    await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { [name]: '-5' }) } as never), ec, `Initiate ${name}=-5`);
    const { key, uploadId } = await initiateCse(ctx);
    await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(withMeta(UPLOAD, { [name]: bad }))), ec, `UploadPart ${name}=${bad}`);
    const parts = [];
    for (const n of [1, 2, 3]) parts.push({ number: n, etag: (await uploadPart(client, key, uploadId, n)).etag });
    await refusedWith(client.completeMultipartUpload(key, uploadId, parts, { headers: { [PREFIX + name]: bad } } as never), ec, `Complete ${name}=${bad}`);
    // The refused Complete leaves the upload; a Complete with integer headers finishes it.
    await client.completeMultipartUpload(key, uploadId, parts, { headers: { [PREFIX + name]: name === 'data-size' ? String(DATA_SIZE) : String(PART_SIZE) } } as never);
  }
});

rules('0005-00000410: more than 10,000 parts of part-size is refused at Initiate and on a part; exactly 10,000 is accepted', async (ctx) => {
  const { client } = ctx;
  const tooMany = withMeta(UPLOAD, { 'data-size': String(10_000 * 16 + 1), 'part-size': '16' });
  await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: tooMany } as never), '0005-00000410', 'Initiate');
  const zero = withMeta(UPLOAD, { 'part-size': '0' });
  await refusedWith(client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: zero } as never), '0005-00000410', 'Initiate part-size 0');
  const { key, uploadId } = await initiateCse(ctx);
  await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(tooMany)), '0005-00000410', 'UploadPart');
  await client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { 'data-size': String(10_000 * 16), 'part-size': '16' }) } as never);
});

rules('part-size not a multiple of 16 (user guide, no EC) is refused at Initiate as InvalidArgument', async (ctx) => {
  const err = await rejects(ctx.client.initMultipartUpload(keyOf(ctx, 'mp'), { meta: withMeta(UPLOAD, { 'part-size': '1000' }) } as never));
  assert.is(err.status, 400);
  assert.is(err.code, 'InvalidArgument');
  assert.is(err.ecCode, undefined);
  assert.match(err.message, /multiple of 16/);
});

rules('0005-00000411: Complete listing more parts than ceil(data-size / part-size) is refused', async (ctx) => {
  const { client } = ctx;
  const { key, uploadId } = await initiateCse(ctx);
  const parts = [];
  for (const n of [1, 2, 3]) parts.push({ number: n, etag: (await uploadPart(client, key, uploadId, n)).etag });
  await refusedWith(
    client.completeMultipartUpload(key, uploadId, [...parts, { number: 4, etag: parts[2].etag }]),
    '0005-00000411',
    'Complete with 4 parts of 3',
  );
  const done = await client.completeMultipartUpload(key, uploadId, parts);
  assert.is(done.res.status, 200);
  assert.equal(Buffer.from((await client.get(key)).content), DATA);
  assert.equal((await client.head(key)).meta, UPLOAD);
});

const DIFFERS: [name: string, value: string, ec: string][] = [
  ['key', 'b3RoZXIta2V5', '0005-00000412'],
  ['start', 'b3RoZXItaXY=', '0005-00000413'],
  ['cek-alg', 'AES/GCM/NoPadding', '0005-00000414'],
  ['wrap-alg', 'KMS/ALICLOUD', '0005-00000415'],
  ['data-size', String(DATA_SIZE + 16), '0005-00000417'],
  ['part-size', String(PART_SIZE * 2), '0005-00000418'],
];

for (const [name, value, ec] of DIFFERS) {
  rules(`${ec}: a part whose ${name} differs from Initiate's is refused; the same part with Initiate's headers is accepted`, async (ctx) => {
    const { client, oss } = ctx;
    const { key, uploadId } = await initiateCse(ctx);
    await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(withMeta(UPLOAD, { [name]: value }))), ec, `UploadPart ${name}`);
    const ok = await uploadPart(client, key, uploadId, 1, asHeaders(UPLOAD));
    assert.is(ok.res.status, 200);
    assert.equal(oss.uploads(BUCKET).find((u) => u.uploadId === uploadId)?.parts.map((p) => p.partNumber), [1]);
  });
}

rules('0005-00000416: a part whose magic-number-hmac differs from Initiate\'s (V1 rsa) is refused', async (ctx) => {
  const { client } = ctx;
  const v1 = withMeta(UPLOAD, { 'wrap-alg': 'rsa', 'magic-number-hmac': 'aG1hYw==' });
  const { key, uploadId } = await initiateCse(ctx, v1);
  await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(withMeta(v1, { 'magic-number-hmac': 'b3RoZXI=' }))), '0005-00000416', 'UploadPart');
  await uploadPart(client, key, uploadId, 1, asHeaders(v1));
});

rules('a part of a plain upload that carries CSE headers is refused (it names parameters Initiate never set)', async (ctx) => {
  const { client } = ctx;
  const key = keyOf(ctx, 'plain-mp');
  const { uploadId } = await client.initMultipartUpload(key);
  await refusedWith(uploadPart(client, key, uploadId, 1, asHeaders(UPLOAD)), '0005-00000412', 'UploadPart');
  await uploadPart(client, key, uploadId, 1, undefined, [0, 100]);
});

rules('0005-00000419: a part before the last that is not exactly part-size bytes is refused', async (ctx) => {
  const { client, oss } = ctx;
  const { key, uploadId } = await initiateCse(ctx);
  await refusedWith(uploadPart(client, key, uploadId, 1, undefined, [0, PART_SIZE - 16]), '0005-00000419', 'part 1 short');
  await refusedWith(uploadPart(client, key, uploadId, 2, asHeaders(UPLOAD), [0, PART_SIZE + 16]), '0005-00000419', 'part 2 long');
  assert.is(oss.uploads(BUCKET).find((u) => u.uploadId === uploadId)?.parts.length, 0, 'no refused part kept');
  await uploadPart(client, key, uploadId, 1);
  await uploadPart(client, key, uploadId, 2, asHeaders(UPLOAD));
});

rules('0005-00000420: a last part that does not make the parts add up to data-size, or a part past the last, is refused', async (ctx) => {
  const { client } = ctx;
  const { key, uploadId } = await initiateCse(ctx);
  await refusedWith(uploadPart(client, key, uploadId, 3, undefined, [2048, 2048 + 16]), '0005-00000420', 'last part short');
  await refusedWith(uploadPart(client, key, uploadId, 3, undefined, [0, PART_SIZE]), '0005-00000420', 'last part of part-size');
  await refusedWith(uploadPart(client, key, uploadId, 4, undefined, [0, 16]), '0005-00000420', 'part past the last');
  const parts = [];
  for (const n of [3, 1, 2]) parts.push({ number: n, etag: (await uploadPart(client, key, uploadId, n, asHeaders(UPLOAD))).etag });
  await client.completeMultipartUpload(key, uploadId, parts.sort((a, b) => a.number - b.number));
  assert.equal(Buffer.from((await client.get(key)).content), DATA);
});

rules('a CSE upload of 0 bytes is one empty part', async (ctx) => {
  const { client } = ctx;
  const { key, uploadId } = await initiateCse(ctx, withMeta(UPLOAD, { 'data-size': '0' }));
  await refusedWith(uploadPart(client, key, uploadId, 1, undefined, [0, 16]), '0005-00000420', 'non-empty part');
  const part = await uploadPart(client, key, uploadId, 1, undefined, [0, 0]);
  await client.completeMultipartUpload(key, uploadId, [{ number: 1, etag: part.etag }]);
  assert.is((await client.head(key)).res.headers['content-length' as never], '0');
});

rules('ListParts of a CSE upload returns the ClientEncryption* fields under <ListPartsResult>; a plain upload has none', async (ctx) => {
  const { client } = ctx;
  const { key, uploadId } = await initiateCse(ctx);
  await uploadPart(client, key, uploadId, 1);
  const listed = await client.listParts(key, uploadId, {} as never);
  const xml = String((listed.res as unknown as { data: Buffer }).data);
  const root = /<ListPartsResult>([\s\S]*)<\/ListPartsResult>/.exec(xml)?.[1] ?? '';
  const topLevel = root.replace(/<Part>[\s\S]*?<\/Part>/g, '');
  const expected: Record<string, string> = {
    ClientEncryptionKey: UPLOAD['client-side-encryption-key'],
    ClientEncryptionStart: UPLOAD['client-side-encryption-start'],
    ClientEncryptionCekAlg: UPLOAD['client-side-encryption-cek-alg'],
    ClientEncryptionWrapAlg: UPLOAD['client-side-encryption-wrap-alg'],
    ClientEncryptionDataSize: String(DATA_SIZE),
    ClientEncryptionPartSize: String(PART_SIZE),
  };
  for (const [element, value] of Object.entries(expected)) {
    assert.is(new RegExp(`<${element}>([^<]*)</${element}>`).exec(topLevel)?.[1], value, element);
  }
  const plainKey = keyOf(ctx, 'plain-mp');
  const plain = await client.initMultipartUpload(plainKey);
  const plainXml = String(((await client.listParts(plainKey, plain.uploadId, {} as never)).res as unknown as { data: Buffer }).data);
  assert.not.match(plainXml, /ClientEncryption/);
});

rules('0005-00000421: CopyObject changing the metadata of a CSE object onto its own key is refused; other copies are accepted', async (ctx) => {
  const { client, oss } = ctx;
  const key = keyOf(ctx, 'enc');
  const meta = { ...ENVELOPE, label: 'one' };
  await client.put(key, Buffer.from('ciphertext'), { meta, mime: 'application/x-enc' } as never);
  await refusedWith(client.copy(key, key, { meta: { ...meta, label: 'two' } } as never), '0005-00000421', 'new user metadata');
  await refusedWith(client.copy(key, key, { meta: { label: 'only' } } as never), '0005-00000421', 'CSE metadata dropped');
  await refusedWith(client.copy(key, key, { meta, headers: { 'Content-Type': 'text/plain' } } as never), '0005-00000421', 'Content-Type changed');
  assert.equal(oss.getObject(BUCKET, key)?.meta, meta, 'metadata unchanged');
  // Changing nothing onto itself, COPY onto itself, REPLACE onto another key, and a plain object's metadata: accepted.
  await client.copy(key, key, { meta, headers: { 'Content-Type': 'application/x-enc' } } as never);
  await client.copy(key, key);
  const other = keyOf(ctx, 'enc-copy');
  await client.copy(other, key, { meta: { ...meta, label: 'two' } } as never);
  assert.equal(oss.getObject(BUCKET, other)?.meta, { ...meta, label: 'two' });
  const plain = keyOf(ctx, 'plain');
  await client.put(plain, Buffer.from('x'), { meta: { label: 'one' } } as never);
  await client.copy(plain, plain, { meta: { label: 'two' } } as never);
  assert.equal(oss.getObject(BUCKET, plain)?.meta, { label: 'two' });
});

rules('0042-00000309: UploadPartCopy from a CSE source is refused; from a plain source accepted', async (ctx) => {
  const { client } = ctx;
  const encrypted = keyOf(ctx, 'enc');
  await client.put(encrypted, Buffer.from('ciphertext'), { meta: ENVELOPE } as never);
  const plainSource = keyOf(ctx, 'plain');
  await client.put(plainSource, Buffer.from('plaintext'));
  const target = keyOf(ctx, 'target');
  const { uploadId } = await client.initMultipartUpload(target);
  await refusedWith(
    client.uploadPartCopy(target, uploadId, 1, '0-9', { sourceKey: encrypted, sourceBucketName: BUCKET } as never, {}),
    '0042-00000309',
    'UploadPartCopy',
  );
  const part = await client.uploadPartCopy(target, uploadId, 1, '0-8', { sourceKey: plainSource, sourceBucketName: BUCKET } as never, {});
  await client.completeMultipartUpload(target, uploadId, [{ number: 1, etag: part.etag }]);
  assert.is(String((await client.get(target)).content), 'plaintext');
});

rules.run();
