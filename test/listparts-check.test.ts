/**
 * Tests of bindings/upload/listparts-check.ts (issue 12 §1, the pure half): the XML reader takes only the
 * top-level `ClientEncryption*` fields and decodes entities; the comparison accepts an equal upload, names every
 * field that differs (fast-check: any single-field change), refuses a partial listing and reports `absent` when OSS
 * lists none. Over real HTTP (ali-oss against the stand-in, raw ListParts XML): a context matches its own upload,
 * the planted-key and foreign-upload attacks of the issue are refused, and a plain upload lists nothing.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { CheckpointError } from '../bindings/errors.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { compareWithListedUpload, listPartsEncryptionFields, type CheckpointEnvelopeFields } from '../bindings/upload/listparts-check.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, throwsCode } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const CP: CheckpointEnvelopeFields = {
  wrapAlg: 'RSA/NONE/PKCS1Padding',
  wrappedKey: Buffer.from(pseudoRandomBytes(256, 1)).toString('base64'),
  wrappedStart: Buffer.from(pseudoRandomBytes(256, 2)).toString('base64'),
  dataSize: 3 * 1048576 + 5,
  partSize: 1048576,
};
const LISTED = {
  ClientEncryptionKey: CP.wrappedKey,
  ClientEncryptionStart: CP.wrappedStart,
  ClientEncryptionCekAlg: 'AES/CTR/NoPadding',
  ClientEncryptionWrapAlg: CP.wrapAlg,
  ClientEncryptionDataSize: String(CP.dataSize),
  ClientEncryptionPartSize: String(CP.partSize),
};

const unit = suite('listparts-check: checkpoint vs the upload OSS lists');

unit('equal fields match; none listed is absent; a partial listing is a mismatch', () => {
  assert.is(compareWithListedUpload(CP, LISTED), 'match');
  assert.is(compareWithListedUpload(CP, {}), 'absent');
  const { ClientEncryptionStart, ...partial } = LISTED;
  throwsCode(() => compareWithListedUpload(CP, partial), CheckpointError, 'CHECKPOINT_MISMATCH', /ClientEncryptionStart is missing/);
});

unit('any single field changed is CHECKPOINT_MISMATCH naming it; wrapped values are never quoted', () => {
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(LISTED)), fc.string(), (field, value) => {
      fc.pre(value !== (LISTED as Record<string, string>)[field]);
      const message = throwsCode(() => compareWithListedUpload(CP, { ...LISTED, [field]: value }), CheckpointError, 'CHECKPOINT_MISMATCH', field);
      return !message.includes(CP.wrappedKey) && !message.includes(CP.wrappedStart);
    }),
    { numRuns: 500 },
  );
});

unit('the XML reader: top-level fields only, entities decoded', () => {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>b</Bucket>' +
    '<Part><PartNumber>1</PartNumber><ClientEncryptionKey>inside-a-part</ClientEncryptionKey></Part>' +
    '<ClientEncryptionKey>a+b/c=</ClientEncryptionKey><ClientEncryptionWrapAlg>x&amp;y&#47;z&#x41;</ClientEncryptionWrapAlg>' +
    '</ListPartsResult>';
  assert.equal(listPartsEncryptionFields(xml), { ClientEncryptionKey: 'a+b/c=', ClientEncryptionWrapAlg: 'x&y/zA' });
  assert.equal(listPartsEncryptionFields('<ListPartsResult></ListPartsResult>'), {});
});

// ---------------------------------------------------------------------------------------------------------------
const http = suite('listparts-check over HTTP: raw ListParts from the stand-in');
const env = { oss: undefined as unknown as OssServer, dir: '' };
useStandIns(http, env, { tmpPrefix: 'oss-crypto-listparts-' });

async function rawListParts(oss: any, name: string, uploadId: string): Promise<string> {
  const params = oss._objectRequestParams('GET', name, { subres: { uploadId } });
  params.successStatuses = [200];
  const result = await oss.request(params);
  return Buffer.from(result.data).toString('utf8');
}

http('a context matches its own upload; a planted key or another upload is refused; a plain upload lists nothing', async () => {
  const bucket = 'lp-bkt';
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const oss: any = env.oss.client(bucket);
  const c = new CryptoClient(oss, { material: rsaKeyWrapper({ privateKey }), retry: false });
  const victim = await c.initMultipartUpload('v.bin', { dataSize: 300_000, partSize: 102_400 });
  const listed = listPartsEncryptionFields(await rawListParts(oss, 'v.bin', victim.uploadId));
  assert.is(compareWithListedUpload(victim.context, listed), 'match');

  // Attack 1: the checkpoint's wrapped key replaced by one the attacker made under the victim's public key.
  const planted = await c.initMultipartUpload('other.bin', { dataSize: 300_000, partSize: 102_400 });
  throwsCode(() => compareWithListedUpload({ ...victim.context, wrappedKey: planted.context.wrappedKey, wrappedStart: planted.context.wrappedStart }, listed), CheckpointError, 'CHECKPOINT_MISMATCH', /ClientEncryptionKey differs; ClientEncryptionStart differs/);
  // Attack 2: the checkpoint points at an upload the attacker initiated with their own key.
  const foreign = listPartsEncryptionFields(await rawListParts(oss, 'other.bin', planted.uploadId));
  throwsCode(() => compareWithListedUpload(victim.context, foreign), CheckpointError, 'CHECKPOINT_MISMATCH', /ClientEncryptionKey differs/);
  // Attack 3: the uploadId of a plain upload: OSS lists no encryption fields.
  const plain = await oss.initMultipartUpload('plain.bin');
  assert.is(compareWithListedUpload(victim.context, listPartsEncryptionFields(await rawListParts(oss, 'plain.bin', plain.uploadId))), 'absent');
});

unit.run();
http.run();
