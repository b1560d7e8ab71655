/**
 * Encrypted multipart over real HTTP: the real `ali-oss` client against the loopback OSS stand-in, the real KMS
 * client against the KMS stand-in; RSA (PKCS#1 v1.5 and OAEP) and KMS (Go and oss2 layerings); the default (WASM)
 * and native engines.
 *
 * Proves (bindings/upload/parts-api.ts, source.ts, managed-upload.ts, upload-run.ts):
 * - low level: Initiate carries every V2 header plus data-size and part-size, OSS copies them onto the object;
 *   parts sent out of order and in parallel decrypt byte-exact (node:crypto, independently of our engines);
 * - the part rules: every PartError / RangeError / CheckpointError case, each before any request;
 * - the crypto context: JSON without the plain key, a parsed context unwraps once per client, two child
 *   processes upload parts of one object that the parent completes, byte-exact;
 * - completion: missing parts refused, CRC-64 of the parts checked against the object's (INTEGRITY_CRC64);
 * - multipartUpload from a path, Buffer, Uint8Array, Blob, Readable (known and unknown size), ReadableStream,
 *   the empty file; ali-oss's progress sequence and result shape; meta/headers/mime; `parallel` respected; a
 *   stream read no further ahead than the parts in flight.
 * @module
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { CheckpointError, IntegrityError, PartError, UnsupportedOperationError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { serializeMultipartCryptoContext, type UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import type { UploadedPart } from '../bindings/upload/parts-api.js';
import { materialFromSpec, startChild, type MaterialSpec } from './support/upload-child.js';
import { isCode, pseudoRandomBytes, rejects } from './_util.js';
import { assertNoKeyIn, multipartHarness } from './support/multipart-harness.js';

const BUCKET = 'mp-bkt';
const KIB100 = 100 * 1024;
const BACKENDS = ['wasm', 'native'] as const;

const { env, setup, client, storedPlain } = multipartHarness(BUCKET, 'oss-crypto-mp-');

const kindsSince = (mark: number) => env.oss.log.slice(mark).map((e) => e.kind);
const count = (mark: number, kind: string) => kindsSince(mark).filter((k) => k === kind).length;

/** The key and IV behind a wrapped key, to prove they appear nowhere. */
async function plainKeyOf(wrapped: { wrapAlg: string; wrappedKey: string; wrappedStart: string; matdesc: Record<string, string> }, spec: MaterialSpec) {
  return new KeyRing({ default: await materialFromSpec(spec) }).unwrap({ format: 'v2', ...wrapped });
}


// ---------------------------------------------------------------------------------------------------------------
const low = suite('multipart low level: Initiate headers, parts in any order and in parallel, byte-exact');
setup(low);

for (const m of [0, 1, 2, 3]) {
  for (const backend of BACKENDS) {
    low(`material #${m + 1} (rsa-pkcs1, rsa-oaep, kms-go, kms-oss2) / ${backend}`, async () => {
      const { name: mname, wrapAlg, spec } = env.materials[m];
      const c = await client(spec, backend);
      const key = `low/${mname}/${backend}`;
      const dataSize = 3 * KIB100 + 5;
      const data = Buffer.from(pseudoRandomBytes(dataSize, m * 10 + backend.length));
      const mark = env.oss.log.length;
      const init = await c.initMultipartUpload(key, { dataSize, partSize: KIB100, meta: { owner: 'tests' } });
      assert.is(init.res.status, 200);
      assert.is(init.name, key);
      assert.is(init.bucket, BUCKET);
      assert.type(init.uploadId, 'string');

      // Initiate carries the full V2 set plus the multipart sizes (docs/FORMAT.md §5).
      const sent = env.oss.log[mark].headers;
      assert.is(env.oss.log[mark].kind, 'initiate');
      assert.is(sent['x-oss-meta-client-side-encryption-cek-alg'], 'AES/CTR/NoPadding');
      assert.is(sent['x-oss-meta-client-side-encryption-wrap-alg'], wrapAlg);
      assert.is(sent['x-oss-meta-client-side-encryption-data-size'], String(dataSize));
      assert.is(sent['x-oss-meta-client-side-encryption-part-size'], String(KIB100));
      assert.is(sent['x-oss-meta-client-side-encryption-key'], init.context.wrappedKey);
      assert.is(sent['x-oss-meta-client-side-encryption-start'], init.context.wrappedStart);
      assert.is(sent['x-oss-meta-owner'], 'tests');

      // The context is small JSON with the wrapped key only.
      const json = JSON.stringify(init.context);
      assert.equal(Object.keys(JSON.parse(json)).sort(), ['bucket', 'dataSize', 'matdesc', 'name', 'partSize', 'type', 'uploadId', 'version', 'wrapAlg', 'wrappedKey', 'wrappedStart']);
      assertNoKeyIn(json, await plainKeyOf(init.context, spec));

      const decryptsBefore = env.kms.count('Decrypt');
      const order = [3, 1, 4, 2];
      const results = await Promise.all(
        order.map((n) => c.uploadPart(key, init.uploadId, n, data.subarray((n - 1) * KIB100, Math.min(n * KIB100, dataSize)), init.context)),
      );
      assert.is(env.kms.count('Decrypt'), decryptsBefore, 'the process that drew the key never unwraps it');
      for (const [i, r] of results.entries()) {
        assert.is(r.part.number, order[i]);
        assert.is(r.etag, r.part.etag);
        assert.ok(/^\d+$/.test(r.part.crc64!), 'the part CRC-64 from the UploadPart response is recorded');
      }
      const done = await c.completeMultipartUpload(key, init.uploadId, results.map((r) => r.part), { context: init.context });
      assert.is(done.res.status, 200);

      const stored = env.oss.getObject(BUCKET, key)!;
      assert.is(stored.type, 'Multipart');
      assert.is(stored.meta['client-side-encryption-data-size'], String(dataSize), 'OSS copies Initiate metadata onto the object');
      assert.is(stored.meta['client-side-encryption-part-size'], String(KIB100));
      assert.is(stored.meta.owner, 'tests');
      assert.not.ok(stored.body!.equals(data));
      assert.ok((await storedPlain(key, spec)).equals(data), 'node:crypto decrypts the assembled object byte-exact');
      const got = await c.get(key);
      assert.ok(got.content.equals(data), 'and so does the client');
    });
  }
}

