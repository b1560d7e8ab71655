/**
 * Faults during encrypted multipart uploads, injected by the loopback OSS stand-in into each request kind, with
 * the real ali-oss client (bindings/upload/parts-api.ts, upload-run.ts; the retry policy).
 *
 * Proves:
 * - a transient 5xx or connection reset on Initiate, on a part (also mid-body) or on Complete is retried, and the
 *   object decrypts byte-exact: a re-sent part is read and encrypted again from its own offset (file, Buffer,
 *   Blob), or re-sent as the same ciphertext (stream), never continued from the wrong counter;
 * - a Complete whose response was lost after OSS committed is recognised (same wrapped key, same size) instead of
 *   failing on the retry's NoSuchUpload;
 * - a 4xx is never retried;
 * - a persistent fault rejects with ali-oss's own error (name, code, status untouched) carrying a checkpoint that
 *   resumes to a byte-exact object; the upload is aborted only with `abortOnError: true`;
 * - the low-level calls retry the same way.
 * @module
 */
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoClient } from '../bindings/client/crypto-client.js';
import type { UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import type { OssFault, OssServer } from './support/oss-server.js';
import { cryptoClientFromSpec, decryptStored, RSA_KEY_PATH, type MaterialSpec } from './support/upload-child.js';
import { pseudoRandomBytes, rejects } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'faults-bkt';
const KIB100 = 100 * 1024;
const SPEC: MaterialSpec = { kind: 'rsa', privateKeyPath: RSA_KEY_PATH, padding: 'pkcs1' };
const RETRIES = 3;

const env = { oss: undefined as unknown as OssServer, dir: '' };

function setup(s: ReturnType<typeof suite>) {
  useStandIns(s, env, { tmpPrefix: 'oss-crypto-faults-' });
}

function client(backend: 'wasm' | 'native' = 'wasm'): Promise<CryptoClient> {
  return cryptoClientFromSpec(env.oss.clientOptions(BUCKET), SPEC, backend, { retries: RETRIES, baseDelayMs: 1, maxDelayMs: 5 });
}

const since = (mark: number) => env.oss.log.slice(mark);
const countKind = (mark: number, kind: string, partNumber?: number) =>
  since(mark).filter((e) => e.kind === kind && (partNumber === undefined || e.partNumber === partNumber)).length;
const okParts = (mark: number) => since(mark).filter((e) => e.kind === 'uploadPart' && e.status === 200).map((e) => e.partNumber!).sort((a, b) => a - b);


async function storedPlain(key: string): Promise<Buffer> {
  const stored = env.oss.getObject(BUCKET, key)!;
  return decryptStored(stored.body!, stored.headers, SPEC);
}

const SIZE = 5 * KIB100 + 77; // 6 parts
const DATA = Buffer.from(pseudoRandomBytes(SIZE, 61));

// ---------------------------------------------------------------------------------------------------------------
const transient = suite('multipart faults: transient failures of each request kind are retried, byte-exact');
setup(transient);

const transientCases: Array<{ label: string; fault: OssFault; kind: string; extra: number }> = [
  { label: 'Initiate 503', fault: { kind: 'initiate', status: 503 }, kind: 'initiate', extra: 1 },
  { label: 'Initiate reset', fault: { kind: 'initiate', reset: true }, kind: 'initiate', extra: 1 },
  { label: 'part 3: 500', fault: { kind: 'uploadPart', partNumber: 3, status: 500 }, kind: 'uploadPart', extra: 1 },
  { label: 'part 3: reset mid-body', fault: { kind: 'uploadPart', partNumber: 3, reset: { afterBytes: 50_000 } }, kind: 'uploadPart', extra: 1 },
  { label: 'last part: 503 twice', fault: { kind: 'uploadPart', partNumber: 6, status: 503, times: 2 }, kind: 'uploadPart', extra: 2 },
  { label: 'Complete 503', fault: { kind: 'complete', status: 503 }, kind: 'complete', extra: 1 },
  { label: 'Complete reset mid-body', fault: { kind: 'complete', reset: { afterBytes: 10 } }, kind: 'complete', extra: 1 },
];

for (const [i, t] of transientCases.entries()) {
  transient(`${t.label}: one more ${t.kind} request, the object is byte-exact`, async () => {
    const c = await client(i % 2 ? 'native' : 'wasm');
    const path = join(env.dir, `transient-${i}.bin`);
    writeFileSync(path, DATA);
    const handle = env.oss.inject(t.fault);
    const mark = env.oss.log.length;
    const key = `transient/${i}`;
    const result = await c.multipartUpload(key, path, { partSize: KIB100, parallel: 3 });
    assert.is(handle.hits, t.fault.times ?? 1, 'the fault hit');
    const normal = t.kind === 'uploadPart' ? 6 : 1;
    assert.is(countKind(mark, t.kind), normal + t.extra);
    assert.is(countKind(mark, 'initiate'), t.kind === 'initiate' ? 1 + t.extra : 1);
    assert.is(result.res.status, 200);
    assert.ok((await storedPlain(key)).equals(DATA));
  });
}

transient('a re-sent part is correct from every source: file, Buffer, Blob, stream (reset mid-body on part 2)', async () => {
  const c = await client();
  const path = join(env.dir, 'resend.bin');
  writeFileSync(path, DATA);
  const chunks = () => Array.from({ length: Math.ceil(SIZE / 10_000) }, (_, i) => DATA.subarray(i * 10_000, (i + 1) * 10_000));
  const sources: Array<[string, () => unknown, Record<string, unknown>]> = [
    ['file', () => path, {}],
    ['buffer', () => DATA, {}],
    ['blob', () => new Blob([DATA]), {}],
    ['stream', () => Readable.from(chunks()), { contentLength: SIZE }],
    ['stream-unknown-size', () => Readable.from(chunks()), {}],
  ];
  for (const [label, make, extra] of sources) {
    env.oss.inject({ kind: 'uploadPart', partNumber: 2, reset: { afterBytes: 60_000 } });
    env.oss.inject({ kind: 'uploadPart', partNumber: 5, status: 502 });
    const mark = env.oss.log.length;
    await c.multipartUpload(`resend/${label}`, make() as any, { partSize: KIB100, parallel: 2, ...extra });
    assert.is(countKind(mark, 'uploadPart', 2), 2, label);
    assert.is(countKind(mark, 'uploadPart', 5), 2, label);
    assert.ok((await storedPlain(`resend/${label}`)).equals(DATA), label);
    env.oss.clearFaults();
  }
  assert.ok(DATA.equals(Buffer.from(pseudoRandomBytes(SIZE, 61))), 'the caller\'s Buffer is untouched');
});

transient('Complete committed but its response lost: the retry finds the object is ours and succeeds', async () => {
  const c = await client();
  env.oss.inject({ kind: 'complete', reset: true, afterApply: true });
  const mark = env.oss.log.length;
  const result = await c.multipartUpload('lost/complete', DATA, { partSize: KIB100 });
  assert.is(countKind(mark, 'complete'), 2, 'the second Complete found no upload (NoSuchUpload)');
  assert.is(since(mark).filter((e) => e.kind === 'complete')[1].status, 404);
  assert.is(result.etag, env.oss.getObject(BUCKET, 'lost/complete')!.etag);
  assert.ok((await storedPlain('lost/complete')).equals(DATA));
});

transient('Complete of an upload that another object replaced is still reported as failed', async () => {
  const c = await client();
  const { uploadId, context } = await c.initMultipartUpload('lost/other', { dataSize: 16, partSize: KIB100 });
  const { part } = await c.uploadPart('lost/other', uploadId, 1, new Uint8Array(16), context);
  env.oss.inject({ kind: 'complete', reset: true, afterApply: true });
  // Between the lost response and the retry, someone overwrites the object.
  const real = (c.oss as any).completeMultipartUpload.bind(c.oss);
  let calls = 0;
  (c.oss as any).completeMultipartUpload = async (...args: unknown[]) => {
    if (calls++ === 1) await env.oss.client(BUCKET).put('lost/other', Buffer.alloc(16));
    return real(...args);
  };
  await rejects(c.completeMultipartUpload('lost/other', uploadId, [part], { context }), (e) => {
    assert.is(e.status, 404);
    assert.is(e.code, 'NoSuchUpload');
  });
});

transient('the low-level calls retry too: listParts, uploadPart and abort', async () => {
  const c = await client();
  const { uploadId, context } = await c.initMultipartUpload('low/retry', { dataSize: 2 * KIB100, partSize: KIB100 });
  env.oss.inject({ kind: 'uploadPart', status: 500 });
  env.oss.inject({ kind: 'listParts', status: 503 });
  env.oss.inject({ kind: 'abort', reset: true });
  const mark = env.oss.log.length;
  await c.uploadPart('low/retry', uploadId, 1, DATA.subarray(0, KIB100), context);
  await c.listParts('low/retry', uploadId);
  await c.abortMultipartUpload('low/retry', uploadId);
  assert.equal(since(mark).map((e) => e.kind), ['uploadPart', 'uploadPart', 'listParts', 'listParts', 'abort', 'abort']);
  assert.not.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === uploadId));
});

