/**
 * The KMS stand-in (test/support/kms-server.ts) driven by the real `@alicloud/kms20160120` client over loopback
 * HTTP: round trips of Encrypt / Decrypt / GenerateDataKey, EncryptionContext binding and canonicalisation,
 * KMS-shaped errors (signature, access key, STS token, key, blob, context, nonce, timestamp) that the real client
 * turns into `<Code>Error`, the fixture table, fault injection and request recording. docs/FORMAT.md §2.2, §8.
 * @module
 */
import { createHmac, randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as KmsSdk from '@alicloud/kms20160120';
import { readKmsTable, startKmsServer, type KmsServer } from './support/kms-server.js';
import { fixturePath, rejects } from './_util.js';

type SdkClient = InstanceType<typeof KmsSdk.default>;
// A CommonJS module seen from ESM: the class is the `default` of the exports object.
const Kms = ((KmsSdk as unknown as { default: { default: typeof KmsSdk.default } }).default.default ?? KmsSdk.default) as typeof KmsSdk.default;
const { EncryptRequest, DecryptRequest, GenerateDataKeyRequest } = KmsSdk;

interface SdkError extends Error {
  code: string;
  data?: { Code?: string; RequestId?: string; Message?: string };
}


function statusOf(err: SdkError): number | undefined {
  const m = /code: (\d{3}),/.exec(err.message);
  return m ? Number(m[1]) : undefined;
}

const table = readKmsTable(fixturePath('interop', 'kms-table.json'));

const ctx = { kms: undefined as unknown as KmsServer, client: undefined as unknown as SdkClient, keyId: '' };

const s = suite('KMS stand-in over the real @alicloud/kms20160120 client');

s.before(async () => {
  ctx.kms = await startKmsServer({ table });
  ctx.keyId = ctx.kms.createKey();
  ctx.client = new Kms(ctx.kms.clientConfig());
});

s.after(async () => {
  await ctx.kms.close();
});

s('Encrypt then Decrypt returns the Plaintext text; KeyId and RequestId come back', async () => {
  const plaintext = Buffer.from('a 32-byte key..................!').toString('base64');
  const enc = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext }));
  assert.is(enc.keyId, ctx.keyId);
  assert.match(enc.requestId, /^[0-9A-F-]{36}$/);
  assert.ok(enc.ciphertextBlob.length > 0);
  assert.is.not(enc.ciphertextBlob, plaintext);
  const dec = await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob }));
  assert.is(dec.plaintext, plaintext);
  assert.is(dec.keyId, ctx.keyId);
  assert.is(dec.keyVersionId, enc.keyVersionId);
  // Non-base64 text (V1 writes the decimal counter) round-trips as text.
  const counter = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: '8' }));
  assert.is((await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: counter.ciphertextBlob }))).plaintext, '8');
});

s('every blob is fresh (random GCM nonce) and decodes to binary, never to base64 text', async () => {
  const a = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QUJD' }));
  const b = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QUJD' }));
  assert.is.not(a.ciphertextBlob, b.ciphertextBlob);
  const decoded = Buffer.from(a.ciphertextBlob, 'base64').toString('latin1');
  assert.not.match(decoded, /^[A-Za-z0-9+/=]+$/);
});

s('GenerateDataKey: AES_256 gives 32 bytes, AES_128 16, NumberOfBytes wins; Decrypt of its blob gives the same Plaintext', async () => {
  const g256 = await ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, keySpec: 'AES_256', numberOfBytes: 32 }));
  assert.is(Buffer.from(g256.plaintext, 'base64').length, 32);
  assert.is(Buffer.from(g256.plaintext, 'base64').toString('base64'), g256.plaintext);
  const back = await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: g256.ciphertextBlob }));
  assert.is(back.plaintext, g256.plaintext);
  const g128 = await ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, keySpec: 'AES_128' }));
  assert.is(Buffer.from(g128.plaintext, 'base64').length, 16);
  const g7 = await ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, keySpec: 'AES_128', numberOfBytes: 7 }));
  assert.is(Buffer.from(g7.plaintext, 'base64').length, 7);
  const g256b = await ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, keySpec: 'AES_256' }));
  assert.is.not(g256b.plaintext, g256.plaintext);
  const bad = await rejects(ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, keySpec: 'AES_512' })));
  assert.is(bad.code, 'InvalidParameterError');
  const tooMany = await rejects(ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: ctx.keyId, numberOfBytes: 1025 })));
  assert.is(tooMany.code, 'InvalidParameterError');
});

