/**
 * Resuming encrypted multipart uploads over real HTTP (real ali-oss, real KMS client, loopback stand-ins).
 *
 * Proves (bindings/upload/managed-upload.ts, upload-run.ts):
 * - a child process running `multipartUpload` with a checkpoint file is SIGKILLed mid-upload (parts delayed by
 *   the stand-in so the kill lands between parts); the parent resumes from the file: no new Initiate, exactly the
 *   parts the checkpoint lacks are sent, the object decrypts byte-exact, the checkpoint file is removed;
 * - cancellation by AbortSignal, by `upload.cancel()` and by `CryptoClient#cancel()` rejects with an Error
 *   `name: 'cancel'`, `status: 0` carrying the checkpoint, which resumes to a byte-exact object (RSA both
 *   paddings, KMS both layerings); `cancel({ name, uploadId })` also aborts the upload;
 * - the checkpoint file always holds what `progress` was given (written atomically, no temporary file left) and
 *   never the plain key;
 * - validation before resuming: changed size or mtime, another part size, object or key material, an upload that
 *   no longer exists, malformed or ali-oss-style checkpoints: CheckpointError, before any part is sent;
 * - parts the checkpoint lists but OSS does not hold (with that ETag) are sent again; Buffer and stream sources
 *   resume too (a stream skips the bytes of the parts already uploaded).
 * @module
 */
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoClient } from '../bindings/client/crypto-client.js';
import { CheckpointError, KeyUnwrapError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { parseUploadCheckpoint, type UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import { EncryptedMultipartUpload } from '../bindings/upload/managed-upload.js';
import { cryptoClientFromSpec, materialFromSpec, startChild, type MaterialSpec } from './support/upload-child.js';
import { isCode, pseudoRandomBytes, rejects } from './_util.js';
import { assertNoKeyIn, multipartHarness } from './support/multipart-harness.js';

const BUCKET = 'resume-bkt';
const KIB100 = 100 * 1024;

const { env, setup, client, storedPlain } = multipartHarness(BUCKET, 'oss-crypto-resume-');

const since = (mark: number) => env.oss.log.slice(mark);
const partsSent = (mark: number) => since(mark).filter((e) => e.kind === 'uploadPart' && e.status === 200).map((e) => e.partNumber!).sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function isCancel(err: any) {
  assert.instance(err, Error);
  assert.is(err.name, 'cancel');
  assert.is(err.status, 0);
}

async function assertNoPlainKey(text: string, cp: UploadCheckpoint, spec: MaterialSpec) {
  const content = await new KeyRing({ default: await materialFromSpec(spec) }).unwrap({
    format: 'v2',
    wrapAlg: cp.wrapAlg,
    wrappedKey: cp.wrappedKey,
    wrappedStart: cp.wrappedStart,
    matdesc: cp.matdesc,
  });
  assertNoKeyIn(text, content, 'the checkpoint');
}

function writeData(label: string, size: number, seed: number): { path: string; data: Buffer } {
  const data = Buffer.from(pseudoRandomBytes(size, seed));
  const path = join(env.dir, `${label}.bin`);
  writeFileSync(path, data);
  return { path, data };
}

/** Starts an upload that is cancelled (by aborting a signal) once `after` parts are done. */
async function cancelledUpload(c: CryptoClient, key: string, file: unknown, after: number, extra: Record<string, unknown> = {}) {
  const controller = new AbortController();
  env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 10 });
  const err = await rejects(
    c.multipartUpload(key, file as any, {
      partSize: KIB100,
      parallel: 2,
      signal: controller.signal,
      progress: (_p, cp) => {
        if (cp !== null && cp.doneParts.length >= after) controller.abort();
      },
      ...extra,
    }),
    isCancel,
  );
  env.oss.clearFaults();
  await inFlightSettled(key);
  return err;
}

/**
 * Asserts that the cancelled upload of `key` is over when its promise rejects: it did send requests, every one of
 * them has been answered (the stand-in logs a request with status 0 on arrival and sets the status when it
 * answers; a reset it injected keeps 0), and none follows within a quiet period.
 */
async function inFlightSettled(key: string, quietMs = 150): Promise<void> {
  const ofKey = () => env.oss.log.filter((e) => e.key === key);
  const sent = ofKey();
  assert.ok(sent.length > 0, `no request for ${key} was logged: nothing to check`);
  const open = sent.filter((e) => e.status === 0 && e.fault !== 'reset').map((e) => `${e.kind} #${e.seq}`);
  assert.equal(open, [], 'a request of the cancelled upload is still in flight');
  // Long enough for a part a buggy upload would still start to reach the stand-in, even on a loaded machine.
  await new Promise((r) => setTimeout(r, quietMs));
  const late = ofKey().slice(sent.length).map((e) => `${e.kind} #${e.seq}`);
  assert.equal(late, [], 'a request was sent after the cancelled upload rejected');
}