low.run();

// ---------------------------------------------------------------------------------------------------------------
const rules = suite('multipart low level: part rules, refused before any request');
setup(rules);

rules('initMultipartUpload: bad sizes are RangeError / PartError, and no key is drawn', async () => {
  const c = await client(env.materials[2].spec);
  const mark = env.oss.log.length;
  const encrypts = env.kms.count();
  await rejects(c.initMultipartUpload('r/a', { dataSize: 300_000, partSize: 100_001 }), (e) => {
    assert.instance(e, RangeError);
    assert.match(e.message, '"partSize" expected a multiple of 16, got 100001');
  });
  await rejects(c.initMultipartUpload('r/a', { dataSize: -1, partSize: KIB100 }), (e) => assert.instance(e, RangeError));
  await rejects(c.initMultipartUpload('r/a', { dataSize: 1.5, partSize: KIB100 }), (e) => assert.instance(e, RangeError));
  await rejects(c.initMultipartUpload('r/a', {} as any), (e) => assert.match(e.message, '"dataSize"'));
  await rejects(c.initMultipartUpload('r/a', { dataSize: 300_000, partSize: 1024 }), isCode(PartError, 'PART_INVALID'));
  await rejects(c.initMultipartUpload('r/a', { dataSize: KIB100 * 10_001, partSize: KIB100 }), (e) => {
    isCode(PartError, 'PART_INVALID')(e);
    assert.match(e.message, '10001 parts');
  });
  await rejects(c.initMultipartUpload('r/a', { dataSize: 10, meta: { 'client-side-encryption-key': 'x' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  assert.is(env.oss.log.length, mark, 'no request reached OSS');
  assert.is(env.kms.count(), encrypts, 'no content key was drawn');
});

rules('uploadPart: part numbers and lengths outside the plan are PartError; context mismatches are CheckpointError', async () => {
  const c = await client();
  const dataSize = 3 * KIB100 + 5;
  const { uploadId, context } = await c.initMultipartUpload('r/parts', { dataSize, partSize: KIB100 });
  const mark = env.oss.log.length;
  const full = new Uint8Array(KIB100);
  const cases: Array<[number, number, RegExp]> = [
    [0, KIB100, /part numbers start at 1/],
    [5, 5, /beyond the plan/],
    [2, KIB100 - 1, /expected 102400 bytes \(partSize\), got 102399/],
    [2, KIB100 + 16, /expected 102400 bytes/],
    [4, 4, /last part and expected 5 bytes/],
    [4, 6, /last part and expected 5 bytes/],
  ];
  for (const [n, len, message] of cases) {
    await rejects(c.uploadPart('r/parts', uploadId, n, new Uint8Array(len), context), (e) => {
      isCode(PartError, 'PART_INVALID')(e);
      assert.match(e.message, message);
    });
  }
  await rejects(c.uploadPart('r/parts', uploadId, 1.5, full, context), (e) => assert.instance(e, RangeError));
  await rejects(c.uploadPart('r/parts', uploadId, 1, 'text' as any, context), (e) => assert.instance(e, TypeError));
  await rejects(c.uploadPart('r/other', uploadId, 1, full, context), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'the context is for object "r/parts"');
  });
  await rejects(c.uploadPart('r/parts', 'another-upload', 1, full, context), isCode(CheckpointError, 'CHECKPOINT_MISMATCH'));
  const withKey = { ...JSON.parse(JSON.stringify(context)), key: 'AAAA' };
  await rejects(c.uploadPart('r/parts', uploadId, 1, full, withKey), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MALFORMED')(e);
    assert.match(e.message, 'unknown field "key"');
  });
  const badPlan = { ...JSON.parse(JSON.stringify(context)), partSize: 100 };
  await rejects(c.uploadPart('r/parts', uploadId, 1, full, badPlan), isCode(CheckpointError, 'CHECKPOINT_MALFORMED'));
  await rejects(c.uploadPart('r/parts', uploadId, 1, full, undefined as any), (e) => assert.instance(e, TypeError));
  assert.is(env.oss.log.length, mark, 'no request reached OSS');
});

rules('completeMultipartUpload with the context: missing or conflicting parts are refused before the request', async () => {
  const c = await client();
  const dataSize = 3 * KIB100;
  const data = Buffer.from(pseudoRandomBytes(dataSize, 4));
  const { uploadId, context } = await c.initMultipartUpload('r/complete', { dataSize, partSize: KIB100 });
  const parts: UploadedPart[] = [];
  for (const n of [1, 2]) parts.push((await c.uploadPart('r/complete', uploadId, n, data.subarray((n - 1) * KIB100, n * KIB100), context)).part);
  const mark = env.oss.log.length;
  await rejects(c.completeMultipartUpload('r/complete', uploadId, parts, { context }), (e) => {
    isCode(PartError, 'PART_INVALID')(e);
    assert.match(e.message, 'part 3 of 3');
    assert.match(e.message, 'missing');
  });
  await rejects(c.completeMultipartUpload('r/complete', uploadId, [...parts, { number: 2, etag: '"00"' }], { context }), (e) => {
    isCode(PartError, 'PART_INVALID')(e);
    assert.match(e.message, 'listed twice');
  });
  await rejects(c.completeMultipartUpload('r/complete', uploadId, [...parts, { number: 4, etag: '"00"' }], { context }), isCode(PartError, 'PART_INVALID'));
  assert.is(count(mark, 'complete'), 0);
  parts.push((await c.uploadPart('r/complete', uploadId, 3, data.subarray(2 * KIB100), context)).part);
  // Parts in any order, and a repeated identical record, complete fine.
  await c.completeMultipartUpload('r/complete', uploadId, [parts[2], parts[0], parts[1], parts[0]], { context });
  assert.ok((await storedPlain('r/complete', env.materials[0].spec)).equals(data));
});

rules('abortMultipartUpload and listParts pass through', async () => {
  const c = await client();
  const { uploadId, context } = await c.initMultipartUpload('r/abort', { dataSize: 2 * KIB100, partSize: KIB100 });
  await c.uploadPart('r/abort', uploadId, 2, new Uint8Array(KIB100), context);
  const listed = await c.listParts('r/abort', uploadId);
  // ali-oss's XML parsing gives a single part as an object, not an array: passed through as ali-oss returns it.
  assert.is(Number((Array.isArray(listed.parts) ? listed.parts[0] : listed.parts).PartNumber), 2);
  assert.is(listed.uploadId, uploadId);
  assert.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === uploadId));
  await c.abortMultipartUpload('r/abort', uploadId);
  assert.not.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === uploadId));
});

