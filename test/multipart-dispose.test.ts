/**
 * The low-level multipart API forgets and zeroes its cached content keys (issue 12 §4): over real HTTP with the
 * real `ali-oss` client, the key drawn by initMultipartUpload is zeroed once completeMultipartUpload succeeds with
 * the context, a key unwrapped for a context parsed from JSON is zeroed by abortMultipartUpload with the context,
 * and disposeMultipartCryptoContext() does it on demand (a later uploadPart unwraps again).
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';
import { parseMultipartCryptoContext, serializeMultipartCryptoContext } from '../bindings/upload/checkpoint.js';
import { disposeMultipartCryptoContext } from '../bindings/upload/parts-api.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'dispose-bkt';
const PART = 102_400;
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const env = { oss: undefined as unknown as OssServer, dir: '' };

/** A key ring that lets the test see every content key it hands out. */
function watchedKeyRing() {
  const inner = new KeyRing({ default: rsaKeyWrapper({ privateKey }) });
  const handed: ContentKey[] = [];
  return {
    handed,
    keyring: {
      async createContentKey() {
        const r = await inner.createContentKey();
        handed.push(r.content);
        return r;
      },
      async unwrap(w: WrappedContentKey) {
        const k = await inner.unwrap(w);
        handed.push(k);
        return k;
      },
    },
  };
}

const zero = (k: ContentKey) => k.key.every((b) => b === 0) && k.iv.every((b) => b === 0);
const tick = () => new Promise((r) => setImmediate(r));

const s = suite('low-level multipart: content keys are zeroed on complete, abort and dispose');
useStandIns(s, env, { tmpPrefix: 'oss-crypto-dispose-' });

s('complete with the context zeroes the drawn key; the object reads back', async () => {
  const { keyring, handed } = watchedKeyRing();
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: false });
  const data = Buffer.from(pseudoRandomBytes(2 * PART + 7, 4));
  const { uploadId, context } = await c.initMultipartUpload('d/complete', { dataSize: data.length, partSize: PART });
  const parts = [];
  for (let n = 1; n <= 3; n++) parts.push((await c.uploadPart('d/complete', uploadId, n, data.subarray((n - 1) * PART, n * PART), context)).part);
  assert.is(handed.length, 1, 'the drawn key served every part: no unwrap');
  assert.not.ok(zero(handed[0]));
  await c.completeMultipartUpload('d/complete', uploadId, parts, { context });
  await tick();
  assert.ok(zero(handed[0]), 'the content key was zeroed');
  assert.equal((await c.get('d/complete')).content, data);
});

s('a worker with a context from JSON: abort with the context zeroes the unwrapped key', async () => {
  const { keyring, handed } = watchedKeyRing();
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: false });
  const { uploadId, context } = await c.initMultipartUpload('d/abort', { dataSize: 2 * PART, partSize: PART });
  const worker = parseMultipartCryptoContext(serializeMultipartCryptoContext(context));
  await c.uploadPart('d/abort', uploadId, 2, Buffer.alloc(PART, 1), worker);
  assert.is(handed.length, 2, 'drawn, then unwrapped for the parsed context');
  await c.abortMultipartUpload('d/abort', uploadId, { context: worker });
  await tick();
  assert.ok(zero(handed[1]));
  assert.not.ok(zero(handed[0]), 'the other context object keeps its own key');
  assert.is(env.oss.uploads(BUCKET).filter((u) => u.uploadId === uploadId).length, 0, 'the upload is gone');
});

s('disposeMultipartCryptoContext zeroes on demand; a later part unwraps again and still encrypts correctly', async () => {
  const { keyring, handed } = watchedKeyRing();
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: false });
  const data = Buffer.from(pseudoRandomBytes(2 * PART, 8));
  const { uploadId, context } = await c.initMultipartUpload('d/dispose', { dataSize: data.length, partSize: PART });
  const p1 = (await c.uploadPart('d/dispose', uploadId, 1, data.subarray(0, PART), context)).part;
  disposeMultipartCryptoContext(context);
  await tick();
  assert.ok(zero(handed[0]));
  const p2 = (await c.uploadPart('d/dispose', uploadId, 2, data.subarray(PART), context)).part;
  assert.is(handed.length, 2, 'unwrapped again after dispose');
  await c.completeMultipartUpload('d/dispose', uploadId, [p1, p2], { context });
  assert.equal((await c.get('d/dispose')).content, data);
});

s.run();