// ---------------------------------------------------------------------------------------------------------------
const kill = suite('multipartUpload: SIGKILL mid-upload, resume from the checkpoint file');
setup(kill);

for (const m of [0, 3]) {
  kill(`material #${m + 1} (rsa-pkcs1 / kms-oss2): only the parts missing from the checkpoint are sent, byte-exact`, async () => {
    const { name: mname, spec } = env.materials[m];
    const { path, data } = writeData(`kill-${mname}`, 20 * KIB100 + 7, 300 + m);
    const cpPath = join(env.dir, `kill-${mname}.checkpoint.json`);
    const key = `kill/${mname}`;
    // Slow parts, so that the kill lands in the middle of the upload: after the 4th part, the other 17 still
    // need about 9 × 150 ms at parallel 2, room for a loaded machine to deliver the event and the signal.
    env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 150 });
    const jobPath = join(env.dir, `kill-${mname}.job.json`);
    writeFileSync(
      jobPath,
      JSON.stringify({ mode: 'upload', oss: env.oss.clientOptions(BUCKET), material: spec, backend: 'wasm', name: key, file: path, checkpoint: cpPath, partSize: KIB100, parallel: 2 }),
    );
    const child = startChild(jobPath);
    await child.waitFor((e) => e.event === 'part' && e.done.length >= 4);
    child.process.kill('SIGKILL');
    const exit = await child.exited;
    assert.is(exit.signal, 'SIGKILL');
    env.oss.clearFaults();

    const text = readFileSync(cpPath, 'utf8');
    const cp = parseUploadCheckpoint(text);
    await assertNoPlainKey(text, cp, spec);
    const done = cp.doneParts.map((p) => p.number);
    assert.ok(done.length >= 4 && done.length < 21, `killed after ${done.length} of 21 parts`);
    assert.is(env.oss.getObject(BUCKET, key), undefined, 'nothing completed yet');

    const c = await client(spec, 'native');
    const mark = env.oss.log.length;
    const result = await c.multipartUpload(key, path, { checkpoint: cpPath, parallel: 3 });
    const kinds = since(mark).map((e) => e.kind);
    assert.not.ok(kinds.includes('initiate'), 'the upload was resumed, not restarted');
    assert.ok(kinds.includes('listParts'), 'the upload was checked to still exist');
    assert.equal(partsSent(mark), range(1, 21).filter((n) => !done.includes(n)), 'exactly the missing parts');
    assert.is(kinds.filter((k) => k === 'complete').length, 1);
    assert.is(result.etag, env.oss.getObject(BUCKET, key)!.etag);
    assert.ok((await storedPlain(key, spec)).equals(data), 'byte-exact');
    assert.ok((await c.get(key)).content.equals(data));
    assert.not.ok(existsSync(cpPath), 'the checkpoint file is removed after success');
    assert.equal(readdirSync(env.dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary checkpoint file left');
  });
}

kill.run();

// ---------------------------------------------------------------------------------------------------------------
const cancel = suite('multipartUpload: cancellation (AbortSignal, upload.cancel(), client.cancel()) and resume');
setup(cancel);

for (const m of [0, 1, 2, 3]) {
  cancel(`material #${m + 1}: AbortSignal → Error name 'cancel', status 0, with a checkpoint that resumes byte-exact`, async () => {
    const { name: mname, spec } = env.materials[m];
    const c = await client(spec, m % 2 ? 'wasm' : 'native');
    const { data } = writeData(`cancel-${mname}`, 9 * KIB100 + 99, 400 + m);
    const key = `cancel/${mname}`;
    const err = await cancelledUpload(c, key, data, 3);
    const cp = err.checkpoint as UploadCheckpoint;
    assert.match(err.message, 'cancelled');
    assert.ok(cp.doneParts.length >= 3 && cp.doneParts.length < 10, `${cp.doneParts.length} parts done`);
    assert.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === cp.uploadId), 'cancelling never aborts the upload');
    assert.is(env.oss.getObject(BUCKET, key), undefined);
    await assertNoPlainKey(JSON.stringify(cp), cp, spec);

    const mark = env.oss.log.length;
    await c.multipartUpload(key, data, { checkpoint: cp });
    const done = cp.doneParts.map((p) => p.number);
    assert.equal(partsSent(mark), range(1, 10).filter((n) => !done.includes(n)));
    assert.ok((await storedPlain(key, spec)).equals(data));
  });
}