transient.run();

// ---------------------------------------------------------------------------------------------------------------
const persistent = suite('multipart faults: persistent failures keep ali-oss\'s error, with a resumable checkpoint');
setup(persistent);

persistent('a part that keeps failing: ali-oss\'s error untouched, checkpoint attached, upload kept; resume is byte-exact', async () => {
  const c = await client();
  const path = join(env.dir, 'persist-part.bin');
  writeFileSync(path, DATA);
  const cpPath = join(env.dir, 'persist-part.json');
  env.oss.inject({ kind: 'uploadPart', partNumber: 4, status: 500, times: Infinity });
  const mark = env.oss.log.length;
  const err = await rejects(c.multipartUpload('persist/part', path, { partSize: KIB100, parallel: 2, checkpoint: cpPath }), (e) => {
    // ali-oss's own error for an OSS 500 with an XML body.
    assert.is(e.status, 500);
    assert.is(e.code, 'InternalError');
    assert.is(e.name, 'InternalErrorError');
    assert.ok(typeof e.requestId === 'string');
  });
  assert.is(countKind(mark, 'uploadPart', 4), 1 + RETRIES, 'bounded retries');
  const cp = err.checkpoint as UploadCheckpoint;
  assert.not.ok(cp.doneParts.some((p) => p.number === 4));
  assert.ok(cp.doneParts.length >= 1);
  assert.ok(existsSync(cpPath), 'the checkpoint file stays for resuming');
  assert.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === cp.uploadId), 'not aborted without abortOnError');

  env.oss.clearFaults();
  const resumeMark = env.oss.log.length;
  await c.multipartUpload('persist/part', path, { checkpoint: cpPath });
  assert.equal(okParts(resumeMark), [1, 2, 3, 4, 5, 6].filter((n) => !cp.doneParts.some((p) => p.number === n)));
  assert.ok((await storedPlain('persist/part')).equals(DATA));
  assert.not.ok(existsSync(cpPath));
});

