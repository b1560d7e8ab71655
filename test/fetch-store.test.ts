/**
 * The fetch transport to OSS (bindings/oss/fetch/) against the OSS stand-in over real HTTP with Node's global
 * fetch: every object and multipart call, V4 header signing (plain keys, STS tokens, a provider asked again
 * before expiry, additional headers), V4 signed URLs (GET/HEAD, expired), both addressing styles, OSS XML errors
 * surfaced with code/status/requestId/ec, retries of transient failures, the timeout, abort, and the stand-in's
 * CORS preflight answer for what the transport sends.
 * @module
 */
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createFetchOss, OssRequestError, type FetchOssOptions } from '../bindings/oss/fetch/index.js';
import { crc64ToDecimal } from '../bindings/integrity/crc64.js';
import { signV4Headers } from '../bindings/oss/fetch/signer-v4.js';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, rejects } from './_util.js';

const require = createRequire(import.meta.url);
const STS = { accessKeyId: 'STS.fetch-test', accessKeySecret: 'sts-secret', securityToken: 'token-abc/+=' };
const BUCKET = 'fetch-bkt';

const test = suite('fetch transport (bindings/oss/fetch) against the OSS stand-in');
let oss: OssServer;

test.before(async () => {
  oss = await startOssServer({ credentials: [STS], minPartSize: 1024 });
});
test.after(async () => {
  await oss.close();
});
test.after.each(() => oss.clearFaults());

const keys = { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET };
const store = (extra: Partial<FetchOssOptions> = {}) =>
  createFetchOss({ endpoint: oss.endpoint, bucket: BUCKET, region: oss.region, credentials: keys, retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...extra });

const same = (a: Uint8Array, b: Uint8Array | undefined) => assert.ok(b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]), `bytes differ (${a.length} vs ${b?.length})`);

test('put (Uint8Array), get whole and in every range form, head, delete: bytes and headers as stored', async () => {
  const s = store();
  assert.is(s.pathStyle, true, 'an IP endpoint defaults to path style');
  const data = pseudoRandomBytes(100 * 1024, 3);
  const put = await s.put('dir/a b+c.bin', data, { headers: { 'x-oss-meta-owner': 'fetch' } });
  const stored = oss.getObject(BUCKET, 'dir/a b+c.bin');
  same(data, stored?.body);
  assert.is(put.status, 200);
  assert.is(put.etag, stored?.etag);
  assert.is(put.crc64, crc64ToDecimal(stored!.crc64));
  assert.ok(put.requestId && put.requestId === put.headers['x-oss-request-id']);
  assert.is(stored?.contentType, 'application/octet-stream');

  const whole = await s.get('dir/a b+c.bin');
  same(data, whole.body);
  assert.is(whole.status, 200);
  assert.is(whole.crc64, put.crc64);
  const tail = await s.get('dir/a b+c.bin', { range: 'bytes=-1000' });
  assert.is(tail.status, 206);
  same(data.subarray(data.length - 1000), tail.body);
  const mid = await s.get('dir/a b+c.bin', { range: 'bytes=5-70000' });
  same(data.subarray(5, 70001), mid.body);
  assert.is(mid.contentRange, `bytes 5-70000/${data.length}`);
  const open = await s.get('dir/a b+c.bin', { range: 'bytes=100000-' });
  same(data.subarray(100000), open.body);

  const head = await s.head('dir/a b+c.bin');
  assert.is(head.contentLength, data.length);
  assert.equal(head.meta, { owner: 'fetch' });
  assert.is(head.etag, put.etag);

  const del = await s.delete('dir/a b+c.bin');
  assert.is(del.status, 204);
  assert.is(oss.getObject(BUCKET, 'dir/a b+c.bin'), undefined);
});

