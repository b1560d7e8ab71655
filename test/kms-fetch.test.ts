/**
 * fetchKmsClient (bindings/keys/kms-fetch.ts) against the KMS stand-in, which verifies the RPC signature, over
 * real HTTP with Node's global fetch: the three calls, the signature equal to what the official
 * `@alicloud/rpc-util` computes, blobs interchangeable with the official SDK's, STS tokens, a wrong secret
 * rejected (and surfaced by kmsKeyWrapper as KmsError), retries of transient failures by the wrapper, and a dead
 * endpoint.
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as RpcUtilModule from '@alicloud/rpc-util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KmsError } from '../bindings/errors.js';
import { fetchKmsClient, rpcSignature } from '../bindings/keys/kms-fetch.js';
import { kmsKeyWrapper } from '../bindings/keys/kms.js';
import { generateContentKey } from '../bindings/keys/random.js';
import { startKmsServer, type KmsServer } from './support/kms-server.js';
import { rejects } from './_util.js';

const test = suite('fetchKmsClient against the KMS stand-in');
const ctx = { kms: undefined as unknown as KmsServer, keyId: '' };

test.before(async () => {
  ctx.kms = await startKmsServer({
    accessKeys: { 'LTAI-fetch': 'fetch-secret', 'STS.fetch': 'sts-secret' },
    securityTokens: { 'STS.fetch': 'sts-token/+=' },
  });
  ctx.keyId = ctx.kms.createKey();
});
test.after(async () => {
  await ctx.kms.close();
});
test.after.each(() => {
  ctx.kms.clearFaults();
});

const client = (credentials = { accessKeyId: 'LTAI-fetch', accessKeySecret: 'fetch-secret' } as { accessKeyId: string; accessKeySecret: string; securityToken?: string }) =>
  fetchKmsClient({ endpoint: ctx.kms.endpoint, protocol: 'http', credentials });
const fast = { baseDelayMs: 1, maxDelayMs: 5 };

test('the RPC signature is the one @alicloud/rpc-util computes, awkward characters included', async () => {
  const params = {
    Action: 'Encrypt', Format: 'json', Version: '2016-01-20', Timestamp: '2026-01-02T03:04:05Z', SignatureNonce: 'abc',
    KeyId: 'key id/ü', Plaintext: 'a+b/c=', EncryptionContext: '{"x-passphrase":"p q*(!)\'~"}',
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', AccessKeyId: 'LTAI-fetch', 'Z.lower': 'x', aLower: 'y',
  };
  for (const secret of ['fetch-secret', 's&e=c r/ét']) {
    const official = rpcUtil().getSignatureV1(params, 'POST', secret);
    assert.is(await rpcSignature('POST', params, secret), official);
  }
});

test('Encrypt, Decrypt and GenerateDataKey round-trip, with and without an EncryptionContext sent as one JSON string', async () => {
  const kms = client();
  const enc = await kms.encrypt({ keyId: ctx.keyId, plaintext: 'aGVsbG8=' });
  assert.ok(enc.ciphertextBlob.length > 20);
  assert.is(enc.keyId, ctx.keyId);
  assert.ok(enc.requestId);
  assert.is((await kms.decrypt({ ciphertextBlob: enc.ciphertextBlob })).plaintext, 'aGVsbG8=');
  const context = JSON.stringify({ 'x-passphrase': 'p' });
  const withContext = await kms.encrypt({ keyId: ctx.keyId, plaintext: 'd29ybGQ=', encryptionContext: context });
  assert.is(ctx.kms.requests.at(-1)?.encryptionContextForm, 'json');
  assert.is((await kms.decrypt({ ciphertextBlob: withContext.ciphertextBlob, encryptionContext: context })).plaintext, 'd29ybGQ=');
  await rejects(kms.decrypt({ ciphertextBlob: withContext.ciphertextBlob }), (err) => {
    assert.is(err.code, 'InvalidParameter');
    assert.is(err.statusCode, 400);
  });
  const dk = await kms.generateDataKey({ keyId: ctx.keyId, keySpec: 'AES_256', numberOfBytes: 32 });
  assert.is(atob(dk.plaintext).length, 32);
  assert.is((await kms.decrypt({ ciphertextBlob: dk.ciphertextBlob })).plaintext, dk.plaintext);
});

test('kmsKeyWrapper over fetchKmsClient: wrap/unwrap and createContentKey; blobs read by the official SDK client and back', async () => {
  const viaFetch = kmsKeyWrapper({ keyId: ctx.keyId, client: client(), passphrase: 'team', retry: fast });
  const viaSdk = kmsKeyWrapper({ keyId: ctx.keyId, endpoint: ctx.kms.endpoint, protocol: 'http', region: 'cn-hangzhou', accessKeyId: 'LTAI-fetch', accessKeySecret: 'fetch-secret', passphrase: 'team', retry: fast });
  const key = generateContentKey();
  const wrapped = await viaFetch.wrap(key);
  const bySdk = await viaSdk.unwrap(wrapped);
  assert.equal([...bySdk.key], [...key.key]);
  assert.equal([...bySdk.iv], [...key.iv]);
  const back = await viaFetch.unwrap(await viaSdk.wrap(key));
  assert.equal([...back.key], [...key.key]);
  const made = await viaFetch.createContentKey();
  assert.equal([...(await viaSdk.unwrap(made.wrapped)).key], [...made.content.key]);
});

test('STS: the token is sent and checked; a missing or different token is refused', async () => {
  const sts = { accessKeyId: 'STS.fetch', accessKeySecret: 'sts-secret', securityToken: 'sts-token/+=' };
  const enc = await client(sts).encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' });
  assert.ok(ctx.kms.requests.at(-1)?.securityToken);
  assert.is((await client(sts).decrypt({ ciphertextBlob: enc.ciphertextBlob })).plaintext, 'AAAA');
  for (const securityToken of [undefined, 'other']) {
    await rejects(client({ ...sts, securityToken }).encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' }), (err) => {
      assert.is(err.code, 'InvalidSecurityToken.MismatchWithAccessKey');
      assert.is(err.statusCode, 400);
    });
  }
  let calls = 0;
  const provided = fetchKmsClient({ endpoint: `http://${ctx.kms.endpoint}`, credentials: async () => (calls++, { ...sts, expiration: Date.now() + 3_600_000 }) });
  await provided.encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' });
  await provided.encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' });
  assert.is(calls, 1);
});

test('a wrong secret is SignatureDoesNotMatch: raw from the client, KmsError with code, status and request id from the wrapper', async () => {
  const bad = client({ accessKeyId: 'LTAI-fetch', accessKeySecret: 'not-the-secret' });
  const raw = await rejects(bad.encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' }));
  assert.is(raw.code, 'SignatureDoesNotMatch');
  assert.is(raw.statusCode, 400);
  assert.is(raw.requestId, ctx.kms.requests.at(-1)?.requestId);
  assert.not.match(raw.message, /AAAA|not-the-secret|Plaintext/);
  const before = ctx.kms.count('Encrypt');
  const wrapper = kmsKeyWrapper({ keyId: ctx.keyId, client: bad, retry: fast });
  const err = await rejects(wrapper.wrap(generateContentKey()), KmsError, 'KMS_ERROR');
  assert.is(err.kmsCode, 'SignatureDoesNotMatch');
  assert.is(err.status, 400);
  assert.ok(err.requestId);
  assert.is(ctx.kms.count('Encrypt') - before, 2, 'one Encrypt per half, none retried (a 4xx)');
  await rejects(client({ accessKeyId: 'LTAI-unknown', accessKeySecret: 'x' }).encrypt({ keyId: ctx.keyId, plaintext: 'AAAA' }), (e) => {
    assert.is(e.code, 'InvalidAccessKeyId.NotFound');
    assert.is(e.statusCode, 404);
  });
});

test('transient failures are retried by the wrapper with a freshly signed request; a dead endpoint ends as KmsError', async () => {
  const wrapper = kmsKeyWrapper({ keyId: ctx.keyId, client: client(), retry: { ...fast, attempts: 3 } });
  ctx.kms.failNext(2, { action: 'Decrypt' });
  const key = generateContentKey();
  const wrapped = await wrapper.wrap(key);
  const before = ctx.kms.count('Decrypt');
  assert.equal([...(await wrapper.unwrap(wrapped)).key], [...key.key]);
  assert.is(ctx.kms.count('Decrypt') - before, 4, 'two faults, then both halves');
  const dead = kmsKeyWrapper({ keyId: ctx.keyId, client: fetchKmsClient({ endpoint: `http://127.0.0.1:${await closedPort()}`, credentials: { accessKeyId: 'a', accessKeySecret: 'b' } }), retry: { ...fast, attempts: 2 } });
  const err = await rejects(dead.wrap(key), KmsError, 'KMS_ERROR');
  assert.match(err.message, /after 2 attempts/);
  assert.is(err.kmsCode, 'ECONNREFUSED');
});

test('CORS: the stand-in answers a preflight for what fetchKmsClient sends and lets any origin read answers', async () => {
  const before = ctx.kms.requests.length;
  const pre = await fetch(`http://${ctx.kms.endpoint}/?Action=Encrypt`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-acs-action,x-acs-version' },
  });
  assert.is(pre.status, 204);
  assert.is(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.is(pre.headers.get('access-control-allow-headers'), 'x-acs-action,x-acs-version');
  assert.is(ctx.kms.requests.length, before, 'a preflight is not a KMS request');
  const wrong = await fetch(`http://${ctx.kms.endpoint}/?Action=Encrypt`, { method: 'POST', headers: { origin: 'https://app.example' } });
  assert.is(wrong.status, 400);
  assert.is(wrong.headers.get('access-control-allow-origin'), '*');
  assert.match(wrong.headers.get('access-control-expose-headers') ?? '', /x-acs-request-id/);
});

test('options are checked before any request', () => {
  assert.throws(() => fetchKmsClient({ credentials: { accessKeyId: 'a', accessKeySecret: 'b' } }), /"endpoint" or "region"/);
  assert.throws(() => fetchKmsClient({ region: 'cn-hangzhou', credentials: { accessKeyId: 'a' } as never }), /accessKeySecret/);
  assert.throws(() => fetchKmsClient({ region: 'cn-hangzhou', protocol: 'ftp' as 'http', credentials: { accessKeyId: 'a', accessKeySecret: 'b' } }), /"protocol"/);
});

test.run();

/** The official signer (a CommonJS module whose class is its `default` export). */
function rpcUtil(): { getSignatureV1: (q: object, method: string, secret: string) => string } {
  const m = RpcUtilModule as unknown as { default: { default?: unknown } };
  return (m.default.default ?? m.default) as never;
}

/** A loopback port nothing listens on (one just released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