s('EncryptionContext is bound: JSON string and flattened map forms, key order and spacing do not matter', async () => {
  const enc = await ctx.client.encrypt(
    new EncryptRequest({ keyId: ctx.keyId, plaintext: 'aGVsbG8=', encryptionContext: '{"x-passphrase":"p1","b":"2"}' }),
  );
  const last = ctx.kms.requests[ctx.kms.requests.length - 1];
  assert.is(last.encryptionContextForm, 'json');
  assert.is(last.encryptionContextWire, '{"x-passphrase":"p1","b":"2"}');
  assert.equal(last.encryptionContext, { 'x-passphrase': 'p1', b: '2' });
  const asMap = await ctx.client.decrypt(
    new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: { b: '2', 'x-passphrase': 'p1' } }),
  );
  assert.is(asMap.plaintext, 'aGVsbG8=');
  assert.is(ctx.kms.requests[ctx.kms.requests.length - 1].encryptionContextForm, 'flat');
  const spaced = await ctx.client.decrypt(
    new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: '{ "b" : "2", "x-passphrase" : "p1" }' }),
  );
  assert.is(spaced.plaintext, 'aGVsbG8=');
});

s('Decrypt with a different context fails with a KMS-shaped 400 that the client reports as InvalidParameterError', async () => {
  const enc = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'aGVsbG8=', encryptionContext: '{"x-passphrase":"right"}' }));
  for (const encryptionContext of [undefined, '', '{"x-passphrase":"wrong"}', '{"x-passphrase":"right","extra":"1"}', '{"x-passphrase":""}']) {
    const err = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob, encryptionContext })));
    assert.is(err.code, 'InvalidParameterError', String(encryptionContext));
    assert.is(err.data?.Code, 'InvalidParameter');
    assert.is(statusOf(err), 400);
    const record = ctx.kms.requests[ctx.kms.requests.length - 1];
    assert.is(err.data?.RequestId, record.requestId);
    assert.is(record.status, 400);
  }
  // No context at encryption: absent and "" are the same, {"x-passphrase":""} is not.
  const none = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'bm9uZQ==' }));
  assert.is((await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: none.ciphertextBlob, encryptionContext: '' }))).plaintext, 'bm9uZQ==');
  assert.is((await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: none.ciphertextBlob, encryptionContext: '{}' }))).plaintext, 'bm9uZQ==');
  const emptyPass = await rejects(
    ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: none.ciphertextBlob, encryptionContext: '{"x-passphrase":""}' })),
  );
  assert.is(emptyPass.code, 'InvalidParameterError');
  const notJson = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: none.ciphertextBlob, encryptionContext: '{x' })));
  assert.is(notJson.code, 'InvalidParameterError');
});

s('unknown key: Encrypt, GenerateDataKey and Decrypt of a blob made under a key this server lacks → Forbidden.KeyNotFound (404)', async () => {
  const missing = randomUUID();
  const e1 = await rejects(ctx.client.encrypt(new EncryptRequest({ keyId: missing, plaintext: 'QQ==' })));
  assert.is(e1.code, 'Forbidden.KeyNotFoundError');
  assert.is(statusOf(e1), 404);
  const e2 = await rejects(ctx.client.generateDataKey(new GenerateDataKeyRequest({ keyId: missing, keySpec: 'AES_256' })));
  assert.is(e2.code, 'Forbidden.KeyNotFoundError');
  const other = await startKmsServer();
  try {
    const otherKey = other.createKey();
    const blob = (await new Kms(other.clientConfig()).encrypt(new EncryptRequest({ keyId: otherKey, plaintext: 'QQ==' }))).ciphertextBlob;
    const e3 = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: blob })));
    assert.is(e3.code, 'Forbidden.KeyNotFoundError');
    assert.is(ctx.kms.requests[ctx.kms.requests.length - 1].keyId, otherKey);
  } finally {
    await other.close();
  }
});

