/**
 * Tests of bindings/upload/resume-check.ts (issue 12 §1): the comparison of a checkpoint with the `ClientEncryption*`
 * fields that ListParts reports (read by the ali-oss adapter) accepts an equal upload, refuses any single field that
 * differs (fast-check) naming it and never quoting the wrapped values, refuses a partial listing, and refuses an
 * upload that lists none. Over real HTTP (ali-oss against the stand-in, through the adapter's listParts): a context
 * matches its own upload, the planted-key and foreign-upload attacks of the issue are refused, and a plain upload
 * lists nothing. The end-to-end resume attacks are test/checkpoint-attacks.test.ts.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { CheckpointError } from '../bindings/errors.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { ListPartsEncryption } from '../bindings/oss/object-store.js';
import { aliOssStore } from '../bindings/oss/ali-oss.js';
import { createUploadCheckpoint, type UploadCheckpoint } from '../bindings/upload/checkpoint.js';
import { checkUploadEnvelope } from '../bindings/upload/resume-check.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, throwsCode } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const CP: UploadCheckpoint = createUploadCheckpoint({
  name: 'v.bin',
  uploadId: 'u-1',
  wrapAlg: 'RSA/NONE/PKCS1Padding',
  wrappedKey: Buffer.from(pseudoRandomBytes(256, 1)).toString('base64'),
  wrappedStart: Buffer.from(pseudoRandomBytes(256, 2)).toString('base64'),
  matdesc: {},
  dataSize: 3 * 1048576 + 5,
  partSize: 1048576,
});
const LISTED: Required<ListPartsEncryption> = {
  key: CP.wrappedKey,
  start: CP.wrappedStart,
  cekAlg: 'AES/CTR/NoPadding',
  wrapAlg: CP.wrapAlg,
  dataSize: String(CP.dataSize),
  partSize: String(CP.partSize),
};
const LABELS: Record<keyof ListPartsEncryption, string> = {
  key: 'wrapped key',
  start: 'wrapped start',
  cekAlg: 'cek-alg',
  wrapAlg: 'wrap-alg',
  dataSize: 'data size',
  partSize: 'part size',
};

/** A checkpoint for an upload as the low-level API's crypto context describes it. */
function checkpointOf(ctx: Omit<UploadCheckpoint, 'type' | 'version' | 'doneParts' | 'createdAt'>): UploadCheckpoint {
  const { name, uploadId, wrapAlg, wrappedKey, wrappedStart, matdesc, dataSize, partSize } = ctx;
  return createUploadCheckpoint({ name, uploadId, wrapAlg, wrappedKey, wrappedStart, matdesc, dataSize, partSize });
}

const unit = suite('resume-check: checkpoint vs the upload OSS lists');

unit('equal fields pass; none listed and a partial listing are CHECKPOINT_MISMATCH', () => {
  checkUploadEnvelope(CP, LISTED);
  throwsCode(() => checkUploadEnvelope(CP, undefined), CheckpointError, 'CHECKPOINT_MISMATCH', /reports no client-side encryption/);
  const { start, ...partial } = LISTED;
  assert.type(start, 'string');
  throwsCode(() => checkUploadEnvelope(CP, partial), CheckpointError, 'CHECKPOINT_MISMATCH', /does not report the wrapped start/);
});

unit('any single field changed is CHECKPOINT_MISMATCH naming it; wrapped values are never quoted', () => {
  fc.assert(
    fc.property(fc.constantFrom(...(Object.keys(LISTED) as Array<keyof ListPartsEncryption>)), fc.string(), (field, value) => {
      fc.pre(value !== LISTED[field]);
      const message = throwsCode(() => checkUploadEnvelope(CP, { ...LISTED, [field]: value }), CheckpointError, 'CHECKPOINT_MISMATCH', `the checkpoint's ${LABELS[field]} differs`);
      return !message.includes(CP.wrappedKey) && !message.includes(CP.wrappedStart);
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------------------------------------------
const http = suite('resume-check over HTTP: ListParts from the stand-in, read by the ali-oss adapter');
const env = { oss: undefined as unknown as OssServer, dir: '' };
useStandIns(http, env, { tmpPrefix: 'oss-crypto-resume-check-' });

http('a context matches its own upload; a planted key or another upload is refused; a plain upload lists nothing', async () => {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const oss: any = env.oss.client('lp-bkt');
  const store = aliOssStore(oss);
  const listed = async (name: string, uploadId: string) => (await store.listParts(name, uploadId, undefined, {})).clientEncryption;
  const c = new CryptoClient(oss, { material: rsaKeyWrapper({ privateKey }), retry: false });
  const victim = await c.initMultipartUpload('v.bin', { dataSize: 300_000, partSize: 102_400 });
  const victimListed = await listed('v.bin', victim.uploadId);
  checkUploadEnvelope(checkpointOf(victim.context), victimListed);

  // Attack 1: the checkpoint's wrapped key replaced by one the attacker made under the victim's public key.
  const planted = await c.initMultipartUpload('other.bin', { dataSize: 300_000, partSize: 102_400 });
  const edited = checkpointOf({ ...victim.context, wrappedKey: planted.context.wrappedKey, wrappedStart: planted.context.wrappedStart });
  throwsCode(() => checkUploadEnvelope(edited, victimListed), CheckpointError, 'CHECKPOINT_MISMATCH', /wrapped key differs/);
  // Attack 2: the checkpoint points at an upload the attacker initiated with their own key.
  const foreign = await listed('other.bin', planted.uploadId);
  throwsCode(() => checkUploadEnvelope(checkpointOf(victim.context), foreign), CheckpointError, 'CHECKPOINT_MISMATCH', /wrapped key differs/);
  // Attack 3: the uploadId of a plain upload: OSS lists no encryption fields.
  const plain = await oss.initMultipartUpload('plain.bin');
  const plainListed = await listed('plain.bin', plain.uploadId);
  assert.is(plainListed, undefined);
  throwsCode(() => checkUploadEnvelope(checkpointOf(victim.context), plainListed), CheckpointError, 'CHECKPOINT_MISMATCH', /reports no client-side encryption/);
});

unit.run();
http.run();