cancel('upload.cancel() and client.cancel() reject the same way; the checkpoint file matches the error', async () => {
  const c = await client();
  const { path, data } = writeData('cancel-methods', 8 * KIB100, 41);
  for (const how of ['upload', 'client'] as const) {
    const cpPath = join(env.dir, `cancel-${how}.json`);
    const key = `cancel/method-${how}`;
    env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 10 });
    const upload: EncryptedMultipartUpload = new EncryptedMultipartUpload(c.context, key, path, {
      partSize: KIB100,
      parallel: 2,
      checkpoint: cpPath,
      progress: (_p, cp) => {
        if (cp !== null && cp.doneParts.length === 2) (how === 'upload' ? upload.cancel() : void c.cancel());
      },
    });
    const err = await rejects(upload.done(), isCancel);
    env.oss.clearFaults();
    await inFlightSettled(key);
    assert.equal(JSON.parse(readFileSync(cpPath, 'utf8')), JSON.parse(JSON.stringify(err.checkpoint)), 'the file holds the checkpoint the error carries');
    assert.equal(upload.checkpoint, err.checkpoint);
    const mark = env.oss.log.length;
    await c.multipartUpload(key, path, { checkpoint: cpPath });
    assert.equal(partsSent(mark), range(1, 8).filter((n) => !err.checkpoint.doneParts.some((p: any) => p.number === n)));
    assert.ok((await storedPlain(key, env.materials[0].spec)).equals(data));
    await rejects(upload.done(), (e) => assert.instance(e, TypeError));
  }
});

cancel('client.cancel({ name, uploadId }) also aborts the upload on OSS; a signal aborted up front sends nothing', async () => {
  const c = await client();
  const { data } = writeData('cancel-abort', 6 * KIB100, 42);
  env.oss.inject({ kind: 'uploadPart', times: Infinity, delayMs: 10 });
  let uploadId = '';
  let aborted: Promise<void> | undefined;
  const err = await rejects(
    c.multipartUpload('cancel/abort', data, {
      partSize: KIB100,
      progress: (_p, cp) => {
        if (cp !== null && cp.doneParts.length === 1) {
          uploadId = cp.uploadId;
          aborted = c.cancel({ name: 'cancel/abort', uploadId });
        }
      },
    }),
    isCancel,
  );
  await aborted;
  await inFlightSettled('cancel/abort');
  assert.is(err.checkpoint.uploadId, uploadId);
  assert.not.ok(env.oss.uploads(BUCKET).some((u) => u.uploadId === uploadId), 'aborted on OSS');

  const mark = env.oss.log.length;
  const controller = new AbortController();
  controller.abort();
  const early = await rejects(c.multipartUpload('cancel/early', data, { signal: controller.signal }), isCancel);
  assert.is(early.checkpoint, null);
  assert.is(env.oss.log.length, mark, 'no request');
});