s('bad blobs (not base64, not ours, tampered) → InvalidParameter (400)', async () => {
  const enc = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'aGVsbG8=' }));
  const bytes = Buffer.from(enc.ciphertextBlob, 'base64');
  bytes[bytes.length - 1] ^= 1;
  for (const blob of ['not base64!', Buffer.from('hello world, not a blob').toString('base64'), bytes.toString('base64')]) {
    const err = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: blob })));
    assert.is(err.code, 'InvalidParameterError');
    assert.is(statusOf(err), 400);
  }
  const missing = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: '' })));
  assert.is(missing.code, 'MissingParameterError');
});

s('wrong secret → SignatureDoesNotMatch (400); unknown access key → InvalidAccessKeyId.NotFound (404); nothing is performed', async () => {
  const before = ctx.kms.count();
  const wrongSecret = new Kms(ctx.kms.clientConfig({ accessKeySecret: 'not-the-secret' }));
  const e1 = await rejects(wrongSecret.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QQ==' })));
  assert.is(e1.code, 'SignatureDoesNotMatchError');
  assert.is(statusOf(e1), 400);
  const unknown = new Kms(ctx.kms.clientConfig({ accessKeyId: 'LTAI-nobody' }));
  const e2 = await rejects(unknown.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QQ==' })));
  assert.is(e2.code, 'InvalidAccessKeyId.NotFoundError');
  assert.is(statusOf(e2), 404);
  assert.is(ctx.kms.count() - before, 2);
  assert.equal(ctx.kms.requests.slice(-2).map((r) => r.code), ['SignatureDoesNotMatch', 'InvalidAccessKeyId.NotFound']);
});

s('unknown Action → InvalidAction.NotFound (404)', async () => {
  const err = await rejects(ctx.client.describeKey(new KmsSdk.DescribeKeyRequest({ keyId: ctx.keyId })));
  assert.is(err.code, 'InvalidAction.NotFoundError');
  assert.is(statusOf(err), 404);
});

s('signature v1 computed independently; a replayed nonce and a stale timestamp are refused', async () => {
  const { accessKeyId, accessKeySecret } = ctx.kms.credentials;
  const send = (params: Record<string, string>) => {
    const all: Record<string, string> = {
      Action: 'Encrypt', Format: 'JSON', Version: '2016-01-20', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
      AccessKeyId: accessKeyId, KeyId: ctx.keyId, Plaintext: "it's (a) *test*!", ...params,
    };
    const enc = (t: string) => encodeURIComponent(t).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const canonical = Object.keys(all).sort().map((k) => `${enc(k)}=${enc(all[k])}`).join('&');
    const signature = createHmac('sha1', `${accessKeySecret}&`).update(`POST&${enc('/')}&${enc(canonical)}`).digest('base64');
    const query = new URLSearchParams({ ...all, Signature: signature });
    return fetch(`http://${ctx.kms.endpoint}/?${query}`, { method: 'POST' });
  };
  const nonce = randomUUID();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ok = await send({ SignatureNonce: nonce, Timestamp: now });
  assert.is(ok.status, 200);
  const okBody = (await ok.json()) as Record<string, string>;
  assert.ok(okBody.CiphertextBlob);
  const replay = await send({ SignatureNonce: nonce, Timestamp: now });
  assert.is(replay.status, 400);
  assert.is(((await replay.json()) as Record<string, string>).Code, 'SignatureNonceUsed');
  const stale = await send({ SignatureNonce: randomUUID(), Timestamp: new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z') });
  assert.is(stale.status, 400);
  assert.is(((await stale.json()) as Record<string, string>).Code, 'InvalidTimeStamp.Expired');
  const unsigned = await fetch(`http://${ctx.kms.endpoint}/?Action=Encrypt&KeyId=${ctx.keyId}&Plaintext=QQ%3D%3D`, { method: 'POST' });
  assert.is(unsigned.status, 400);
  const body = (await unsigned.json()) as Record<string, string>;
  assert.is(body.Code, 'IncompleteSignature');
  assert.match(body.RequestId, /^[0-9A-F-]{36}$/);
});

s('STS: the issued SecurityToken is required with a temporary key and checked', async () => {
  const sts = await startKmsServer({
    accessKeys: { 'STS.temporary': 'temp-secret', 'LTAI-permanent': 'perm-secret' },
    securityTokens: { 'STS.temporary': 'token-123' },
  });
  try {
    const keyId = sts.createKey();
    const good = new Kms(sts.clientConfig({ accessKeyId: 'STS.temporary', accessKeySecret: 'temp-secret', securityToken: 'token-123' }));
    const enc = await good.encrypt(new EncryptRequest({ keyId, plaintext: 'QQ==' }));
    assert.is(sts.requests[0].securityToken, true);
    assert.is((await good.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob }))).plaintext, 'QQ==');
    const noToken = new Kms(sts.clientConfig({ accessKeyId: 'STS.temporary', accessKeySecret: 'temp-secret' }));
    assert.is((await rejects(noToken.encrypt(new EncryptRequest({ keyId, plaintext: 'QQ==' })))).code, 'InvalidSecurityToken.MismatchWithAccessKeyError');
    const badToken = new Kms(sts.clientConfig({ accessKeyId: 'STS.temporary', accessKeySecret: 'temp-secret', securityToken: 'token-999' }));
    assert.is((await rejects(badToken.encrypt(new EncryptRequest({ keyId, plaintext: 'QQ==' })))).code, 'InvalidSecurityToken.MismatchWithAccessKeyError');
    const permanent = new Kms(sts.clientConfig({ accessKeyId: 'LTAI-permanent', accessKeySecret: 'perm-secret' }));
    assert.ok((await permanent.encrypt(new EncryptRequest({ keyId, plaintext: 'QQ==' }))).ciphertextBlob);
  } finally {
    await sts.close();
  }
});

s('fixture table: every entry answers its recorded Plaintext under its recorded context, and only under it', async () => {
  assert.ok(table.entries.length >= 14);
  for (const entry of table.entries) {
    const wire = entry.encryption_context_wire as string;
    const ok = await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: entry.ciphertext_blob, encryptionContext: wire === '' ? undefined : wire }));
    assert.is(ok.plaintext, entry.plaintext);
    assert.is(ok.keyId, entry.key_id);
    const other = wire === '' ? '{"x-passphrase":""}' : undefined;
    const err = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: entry.ciphertext_blob, encryptionContext: other })));
    assert.is(err.code, 'InvalidParameterError');
  }
});

