/**
 * The KMS key wrapper (bindings/keys/kms.ts) over real HTTP: the default `@alicloud/kms20160120` client against the
 * loopback stand-in (test/support/kms-server.ts), plus an injected minimal client. docs/FORMAT.md §2.2, §3.
 *
 * Proves: wrap/unwrap round trips in both layerings, with and without passphrase, with an STS token; each
 * layering is read without being told; the exact EncryptionContext on the wire; KmsError with KMS's own code,
 * HTTP status and request id (wrong passphrase, unknown key, bad credentials); bounded retries of 5xx and resets;
 * two KMS calls per wrap and per unwrap; the "not mine" contract; V1 `kms`; no key material in any error.
 * @module
 */
import { inspect } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyUnwrapError, KeyWrapError, KmsError } from '../bindings/errors.js';
import {
  DEFAULT_KMS_BLOB_LAYOUT,
  KMS_WRAP_ALG,
  kmsBlobFromHeader,
  kmsClientFromSdk,
  kmsKeyWrapper,
  type KmsClient,
  type KmsKeyWrapperOptions,
} from '../bindings/keys/kms.js';
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';
import * as KmsSdk from '@alicloud/kms20160120';
import { readKmsTable, startKmsServer, type KmsServer } from './support/kms-server.js';
import { fixturePath, pseudoRandomBytes, rejects, toHex } from './_util.js';

const Kms = ((KmsSdk as unknown as { default: { default: typeof KmsSdk.default } }).default.default ?? KmsSdk.default) as typeof KmsSdk.default;

const ctx = { kms: undefined as unknown as KmsServer, keyId: '' };