rules.run();

// ---------------------------------------------------------------------------------------------------------------
const ctxs = suite('multipart crypto context: JSON, unwrap once, two child processes');
setup(ctxs);

ctxs('a context parsed from JSON, used by another client, unwraps its key once for many parallel parts', async () => {
  const spec = env.materials[0].spec;
  const starter = await client(spec);
  const dataSize = 4 * KIB100 + 33;
  const data = Buffer.from(pseudoRandomBytes(dataSize, 9));
  const { uploadId, context } = await starter.initMultipartUpload('ctx/json', { dataSize, partSize: KIB100 });
  const text = serializeMultipartCryptoContext(context);
  assertNoKeyIn(text, await plainKeyOf(context, spec));

  // A second client whose key ring counts unwraps.
  const ring = new KeyRing({ default: await materialFromSpec(spec) });
  let unwraps = 0;
  const counting = { createContentKey: () => ring.createContentKey(), unwrap: (w: any) => (unwraps++, ring.unwrap(w)) };
  const worker = new CryptoClient(env.oss.client(BUCKET) as any, { keyring: counting, retry: { retries: 0 } });
  const parsed = JSON.parse(text);
  const parts = await Promise.all(
    [1, 2, 3, 4, 5].map((n) => worker.uploadPart('ctx/json', uploadId, n, data.subarray((n - 1) * KIB100, Math.min(n * KIB100, dataSize)), parsed)),
  );
  assert.is(unwraps, 1, 'one unwrap for five parts');
  assertNoKeyIn(JSON.stringify(parsed), await plainKeyOf(context, spec));
  await starter.completeMultipartUpload('ctx/json', uploadId, parts.map((p) => p.part), { context: parsed });
  assert.ok((await storedPlain('ctx/json', spec)).equals(data));
});