cancel('a stream that stalls: cancel and a failed part still settle the call (the stream is released)', async () => {
  const c = await client();
  const data = Buffer.from(pseudoRandomBytes(2 * KIB100, 47));
  for (const how of ['cancel', 'failure'] as const) {
    // Some parts' worth of bytes, then nothing more (a client that stopped sending, an idle pipe): a worker
    // waits for the next part's bytes while the others cancel or fail.
    const stalled = new Readable({ read() {} });
    stalled.push(how === 'cancel' ? data : data.subarray(0, KIB100));
    if (how === 'failure') env.oss.inject({ kind: 'uploadPart', times: Infinity, status: 403 });
    const controller = new AbortController();
    const upload = c.multipartUpload(`cancel/stalled-${how}`, stalled, {
      partSize: KIB100,
      parallel: 2,
      contentLength: 4 * KIB100,
      signal: controller.signal,
      progress: (_p, cp) => {
        if (how === 'cancel' && cp !== null && cp.doneParts.length === 2) controller.abort();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise((resolve) => (timer = setTimeout(resolve, 3000, 'hung')));
    const outcome = await Promise.race([upload.then(() => 'resolved', (err) => err), hung]);
    clearTimeout(timer);
    env.oss.clearFaults();
    assert.is.not(outcome, 'hung', `the ${how} of an upload whose stream stalled never settled`);
    if (how === 'cancel') isCancel(outcome);
    else assert.is((outcome as any).status, 403);
    assert.ok(stalled.destroyed, 'the stalled stream is released');
    await inFlightSettled(`cancel/stalled-${how}`);
  }
  // A WHATWG stream is released through the reader that locks it (the stream's own cancel() refuses a locked
  // stream): its source learns that nobody will read on.
  let released: unknown;
  const web = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(data),
    cancel: (reason) => void (released = reason ?? 'cancelled'),
  });
  const controller = new AbortController();
  const err = await rejects(
    c.multipartUpload('cancel/stalled-web', web, {
      partSize: KIB100,
      contentLength: 4 * KIB100,
      signal: controller.signal,
      progress: (_p, cp) => void (cp !== null && cp.doneParts.length === 2 && controller.abort()),
    }),
    isCancel,
  );
  assert.is(err.checkpoint.doneParts.length, 2);
  assert.ok(released !== undefined, "the WHATWG stream's source was cancelled");
  await inFlightSettled('cancel/stalled-web');
});

cancel('inFlightSettled itself fails on a request still in flight and on one sent after the check began', async () => {
  const c = await client();
  env.oss.inject({ kind: 'put', delayMs: 400 });
  const slow = c.put('settle/in-flight', Buffer.alloc(100));
  while (!env.oss.log.some((e) => e.key === 'settle/in-flight')) await new Promise((r) => setTimeout(r, 5));
  await rejects(inFlightSettled('settle/in-flight'), (e) => {
    assert.instance(e, assert.Assertion);
    assert.match(e.message, 'still in flight');
  });
  await slow;
  await inFlightSettled('settle/in-flight');

  // A long quiet period here, so that the late request surely lands inside it on a loaded machine.
  const checking = inFlightSettled('settle/in-flight', 2000);
  await c.put('settle/in-flight', Buffer.alloc(100));
  await rejects(checking, (e) => {
    assert.instance(e, assert.Assertion);
    assert.match(e.message, 'sent after the cancelled upload rejected');
  });
  await rejects(inFlightSettled('settle/never-sent'), (e) => assert.match(e.message, 'nothing to check'));
});

cancel('the checkpoint file holds, at every progress call, the checkpoint progress is given', async () => {
  const c = await client(env.materials[2].spec);
  const { path, data } = writeData('cp-file', 5 * KIB100 + 1, 43);
  const cpPath = join(env.dir, 'cp-file.json');
  let checked = 0;
  await c.multipartUpload('cpfile/a', path, {
    partSize: KIB100,
    parallel: 2,
    checkpoint: cpPath,
    progress: (_p, cp) => {
      if (cp === null) return;
      assert.equal(JSON.parse(readFileSync(cpPath, 'utf8')), JSON.parse(JSON.stringify(cp)));
      checked++;
    },
  });
  assert.is(checked, 7, 'after Initiate and after each of the 6 parts');
  assert.not.ok(existsSync(cpPath));
  assert.ok((await storedPlain('cpfile/a', env.materials[2].spec)).equals(data));
});

cancel.run();

// ---------------------------------------------------------------------------------------------------------------
const validate = suite('resume: the checkpoint is validated before any part is sent');
setup(validate);

validate('changed size or mtime, another part size, object, bucket or key material: CHECKPOINT_MISMATCH', async () => {
  const spec = env.materials[0].spec;
  const c = await client(spec);
  const { path, data } = writeData('validate', 6 * KIB100 + 5, 51);
  const cp: UploadCheckpoint = (await cancelledUpload(c, 'val/a', path, 2)).checkpoint;
  const noParts = (mark: number) => assert.equal(partsSent(mark), [], 'no part was sent');
  let mark = env.oss.log.length;

  await rejects(c.multipartUpload('val/a', path, { checkpoint: cp, partSize: 2 * KIB100 }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'partSize 204800 was asked for');
  });
  await rejects(c.multipartUpload('val/other', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'the checkpoint is for object "val/a"');
  });
  await rejects(c.multipartUpload('val/a', data, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'reads a bytes source');
  });
  const otherBucket = await cryptoClientFromSpec(env.oss.clientOptions('other-bkt'), spec, 'native');
  await rejects(otherBucket.multipartUpload('val/a', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'bucket');
  });
  // Another RSA key pair: the wrapped key cannot be unwrapped.
  const stranger = await cryptoClientFromSpec(env.oss.clientOptions(BUCKET), env.materials[2].spec, 'native');
  await rejects(stranger.multipartUpload('val/a', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.instance(e.cause, KeyUnwrapError);
  });
  noParts(mark);

  // The file changed: mtime only, then size.
  const later = new Date(cp.file!.mtimeMs + 5000);
  utimesSync(path, later, later);
  mark = env.oss.log.length;
  await rejects(c.multipartUpload('val/a', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'was the file modified?');
  });
  appendFileSync(path, 'more');
  await rejects(c.multipartUpload('val/a', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, `the file is now ${6 * KIB100 + 9} bytes (read from stat)`);
  });
  noParts(mark);
});