function wrapper(options: Partial<KmsKeyWrapperOptions> = {}) {
  return kmsKeyWrapper({
    keyId: ctx.keyId,
    region: 'cn-hangzhou',
    ...ctx.kms.credentials,
    endpoint: ctx.kms.endpoint,
    protocol: 'http',
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

function content(seed: number): ContentKey {
  const iv = pseudoRandomBytes(16, seed + 1000);
  iv.fill(0, 8, 12);
  return { key: pseudoRandomBytes(32, seed), iv };
}


/** Every string an error exposes: message, properties, cause chain. */
function everything(err: unknown, depth = 0): string {
  if (err === null || typeof err !== 'object' || depth > 4) return String(err);
  const e = err as Error & { cause?: unknown };
  return [e.message, e.stack ?? '', JSON.stringify({ ...e }), everything(e.cause, depth + 1)].join('\n');
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const s = suite('kmsKeyWrapper over @alicloud/kms20160120 and the stand-in');

s.before(async () => {
  ctx.kms = await startKmsServer({ table: readKmsTable(fixturePath('interop', 'kms-table.json')) });
  ctx.keyId = ctx.kms.createKey();
});

s.after(async () => {
  await ctx.kms.close();
});

for (const blobLayout of ['go', 'oss2'] as const) {
  for (const passphrase of [undefined, 'correct horse', ''] as const) {
    s(`round trip, layout ${blobLayout}, passphrase ${JSON.stringify(passphrase)}: 2 Encrypt + 2 Decrypt with the exact context`, async () => {
      const w = wrapper({ blobLayout, passphrase });
      const c = content(blobLayout.length * 10 + (passphrase?.length ?? 99));
      ctx.kms.requests.length = 0;
      const wrapped = await w.wrap(c);
      assert.is(wrapped.format, 'v2');
      assert.is(wrapped.wrapAlg, 'KMS/ALICLOUD');
      assert.equal(wrapped.matdesc, {});
      assert.equal(ctx.kms.requests.map((r) => r.action), ['Encrypt', 'Encrypt']);
      const back = await w.unwrap(wrapped);
      assert.ok(back);
      assert.is(toHex(back.key), toHex(c.key));
      assert.is(toHex(back.iv), toHex(c.iv));
      assert.equal(ctx.kms.requests.map((r) => r.action), ['Encrypt', 'Encrypt', 'Decrypt', 'Decrypt']);
      for (const r of ctx.kms.requests) {
        if (passphrase === undefined) {
          assert.is(r.encryptionContextForm, 'absent');
        } else {
          assert.is(r.encryptionContextForm, 'json');
          assert.is(r.encryptionContextWire, `{"x-passphrase":"${passphrase}"}`);
        }
        assert.is(r.keyId, ctx.keyId);
      }
      // The headers are in the chosen layering: the blob itself, or base64 of the blob text.
      const keyDecoded = Buffer.from(wrapped.wrappedKey, 'base64').toString('latin1');
      if (blobLayout === 'go') assert.ok(keyDecoded.startsWith('SKB1'), 'go: the header is the blob');
      else assert.match(keyDecoded, /^[A-Za-z0-9+/]+=*$/, 'oss2: the header decodes to the blob text');
      assert.is(kmsBlobFromHeader(wrapped.wrappedKey).layout, blobLayout);
      assert.is(kmsBlobFromHeader(wrapped.wrappedStart).layout, blobLayout);
    });
  }
}

s('default layout is go; each layering is read by a wrapper configured for the other', async () => {
  assert.is(DEFAULT_KMS_BLOB_LAYOUT, 'go');
  assert.is(wrapper().blobLayout, 'go');
  const go = wrapper({ blobLayout: 'go', passphrase: 'p' });
  const oss2 = wrapper({ blobLayout: 'oss2', passphrase: 'p' });
  const c = content(7);
  for (const [writer, reader] of [[go, oss2], [oss2, go]] as const) {
    const back = await reader.unwrap(await writer.wrap(c));
    assert.is(toHex(back!.key), toHex(c.key));
    assert.is(toHex(back!.iv), toHex(c.iv));
  }
  // A reader without keyId (unwrap only) reads both too.
  const readOnly = wrapper({ keyId: undefined, passphrase: 'p' });
  assert.is(readOnly.canWrap, false);
  assert.is(readOnly.canUnwrap, true);
  assert.is(toHex((await readOnly.unwrap(await oss2.wrap(c)))!.key), toHex(c.key));
  const err = await rejects(readOnly.wrap(c));
  assert.instance(err, KeyWrapError);
  assert.is((err as KeyWrapError).code, 'KEY_WRAP_FAILED');
});

s('createContentKey: GenerateDataKey(AES_256, 32) for the key, Encrypt for a fresh IV (bytes 8..11 zero); it unwraps', async () => {
  for (const blobLayout of ['oss2', 'go'] as const) {
    const w = wrapper({ blobLayout, passphrase: 'pp' });
    ctx.kms.requests.length = 0;
    const { content: c, wrapped } = await w.createContentKey();
    assert.equal(ctx.kms.requests.map((r) => r.action).sort(), ['Encrypt', 'GenerateDataKey']);
    assert.is(c.key.length, 32);
    assert.is(c.iv.length, 16);
    assert.is(toHex(c.iv.subarray(8, 12)), '00000000');
    assert.is(kmsBlobFromHeader(wrapped.wrappedKey).layout, blobLayout);
    const back = await wrapper({ passphrase: 'pp' }).unwrap(wrapped);
    assert.is(toHex(back!.key), toHex(c.key));
    assert.is(toHex(back!.iv), toHex(c.iv));
    const again = await w.createContentKey();
    assert.is.not(toHex(again.content.key), toHex(c.key));
  }
});

s('a wrapper does not show its passphrase or credentials when logged or serialised', () => {
  const w = wrapper({ passphrase: 'hidden passphrase' });
  for (const text of [JSON.stringify(w), inspect(w, { depth: 5, showHidden: true })]) {
    assert.not.ok(text.includes('hidden passphrase'));
    assert.not.ok(text.includes(ctx.kms.credentials.accessKeySecret));
  }
});

s('matdesc is carried on what wrap() writes', async () => {
  const w = wrapper({ matdesc: { team: 'a', purpose: 'test' } });
  assert.equal(w.matdesc, { team: 'a', purpose: 'test' });
  assert.equal((await w.wrap(content(3))).matdesc, { team: 'a', purpose: 'test' });
});

s('wrong passphrase, passphrase "" vs none → KmsError with KMS code, HTTP status and the request id KMS answered', async () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ['right', 'wrong'],
    ['right', undefined],
    [undefined, ''],
    ['', undefined],
  ];
  for (const [writerPass, readerPass] of cases) {
    const wrapped = await wrapper({ passphrase: writerPass }).wrap(content(11));
    ctx.kms.requests.length = 0;
    const err = await rejects(wrapper({ passphrase: readerPass }).unwrap(wrapped));
    assert.instance(err, KmsError, `${writerPass} → ${readerPass}`);
    const k = err as KmsError;
    assert.is(k.code, 'KMS_ERROR');
    assert.is(k.kmsCode, 'InvalidParameter');
    assert.is(k.status, 400);
    const ids = ctx.kms.requests.filter((r) => r.status === 400).map((r) => r.requestId);
    assert.ok(k.requestId !== undefined && ids.includes(k.requestId), 'request id is one KMS answered');
    assert.match(k.message, /KMS Decrypt of the (content key|IV) failed: InvalidParameter \(HTTP 400\), request id [0-9A-F-]{36}/);
    // A 4xx is final: one request per half, no retry.
    assert.is(ctx.kms.count('Decrypt'), 2);
  }
});

s('unknown CMK → KmsError Forbidden.KeyNotFound (404); bad secret → SignatureDoesNotMatch; unknown access key → 404', async () => {
  const e1 = (await rejects(wrapper({ keyId: 'no-such-key' }).wrap(content(1)))) as KmsError;
  assert.instance(e1, KmsError);
  assert.is(e1.kmsCode, 'Forbidden.KeyNotFound');
  assert.is(e1.status, 404);
  assert.match(e1.requestId ?? '', /^[0-9A-F-]{36}$/);
  const e2 = (await rejects(wrapper({ accessKeySecret: 'wrong' }).wrap(content(1)))) as KmsError;
  assert.is(e2.kmsCode, 'SignatureDoesNotMatch');
  assert.is(e2.status, 400);
  const e3 = (await rejects(wrapper({ accessKeyId: 'LTAI-unknown' }).unwrap(await wrapper().wrap(content(1))))) as KmsError;
  assert.is(e3.kmsCode, 'InvalidAccessKeyId.NotFound');
  assert.is(e3.status, 404);
});

s('STS credentials: the security token is sent and required', async () => {
  const sts = await startKmsServer({ accessKeys: { 'STS.tmp': 'tmp-secret' }, securityTokens: { 'STS.tmp': 'tok-1' } });
  try {
    const keyId = sts.createKey();
    const base = { keyId, region: 'cn-hangzhou', accessKeyId: 'STS.tmp', accessKeySecret: 'tmp-secret', endpoint: sts.endpoint, protocol: 'http' as const, passphrase: 'p' };
    const w = kmsKeyWrapper({ ...base, securityToken: 'tok-1' });
    const c = content(21);
    const back = await w.unwrap(await w.wrap(c));
    assert.is(toHex(back!.key), toHex(c.key));
    assert.ok(sts.requests.every((r) => r.securityToken && r.status === 200));
    const noToken = (await rejects(kmsKeyWrapper(base).wrap(c))) as KmsError;
    assert.is(noToken.kmsCode, 'InvalidSecurityToken.MismatchWithAccessKey');
  } finally {
    await sts.close();
  }
});

s('transient failures are retried with backoff: 503s and a reset, then success; counts prove each retry hit KMS', async () => {
  const w = wrapper({ passphrase: 'r' });
  const c = content(31);
  const wrapped = await w.wrap(c);
  ctx.kms.requests.length = 0;
  ctx.kms.failNext(2, { action: 'Decrypt' });
  let back = await w.unwrap(wrapped);
  assert.is(toHex(back!.key), toHex(c.key));
  assert.is(ctx.kms.count('Decrypt'), 4);
  assert.is(ctx.kms.requests.filter((r) => r.fault === 'status').length, 2);

  ctx.kms.requests.length = 0;
  ctx.kms.failNext(1, { action: 'Decrypt', mode: 'reset' });
  back = await w.unwrap(wrapped);
  assert.is(toHex(back!.iv), toHex(c.iv));
  assert.is(ctx.kms.count('Decrypt'), 3);

  ctx.kms.requests.length = 0;
  ctx.kms.failNext(1, { action: 'Encrypt', status: 500 });
  const again = await w.wrap(c);
  assert.is(toHex((await w.unwrap(again))!.key), toHex(c.key));
  assert.is(ctx.kms.count('Encrypt'), 3);
});

s('retries are bounded: a persistent 503 gives KmsError after `attempts` tries per call', async () => {
  const w = wrapper({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  const wrapped = await w.wrap(content(41));
  ctx.kms.requests.length = 0;
  ctx.kms.failNext(100, { action: 'Decrypt' });
  const err = (await rejects(w.unwrap(wrapped))) as KmsError;
  assert.is(ctx.kms.clearFaults(), 94);
  assert.instance(err, KmsError);
  assert.is(err.kmsCode, 'ServiceUnavailableTemporary');
  assert.is(err.status, 503);
  assert.match(err.message, /after 3 attempts/);
  // Two halves (key, IV) × 3 attempts; nothing more.
  assert.is(ctx.kms.count('Decrypt'), 6);
  ctx.kms.requests.length = 0;
  const one = wrapper({ retry: { attempts: 1 } });
  assert.ok(await one.unwrap(wrapped));
  ctx.kms.failNext(1, { action: 'Decrypt', mode: 'reset' });
  const reset = (await rejects(one.unwrap(wrapped))) as KmsError;
  assert.instance(reset, KmsError);
  assert.is(reset.kmsCode, 'ECONNRESET');
  assert.is(reset.status, undefined);
});

s('no key material in errors: a reset during Encrypt (the SDK error quotes the URL with Plaintext) is redacted', async () => {
  const c = content(51);
  const w = wrapper({ retry: { attempts: 1 } });
  ctx.kms.failNext(2, { action: 'Encrypt', mode: 'reset' });
  const err = await rejects(w.wrap(c));
  assert.instance(err, KmsError);
  const text = everything(err);
  for (const secret of [b64(c.key), b64(c.iv), encodeURIComponent(b64(c.key)), encodeURIComponent(b64(c.iv)), toHex(c.key)]) {
    assert.not.ok(text.includes(secret), 'error exposes key material');
  }
  assert.not.match(text, /Plaintext=/);
  assert.instance((err as KmsError).cause, Error);
});

s('an unreachable KMS: the address and the request apart in the message ("127.0.0.1:1; POST http://...", not "1POST")', async () => {
  // Port 1 on the loopback: nothing listens, so the real SDK gets ECONNREFUSED and quotes its request after it.
  const w = wrapper({ endpoint: '127.0.0.1:1', retry: { attempts: 1 } });
  const err = (await rejects(w.wrap(content(52)))) as KmsError;
  assert.instance(err, KmsError);
  assert.is(err.kmsCode, 'ECONNREFUSED');
  for (const text of [err.message, (err.cause as Error).message]) {
    assert.match(text, /ECONNREFUSED 127\.0\.0\.1:1; POST http:\/\/127\.0\.0\.1:1\//);
    assert.not.match(text, /:1POST/);
  }
});

s('a Plaintext of the wrong length or form → KeyUnwrapError KEY_UNWRAP_FAILED without the plaintext in the message', async () => {
  const client = new Kms(ctx.kms.clientConfig());
  const enc = async (plaintext: string) =>
    (await client.encrypt(new KmsSdk.EncryptRequest({ keyId: ctx.keyId, plaintext }))).ciphertextBlob;
  const good = await enc(b64(pseudoRandomBytes(16, 5)));
  const short = b64(pseudoRandomBytes(31, 6));
  for (const [wrappedKey, wrappedStart] of [[await enc(short), good], [await enc(b64(pseudoRandomBytes(32, 7))), await enc('not base64!')]]) {
    const err = await rejects(wrapper().unwrap({ format: 'v2', wrapAlg: KMS_WRAP_ALG, wrappedKey, wrappedStart, matdesc: {} }));
    assert.instance(err, KeyUnwrapError);
    assert.is((err as KeyUnwrapError).code, 'KEY_UNWRAP_FAILED');
    assert.not.ok(everything(err).includes(short));
  }
  const notBase64 = await rejects(wrapper().unwrap({ format: 'v2', wrapAlg: KMS_WRAP_ALG, wrappedKey: 'a b', wrappedStart: good, matdesc: {} }));
  assert.instance(notBase64, KeyUnwrapError);
});

s('V1 kms: headers are the blobs; key Plaintext base64, start Plaintext decimal → 16-byte big-endian counter', async () => {
  const client = new Kms(ctx.kms.clientConfig());
  const enc = async (plaintext: string, encryptionContext?: string) =>
    (await client.encrypt(new KmsSdk.EncryptRequest({ keyId: ctx.keyId, plaintext, encryptionContext }))).ciphertextBlob;
  const key = pseudoRandomBytes(32, 61);
  for (const [start, ivHex] of [
    ['8', '00000000000000000000000000000008'],
    ['1', '00000000000000000000000000000001'],
    ['4294967296', '00000000000000000000000100000000'],
    ['340282366920938463463374607431768211455', 'ffffffffffffffffffffffffffffffff'],
  ]) {
    const wrapped: WrappedContentKey = {
      format: 'v1', wrapAlg: 'kms', wrappedKey: await enc(b64(key), '{"x-passphrase":"v1"}'), wrappedStart: await enc(start, '{"x-passphrase":"v1"}'), matdesc: {},
    };
    const back = await wrapper({ passphrase: 'v1' }).unwrap(wrapped);
    assert.is(toHex(back!.key), toHex(key));
    assert.is(toHex(back!.iv), ivHex);
  }
  for (const start of ['340282366920938463463374607431768211456', '-1', '0x10', '8 ', '']) {
    const wrapped: WrappedContentKey = { format: 'v1', wrapAlg: 'kms', wrappedKey: await enc(b64(key)), wrappedStart: await enc(start === '' ? ' ' : start), matdesc: {} };
    const err = await rejects(wrapper().unwrap(wrapped));
    assert.instance(err, KeyUnwrapError, start);
  }
});

s('"not mine": RSA wrap algorithms (V2 and V1) return null without any KMS call', async () => {
  const w = wrapper();
  ctx.kms.requests.length = 0;
  for (const [format, wrapAlg] of [
    ['v2', 'RSA/NONE/PKCS1Padding'],
    ['v2', 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding'],
    ['v1', 'rsa'],
    ['v1', 'KMS/ALICLOUD'],
    ['v2', 'kms'],
  ] as const) {
    assert.is(await w.unwrap({ format, wrapAlg, wrappedKey: 'QQ==', wrappedStart: 'QQ==', matdesc: {} }), null);
  }
  assert.is(ctx.kms.count(), 0);
});

s('kmsBlobFromHeader: the reading rule on real and stand-in blobs', () => {
  const table = readKmsTable(fixturePath('interop', 'kms-table.json'));
  for (const entry of table.entries) {
    const blob = entry.ciphertext_blob;
    assert.equal(kmsBlobFromHeader(blob), { blob, layout: 'go' }, `single layer ${entry.purpose}`);
    assert.equal(kmsBlobFromHeader(Buffer.from(blob).toString('base64')), { blob, layout: 'oss2' }, `double layer ${entry.purpose}`);
  }
  // The real-KMS blobs of oss2's bundled V1 sample decode to "<uuid><base64>": text, but not base64 (the "-").
  const real = table.entries.find((e) => e.key_id === '5b819435-90e1-45fe-a775-43078c83d0c5')!;
  assert.match(Buffer.from(real.ciphertext_blob, 'base64').toString('latin1'), /^5b819435-90e1-45fe-a775-43078c83d0c5/);
  assert.is(kmsBlobFromHeader(real.ciphertext_blob).layout, 'go');
  for (const bad of ['', 'a b', 'QQ', 'QQ=', 'Q===']) {
    assert.throws(() => kmsBlobFromHeader(bad), (e: unknown) => e instanceof KeyUnwrapError && e.code === 'KEY_UNWRAP_FAILED');
  }
});

s('an injected minimal client is used instead of the SDK (no credentials needed); its errors become KmsError', async () => {
  const calls: Array<{ op: string; encryptionContext?: string }> = [];
  const store = new Map<string, { plaintext: string; context?: string }>();
  let failures: Array<Record<string, unknown>> = [];
  const fake: KmsClient = {
    async encrypt({ keyId, plaintext, encryptionContext }) {
      calls.push({ op: 'encrypt', encryptionContext });
      const failure = failures.shift();
      if (failure) throw Object.assign(new Error('fake failure'), failure);
      const blob = Buffer.from(`fake:${keyId}:${store.size}`).toString('base64');
      store.set(blob, { plaintext, context: encryptionContext });
      return { ciphertextBlob: blob, keyId, requestId: `req-${calls.length}` };
    },
    async decrypt({ ciphertextBlob, encryptionContext }) {
      calls.push({ op: 'decrypt', encryptionContext });
      const failure = failures.shift();
      if (failure) throw Object.assign(new Error('fake failure'), failure);
      const entry = store.get(ciphertextBlob);
      if (!entry || entry.context !== encryptionContext) {
        throw Object.assign(new Error('nope'), { code: 'InvalidParameter', statusCode: 400, requestId: 'req-bad' });
      }
      return { plaintext: entry.plaintext, requestId: `req-${calls.length}` };
    },
    async generateDataKey() {
      throw new Error('not used here');
    },
  };
  const w = kmsKeyWrapper({ keyId: 'cmk-1', client: fake, passphrase: 'x', blobLayout: 'oss2', retry: { baseDelayMs: 0, maxDelayMs: 0 } });
  const c = content(71);
  const back = await w.unwrap(await w.wrap(c));
  assert.is(toHex(back!.key), toHex(c.key));
  assert.equal(calls.map((x) => x.op), ['encrypt', 'encrypt', 'decrypt', 'decrypt']);
  assert.ok(calls.every((x) => x.encryptionContext === '{"x-passphrase":"x"}'));

  const wrong = await rejects(kmsKeyWrapper({ client: fake, passphrase: 'y' }).unwrap(await w.wrap(c)));
  assert.instance(wrong, KmsError);
  assert.is((wrong as KmsError).kmsCode, 'InvalidParameter');
  assert.is((wrong as KmsError).status, 400);
  assert.is((wrong as KmsError).requestId, 'req-bad');

  // Throttling is transient; the SDK's "<Code>Error" form with data.Code is understood.
  failures = [{ code: 'Rejected.ThrottlingError', data: { Code: 'Rejected.Throttling', RequestId: 'r1' }, statusCode: 400 }];
  calls.length = 0;
  assert.ok(await w.wrap(c));
  assert.is(calls.length, 3);
  failures = [{ code: 'Forbidden.NoPermissionError', data: { Code: 'Forbidden.NoPermission', RequestId: 'r2' }, statusCode: 403 }];
  const denied = (await rejects(w.wrap(c))) as KmsError;
  assert.is(denied.kmsCode, 'Forbidden.NoPermission');
  assert.is(denied.requestId, 'r2');
  assert.is(denied.status, 403);
});

s('kmsClientFromSdk adapts an existing SDK client instance', async () => {
  const sdk = new Kms(ctx.kms.clientConfig());
  const w = kmsKeyWrapper({ keyId: ctx.keyId, client: kmsClientFromSdk(sdk as never) });
  const c = content(81);
  assert.is(toHex((await w.unwrap(await w.wrap(c)))!.iv), toHex(c.iv));
  assert.throws(() => kmsClientFromSdk({} as never), /"sdk" expected an @alicloud\/kms20160120 client, got Object/);
});

s('option and argument validation: TypeError / RangeError naming the argument', async () => {
  const base = { region: 'cn-hangzhou', accessKeyId: 'a', accessKeySecret: 'b' };
  assert.throws(() => kmsKeyWrapper({ region: 'cn-hangzhou' }), /needs "accessKeyId" and "accessKeySecret"/);
  assert.throws(() => kmsKeyWrapper({ accessKeyId: 'a', accessKeySecret: 'b' }), /needs "region"/);
  assert.throws(() => kmsKeyWrapper({ ...base, blobLayout: 'java' as never }), (e: unknown) => e instanceof RangeError && /"blobLayout" expected "go" or "oss2", got "java"/.test(e.message));
  assert.throws(() => kmsKeyWrapper({ ...base, protocol: 'ftp' as never }), /"protocol" expected "https" or "http", got "ftp"/);
  assert.throws(() => kmsKeyWrapper({ ...base, endpoint: 'https://kms.example' }), /without a scheme/);
  assert.throws(() => kmsKeyWrapper({ ...base, keyId: 42 as never }), (e: unknown) => e instanceof TypeError && /"keyId" expected a string, got number/.test(e.message));
  assert.throws(() => kmsKeyWrapper({ ...base, matdesc: { a: 1 } as never }), /"matdesc.a" expected a string, got number/);
  assert.throws(() => kmsKeyWrapper({ ...base, retry: { attempts: 0 } }), /"retry.attempts" expected an integer 1..10, got 0/);
  const w = kmsKeyWrapper({ ...base, keyId: 'k' });
  assert.is(w.wrapAlg, 'KMS/ALICLOUD');
  assert.is(w.canWrap, true);
  const short = await rejects(w.wrap({ key: new Uint8Array(31), iv: new Uint8Array(16) }));
  assert.instance(short, RangeError);
  assert.match(short.message, /"content.key" expected 32 bytes, got 31/);
  const notBytes = await rejects(w.wrap({ key: 'k' as never, iv: new Uint8Array(16) }));
  assert.instance(notBytes, TypeError);
});


s('retry.retries has the client\'s meaning (retries after the first request) and agrees with attempts = retries + 1', async () => {
  const w = wrapper({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 } });
  const wrapped = await w.wrap(content(61));
  ctx.kms.requests.length = 0;
  ctx.kms.failNext(100, { action: 'Decrypt' });
  const err = (await rejects(w.unwrap(wrapped))) as KmsError;
  ctx.kms.clearFaults();
  assert.instance(err, KmsError);
  assert.match(err.message, /after 2 attempts/);
  assert.is(ctx.kms.count('Decrypt'), 4, 'two halves × (1 request + 1 retry)');
  ctx.kms.requests.length = 0;
  ctx.kms.failNext(1, { action: 'Decrypt' });
  const none = wrapper({ retry: { retries: 0 } });
  assert.instance(await rejects(none.unwrap(wrapped)), KmsError, 'retries: 0 gives up on the first 503');
  ctx.kms.clearFaults();
  assert.ok(await wrapper({ retry: { retries: 2, attempts: 3, baseDelayMs: 1 } }).unwrap(wrapped), 'both, agreeing, are accepted');
  const base = { region: 'cn-hangzhou', accessKeyId: 'a', accessKeySecret: 'b' };
  assert.throws(() => kmsKeyWrapper({ ...base, retry: { retries: 2, attempts: 2 } }), (e: unknown) => e instanceof RangeError && /"retry.attempts" \(2\) and "retry.retries" \(2\) disagree/.test(e.message));
  assert.throws(() => kmsKeyWrapper({ ...base, retry: { retries: 10 } }), /"retry.retries" expected an integer 0..9, got 10/);
  assert.throws(() => kmsKeyWrapper({ ...base, retry: { retries: 1.5 } }), /"retry.retries" expected an integer 0..9, got 1.5/);
});
s.run();