ctxs('a failed unwrap is not cached: the next part tries again', async () => {
  const spec = env.materials[2].spec;
  const starter = await client(spec);
  const { uploadId, context } = await starter.initMultipartUpload('ctx/retry', { dataSize: 16, partSize: KIB100 });
  const worker = await client(spec);
  const parsed = JSON.parse(JSON.stringify(context));
  env.kms.failNext(2, { action: 'Decrypt', status: 400, code: 'InvalidParameter' });
  await rejects(worker.uploadPart('ctx/retry', uploadId, 1, new Uint8Array(16), parsed), (e) => assert.ok(e instanceof Error));
  const r = await worker.uploadPart('ctx/retry', uploadId, 1, new Uint8Array(16), parsed);
  await starter.completeMultipartUpload('ctx/retry', uploadId, [r.part], { context });
  assert.ok((await storedPlain('ctx/retry', spec)).equals(Buffer.alloc(16)));
});

for (const m of [0, 1, 2, 3]) {
  ctxs(`material #${m + 1}: parts uploaded by two child processes, completed by the parent, decrypt byte-exact`, async () => {
    const { name: mname, spec } = env.materials[m];
    const parent = await client(spec, 'wasm');
    const key = `ctx/children/${mname}`;
    const dataSize = 4 * KIB100 + 1000;
    const data = Buffer.from(pseudoRandomBytes(dataSize, 100 + m));
    const dataPath = join(env.dir, `children-${mname}.bin`);
    writeFileSync(dataPath, data);
    const { uploadId, context } = await parent.initMultipartUpload(key, { dataSize, partSize: KIB100 });
    const contextPath = join(env.dir, `children-${mname}.context.json`);
    writeFileSync(contextPath, serializeMultipartCryptoContext(context));
    const decryptsBefore = env.kms.count('Decrypt');
    const mark = env.oss.log.length;
    const jobs = [
      { parts: [1, 3, 5], backend: 'wasm' },
      { parts: [2, 4], backend: 'native' },
    ].map((j, i) => {
      const jobPath = join(env.dir, `children-${mname}-${i}.job.json`);
      writeFileSync(jobPath, JSON.stringify({ mode: 'parts', oss: env.oss.clientOptions(BUCKET), material: spec, contextPath, dataPath, ...j }));
      return startChild(jobPath);
    });
    const outcomes = await Promise.all(jobs.map((c) => c.exited));
    for (const o of outcomes) assert.is(o.code, 0, o.stderr);
    const parts = jobs.flatMap((c) => c.events.find((e) => e.event === 'done')!.parts as UploadedPart[]);
    assert.equal(parts.map((p) => p.number).sort(), [1, 2, 3, 4, 5]);
    assert.is(count(mark, 'uploadPart'), 5, 'the children sent the five parts');
    if (spec.kind === 'kms') assert.is(env.kms.count('Decrypt') - decryptsBefore, 4, 'each child unwrapped once: one Decrypt for the key, one for the IV');
    await parent.completeMultipartUpload(key, uploadId, parts, { context });
    assert.ok((await storedPlain(key, spec)).equals(data), 'node:crypto decrypts it byte-exact');
    assert.ok((await parent.get(key)).content.equals(data));
  });
}

ctxs.run();

// ---------------------------------------------------------------------------------------------------------------
const crc = suite('multipart completion: CRC-64 of the parts against the object');
setup(crc);