test('put from a Blob (its type signed as Content-Type) and from a ReadableStream; getStream hands back a WHATWG stream', async () => {
  const s = store();
  const data = pseudoRandomBytes(50_000, 4);
  await s.put('blob.txt', new Blob([data], { type: 'text/plain' }));
  assert.is(oss.getObject(BUCKET, 'blob.txt')?.contentType, 'text/plain');
  same(data, oss.getObject(BUCKET, 'blob.txt')?.body);

  const chunks = [data.subarray(0, 1000), data.subarray(1000, 30_000), data.subarray(30_000)];
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  await s.put('stream.bin', stream);
  same(data, oss.getObject(BUCKET, 'stream.bin')?.body);

  const got = await s.getStream('stream.bin', { range: 'bytes=10-49999' });
  assert.instance(got.body, ReadableStream);
  assert.is(got.contentLength, 49_990);
  same(data.subarray(10), new Uint8Array(await new Response(got.body).arrayBuffer()));
});

test('list: prefix, delimiter, pages by marker, awkward keys decoded', async () => {
  const s = store();
  const names = ['list/a.txt', 'list/b c.txt', 'list/ü+%.txt', 'list/sub/x', 'list/sub/y', 'other'];
  for (const n of names) await s.put(n, new Uint8Array([1, 2, 3]));
  const top = await s.list({ prefix: 'list/', delimiter: '/' });
  assert.equal(top.objects.map((o) => o.name), ['list/a.txt', 'list/b c.txt', 'list/ü+%.txt']);
  assert.equal(top.prefixes, ['list/sub/']);
  assert.is(top.objects[0].size, 3);
  assert.is(top.isTruncated, false);
  const seen: string[] = [];
  let marker: string | undefined;
  do {
    const page = await s.list({ prefix: 'list/', maxKeys: 2, marker });
    seen.push(...page.objects.map((o) => o.name));
    marker = page.isTruncated ? page.nextMarker : undefined;
  } while (marker !== undefined);
  // Listing order is byte order of the UTF-8 keys: 'sub/' before 'ü'.
  assert.equal(seen, ['list/a.txt', 'list/b c.txt', 'list/sub/x', 'list/sub/y', 'list/ü+%.txt']);
});

test('copy keeps bytes and metadata (COPY) or replaces metadata (REPLACE)', async () => {
  const s = store();
  const data = pseudoRandomBytes(2048, 5);
  await s.put('src.bin', data, { headers: { 'x-oss-meta-a': '1' } });
  const copied = await s.copy('dst.bin', 'src.bin');
  assert.is(copied.status, 200);
  assert.ok(copied.etag);
  same(data, oss.getObject(BUCKET, 'dst.bin')?.body);
  assert.equal(oss.getObject(BUCKET, 'dst.bin')?.meta, { a: '1' });
  await s.copy('dst2.bin', 'src.bin', { headers: { 'x-oss-metadata-directive': 'REPLACE', 'x-oss-meta-b': '2' } });
  assert.equal(oss.getObject(BUCKET, 'dst2.bin')?.meta, { b: '2' });
});