s('failNext: N status failures (optionally of one Action) then normal service; reset drops the connection; all recorded', async () => {
  const enc = await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QQ==' }));
  ctx.kms.failNext(2, { action: 'Decrypt' });
  // An Encrypt is not a Decrypt: it passes and does not use up a fault.
  assert.ok((await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QQ==' }))).ciphertextBlob);
  for (let i = 0; i < 2; i++) {
    const err = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob })));
    assert.is(err.code, 'ServiceUnavailableTemporaryError');
    assert.is(statusOf(err), 503);
  }
  assert.is((await ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob }))).plaintext, 'QQ==');
  ctx.kms.failNext(1, { status: 500 });
  const e500 = await rejects(ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: 'QQ==' })));
  assert.is(e500.code, 'InternalFailureError');
  ctx.kms.failNext(1, { mode: 'reset' });
  const reset = await rejects(ctx.client.decrypt(new DecryptRequest({ ciphertextBlob: enc.ciphertextBlob })));
  assert.is(reset.code, 'ECONNRESET');
  const tail = ctx.kms.requests.slice(-7);
  assert.equal(tail.map((r) => [r.action, r.status, r.fault ?? null]), [
    ['Encrypt', 200, null],
    ['Encrypt', 200, null],
    ['Decrypt', 503, 'status'],
    ['Decrypt', 503, 'status'],
    ['Decrypt', 200, null],
    ['Encrypt', 500, 'status'],
    ['Decrypt', 0, 'reset'],
  ]);
  assert.throws(() => ctx.kms.failNext(-1), /"count" expected a non-negative integer, got -1/);
  assert.throws(() => ctx.kms.failNext(1, { status: 200 }), /"status" expected an HTTP error status/);
});

s('records never hold plaintexts', async () => {
  const secret = Buffer.from('super secret content key bytes!!').toString('base64');
  await ctx.client.encrypt(new EncryptRequest({ keyId: ctx.keyId, plaintext: secret }));
  assert.not.ok(JSON.stringify(ctx.kms.requests).includes(secret));
});

s.run();