crc('the combined part CRC-64s match the object CRC-64 OSS reports; a wrong part CRC is INTEGRITY_CRC64', async () => {
  const c = await client();
  const dataSize = 2 * KIB100 + 7;
  const data = Buffer.from(pseudoRandomBytes(dataSize, 21));
  const upload = async (key: string) => {
    const { uploadId, context } = await c.initMultipartUpload(key, { dataSize, partSize: KIB100 });
    const parts = await Promise.all([1, 2, 3].map((n) => c.uploadPart(key, uploadId, n, data.subarray((n - 1) * KIB100, Math.min(n * KIB100, dataSize)), context)));
    return { uploadId, context, parts: parts.map((p) => p.part) };
  };
  const good = await upload('crc/good');
  const done = await c.completeMultipartUpload('crc/good', good.uploadId, good.parts, { context: good.context });
  assert.is(done.res.headers['x-oss-hash-crc64ecma'], String(env.oss.getObject(BUCKET, 'crc/good')!.crc64));

  const bad = await upload('crc/bad');
  const altered = bad.parts.map((p) => (p.number === 2 ? { ...p, crc64: String(BigInt(p.crc64!) ^ 1n) } : p));
  await rejects(c.completeMultipartUpload('crc/bad', bad.uploadId, altered, { context: bad.context }), (e) => {
    isCode(IntegrityError, 'INTEGRITY_CRC64')(e);
    assert.match(e.message, String(env.oss.getObject(BUCKET, 'crc/bad')!.crc64));
    assert.match(e.message, '3 parts');
  });

  // Without part CRCs (e.g. records from another tool) there is nothing to combine: no check, no error.
  const bare = await upload('crc/bare');
  await c.completeMultipartUpload('crc/bare', bare.uploadId, bare.parts.map(({ number, etag }) => ({ number, etag })), { context: bare.context });
  assert.ok((await storedPlain('crc/bare', env.materials[0].spec)).equals(data));
});

crc.run();

// ---------------------------------------------------------------------------------------------------------------
const mpu = suite('multipartUpload: sources, progress, result, options');
setup(mpu);