validate('an upload that no longer exists, malformed and ali-oss-style checkpoints', async () => {
  const c = await client();
  const { path } = writeData('validate-gone', 4 * KIB100, 52);
  const cp: UploadCheckpoint = (await cancelledUpload(c, 'val/gone', path, 1)).checkpoint;
  await c.abortMultipartUpload('val/gone', cp.uploadId);
  const mark = env.oss.log.length;
  await rejects(c.multipartUpload('val/gone', path, { checkpoint: cp }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MISMATCH')(e);
    assert.match(e.message, 'no longer exists');
    assert.is(e.cause.status, 404);
  });

  const cpPath = join(env.dir, 'broken.json');
  writeFileSync(cpPath, JSON.stringify(cp).slice(0, 40));
  await rejects(c.multipartUpload('val/gone', path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_MALFORMED'));
  assert.ok(existsSync(cpPath), 'a malformed checkpoint file is left for the user to inspect');

  const aliOssStyle = { file: path, name: 'val/gone', fileSize: 4 * KIB100, partSize: KIB100, uploadId: cp.uploadId, doneParts: [] };
  await rejects(c.multipartUpload('val/gone', path, { checkpoint: aliOssStyle as any }), isCode(CheckpointError, 'CHECKPOINT_MALFORMED'));
  const withKey = { ...cp, key: 'AAAA' };
  await rejects(c.multipartUpload('val/gone', path, { checkpoint: withKey as any }), (e) => {
    isCode(CheckpointError, 'CHECKPOINT_MALFORMED')(e);
    assert.match(e.message, 'unknown field "key"');
  });
  assert.equal(partsSent(mark), []);
  assert.not.ok(since(mark).some((e) => e.kind === 'initiate'), 'a bad checkpoint never starts a new upload');
});

validate('parts the checkpoint lists but OSS does not hold with that ETag are sent again', async () => {
  const spec = env.materials[1].spec;
  const c = await client(spec);
  const { path, data } = writeData('validate-etag', 5 * KIB100, 53);
  const cp: UploadCheckpoint = (await cancelledUpload(c, 'val/etag', path, 3)).checkpoint;
  const listed = cp.doneParts.map((p) => p.number);
  const forged: UploadCheckpoint = { ...cp, doneParts: cp.doneParts.map((p, i) => (i === 0 ? { ...p, etag: '"00000000000000000000000000000000"' } : p)) };
  const mark = env.oss.log.length;
  await c.multipartUpload('val/etag', path, { checkpoint: forged });
  const expected = range(1, 5).filter((n) => !listed.includes(n) || n === listed[0]);
  assert.equal(partsSent(mark), expected);
  assert.ok((await storedPlain('val/etag', spec)).equals(data));
});

validate('Buffer and stream sources resume: a stream skips the bytes of the parts already uploaded', async () => {
  const spec = env.materials[3].spec;
  const c = await client(spec, 'wasm');
  const size = 7 * KIB100 + 3;
  const data = Buffer.from(pseudoRandomBytes(size, 54));
  const chunks = () => Array.from({ length: Math.ceil(size / 9000) }, (_, i) => data.subarray(i * 9000, (i + 1) * 9000));

  const fromBuffer: UploadCheckpoint = (await cancelledUpload(c, 'val/buffer', data, 2)).checkpoint;
  assert.is(fromBuffer.file, undefined, 'no file identity for a Buffer');
  let mark = env.oss.log.length;
  await c.multipartUpload('val/buffer', data, { checkpoint: fromBuffer });
  assert.equal(partsSent(mark), range(1, 8).filter((n) => !fromBuffer.doneParts.some((p) => p.number === n)));
  assert.ok((await storedPlain('val/buffer', spec)).equals(data));

  const fromStream: UploadCheckpoint = (await cancelledUpload(c, 'val/stream', Readable.from(chunks()), 3, { contentLength: size })).checkpoint;
  mark = env.oss.log.length;
  // The size comes from the checkpoint when the stream is given without one.
  await c.multipartUpload('val/stream', Readable.from(chunks()), { checkpoint: fromStream });
  assert.equal(partsSent(mark), range(1, 8).filter((n) => !fromStream.doneParts.some((p) => p.number === n)));
  assert.ok((await storedPlain('val/stream', spec)).equals(data));
});

validate.run();
