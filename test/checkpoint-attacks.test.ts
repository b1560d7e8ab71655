/**
 * Checkpoints an attacker cannot redirect (issue 12 §1), over real HTTP with the real ali-oss client. Each attack of
 * the issue is reproduced and now fails closed before any part is sent:
 * - a planted key: the checkpoint's wrapped key (and start) replaced with a key K the attacker chose, wrapped under
 *   the victim's public key (it unwraps): CHECKPOINT_MISMATCH naming the wrapped key, since ListParts reports the
 *   upload's own key (bindings/upload/resume-check.ts);
 * - a planted upload: an upload initiated under K and a checkpoint for it planted at the victim's checkpoint path
 *   (everything in it is consistent, so only the file's owner and mode can tell): a file another user owns, or that
 *   others may write, is CHECKPOINT_UNSAFE (bindings/checkpoint/file-trust.ts);
 * - an upload id of a plain upload: ListParts reports no client-side encryption, CHECKPOINT_MISMATCH.
 * Also: checkpoint files are written with mode 0600; every other field ListParts reports is compared (part size,
 * data size, wrap-alg); and OSS itself (the strict stand-in) refuses a part whose V2 headers name another key than
 * the upload's, which the client now sends on every UploadPart.
 * @module
 */
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OSS from 'ali-oss';
import type { CryptoClient } from '../bindings/client/crypto-client.js';
import { CheckpointError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { createUploadCheckpoint, parseUploadCheckpoint, serializeUploadCheckpoint, type UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import { uploadEnvelopeHeaders } from '../bindings/upload/part-requests.js';
import { checkUploadEnvelope } from '../bindings/upload/resume-check.js';
import { materialFromSpec } from './support/upload-child.js';
import { isCode, pseudoRandomBytes, rejects } from './_util.js';
import { multipartHarness } from './support/multipart-harness.js';

const BUCKET = 'cp-attack-bkt';
const KIB100 = 100 * 1024;
const { env, setup, client, storedPlain } = multipartHarness(BUCKET, 'oss-crypto-cp-attack-');

const since = (mark: number) => env.oss.log.slice(mark);
const partsSince = (mark: number) => since(mark).filter((e) => e.kind === 'uploadPart').length;

function writeData(label: string, size: number, seed: number): { path: string; data: Buffer } {
  const data = Buffer.from(pseudoRandomBytes(size, seed));
  const path = join(env.dir, `${label}.bin`);
  writeFileSync(path, data);
  return { path, data };
}

/** A victim's upload of `label`, cancelled after 2 of its 5 parts; its checkpoint file is left at `cpPath`. */
async function interrupted(c: CryptoClient, label: string): Promise<{ path: string; data: Buffer; cpPath: string; key: string; cp: UploadCheckpoint }> {
  const { path, data } = writeData(label, 4 * KIB100 + 11, label.length);
  const cpPath = join(env.dir, `${label}.cp.json`);
  const key = `attack/${label}`;
  const controller = new AbortController();
  await rejects(
    c.multipartUpload(key, path, {
      partSize: KIB100,
      parallel: 1,
      checkpoint: cpPath,
      signal: controller.signal,
      progress: (_p, cp) => {
        if (cp !== null && cp.doneParts.length >= 2) controller.abort();
      },
    }),
    (e) => assert.is(e.name, 'cancel'),
  );
  return { path, data, cpPath, key, cp: parseUploadCheckpoint(readFileSync(cpPath, 'utf8')) };
}

/** A content key K of the attacker's choosing, wrapped under the victim's (public) material. */
async function attackerKey(): Promise<Pick<UploadCheckpoint, 'wrapAlg' | 'wrappedKey' | 'wrappedStart' | 'matdesc'>> {
  const ring = new KeyRing({ default: await materialFromSpec(env.materials[0].spec) });
  const { wrapped } = await ring.createContentKey();
  return { wrapAlg: wrapped.wrapAlg, wrappedKey: wrapped.wrappedKey, wrappedStart: wrapped.wrappedStart, matdesc: wrapped.matdesc };
}

const attacks = suite('checkpoints an attacker cannot redirect: each attack of issue 12 §1 fails closed');
setup(attacks);

attacks('the checkpoint file is written with mode 0600, and a clean resume still completes byte-exact', async () => {
  const c = await client();
  const { path, data, cpPath, key } = await interrupted(c, 'clean');
  assert.is(statSync(cpPath).mode & 0o777, 0o600);
  await c.multipartUpload(key, path, { checkpoint: cpPath });
  assert.ok((await storedPlain(key, env.materials[0].spec)).equals(data));
});

attacks('planted key: a wrapped key (and start) the attacker chose, which unwraps, is CHECKPOINT_MISMATCH naming the wrapped key; no part sent', async () => {
  const c = await client();
  const { path, cpPath, key, cp } = await interrupted(c, 'planted-key');
  const planted = createUploadCheckpoint({ ...cp, ...(await attackerKey()) });
  writeFileSync(cpPath, serializeUploadCheckpoint(planted));
  chmodSync(cpPath, 0o600);
  const mark = env.oss.log.length;
  await rejects(c.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_MISMATCH', /wrapped key differs/));
  assert.is(partsSince(mark), 0, 'no part encrypted under the planted key');
  // The start alone differs: named as such.
  writeFileSync(cpPath, serializeUploadCheckpoint(createUploadCheckpoint({ ...cp, wrappedStart: (await attackerKey()).wrappedStart })));
  await rejects(c.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_MISMATCH', /wrapped start differs/));
  assert.is(partsSince(mark), 0);
});

attacks('planted upload: a consistent checkpoint for an upload initiated under K, planted by another user or through a writable file, is CHECKPOINT_UNSAFE', async () => {
  const victim = await client();
  const { path } = writeData('planted-upload', 4 * KIB100 + 11, 9);
  const key = 'attack/planted-upload';
  const cpPath = join(env.dir, 'planted-upload.cp.json');
  // The attacker (bucket write access, the victim's public key) initiates under K with the victim's material.
  const attacker = await client();
  const init = await attacker.initMultipartUpload(key, { dataSize: statSync(path).size, partSize: KIB100 });
  const st = statSync(path);
  const planted = createUploadCheckpoint({
    bucket: BUCKET,
    name: key,
    uploadId: init.uploadId,
    file: { path, size: st.size, mtimeMs: st.mtimeMs },
    dataSize: st.size,
    partSize: KIB100,
    wrapAlg: init.context.wrapAlg,
    wrappedKey: init.context.wrappedKey,
    wrappedStart: init.context.wrappedStart,
    matdesc: init.context.matdesc,
  });
  writeFileSync(cpPath, serializeUploadCheckpoint(planted));
  // The attack as the issue found it: with a file nobody else could have written, the planted checkpoint is
  // indistinguishable from the victim's own (its key is the upload's, and unwraps); so where it came from decides.
  const mark = env.oss.log.length;
  for (const mode of [0o666, 0o620, 0o602]) {
    chmodSync(cpPath, mode);
    await rejects(victim.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_UNSAFE', /writable by its group or by everyone/));
  }
  chmodSync(cpPath, 0o600);
  if (process.getuid?.() === 0) {
    chownSync(cpPath, 65534, 65534);
    await rejects(victim.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_UNSAFE', /belongs to another user/));
  }
  assert.equal(since(mark).map((e) => e.kind), [], 'refused before any request');
});

attacks('an upload id of a plain upload: ListParts reports no client-side encryption, CHECKPOINT_MISMATCH; nothing completed', async () => {
  const c = await client();
  const { path, cpPath, key, cp } = await interrupted(c, 'plain-upload');
  const plain = new OSS(env.oss.clientOptions(BUCKET));
  const { uploadId } = await plain.initMultipartUpload(key);
  writeFileSync(cpPath, serializeUploadCheckpoint(createUploadCheckpoint({ ...cp, uploadId, doneParts: [] })));
  chmodSync(cpPath, 0o600);
  const mark = env.oss.log.length;
  await rejects(c.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_MISMATCH', /reports no client-side encryption/));
  assert.equal(since(mark).map((e) => e.kind), ['listParts']);
  assert.is(env.oss.getObject(BUCKET, key), undefined);
});

attacks('every field ListParts reports is compared: another part size or wrap-alg in the checkpoint is CHECKPOINT_MISMATCH naming it', async () => {
  const c = await client();
  const { path, cpPath, key, cp } = await interrupted(c, 'fields');
  for (const [edit, label] of [
    [{ partSize: 2 * KIB100, doneParts: [] }, 'part size'],
    [{ wrapAlg: cp.wrapAlg === 'RSA/NONE/PKCS1Padding' ? 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding' : 'RSA/NONE/PKCS1Padding' }, 'wrap-alg'],
  ] as const) {
    writeFileSync(cpPath, serializeUploadCheckpoint(createUploadCheckpoint({ ...cp, ...edit })));
    const mark = env.oss.log.length;
    await rejects(c.multipartUpload(key, path, { checkpoint: cpPath }), isCode(CheckpointError, 'CHECKPOINT_MISMATCH', new RegExp(`${label} differs`)));
    assert.is(partsSince(mark), 0, label);
  }
  // The rule itself, for the fields a file cannot be edited to reach (data size must match the file first): each
  // reported field that differs or is missing is named.
  const reported = { key: cp.wrappedKey, start: cp.wrappedStart, cekAlg: 'AES/CTR/NoPadding', wrapAlg: cp.wrapAlg, dataSize: String(cp.dataSize), partSize: String(cp.partSize) };
  checkUploadEnvelope(cp, reported);
  for (const [field, label] of [['dataSize', 'data size'], ['cekAlg', 'cek-alg'], ['key', 'wrapped key'], ['start', 'wrapped start']] as const) {
    assert.throws(() => checkUploadEnvelope(cp, { ...reported, [field]: 'X' + reported[field] }), (e: any) => e.code === 'CHECKPOINT_MISMATCH' && e.message.includes(`${label} differs`));
    const { [field]: _, ...without } = reported;
    assert.throws(() => checkUploadEnvelope(cp, without), (e: any) => e.code === 'CHECKPOINT_MISMATCH' && e.message.includes(`does not report the ${label}`));
  }
});

attacks('OSS refuses a part whose V2 headers name another key than its upload (0005-00000412), now that every part carries them', async () => {
  const c = await client();
  const { path, cp } = await interrupted(c, 'part-headers');
  const other = await attackerKey();
  const headers = uploadEnvelopeHeaders({ format: 'v2', ...other } as Parameters<typeof uploadEnvelopeHeaders>[0], cp);
  const plain = new OSS(env.oss.clientOptions(BUCKET));
  const err = await plain
    .uploadPart(cp.name, cp.uploadId, 3, path, 2 * KIB100, 3 * KIB100, { headers } as any)
    .then(() => undefined, (e: any) => e);
  assert.ok(err !== undefined, 'the part is refused');
  assert.is(err.status, 400);
  assert.is(err.ecCode ?? err.EC, '0005-00000412');
});

attacks.run();