for (const m of [0, 1, 2, 3]) {
  mpu(`material #${m + 1}: a file path in parallel parts; ali-oss's progress sequence and result; byte-exact`, async () => {
    const { name: mname, spec } = env.materials[m];
    const c = await client(spec, m % 2 === 0 ? 'wasm' : 'native');
    const size = 10 * KIB100 + 3;
    const data = Buffer.from(pseudoRandomBytes(size, 200 + m));
    const path = join(env.dir, `mpu-${mname}.txt`);
    writeFileSync(path, data);
    const calls: Array<{ p: number; cp: UploadCheckpoint | null; status: number }> = [];
    const key = `mpu/path/${mname}`;
    const mark = env.oss.log.length;
    const result = await c.multipartUpload(key, path, {
      partSize: KIB100,
      parallel: 3,
      meta: { owner: 'me' },
      progress: (p, cp, res) => {
        calls.push({ p, cp, status: res.status });
      },
    });
    assert.equal(Object.keys(result).sort(), ['bucket', 'etag', 'name', 'res']);
    assert.is(result.name, key);
    assert.is(result.bucket, BUCKET);
    assert.is(result.res.status, 200);
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.is(result.etag, stored.etag);
    assert.equal(kindsSince(mark), ['initiate', ...Array(11).fill('uploadPart'), 'complete']);

    // ali-oss: 0 after Initiate, done/(parts+1) after each part, 1 with a null checkpoint after Complete.
    assert.equal(calls.map((c) => c.p), [0, ...Array.from({ length: 11 }, (_, i) => (i + 1) / 12), 1]);
    assert.is(calls[12].cp, null);
    for (const [i, call] of calls.slice(0, 12).entries()) {
      assert.is(call.cp!.doneParts.length, i);
      assert.is(call.cp!.uploadId, calls[0].cp!.uploadId);
      assert.equal(call.cp!.file, { path, size, mtimeMs: call.cp!.file!.mtimeMs });
      assert.ok(Object.isFrozen(call.cp));
    }
    assert.equal(calls[11].cp!.doneParts.map((d) => d.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assertNoKeyIn(JSON.stringify(calls[11].cp), await plainKeyOf(calls[11].cp!, spec));

    assert.is(stored.meta['client-side-encryption-data-size'], String(size));
    assert.is(stored.meta['client-side-encryption-part-size'], String(KIB100));
    assert.is(stored.meta.owner, 'me');
    assert.is(stored.contentType, 'text/plain', 'Content-Type from the extension, as ali-oss');
    assert.ok((await storedPlain(key, spec)).equals(data));
  });
}

mpu('Buffer, Uint8Array, Blob, Readable (known and unknown size), ReadableStream, empty: all byte-exact', async () => {
  const spec = env.materials[1].spec;
  const c = await client(spec, 'wasm');
  const size = 3 * KIB100 + 100;
  const data = Buffer.from(pseudoRandomBytes(size, 31));
  const chunks = () => Array.from({ length: Math.ceil(size / 7000) }, (_, i) => data.subarray(i * 7000, (i + 1) * 7000));
  const cases: Array<[string, () => unknown, Record<string, unknown>]> = [
    ['buffer', () => data, {}],
    ['uint8array', () => new Uint8Array(data), {}],
    ['blob', () => new Blob([data]), {}],
    ['readable-known', () => Readable.from(chunks()), { contentLength: size }],
    ['readable-unknown', () => Readable.from(chunks()), {}],
    ['webstream', () => Readable.toWeb(Readable.from(chunks())), {}],
  ];
  for (const [label, make, extra] of cases) {
    const key = `src/${label}`;
    const mark = env.oss.log.length;
    await c.multipartUpload(key, make() as any, { partSize: KIB100, parallel: 2, mime: 'application/x-test', ...extra });
    assert.ok((await storedPlain(key, spec)).equals(data), label);
    assert.is(count(mark, 'uploadPart'), 4, label);
    assert.is(env.oss.getObject(BUCKET, key)!.contentType, 'application/x-test', label);
    // Every source, streams of unknown size included (measured first: spooled as ciphertext), declares its exact
    // size at Initiate, as OSS requires (0005-00000406/407); and every part carries Initiate's V2 headers.
    const initiated = env.oss.log[mark].headers;
    assert.is(initiated['x-oss-meta-client-side-encryption-data-size'], String(size), label);
    assert.is(initiated['x-oss-meta-client-side-encryption-part-size'], String(KIB100), label);
    for (const e of env.oss.log.slice(mark).filter((x) => x.kind === 'uploadPart')) {
      for (const h of ['key', 'start', 'cek-alg', 'wrap-alg', 'matdesc', 'data-size', 'part-size']) {
        const name = `x-oss-meta-client-side-encryption-${h}`;
        assert.is(e.headers[name], initiated[name], `${label}: UploadPart ${h}`);
      }
    }
  }
  assert.ok(data.equals(Buffer.from(pseudoRandomBytes(size, 31))), 'the caller\'s buffer is not modified');

  for (const [label, body] of [['empty-buffer', Buffer.alloc(0)], ['empty-stream', Readable.from([])]] as const) {
    const mark = env.oss.log.length;
    await c.multipartUpload(`src/${label}`, body as any, {});
    assert.equal(kindsSince(mark), ['initiate', 'uploadPart', 'complete'], 'one empty part');
    assert.is(env.oss.getObject(BUCKET, `src/${label}`)!.size, 0);
  }

  // A stream of unknown size that ends exactly on a part boundary: no empty extra part.
  const exact = data.subarray(0, 2 * KIB100);
  const mark = env.oss.log.length;
  await c.multipartUpload('src/exact', Readable.from([exact]), { partSize: KIB100 });
  assert.is(count(mark, 'uploadPart'), 2);
  assert.ok((await storedPlain('src/exact', spec)).equals(exact));

  // A stream shorter or longer than its announced size is INTEGRITY_LENGTH before Complete; the upload is aborted.
  const before = env.oss.uploads(BUCKET).length;
  await rejects(c.multipartUpload('src/short', Readable.from([data.subarray(0, 1000)]), { contentLength: 2000 }), isCode(IntegrityError, 'INTEGRITY_LENGTH', /ended after 1000 bytes/));
  await rejects(c.multipartUpload('src/long', Readable.from([data.subarray(0, 3000)]), { contentLength: 2000 }), isCode(IntegrityError, 'INTEGRITY_LENGTH', /more than the 2000 bytes/));
  const tooLong = Readable.from(chunks());
  await rejects(c.multipartUpload('src/long-multi', tooLong, { contentLength: size - 1, partSize: KIB100 }), isCode(IntegrityError, 'INTEGRITY_LENGTH'));
  for (const k of ['src/short', 'src/long', 'src/long-multi']) assert.is(env.oss.getObject(BUCKET, k), undefined, `${k} never completed`);
  assert.is(env.oss.uploads(BUCKET).length, before, 'the broken uploads were aborted');
});

mpu('a stream of unknown size longer than one part is spooled as ciphertext (0600, removed after); spool: false refuses before any request', async () => {
  const spec = env.materials[0].spec;
  const c = await client(spec, 'default');
  const data = Buffer.from(pseudoRandomBytes(2 * KIB100 + 5, 41));
  const spoolDir = mkdtempSync(join(tmpdir(), 'oss-crypto-spool-test-'));
  const seen: Array<{ mode: number; bytes: Buffer }> = [];
  try {
    await c.multipartUpload('spool/ok', Readable.from([data.subarray(0, 7), data.subarray(7)]), {
      partSize: KIB100,
      spool: spoolDir,
      // progress(0) runs after Initiate, while the spooled file is in use.
      progress: (p: number) => {
        if (p !== 0) return;
        for (const d of readdirSync(spoolDir)) {
          const f = join(spoolDir, d, 'ciphertext');
          seen.push({ mode: statSync(f).mode & 0o777, bytes: readFileSync(f) });
          assert.is(statSync(join(spoolDir, d)).mode & 0o077, 0, 'the spool directory is private');
        }
      },
    });
    assert.is(seen.length, 1, 'one spooled file while the upload ran');
    assert.is(seen[0].mode, 0o600);
    assert.is(seen[0].bytes.length, data.length);
    assert.not.ok(seen[0].bytes.includes(data.subarray(0, 64)), 'the spooled file holds no plaintext');
    assert.ok(seen[0].bytes.equals(env.oss.getObject(BUCKET, 'spool/ok')!.body!), 'it holds exactly the stored ciphertext');
    assert.ok((await storedPlain('spool/ok', spec)).equals(data));
    assert.equal(readdirSync(spoolDir), [], 'removed afterwards');

    // A stream that fails while it is spooled leaves no file behind, and nothing was sent.
    const mark = env.oss.log.length;
    const failing = Readable.from((async function* () {
      yield data.subarray(0, 2 * KIB100);
      throw new Error('source broke');
    })());
    await rejects(c.multipartUpload('spool/broken', failing, { partSize: KIB100, spool: spoolDir }), (e) => assert.match(e.message, 'source broke'));
    assert.equal(readdirSync(spoolDir), []);
    assert.equal(kindsSince(mark), []);

    // Within one part it stays in memory: no file.
    await c.multipartUpload('spool/small', Readable.from([data.subarray(0, 1000)]), { partSize: KIB100, spool: spoolDir });
    assert.ok((await storedPlain('spool/small', spec)).equals(data.subarray(0, 1000)));

    const mark2 = env.oss.log.length;
    await rejects(
      c.multipartUpload('spool/refused', Readable.from([data]), { partSize: KIB100, spool: false }),
      isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED', /contentLength/),
    );
    assert.equal(kindsSince(mark2), [], 'refused before any request');
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
});

mpu('partSize 5 GiB (OSS\'s limit) for a 3 MB Buffer, file and stream: one part, and no 5 GiB buffer (it used to throw Invalid typed array length)', async () => {
  const c = await client();
  const data = Buffer.from(pseudoRandomBytes(3 * 1024 * 1024 + 3, 12));
  const path = join(env.dir, 'five-gib.bin');
  writeFileSync(path, data);
  const before = process.memoryUsage().arrayBuffers;
  for (const [label, body] of [['buffer', data], ['file', path], ['stream', Readable.from([data])]] as const) {
    const mark = env.oss.log.length;
    await c.multipartUpload(`five-gib/${label}`, body as any, { partSize: 5 * 1024 ** 3, parallel: 4 });
    assert.is(count(mark, 'uploadPart'), 1, label);
    assert.ok((await storedPlain(`five-gib/${label}`, env.materials[0].spec)).equals(data), label);
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 256 * 1024 * 1024, 'no allocation near the part size');
});

mpu('the content key this upload drew is zeroed when it ends, in success and in failure', async () => {
  const inner = new KeyRing({ default: await materialFromSpec(env.materials[0].spec) });
  const drawn: Array<{ key: Uint8Array; iv: Uint8Array }> = [];
  const keyring = {
    async createContentKey() {
      const created = await inner.createContentKey();
      drawn.push(created.content);
      return created;
    },
    unwrap: (w: Parameters<KeyRing['unwrap']>[0]) => inner.unwrap(w),
  };
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: { retries: 0 } });
  const data = Buffer.from(pseudoRandomBytes(2 * KIB100 + 3, 77));
  await c.multipartUpload('wipe/ok', data, { partSize: KIB100 });
  assert.ok((await storedPlain('wipe/ok', env.materials[0].spec)).equals(data), 'the upload itself is intact');
  env.oss.inject({ kind: 'uploadPart', times: Infinity, status: 403, code: 'AccessDenied' });
  await rejects(c.multipartUpload('wipe/failed', data, { partSize: KIB100 }), (e) => assert.is(e.code, 'AccessDenied'));
  assert.is(drawn.length, 2);
  for (const content of drawn) {
    assert.ok(content.key.every((b) => b === 0) && content.iv.every((b) => b === 0), 'key and IV are zeroed');
  }
});

mpu('parallel: at most `parallel` parts in flight, and that many are used', async () => {
  const c = await client();
  const oss = c.oss as any;
  const real = oss.uploadPart.bind(oss);
  let inFlight = 0;
  let peak = 0;
  let calls = 0;
  let wave = { parallel: 0, full: () => {}, reached: Promise.resolve() };
  oss.uploadPart = async (...args: unknown[]) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    calls++;
    try {
      // The first `parallel` parts wait for each other (up to 10 s), so that reaching the peak depends on the
      // upload starting that many parts at once, not on how the machine schedules encryption and sockets.
      if (calls <= wave.parallel) {
        if (inFlight === wave.parallel) wave.full();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([wave.reached, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
      }
      return await real(...args);
    } finally {
      inFlight--;
    }
  };
  env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 20 });
  for (const parallel of [1, 3]) {
    peak = 0;
    calls = 0;
    let full = () => {};
    const reached = new Promise<void>((r) => (full = r));
    wave = { parallel, full, reached };
    await c.multipartUpload(`par/${parallel}`, Buffer.from(pseudoRandomBytes(8 * KIB100, 5)), { partSize: KIB100, parallel });
    assert.is(peak, parallel);
  }
});