test('multipart: initiate with headers, upload parts, listParts with the CSE fields, complete; abort drops an upload', async () => {
  const s = store();
  const data = pseudoRandomBytes(5000, 6);
  // Every field OSS requires of a CSE upload (test/support/oss-cse-rules.ts), repeated on each part.
  const cse = {
    'x-oss-meta-client-side-encryption-key': 'a2V5LWJsb2I=',
    'x-oss-meta-client-side-encryption-start': 'c3RhcnQtYmxvYg==',
    'x-oss-meta-client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
    'x-oss-meta-client-side-encryption-wrap-alg': 'RSA/NONE/PKCS1Padding',
    'x-oss-meta-client-side-encryption-data-size': String(data.length),
    'x-oss-meta-client-side-encryption-part-size': '2048',
  };
  const { uploadId } = await s.initiateMultipartUpload('mp.bin', { headers: cse });
  const parts = [];
  for (const [n, from, to] of [[1, 0, 2048], [2, 2048, 4096], [3, 4096, 5000]] as const) {
    const r = await s.uploadPart('mp.bin', uploadId, n, data.subarray(from, to), { headers: cse });
    assert.ok(r.etag && r.crc64);
    parts.push({ partNumber: n, etag: r.etag! });
  }
  const listed = await s.listParts('mp.bin', uploadId);
  assert.equal(listed.parts.map((p) => [p.partNumber, p.etag, p.size]), parts.map((p, i) => [p.partNumber, p.etag, [2048, 2048, 904][i]]));
  assert.is(listed.fields.ClientEncryptionDataSize, String(data.length));
  assert.is(listed.fields.ClientEncryptionPartSize, '2048');
  const page = await s.listParts('mp.bin', uploadId, { maxParts: 2 });
  assert.is(page.isTruncated, true);
  assert.is(page.nextPartNumberMarker, 2);
  const done = await s.completeMultipartUpload('mp.bin', uploadId, [parts[2], parts[0], parts[1]]);
  assert.is(done.status, 200);
  assert.is(done.etag, oss.getObject(BUCKET, 'mp.bin')?.etag);
  same(data, oss.getObject(BUCKET, 'mp.bin')?.body);

  const second = await s.initiateMultipartUpload('mp2.bin');
  assert.ok(oss.uploads(BUCKET).some((u) => u.uploadId === second.uploadId));
  await s.abortMultipartUpload('mp2.bin', second.uploadId);
  assert.not.ok(oss.uploads(BUCKET).some((u) => u.uploadId === second.uploadId));
});

test('virtual-host addressing: /<key> to <bucket>.<host>, signed over /bucket/key', async () => {
  // No resolver here knows <bucket>.localhost: route the connection to the stand-in while the Host header stays
  // the virtual-host one, as a DNS name pointing at OSS would.
  const s = store({ endpoint: `http://oss-cn-hangzhou.aliyuncs.test:${oss.port}`, pathStyle: false, fetch: loopbackFetch });
  assert.is(s.pathStyle, false);
  const data = pseudoRandomBytes(300, 7);
  await s.put('vh/key.bin', data);
  const entry = oss.log.filter((e) => e.kind === 'put').at(-1)!;
  assert.is(entry.bucket, BUCKET);
  assert.is(entry.key, 'vh/key.bin');
  same(data, (await s.get('vh/key.bin')).body);
});

test('STS: a key with its token works; a wrong token is InvalidSecurityToken; a provider is asked again before expiry', async () => {
  await store({ credentials: STS }).put('sts.bin', new Uint8Array([9]));
  assert.ok(oss.getObject(BUCKET, 'sts.bin'));
  await rejects(store({ credentials: { ...STS, securityToken: 'other' } }).head('sts.bin'), (err) => {
    assert.instance(err, OssRequestError);
    assert.is(err.code, 'InvalidSecurityToken');
    assert.is(err.status, 403);
  });
  let calls = 0;
  const soon = store({ credentials: async () => (calls++, { ...STS, expiration: new Date(Date.now() + 60_000) }) });
  await soon.head('sts.bin');
  await soon.head('sts.bin');
  assert.is(calls, 2, 'a key expiring within the refresh margin is fetched again');
  let longCalls = 0;
  const lasting = store({ credentials: async () => (longCalls++, { ...STS, expiration: new Date(Date.now() + 3_600_000).toISOString() }) });
  await Promise.all([lasting.head('sts.bin'), lasting.head('sts.bin'), lasting.get('sts.bin')]);
  assert.is(longCalls, 1, 'a key valid for an hour is fetched once, concurrent callers sharing the call');
});