persistent('Complete that keeps failing: the checkpoint lists every part; resuming sends only Complete', async () => {
  const c = await client();
  env.oss.inject({ kind: 'complete', status: 503, times: Infinity });
  const err = await rejects(c.multipartUpload('persist/complete', DATA, { partSize: KIB100 }), (e) => {
    assert.is(e.status, 503);
    assert.is(e.code, 'ServiceUnavailable');
  });
  assert.is(err.checkpoint.doneParts.length, 6);
  env.oss.clearFaults();
  // Resuming while ListParts keeps failing: the same error kind, still carrying the checkpoint to resume with.
  env.oss.inject({ kind: 'listParts', status: 503, times: Infinity });
  const again = await rejects(c.multipartUpload('persist/complete', DATA, { checkpoint: err.checkpoint }), (e) => assert.is(e.status, 503));
  assert.equal(again.checkpoint, err.checkpoint);
  env.oss.clearFaults();
  const mark = env.oss.log.length;
  await c.multipartUpload('persist/complete', DATA, { checkpoint: err.checkpoint });
  assert.equal(since(mark).map((e) => e.kind), ['listParts', 'complete']);
  assert.ok((await storedPlain('persist/complete')).equals(DATA));
});

persistent('Initiate that keeps failing: the error has a null checkpoint; a 4xx on a part is not retried', async () => {
  const c = await client();
  env.oss.inject({ kind: 'initiate', reset: true, times: Infinity });
  let mark = env.oss.log.length;
  const err = await rejects(c.multipartUpload('persist/init', DATA, {}), (e) => assert.is(e.checkpoint, null));
  assert.ok(err instanceof Error);
  assert.is(countKind(mark, 'initiate'), 1 + RETRIES);
  env.oss.clearFaults();

  env.oss.inject({ kind: 'uploadPart', partNumber: 2, status: 403, code: 'AccessDenied', times: Infinity });
  mark = env.oss.log.length;
  await rejects(c.multipartUpload('persist/403', DATA, { partSize: KIB100 }), (e) => {
    assert.is(e.status, 403);
    assert.is(e.code, 'AccessDenied');
    assert.ok(e.checkpoint.uploadId);
  });
  assert.is(countKind(mark, 'uploadPart', 2), 1, 'a 4xx is never retried');
});

persistent('abortOnError: true aborts the upload and removes the checkpoint file', async () => {
  const c = await client();
  const cpPath = join(env.dir, 'abort-on-error.json');
  env.oss.inject({ kind: 'uploadPart', partNumber: 1, status: 500, times: Infinity });
  const err = await rejects(c.multipartUpload('persist/abort', DATA, { partSize: KIB100, checkpoint: cpPath, abortOnError: true }), (e) => assert.is(e.status, 500));
  assert.not.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === err.checkpoint.uploadId), 'aborted');
  assert.not.ok(existsSync(cpPath));
});

persistent.run();