mpu('a stream is read no further ahead than the parts in flight (bounded memory)', async () => {
  const c = await client();
  const size = 24 * KIB100;
  const data = Buffer.from(pseudoRandomBytes(size, 77));
  let produced = 0;
  let completed = 0;
  let maxAhead = 0;
  async function* source() {
    for (let at = 0; at < size; at += 16 * 1024) {
      const chunk = data.subarray(at, at + 16 * 1024);
      produced += chunk.length;
      maxAhead = Math.max(maxAhead, produced - completed);
      yield chunk;
    }
  }
  env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 15 });
  await c.multipartUpload('bounded/stream', Readable.from(source()), {
    partSize: KIB100,
    parallel: 2,
    progress: (_p, cp) => {
      if (cp !== null) completed = cp.doneParts.length * KIB100;
    },
    contentLength: size,
  });
  // Two parts in flight, one being read, plus Readable.from's buffer of 16 chunks of 16 KiB.
  const bound = 3 * KIB100 + 16 * 16 * 1024 + 16 * 1024;
  assert.ok(maxAhead <= bound, `read ${maxAhead} bytes ahead of the uploaded parts; bound ${bound}`);
  assert.ok(maxAhead < size / 2, 'the stream was not read up front');
  assert.ok((await storedPlain('bounded/stream', env.materials[0].spec)).equals(data));
});