test('additional headers are signed: changing one after signing is SignatureDoesNotMatch', async () => {
  const s = store();
  await s.put('add.txt', new Uint8Array([1]), { headers: { 'content-disposition': 'attachment' } });
  const tamper: typeof fetch = (url, init) => {
    const headers = { ...(init!.headers as Record<string, string>), 'content-disposition': 'inline' };
    return fetch(url, { ...init, headers });
  };
  const http = await import('../bindings/oss/fetch/http.js');
  const raw = http.createOssHttp({ endpoint: oss.endpoint, bucket: BUCKET, region: oss.region, credentials: keys, fetch: tamper, retry: { retries: 0 } });
  await rejects(raw.send({ method: 'PUT', key: 'add.txt', headers: { 'content-disposition': 'attachment' }, additionalHeaders: ['Content-Disposition'], body: new Uint8Array([2]), read: 'none' }), (err) => {
    assert.is(err.code, 'SignatureDoesNotMatch');
    assert.match(err.details.CanonicalRequest, /content-disposition:inline\n/);
  });
  const untampered = http.createOssHttp({ endpoint: oss.endpoint, bucket: BUCKET, region: oss.region, credentials: keys });
  const ok = await untampered.send({ method: 'PUT', key: 'add.txt', headers: { 'content-disposition': 'attachment' }, additionalHeaders: ['content-disposition'], body: new Uint8Array([2]), read: 'none' });
  assert.is(ok.status, 200);
  assert.match(oss.log.at(-1)!.method, 'PUT');
});

test('the V4 Authorization header is the one ali-oss computes for the same request and time', async () => {
  const signUtils = require('ali-oss/lib/common/signUtils.js') as {
    authorizationV4(id: string, secret: string, region: string, method: string, request: object, bucket?: string, key?: string, additional?: string[]): string;
  };
  const now = new Date('2026-03-04T05:06:07.890Z');
  const cases = [
    { method: 'PUT', key: 'dir/ä b+(c)*.bin', query: [] as [string, string][], headers: { 'content-type': 'text/plain', 'x-oss-meta-a': ' v ', 'content-disposition': 'attachment' }, additional: ['Content-Disposition', 'x-oss-meta-a', 'Content-Type'] },
    { method: 'GET', key: 'k', query: [['partNumber', '2'], ['uploadId', 'u/1+2']] as [string, string][], headers: {}, additional: [] },
    { method: 'GET', key: undefined, query: [['prefix', 'a b'], ['max-keys', '5'], ['encoding-type', 'url']] as [string, string][], headers: {}, additional: [] },
  ];
  for (const c of cases) {
    for (const credentials of [keys, STS]) {
      const ours = await signV4Headers({ method: c.method, bucket: BUCKET, key: c.key, query: c.query, headers: c.headers, additionalHeaders: c.additional }, credentials, 'oss-cn-hangzhou', now);
      const headers: Record<string, string> = { ...c.headers, 'x-oss-date': ours['x-oss-date'], 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' };
      if ('securityToken' in credentials) headers['x-oss-security-token'] = credentials.securityToken;
      const official = signUtils.authorizationV4(credentials.accessKeyId, credentials.accessKeySecret, 'cn-hangzhou', c.method, { headers, queries: Object.fromEntries(c.query) }, BUCKET, c.key, c.additional);
      assert.is(ours.authorization, official, `${c.method} ${c.key}`);
    }
  }
});

test('a wrong secret surfaces SignatureDoesNotMatch with code, status, requestId, ec and the server StringToSign', async () => {
  const s = store({ credentials: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: 'not-the-secret' } });
  for (const call of [() => s.put('x.bin', new Uint8Array([1])), () => s.get('x.bin'), () => s.list()]) {
    await rejects(call(), (err) => {
      assert.instance(err, OssRequestError);
      assert.is(err.name, 'SignatureDoesNotMatchError');
      assert.is(err.code, 'SignatureDoesNotMatch');
      assert.is(err.status, 403);
      assert.ok(typeof err.requestId === 'string' && err.requestId.length > 0);
      assert.is(err.requestId, oss.log.at(-1)!.requestId);
      assert.is(err.ec, '0002-00000040');
      assert.is(err.ecCode, err.ec);
      assert.match(err.details.StringToSign, /^OSS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/cn-hangzhou\/oss\/aliyun_v4_request\n[0-9a-f]{64}$/);
    });
  }
});

