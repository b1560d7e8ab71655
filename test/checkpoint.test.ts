/**
 * Tests of bindings/upload/checkpoint.ts and bindings/download/checkpoint.ts: round trips (fast-check), every
 * malformed field refused with CHECKPOINT_MALFORMED, mismatches with CHECKPOINT_MISMATCH and messages that say
 * where the numbers came from, and proof that no serialisation ever carries the plain content key.
 * @module
 */
import { constants, publicEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkDownloadCheckpointMatches,
  createDownloadCheckpoint,
  downloadParts,
  parseDownloadCheckpoint,
  pendingDownloadParts,
  serializeDownloadCheckpoint,
  withDownloadedPart,
  type DownloadCheckpoint,
} from '../bindings/download/checkpoint.js';
import { CheckpointError } from '../bindings/errors.js';
import type { ContentKey, Matdesc } from '../bindings/keys/types.js';
import {
  checkUploadCheckpointMatches,
  createMultipartCryptoContext,
  createUploadCheckpoint,
  parseMultipartCryptoContext,
  parseUploadCheckpoint,
  pendingParts,
  planOf,
  serializeMultipartCryptoContext,
  serializeUploadCheckpoint,
  withDonePart,
  wrappedKeyOf,
  type UploadCheckpoint,
  type UploadCheckpointInit,
} from '../bindings/upload/checkpoint.js';
import { MAX_PARTS } from '../bindings/upload/plan.js';
import { fixturePath, hex, pseudoRandomBytes, toHex } from './_util.js';

const MiB = 1024 * 1024;