mpu('an options object that went through ali-oss\'s own multipartUpload can be reused (its Content-Length is dropped)', async () => {
  const c = await client();
  const data = Buffer.from(pseudoRandomBytes(2 * KIB100 + 9, 12));
  const options: Record<string, any> = { partSize: KIB100, parallel: 2 };
  await env.oss.client(BUCKET, { timeout: 3000 }).multipartUpload('reuse/plain', data, options);
  assert.ok(Object.keys(options.headers).some((k) => k.toLowerCase() === 'content-length'), 'ali-oss wrote into the options');
  const mark = env.oss.log.length;
  await c.multipartUpload('reuse/encrypted', data, options);
  assert.is(env.oss.log[mark].headers['content-length'], '0', 'Initiate announces no body');
  assert.ok((await storedPlain('reuse/encrypted', env.materials[0].spec)).equals(data));
});

mpu('bad options and encryption metadata are refused before any request', async () => {
  const c = await client();
  const mark = env.oss.log.length;
  const data = Buffer.alloc(1000);
  await rejects(c.multipartUpload('bad/a', data, { partSize: 100_001 }), (e) => {
    assert.instance(e, RangeError);
    assert.match(e.message, '"partSize" expected a positive multiple of 16, got 100001');
  });
  await rejects(c.multipartUpload('bad/a', data, { parallel: 0 }), (e) => assert.instance(e, RangeError));
  await rejects(c.multipartUpload('bad/a', data, { progress: 'yes' as any }), (e) => assert.instance(e, TypeError));
  await rejects(c.multipartUpload('bad/a', 42 as any, {}), (e) => assert.instance(e, TypeError));
  await rejects(c.multipartUpload('bad/a', data, { headers: { 'x-oss-meta-client-side-encryption-start': 'x' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.multipartUpload('bad/a', data, { meta: { 'client-side-encryption-part-size': '16' } }), isCode(UnsupportedOperationError, 'OPERATION_UNSUPPORTED'));
  await rejects(c.multipartUpload('bad/a', join(env.dir, 'missing.bin'), {}), (e) => assert.is(e.code, 'ENOENT'));
  // Parts below OSS's 100 KiB minimum (for a file that needs several).
  await rejects(c.multipartUpload('bad/a', Buffer.alloc(3000), { partSize: 1024 }), isCode(PartError, 'PART_INVALID'));
  assert.is(env.oss.log.length, mark);
});

mpu.run();