test('NoSuchKey: from the XML body on GET and from x-oss-err on HEAD', async () => {
  const s = store();
  await rejects(s.get('missing'), (err) => {
    assert.is(err.code, 'NoSuchKey');
    assert.is(err.status, 404);
    assert.ok(err.requestId);
  });
  await rejects(s.head('missing'), (err) => {
    assert.is(err.code, 'NoSuchKey');
    assert.is(err.status, 404);
    assert.ok(err.requestId);
  });
});

test('signed URLs: GET and HEAD work without credentials, STS included; expired and wrong-method URLs are refused', async () => {
  const s = store();
  const data = pseudoRandomBytes(4096, 8);
  await s.put('signed/ä b.bin', data);
  const url = await s.signUrl('signed/ä b.bin', { expires: 60 });
  assert.match(url, /x-oss-signature-version=OSS4-HMAC-SHA256/);
  const got = await fetch(url);
  assert.is(got.status, 200);
  same(data, new Uint8Array(await got.arrayBuffer()));
  const head = await fetch(await s.signUrl('signed/ä b.bin', { method: 'HEAD' }), { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-length'), String(data.length));
  const sts = await store({ credentials: STS }).signUrl('signed/ä b.bin', { query: { 'response-content-type': 'text/plain' } });
  const stsGot = await fetch(sts);
  assert.is(stsGot.status, 200);
  assert.is(stsGot.headers.get('content-type'), 'text/plain');
  const asGet = await fetch(await s.signUrl('signed/ä b.bin', { method: 'HEAD' }));
  assert.is(asGet.status, 403, 'a HEAD URL does not GET');
  const expired = await fetch(await s.signUrl('signed/ä b.bin', { expires: 1, now: new Date(Date.now() - 10_000) }));
  assert.is(expired.status, 403);
  assert.match(await expired.text(), /<Code>AccessDenied<\/Code>[\s\S]*Request has expired/);
  await rejects(s.signUrl('x', { method: 'PUT' as 'GET' }), (err) => assert.instance(err, TypeError));
  await rejects(s.signUrl('x', { expires: 0 }), (err) => assert.instance(err, RangeError));
});

test('retries: a 503 is retried with a fresh signature; a stream body is not retried; a 4xx never is', async () => {
  const s = store();
  oss.inject({ kind: 'put', key: 'retry.bin', status: 503 });
  const before = oss.log.length;
  await s.put('retry.bin', new Uint8Array([1, 2]));
  const attempts = oss.log.slice(before).filter((e) => e.kind === 'put');
  assert.equal(attempts.map((e) => e.status), [503, 200]);
  oss.inject({ kind: 'put', key: 'retry-stream.bin', status: 503 });
  const stream = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new Uint8Array([1])), c.close()) });
  await rejects(s.put('retry-stream.bin', stream), (err) => {
    assert.is(err.status, 503);
    assert.is(err.code, 'ServiceUnavailable');
  });
  const n = oss.log.length;
  await rejects(s.get('never-there'), (err) => assert.is(err.status, 404));
  assert.is(oss.log.length - n, 1);
  oss.inject({ kind: 'get', key: 'retry.bin', reset: true, times: 2 });
  same(new Uint8Array([1, 2]), (await s.get('retry.bin')).body);
});

test('timeout: an attempt that does not answer in time is ResponseTimeoutError (status -2); abort stops a call', async () => {
  const s = store({ timeout: 150, retry: { retries: 0 } });
  await s.put('slow.bin', new Uint8Array([1]));
  oss.inject({ kind: 'get', key: 'slow.bin', delayMs: 1000 });
  await rejects(s.get('slow.bin'), (err) => {
    assert.instance(err, OssRequestError);
    assert.is(err.status, -2);
    assert.is(err.code, 'ResponseTimeoutError');
  });
  const patient = store({ timeout: 150, retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 } });
  oss.inject({ kind: 'get', key: 'slow.bin', delayMs: 1000 });
  same(new Uint8Array([1]), (await patient.get('slow.bin')).body);
  oss.inject({ kind: 'get', key: 'slow.bin', delayMs: 1000 });
  const controller = new AbortController();
  const reason = new Error('user cancelled');
  setTimeout(() => controller.abort(reason), 50);
  await rejects(store().get('slow.bin', { signal: controller.signal }), (err) => assert.is(err, reason));
});