function checkpointError(fn: () => unknown, code: 'CHECKPOINT_MALFORMED' | 'CHECKPOINT_MISMATCH', ...includes: string[]): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, CheckpointError, `expected CheckpointError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.is((err as CheckpointError).code, code, (err as Error).message);
    const message = (err as Error).message;
    for (const part of includes) assert.ok(message.includes(part), `message ${JSON.stringify(message)} lacks ${JSON.stringify(part)}`);
    return message;
  }
  assert.unreachable(`expected CheckpointError ${code}`);
  return '';
}

const WRAP = {
  wrapAlg: 'RSA/NONE/PKCS1Padding',
  wrappedKey: Buffer.from(pseudoRandomBytes(256, 1)).toString('base64'),
  wrappedStart: Buffer.from(pseudoRandomBytes(256, 2)).toString('base64'),
  matdesc: { desc: 'test key', 'key-id': '7' } as Matdesc,
};

function sampleInit(overrides: Partial<UploadCheckpointInit> = {}): UploadCheckpointInit {
  return {
    bucket: 'my-bucket',
    name: 'dir/big file ü.bin',
    uploadId: '0004B999EF518A1FE585B0C9360DC4C8',
    file: { path: '/data/big file ü.bin', size: 5 * MiB + 7, mtimeMs: 1717171717171.5 },
    dataSize: 5 * MiB + 7,
    partSize: MiB,
    ...WRAP,
    doneParts: [
      { number: 2, etag: '"3858F62230AC3C915F300C664312C11F"', crc64: '5586318973427171611' },
      { number: 1, etag: '"5B3B4DEC1DFEA6D1F4E0B68D6C5E0E0B"' },
    ],
    createdAt: '2024-06-11T10:00:00.000Z',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const token = fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_."'.split('')), minLength: 1, maxLength: 40 });
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 });
const crc64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String);
const iso = fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }).map((ms) => new Date(ms).toISOString());
const matdesc = fc.dictionary(fc.oneof(text, fc.constant('__proto__')), fc.string({ unit: 'binary', maxLength: 20 }), { maxKeys: 4 });
const wrapped = fc.record({
  wrapAlg: fc.constantFrom('RSA/NONE/PKCS1Padding', 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', 'KMS/ALICLOUD'),
  wrappedKey: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
  wrappedStart: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
  matdesc,
});
/** A valid upload plan: dataSize, and a multiple-of-16 partSize giving at most 10,000 parts. */
const uploadPlan = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 42 })), fc.integer({ min: 1, max: 1 << 20 }))
  .map(([dataSize, k]) => ({ dataSize, partSize: Math.max(k * 16, Math.ceil(dataSize / MAX_PARTS / 16) * 16) }));

function subsetOfParts(partCount: number): fc.Arbitrary<number[]> {
  return fc.uniqueArray(fc.integer({ min: 1, max: partCount }), { maxLength: Math.min(partCount, 30) });
}

const uploadInit: fc.Arbitrary<UploadCheckpointInit> = fc
  .record({ plan: uploadPlan, wrapped, name: text, uploadId: token, bucket: fc.option(text, { nil: undefined }), withFile: fc.boolean(), path: text, mtimeMs: fc.double({ noNaN: true, noDefaultInfinity: true }), createdAt: iso })
  .chain((r) => {
    const partCount = Math.max(1, Math.ceil(r.plan.dataSize / r.plan.partSize));
    const parts = subsetOfParts(partCount).chain((numbers) =>
      fc.tuple(...numbers.map((number) => fc.record({ number: fc.constant(number), etag: token, crc64: fc.option(crc64, { nil: undefined }) }))),
    );
    return parts.map((doneParts) => ({
      ...(r.bucket === undefined ? {} : { bucket: r.bucket }),
      name: r.name,
      uploadId: r.uploadId,
      ...(r.withFile ? { file: { path: r.path, size: r.plan.dataSize, mtimeMs: Object.is(r.mtimeMs, -0) ? 0 : r.mtimeMs } } : {}),
      dataSize: r.plan.dataSize,
      partSize: r.plan.partSize,
      ...r.wrapped,
      doneParts: doneParts.map((p) => (p.crc64 === undefined ? { number: p.number, etag: p.etag } : p)),
      createdAt: r.createdAt,
    }));
  });

// ---------------------------------------------------------------------------------------------------------------
const roundTrip = suite('round trips');

roundTrip('upload checkpoint: parse(serialize(c)) equals c; serialisation is stable (property)', () => {
  fc.assert(
    fc.property(uploadInit, (init) => {
      const cp = createUploadCheckpoint(init);
      const json = serializeUploadCheckpoint(cp);
      const back = parseUploadCheckpoint(json);
      assert.equal(back, cp);
      assert.is(serializeUploadCheckpoint(back), json);
      assert.equal([...back.doneParts.map((p) => p.number)], [...init.doneParts!.map((p) => p.number)].sort((a, b) => a - b));
      assert.equal(Object.entries(back.matdesc), Object.entries(init.matdesc));
    }),
    { numRuns: 150, seed: 31 },
  );
});

roundTrip('multipart crypto context: parse(serialize(c)) equals c (property)', () => {
  fc.assert(
    fc.property(uploadPlan, wrapped, text, token, fc.option(text, { nil: undefined }), (plan, w, name, uploadId, bucket) => {
      const ctx = createMultipartCryptoContext({ ...(bucket === undefined ? {} : { bucket }), name, uploadId, ...plan, ...w });
      const json = serializeMultipartCryptoContext(ctx);
      assert.equal(parseMultipartCryptoContext(json), ctx);
      // fast-check's dictionaries have no prototype; compare them as plain maps.
      assert.equal(wrappedKeyOf(ctx), { format: 'v2', ...w, matdesc: { ...w.matdesc } });
    }),
    { numRuns: 150, seed: 37 },
  );
});

roundTrip('download checkpoint: parse(serialize(c)) equals c (property)', () => {
  const init = fc
    .record({ totalSize: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 2 ** 45 })), partSize: fc.integer({ min: 1, max: 2 ** 33 }) })
    .filter((r) => Math.ceil(r.totalSize / r.partSize) <= 50_000)
    .chain((r) =>
      fc.record({
        name: text,
        etag: token,
        tempPath: text,
        versionId: fc.option(token, { nil: undefined }),
        createdAt: iso,
        doneParts: r.totalSize === 0 ? fc.constant([]) : subsetOfParts(Math.ceil(r.totalSize / r.partSize)).chain((ns) => fc.tuple(...ns.map((number) => fc.record({ number: fc.constant(number), crc64 })))),
      }).map((rest) => ({ ...r, ...rest, ...(rest.versionId === undefined ? { versionId: undefined } : {}) })),
    );
  fc.assert(
    fc.property(init, (i) => {
      const cp = createDownloadCheckpoint(i);
      const json = serializeDownloadCheckpoint(cp);
      assert.equal(parseDownloadCheckpoint(json), cp);
      assert.ok(!('versionId' in cp) || cp.versionId !== undefined);
    }),
    { numRuns: 150, seed: 41 },
  );
});

roundTrip('a crypto context made from the metadata oss2 wrote gives back the same header values', () => {
  const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as {
    vectors: Array<{ name: string; headers: Record<string, string>; multipart?: { part_size: number; data_size: number } }>;
  };
  const v = manifest.vectors.find((x) => x.name === 'v2-kms-multipart-passphrase-204805')!;
  const h = (name: string) => v.headers[`x-oss-meta-client-side-encryption-${name}`];
  const ctx = createMultipartCryptoContext({
    name: v.name,
    uploadId: 'upload-1',
    dataSize: Number(h('data-size')),
    partSize: Number(h('part-size')),
    wrapAlg: h('wrap-alg'),
    wrappedKey: h('key'),
    wrappedStart: h('start'),
    matdesc: h('matdesc') === undefined ? {} : JSON.parse(h('matdesc')),
  });
  assert.is(ctx.dataSize, v.multipart!.data_size);
  assert.is(ctx.partSize, v.multipart!.part_size);
  const back = parseMultipartCryptoContext(serializeMultipartCryptoContext(ctx));
  assert.is(wrappedKeyOf(back).wrappedKey, h('key'));
  assert.is(wrappedKeyOf(back).wrappedStart, h('start'));
  assert.is(planOf(back).partCount, 3);
});

roundTrip('checkpoints are frozen; doneParts come back sorted; createdAt defaults to now', () => {
  const cp = createUploadCheckpoint(sampleInit({ createdAt: undefined }));
  assert.ok(Object.isFrozen(cp) && Object.isFrozen(cp.doneParts) && Object.isFrozen(cp.doneParts[0]) && Object.isFrozen(cp.matdesc));
  assert.equal(cp.doneParts.map((p) => p.number), [1, 2]);
  assert.ok(Math.abs(Date.parse(cp.createdAt) - Date.now()) < 60_000);
  assert.is(createUploadCheckpoint(sampleInit({ createdAt: new Date(0) })).createdAt, '1970-01-01T00:00:00.000Z');
});

roundTrip.run();

// ---------------------------------------------------------------------------------------------------------------
const malformed = suite('malformed documents: CHECKPOINT_MALFORMED');

/** A valid document as a plain object, a mutation, then parse. */
function mutated<T>(valid: T, serialize: (v: T) => string, parse: (s: string) => unknown, edit: (doc: Record<string, any>) => void, ...includes: string[]): void {
  const doc = JSON.parse(serialize(valid));
  edit(doc);
  checkpointError(() => parse(JSON.stringify(doc)), 'CHECKPOINT_MALFORMED', ...includes);
}

malformed('not JSON, not an object, another kind or version', () => {
  checkpointError(() => parseUploadCheckpoint('{"type":'), 'CHECKPOINT_MALFORMED', 'the upload checkpoint is not valid JSON');
  checkpointError(() => parseUploadCheckpoint('[]'), 'CHECKPOINT_MALFORMED', 'the document expected an object, got an array');
  checkpointError(() => parseUploadCheckpoint('null'), 'CHECKPOINT_MALFORMED', 'got null');
  checkpointError(() => parseUploadCheckpoint('"x"'), 'CHECKPOINT_MALFORMED', 'got a string');
  const up = createUploadCheckpoint(sampleInit());
  const down = createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 10, partSize: 4, tempPath: '/tmp/a.part', createdAt: '2024-06-11T10:00:00.000Z' });
  checkpointError(() => parseUploadCheckpoint(serializeDownloadCheckpoint(down)), 'CHECKPOINT_MALFORMED', 'upload checkpoint');
  checkpointError(() => parseDownloadCheckpoint(serializeUploadCheckpoint(up)), 'CHECKPOINT_MALFORMED', 'download checkpoint');
  const ctx = createMultipartCryptoContext({ name: 'a', uploadId: 'u', dataSize: 10, partSize: 16, ...WRAP });
  checkpointError(() => parseMultipartCryptoContext(serializeUploadCheckpoint(up)), 'CHECKPOINT_MALFORMED', 'unknown fields');
  checkpointError(() => parseUploadCheckpoint(serializeMultipartCryptoContext(ctx)), 'CHECKPOINT_MALFORMED', 'is missing');
  const s = serializeUploadCheckpoint;
  mutated(up, s, parseUploadCheckpoint, (d) => { d.type = 'ali-oss-crypto/download-checkpoint'; }, '"type" expected "ali-oss-crypto/upload-checkpoint" (this is another kind of document)');
  mutated(up, s, parseUploadCheckpoint, (d) => { d.version = 2; }, '"version" expected 1, got 2; it was written by another version of ali-oss-crypto');
  mutated(up, s, parseUploadCheckpoint, (d) => { d.version = '1'; }, '"version" expected 1, got a string');
});

malformed('every required field, missing', () => {
  const up = createUploadCheckpoint(sampleInit());
  for (const key of ['type', 'version', 'name', 'uploadId', 'dataSize', 'partSize', 'wrapAlg', 'wrappedKey', 'wrappedStart', 'matdesc', 'doneParts', 'createdAt']) {
    mutated(up, serializeUploadCheckpoint, parseUploadCheckpoint, (d) => { delete d[key]; }, `"${key}" is missing`);
  }
  for (const key of ['path', 'size', 'mtimeMs']) {
    mutated(up, serializeUploadCheckpoint, parseUploadCheckpoint, (d) => { delete d.file[key]; }, `"file.${key}" is missing`);
  }
  const ctx = createMultipartCryptoContext({ name: 'a', uploadId: 'u', dataSize: 10, partSize: 16, ...WRAP });
  for (const key of ['type', 'version', 'name', 'uploadId', 'dataSize', 'partSize', 'wrapAlg', 'wrappedKey', 'wrappedStart', 'matdesc']) {
    mutated(ctx, serializeMultipartCryptoContext, parseMultipartCryptoContext, (d) => { delete d[key]; }, `"${key}" is missing`);
  }
  const down = createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 10, partSize: 4, tempPath: '/t', doneParts: [{ number: 3, crc64: '1' }] });
  for (const key of ['type', 'version', 'name', 'etag', 'totalSize', 'partSize', 'tempPath', 'doneParts', 'createdAt']) {
    mutated(down, serializeDownloadCheckpoint, parseDownloadCheckpoint, (d) => { delete d[key]; }, `"${key}" is missing`);
  }
  mutated(down, serializeDownloadCheckpoint, parseDownloadCheckpoint, (d) => { delete d.doneParts[0].crc64; }, '"doneParts[0].crc64" is missing');
});

malformed('every field, wrong', () => {
  const up = createUploadCheckpoint(sampleInit());
  const cases: Array<[string, (d: Record<string, any>) => void, string]> = [
    ['unknown field', (d) => { d.cek = 'AAAA'; }, 'the document has unknown field "cek"'],
    ['unknown field in file', (d) => { d.file.inode = 5; }, '"file" has unknown field "inode"'],
    ['unknown field in a part', (d) => { d.doneParts[0].size = 5; }, '"doneParts[0]" has unknown field "size"'],
    ['empty name', (d) => { d.name = ''; }, '"name" expected a non-empty string, got a string of 0 characters'],
    ['numeric name', (d) => { d.name = 5; }, '"name" expected a non-empty string, got the number 5'],
    ['bucket not a string', (d) => { d.bucket = null; }, '"bucket" expected a non-empty string, got null'],
    ['uploadId with a space', (d) => { d.uploadId = 'a b'; }, '"uploadId" expected visible ASCII only'],
    ['uploadId with a newline', (d) => { d.uploadId = 'ab\n'; }, '"uploadId" expected visible ASCII only'],
    ['negative dataSize', (d) => { d.dataSize = -1; }, '"dataSize" expected a non-negative integer, got -1'],
    ['fractional dataSize', (d) => { d.dataSize = 1.5; }, '"dataSize" expected a non-negative integer, got 1.5'],
    ['dataSize as text', (d) => { d.dataSize = '10'; }, '"dataSize" expected a non-negative integer, got a string'],
    ['zero partSize', (d) => { d.partSize = 0; }, '"partSize" expected a positive integer, got 0'],
    ['partSize not a multiple of 16', (d) => { d.partSize = 100001; d.file.size = d.dataSize; }, 'dataSize 5242887 and partSize 100001 are not a valid plan: "partSize" expected a multiple of 16, got 100001'],
    ['too many parts', (d) => { d.partSize = 16; }, 'are not a valid plan: dataSize 5242887 in parts of partSize 16 bytes makes 327681 parts'],
    ['file size not dataSize', (d) => { d.file.size = 1000; }, '"file.size" expected to equal dataSize 5242887, got 1000'],
    ['mtime as text', (d) => { d.file.mtimeMs = '1717'; }, '"file.mtimeMs" expected a finite number, got a string'],
    ['file not an object', (d) => { d.file = '/data/x'; }, '"file" expected an object, got a string'],
    ['empty wrapAlg', (d) => { d.wrapAlg = ''; }, '"wrapAlg" expected a non-empty string'],
    ['wrappedKey with a newline', (d) => { d.wrappedKey = 'QUJD\nREVG'; }, '"wrappedKey" expected visible ASCII only'],
    ['wrappedStart missing value', (d) => { d.wrappedStart = null; }, '"wrappedStart" expected a non-empty string, got null'],
    ['matdesc an array', (d) => { d.matdesc = []; }, '"matdesc" expected an object of strings, got an array'],
    ['matdesc as text', (d) => { d.matdesc = '{}'; }, '"matdesc" expected an object of strings, got a string'],
    ['matdesc with a number', (d) => { d.matdesc.n = 1; }, '"matdesc.n" expected a string, got the number 1'],
    ['doneParts not an array', (d) => { d.doneParts = {}; }, '"doneParts" expected an array, got a object'],
    ['part number 0', (d) => { d.doneParts[0].number = 0; }, '"doneParts[0].number" expected a part number in 1..6 (the plan\'s part count), got 0'],
    ['part number past the plan', (d) => { d.doneParts[1].number = 7; }, '"doneParts[1].number" expected a part number in 1..6 (the plan\'s part count), got 7'],
    ['fractional part number', (d) => { d.doneParts[0].number = 1.5; }, '"doneParts[0].number" expected a non-negative integer, got 1.5'],
    ['duplicate part', (d) => { d.doneParts[1].number = d.doneParts[0].number; }, '"doneParts[1].number" repeats part 1'],
    ['empty etag', (d) => { d.doneParts[0].etag = ''; }, '"doneParts[0].etag" expected a non-empty string'],
    ['crc64 negative', (d) => { d.doneParts[1].crc64 = '-1'; }, '"doneParts[1].crc64" expected a CRC-64 as decimal text (0 to 2^64 - 1)'],
    ['crc64 leading zero', (d) => { d.doneParts[1].crc64 = '01'; }, '"doneParts[1].crc64" expected a CRC-64'],
    ['crc64 = 2^64', (d) => { d.doneParts[1].crc64 = '18446744073709551616'; }, '"doneParts[1].crc64" expected a CRC-64'],
    ['crc64 as a number', (d) => { d.doneParts[1].crc64 = 5; }, '"doneParts[1].crc64" expected a CRC-64 as decimal text (0 to 2^64 - 1), got the number 5'],
    ['createdAt not a date', (d) => { d.createdAt = '2024-13-01T00:00:00.000Z'; }, '"createdAt" expected an ISO 8601 UTC time'],
    ['createdAt without milliseconds', (d) => { d.createdAt = '2024-06-11T10:00:00Z'; }, '"createdAt" expected an ISO 8601 UTC time'],
    ['createdAt with an offset', (d) => { d.createdAt = '2024-06-11T10:00:00.000+08:00'; }, '"createdAt" expected an ISO 8601 UTC time'],
    ['createdAt as ms', (d) => { d.createdAt = 1718100000000; }, '"createdAt" expected an ISO 8601 UTC time such as 2024-01-31T12:00:00.000Z, got the number 1718100000000'],
  ];
  for (const [, edit, message] of cases) mutated(up, serializeUploadCheckpoint, parseUploadCheckpoint, edit, message);

  const down = createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 10, partSize: 4, tempPath: '/t', versionId: 'v1', doneParts: [{ number: 3, crc64: '1' }] });
  const downCases: Array<[(d: Record<string, any>) => void, string]> = [
    [(d) => { d.partSize = 0; }, '"partSize" expected a positive integer, got 0'],
    [(d) => { d.totalSize = -3; }, '"totalSize" expected a non-negative integer, got -3'],
    [(d) => { d.doneParts[0].number = 4; }, '"doneParts[0].number" expected a part number in 1..3 (the plan\'s part count), got 4'],
    [(d) => { d.totalSize = 0; }, 'expected a part number in 1..0'],
    [(d) => { d.doneParts.push({ number: 3, crc64: '2' }); }, '"doneParts[1].number" repeats part 3'],
    [(d) => { d.doneParts[0].etag = '"x"'; }, '"doneParts[0]" has unknown field "etag"'],
    [(d) => { d.etag = ''; }, '"etag" expected a non-empty string'],
    [(d) => { d.versionId = 'a b'; }, '"versionId" expected visible ASCII only'],
    [(d) => { d.tempPath = 7; }, '"tempPath" expected a non-empty string, got the number 7'],
    [(d) => { d.wrappedKey = 'AAAA'; }, 'the document has unknown field "wrappedKey"'],
  ];
  for (const [edit, message] of downCases) mutated(down, serializeDownloadCheckpoint, parseDownloadCheckpoint, edit, message);
});

malformed('serialising or creating a malformed object is refused the same way', () => {
  const cp = createUploadCheckpoint(sampleInit());
  checkpointError(() => serializeUploadCheckpoint({ ...cp, doneParts: [...cp.doneParts, { number: 9, etag: '"E"' }] }), 'CHECKPOINT_MALFORMED', 'upload checkpoint to serialise', '"doneParts[2].number" expected a part number in 1..6');
  checkpointError(() => createUploadCheckpoint(sampleInit({ partSize: 17 })), 'CHECKPOINT_MALFORMED', '"partSize" expected a multiple of 16, got 17');
  checkpointError(() => createMultipartCryptoContext({ name: 'a', uploadId: 'u', dataSize: 10, partSize: 16, ...WRAP, wrapAlg: 'RSA PKCS1' }), 'CHECKPOINT_MALFORMED', '"wrapAlg" expected visible ASCII only');
  checkpointError(() => withDonePart(cp, { number: 7, etag: '"E"' }), 'CHECKPOINT_MALFORMED', 'expected a part number in 1..6');
});

malformed('a non-string text is a TypeError', () => {
  for (const parse of [parseUploadCheckpoint, parseMultipartCryptoContext, parseDownloadCheckpoint]) {
    try {
      parse(7 as unknown as string);
      assert.unreachable('expected TypeError');
    } catch (err) {
      assert.instance(err, TypeError);
      assert.is((err as Error).message, '"text" expected a string, got number');
    }
  }
});

malformed('messages name fields and never quote string values', () => {
  const secret = toHex(pseudoRandomBytes(32, 5)); // what a hex content key looks like
  const up = createUploadCheckpoint(sampleInit());
  const edits: Array<(d: Record<string, any>) => void> = [
    (d) => { d[secret] = secret; },
    (d) => { d.matdesc[secret] = 5; },
    (d) => { d.uploadId = `${secret} x`; },
    (d) => { d.type = secret; },
    (d) => { d.createdAt = secret; },
    (d) => { d.doneParts[0].crc64 = secret; },
    (d) => { d.file.mtimeMs = secret; },
  ];
  for (const edit of edits) {
    const doc = JSON.parse(serializeUploadCheckpoint(up));
    edit(doc);
    const message = checkpointError(() => parseUploadCheckpoint(JSON.stringify(doc)), 'CHECKPOINT_MALFORMED');
    assert.not.ok(message.includes(secret), message);
  }
  // The JSON parser's own message quotes the text; it stays in `cause`, out of the message.
  const message = checkpointError(() => parseUploadCheckpoint(`{"k": ${secret}}`), 'CHECKPOINT_MALFORMED');
  assert.not.ok(message.includes(secret), message);
});

malformed.run();

// ---------------------------------------------------------------------------------------------------------------
const mismatch = suite('mismatches: CHECKPOINT_MISMATCH');

mismatch('upload: each difference explained, all reported together', () => {
  const cp = createUploadCheckpoint(sampleInit({ dataSize: 2000, partSize: 1008, file: { path: '/data/a.bin', size: 2000, mtimeMs: 1_700_000_000_000 }, doneParts: [] }));
  const same = { size: 2000, mtimeMs: 1_700_000_000_000, path: '/data/a.bin', partSize: 1008, name: cp.name, bucket: 'my-bucket' };
  checkUploadCheckpointMatches(cp, same);
  checkUploadCheckpointMatches(cp, { size: 2000 });
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, size: 1000 }), 'CHECKPOINT_MISMATCH',
    'the checkpoint of upload "0004B999EF518A1FE585B0C9360DC4C8" does not match: the file is now 1000 bytes (read from stat), the checkpoint recorded 2000; was the file modified?');
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, mtimeMs: 1_700_000_360_000 }), 'CHECKPOINT_MISMATCH',
    'the file was last modified at 2023-11-14T22:19:20.000Z (mtimeMs 1700000360000, read from stat), the checkpoint recorded 2023-11-14T22:13:20.000Z (mtimeMs 1700000000000); was the file modified?');
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, partSize: MiB }), 'CHECKPOINT_MISMATCH',
    'partSize 1048576 was asked for (options.partSize), the checkpoint was made with 1008;');
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, name: 'other.bin' }), 'CHECKPOINT_MISMATCH',
    'the checkpoint is for object "dir/big file ü.bin", this upload is for "other.bin"');
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, bucket: 'b2' }), 'CHECKPOINT_MISMATCH', 'the checkpoint is for bucket "my-bucket", this upload is for "b2"');
  checkpointError(() => checkUploadCheckpointMatches(cp, { ...same, path: '/data/b.bin' }), 'CHECKPOINT_MISMATCH', 'the checkpoint is for file "/data/a.bin", this upload reads "/data/b.bin"');
  const all = checkpointError(() => checkUploadCheckpointMatches(cp, { size: 1, mtimeMs: 2, partSize: 16, name: 'x' }), 'CHECKPOINT_MISMATCH');
  assert.is(all.split('; ').length >= 4, true, all);
  // Without a recorded file, only the data size can be compared.
  const mem = createUploadCheckpoint(sampleInit({ file: undefined, dataSize: 64, partSize: 16, doneParts: [] }));
  checkUploadCheckpointMatches(mem, { size: 64, mtimeMs: 5, path: '/x' });
  checkpointError(() => checkUploadCheckpointMatches(mem, { size: 65 }), 'CHECKPOINT_MISMATCH', 'the data is now 65 bytes, the checkpoint recorded 64');
});

mismatch('download: ETag, size, part size, object', () => {
  const cp = createDownloadCheckpoint({ bucket: 'b', name: 'a.bin', etag: '"AAA"', totalSize: 100, partSize: 40, tempPath: '/tmp/a.bin.part' });
  checkDownloadCheckpointMatches(cp, { name: 'a.bin', etag: '"AAA"', totalSize: 100, partSize: 40, bucket: 'b' });
  checkpointError(() => checkDownloadCheckpointMatches(cp, { etag: '"BBB"' }), 'CHECKPOINT_MISMATCH',
    'the download checkpoint of "a.bin" does not match: the object\'s ETag is now "BBB" (from HEAD), the checkpoint recorded "AAA"; the object was overwritten');
  checkpointError(() => checkDownloadCheckpointMatches(cp, { totalSize: 101 }), 'CHECKPOINT_MISMATCH', 'the object is now 101 bytes (from HEAD), the checkpoint recorded 100');
  checkpointError(() => checkDownloadCheckpointMatches(cp, { partSize: 41 }), 'CHECKPOINT_MISMATCH', 'partSize 41 was asked for (options.partSize), the checkpoint was made with 40');
  checkpointError(() => checkDownloadCheckpointMatches(cp, { name: 'b.bin' }), 'CHECKPOINT_MISMATCH', 'the checkpoint is for object "a.bin", this download is for "b.bin"');
  checkpointError(() => checkDownloadCheckpointMatches(cp, { bucket: 'c' }), 'CHECKPOINT_MISMATCH', 'the checkpoint is for bucket "b", this download is for "c"');
});

mismatch.run();

// ---------------------------------------------------------------------------------------------------------------
const progress = suite('progress helpers');

progress('upload: pendingParts and withDonePart', () => {
  let cp: UploadCheckpoint = createUploadCheckpoint(sampleInit({ doneParts: [] }));
  assert.equal(pendingParts(cp).map((p) => p.partNumber), [1, 2, 3, 4, 5, 6]);
  cp = withDonePart(cp, { number: 4, etag: '"D"' });
  cp = withDonePart(cp, { number: 1, etag: '"A"', crc64: '0' });
  cp = withDonePart(cp, { number: 4, etag: '"D2"' });
  assert.equal(cp.doneParts, [{ number: 1, etag: '"A"', crc64: '0' }, { number: 4, etag: '"D2"' }]);
  assert.equal(pendingParts(cp), [2, 3, 5, 6].map((n) => planOf(cp).parts[n - 1]));
  assert.equal(pendingParts(createUploadCheckpoint(sampleInit({ file: undefined, dataSize: 0, doneParts: [] }))), [{ partNumber: 1, start: 0, length: 0 }]);
});

progress('download: parts cover the object; pending and withDownloadedPart', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 700 }), (totalSize, partSize) => {
      const parts = downloadParts({ totalSize, partSize });
      let next = 0;
      parts.forEach((p, i) => {
        assert.equal([p.partNumber, p.offset], [i + 1, next]);
        assert.ok(p.length > 0 && (p.length === partSize || i === parts.length - 1));
        next += p.length;
      });
      assert.is(next, totalSize);
    }),
    { numRuns: 200, seed: 43 },
  );
  let cp: DownloadCheckpoint = createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 10, partSize: 4, tempPath: '/t' });
  cp = withDownloadedPart(cp, { number: 2, crc64: '123' });
  assert.equal(pendingDownloadParts(cp), [{ partNumber: 1, offset: 0, length: 4 }, { partNumber: 3, offset: 8, length: 2 }]);
  assert.equal(downloadParts({ totalSize: 0, partSize: 4 }), []);
});

progress.run();

// ---------------------------------------------------------------------------------------------------------------
const secrecy = suite('the plain content key never reaches a serialisation');

/** Every text form a 32-byte key or 16-byte IV could take in a JSON document. */
function forms(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const out = [toHex(bytes), toHex(bytes).toUpperCase(), b.toString('base64'), b.toString('base64url'), b.toString('base64').replace(/=+$/, '')];
  out.push(JSON.stringify(Array.from(bytes)).slice(1, -1)); // "1,2,3" as a JSON array would write it
  // Any 12-byte window in base64 (catches the key embedded in a larger base64 value at any 3-byte alignment).
  for (let i = 0; i + 12 <= bytes.length; i += 1) out.push(b.subarray(i, i + 12).toString('base64'));
  return out;
}

function keyFormsIn(json: string, content: ContentKey): string[] {
  return [...forms(content.key), ...forms(content.iv), ...forms(Buffer.concat([content.key, content.iv]))].filter((f) => json.includes(f));
}

function assertNoKey(json: string, content: ContentKey, where: string): void {
  const found = keyFormsIn(json, content);
  assert.is(found.length, 0, `${where} contains ${found.length} form(s) of the plain key`);
}

secrecy('checkpoints and contexts built from a known content key hold only its RSA wrapping', () => {
  const content: ContentKey = { key: pseudoRandomBytes(32, 0xc0ffee), iv: hex('0102030405060708 00000000 0a0b0c0d') };
  const publicPem = readFileSync(fixturePath('interop', 'keys', 'localrsaprovider-oss2-2.19.1.public.pem'), 'utf8');
  const wrap = (bytes: Uint8Array) => publicEncrypt({ key: publicPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, bytes).toString('base64');
  const wrappedFields = { wrapAlg: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', wrappedKey: wrap(content.key), wrappedStart: wrap(content.iv), matdesc: {} };
  const cp = createUploadCheckpoint(sampleInit({ ...wrappedFields }));
  const ctx = createMultipartCryptoContext({ name: 'a.bin', uploadId: 'u1', dataSize: 100, partSize: MiB, ...wrappedFields });
  const upJson = serializeUploadCheckpoint(cp);
  const ctxJson = serializeMultipartCryptoContext(ctx);
  // The search is real: the same search finds the key once it is put in.
  assert.ok(keyFormsIn(JSON.stringify({ k: Buffer.from(content.key).toString('base64') }), content).length > 0);
  assert.ok(keyFormsIn(JSON.stringify({ k: toHex(content.iv) }), content).length > 0);
  assert.ok(keyFormsIn(JSON.stringify({ k: Buffer.from([9, ...content.key]).toString('base64') }), content).length > 0, 'found inside a longer base64 value');
  assertNoKey(upJson, content, 'upload checkpoint');
  assertNoKey(ctxJson, content, 'crypto context');
  assert.ok(upJson.includes(wrappedFields.wrappedKey) && ctxJson.includes(wrappedFields.wrappedStart), 'the wrapped key is there');
});

secrecy('a plain key attached to a checkpoint by mistake is refused, not written, and not echoed', () => {
  const content: ContentKey = { key: pseudoRandomBytes(32, 77), iv: pseudoRandomBytes(16, 78) };
  const cp = createUploadCheckpoint(sampleInit());
  const attempts: Array<[string, () => unknown]> = [
    ['spread ContentKey', () => serializeUploadCheckpoint({ ...cp, ...content } as unknown as UploadCheckpoint)],
    ['hex key field', () => serializeUploadCheckpoint({ ...cp, cek: toHex(content.key) } as unknown as UploadCheckpoint)],
    ['create with key', () => createUploadCheckpoint({ ...sampleInit(), contentKey: content } as unknown as UploadCheckpointInit)],
    ['context with key', () => serializeMultipartCryptoContext({ ...createMultipartCryptoContext({ name: 'a', uploadId: 'u', dataSize: 1, partSize: 16, ...WRAP }), iv: Buffer.from(content.iv).toString('base64') } as never)],
    ['download with key', () => serializeDownloadCheckpoint({ ...createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 1, partSize: 1, tempPath: '/t' }), key: content.key } as never)],
  ];
  for (const [what, attempt] of attempts) {
    const message = checkpointError(attempt, 'CHECKPOINT_MALFORMED', 'unknown field');
    assertNoKey(message, content, `${what} message`);
  }
});

secrecy('the download checkpoint has no key field at all', () => {
  const json = serializeDownloadCheckpoint(createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 1, partSize: 1, tempPath: '/t', createdAt: '2024-01-01T00:00:00.000Z' }));
  assert.equal(Object.keys(JSON.parse(json)).sort(), ['createdAt', 'doneParts', 'etag', 'name', 'partSize', 'tempPath', 'totalSize', 'type', 'version']);
});

secrecy.run();