test('refused before any request: bad endpoint, empty bucket, bad range, bad credentials', async () => {
  assert.throws(() => createFetchOss({ endpoint: 'oss-cn-hangzhou.aliyuncs.com', bucket: 'b', region: 'r', credentials: keys }), /"endpoint" expected a URL with scheme/);
  assert.throws(() => createFetchOss({ endpoint: 'ftp://x', bucket: 'b', region: 'r', credentials: keys }), /http: or https:/);
  assert.throws(() => createFetchOss({ endpoint: oss.endpoint, bucket: '', region: 'r', credentials: keys }), /"bucket"/);
  assert.throws(() => createFetchOss({ endpoint: oss.endpoint, bucket: 'b', region: 'r', credentials: { accessKeyId: 'a' } as never }), /accessKeySecret/);
  await rejects(store().get('k', { range: 'bytes=1-2,4-5' }), (err) => assert.instance(err, TypeError));
});

test('objects written through the fetch transport read byte-exact through ali-oss, and the reverse, whole and in ranges', async () => {
  const s = store();
  const ali = oss.client(BUCKET);
  const data = pseudoRandomBytes(300_000, 9);
  await s.put('cross/from-fetch.bin', data, { headers: { 'x-oss-meta-via': 'fetch' } });
  const whole = await ali.get('cross/from-fetch.bin');
  same(data, new Uint8Array(whole.content as Buffer));
  const ranged = await ali.get('cross/from-fetch.bin', undefined, { headers: { Range: 'bytes=5-70000' } });
  same(data.subarray(5, 70001), new Uint8Array(ranged.content as Buffer));
  assert.is(((await ali.head('cross/from-fetch.bin')).meta as Record<string, string>).via, 'fetch');

  await ali.put('cross/from-ali.bin', Buffer.from(data), { meta: { via: 'ali-oss' } } as never);
  same(data, (await s.get('cross/from-ali.bin')).body);
  same(data.subarray(data.length - 1000), (await s.get('cross/from-ali.bin', { range: 'bytes=-1000' })).body);
  same(data.subarray(5, 70001), (await s.get('cross/from-ali.bin', { range: 'bytes=5-70000' })).body);
  assert.equal((await s.head('cross/from-ali.bin')).meta, { via: 'ali-oss' });
  const aliHead = await ali.head('cross/from-ali.bin');
  assert.is((await s.head('cross/from-ali.bin')).etag, (aliHead.res.headers as Record<string, string>).etag);
});

test('CORS: the stand-in answers a preflight for what the transport sends, and exposes the headers it reads', async () => {
  const res = await fetch(`${oss.endpoint}/${BUCKET}/cors.bin`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'authorization,content-type,x-oss-content-sha256,x-oss-date,x-oss-security-token,x-oss-meta-a',
    },
  });
  assert.is(res.status, 200);
  assert.is(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-methods') ?? '', /PUT/);
  assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-oss-content-sha256/);
  const s = store();
  await s.put('cors.bin', new Uint8Array([1]));
  const got = await fetch(await s.signUrl('cors.bin'), { headers: { origin: 'https://app.example' } });
  const exposed = (got.headers.get('access-control-expose-headers') ?? '').toLowerCase();
  for (const h of ['etag', 'x-oss-request-id', 'x-oss-hash-crc64ecma', 'content-range']) assert.ok(exposed.includes(h), `${h} not exposed`);
});

test.run();

/** fetch over node:http that connects to the stand-in whatever the URL's host, keeping that host in Host. */
async function loopbackFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(String(input));
  const body = init.body === undefined || init.body === null ? undefined : new Uint8Array(await new Response(init.body as BodyInit).arrayBuffer());
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: url.port, method: init.method, path: url.pathname + url.search, headers: { ...(init.headers as Record<string, string>), host: url.host }, signal: init.signal ?? undefined },
      (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const nullBody = init.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream), { status: res.statusCode, headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
