/**
 * Proof that test/support/oss-server.ts behaves as OSS does for the real `ali-oss` client (docs/FORMAT.md §5, §6,
 * §8): every operation is driven through `new OSS({ endpoint: 'http://127.0.0.1:PORT', ... })` (or, for what
 * ali-oss cannot send, through raw HTTP), and the answers are checked against what this test computes itself:
 * MD5 ETags, CRC-64 via bindings/integrity/crc64.ts, byte slices.
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CtrBackend } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { crc64, crc64ToDecimal } from '../bindings/integrity/crc64.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { signV1, startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import { fixturePath, pseudoRandomBytes, rejects } from './_util.js';

const BUCKET = 'test-bucket';

/** What OSS puts in ETag for a simple object or a part. */
function md5Etag(bytes: Uint8Array): string {
  return `"${createHash('md5').update(bytes).digest('hex').toUpperCase()}"`;
}

/** What OSS puts in ETag for a completed multipart object. */
function multipartEtag(parts: Uint8Array[]): string {
  const outer = createHash('md5');
  for (const p of parts) outer.update(createHash('md5').update(p).digest());
  return `"${outer.digest('hex').toUpperCase()}-${parts.length}"`;
}

function crcText(bytes: Uint8Array): string {
  return crc64ToDecimal(crc64(bytes));
}

type AnyError = Error & { code?: string; status?: number; name: string; requestId?: string };


/**
 * A request ali-oss cannot make (wrong part order, no Content-Length, preflight, raw XML...), signed with V1
 * (Date + Authorization) for the default test key unless `sign` is false or names another key.
 */
function raw(
  oss: OssServer,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    bucketHost?: string | null;
    sign?: false | { accessKeyId: string; accessKeySecret: string };
  },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const host = options.bucketHost === null ? `127.0.0.1:${oss.port}` : `${options.bucketHost ?? BUCKET}.${oss.region}.aliyuncs.com`;
  const headers: Record<string, string> = { host, ...options.headers };
  if (options.sign !== false && options.method !== 'OPTIONS') Object.assign(headers, signedHeaders(options.method, host, options.path, headers, options.sign));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: oss.port, method: options.method, path: options.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Date and V1 Authorization for a raw request to `path` (virtual-host style when Host names a bucket, else
 * `/bucket/key`). Bucket and key are worked out here from the path, independently of the server's routing.
 */
function signedHeaders(
  method: string,
  host: string,
  path: string,
  headers: Record<string, string>,
  key: { accessKeyId: string; accessKeySecret: string } = { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'date' || h.toLowerCase() === 'x-oss-date')) out.date = new Date().toUTCString();
  const [pathname, search = ''] = path.split('?');
  const segments = pathname.slice(1);
  const virtual = /[a-z]/.test(host.split('.')[0]) && host.includes('.') && !host.startsWith('127.');
  const bucket = virtual ? host.split('.')[0] : decodeURIComponent(segments.split('/')[0]);
  const objectKey = virtual ? decodeURIComponent(segments) : decodeURIComponent(segments.split('/').slice(1).join('/'));
  out.authorization = signV1(key, { method, bucket, key: objectKey || undefined, query: new URLSearchParams(search), headers: { ...headers, ...out } });
  return out;
}

/** Sends bytes on a fresh TCP connection and returns everything the server answers until it closes. */
function rawSocket(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

// ---------------------------------------------------------------------------------------------------------

const objects = suite<{ oss: OssServer }>('oss-server: objects through ali-oss');
objects.before(async (ctx) => {
  ctx.oss = await startOssServer();
});
objects.after(async (ctx) => {
  await ctx.oss.close();
});

objects('put Buffer: 200, ETag is the quoted upper-case MD5, CRC-64 header is crc64 of the bytes', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(5000, 21));
  const res = await client.put('put/a.bin', body);
  assert.is(res.res.status, 200);
  const headers = res.res.headers as Record<string, string>;
  assert.is(headers.etag, md5Etag(body));
  assert.is(headers['x-oss-hash-crc64ecma'], crcText(body));
  assert.match(headers['x-oss-request-id'], /^[0-9A-F]{24}$/);
  const stored = oss.getObject(BUCKET, 'put/a.bin');
  assert.ok(stored?.body?.equals(body));
  assert.is(stored?.type, 'Normal');
  assert.is(stored?.crc64, crc64(body));
  const entry = oss.log[oss.log.length - 1];
  assert.equal([entry.method, entry.kind, entry.bucket, entry.key, entry.status], ['PUT', 'put', BUCKET, 'put/a.bin', 200]);
  assert.is(entry.headers['content-length'], '5000');
  assert.is(entry.headers.host, `${BUCKET}.oss-cn-hangzhou.aliyuncs.com`);
});

objects('putStream with unknown length goes chunked and stores every byte', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const pieces = [pseudoRandomBytes(70_000, 1), pseudoRandomBytes(3, 2), pseudoRandomBytes(100_001, 3)].map((p) => Buffer.from(p));
  const whole = Buffer.concat(pieces);
  const res = await client.putStream('put/stream.bin', Readable.from(pieces));
  assert.is(res.res.status, 200);
  const entry = oss.log[oss.log.length - 1];
  assert.is(entry.headers['transfer-encoding'], 'chunked');
  assert.is(entry.headers['content-length'], undefined);
  assert.is(entry.bytesIn, whole.length);
  assert.ok(oss.getObject(BUCKET, 'put/stream.bin')?.body?.equals(whole));
  assert.is((res.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(whole));
  assert.is((res.res.headers as Record<string, string>).etag, md5Etag(whole));
});

objects('metadata is stored and returned with lower-case names; Content-Type kept', async ({ oss }) => {
  const client = oss.client(BUCKET);
  // A complete envelope: OSS refuses a client-side-encryption header set that lacks start, cek-alg or wrap-alg.
  const envelope = { 'client-side-encryption-start': 'SVY=', 'client-side-encryption-cek-alg': 'AES/CTR/NoPadding', 'client-side-encryption-wrap-alg': 'RSA/NONE/PKCS1Padding' };
  await client.put('meta.txt', Buffer.from('hello'), {
    meta: { 'Client-Side-Encryption-Key': 'S0VZ', Mixed: 'Value', ...envelope } as never,
    mime: 'text/plain',
    headers: { 'Cache-Control': 'no-store' },
  });
  const head = await client.head('meta.txt');
  assert.equal(head.meta, { 'client-side-encryption-key': 'S0VZ', mixed: 'Value', ...envelope });
  const got = await client.get('meta.txt');
  const h = got.res.headers as Record<string, string>;
  assert.is(h['x-oss-meta-client-side-encryption-key'], 'S0VZ');
  assert.is(h['content-type'], 'text/plain');
  assert.is(h['cache-control'], 'no-store');
  assert.is(h['x-oss-object-type'], 'Normal');
  assert.ok(!Number.isNaN(Date.parse(h['last-modified'])));
  assert.equal(oss.getObject(BUCKET, 'meta.txt')?.meta, { 'client-side-encryption-key': 'S0VZ', mixed: 'Value', ...envelope });
});

objects('get whole object: bytes, Content-Length, ETag, CRC', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(1000, 5));
  await client.put('range.bin', body);
  const got = await client.get('range.bin');
  assert.is(got.res.status, 200);
  assert.ok(Buffer.from(got.content).equals(body));
  const h = got.res.headers as Record<string, string>;
  assert.is(h['content-length'], '1000');
  assert.is(h.etag, md5Etag(body));
  assert.is(h['x-oss-hash-crc64ecma'], crcText(body));
});

objects("every range form, OSS's default behaviour (invalid or unsatisfiable → 200 whole object)", async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(1000, 6));
  await client.put('ranges-default.bin', body);
  const cases: [string, [number, number] | 'whole'][] = [
    ['bytes=0-499', [0, 499]],
    ['bytes=500-999', [500, 999]],
    ['bytes=500-', [500, 999]],
    ['bytes=-300', [700, 999]],
    ['bytes=0-0', [0, 0]],
    ['bytes=999-999', [999, 999]],
    ['bytes=-1000', [0, 999]],
    ['bytes=0-499,600-699', [0, 499]],
    ['bytes=500-1000', 'whole'],
    ['bytes=1000-2000', 'whole'],
    ['bytes=1000-', 'whole'],
    ['bytes=-2000', 'whole'],
    ['bytes=-0', 'whole'],
    ['bytes=5-3', 'whole'],
    ['byte=0-499', 'whole'],
  ];
  for (const [range, expected] of cases) {
    const got = await client.get('ranges-default.bin', { headers: { Range: range } });
    const h = got.res.headers as Record<string, string>;
    assert.is(h['x-oss-hash-crc64ecma'], crcText(body), `whole-object CRC on ${range}`);
    if (expected === 'whole') {
      assert.is(got.res.status, 200, range);
      assert.ok(Buffer.from(got.content).equals(body), range);
      assert.is(h['content-range'], undefined, range);
    } else {
      const [a, b] = expected;
      assert.is(got.res.status, 206, range);
      assert.ok(Buffer.from(got.content).equals(body.subarray(a, b + 1)), range);
      assert.is(h['content-range'], `bytes ${a}-${b}/1000`, range);
      assert.is(h['content-length'], String(b - a + 1), range);
    }
  }
});

objects('range forms with x-oss-range-behavior: standard (416 InvalidRange past the end, end clamped)', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(1000, 7));
  await client.put('ranges-standard.bin', body);
  const ok: [string, number, number][] = [
    ['bytes=0-499', 0, 499],
    ['bytes=500-2000', 500, 999],
    ['bytes=990-', 990, 999],
    ['bytes=-10', 990, 999],
    ['bytes=-2000', 0, 999],
  ];
  for (const [range, a, b] of ok) {
    const got = await client.get('ranges-standard.bin', { headers: { Range: range, 'x-oss-range-behavior': 'standard' } });
    assert.is(got.res.status, 206, range);
    assert.ok(Buffer.from(got.content).equals(body.subarray(a, b + 1)), range);
    assert.is((got.res.headers as Record<string, string>)['content-range'], `bytes ${a}-${b}/1000`, range);
  }
  for (const range of ['bytes=1000-2000', 'bytes=1000-', 'bytes=-0']) {
    const err = await rejects(client.get('ranges-standard.bin', { headers: { Range: range, 'x-oss-range-behavior': 'standard' } }));
    assert.is(err.code, 'InvalidRange', range);
    assert.is(err.status, 416, range);
    assert.is(err.name, 'InvalidRangeError');
  }
  await client.put('empty.bin', Buffer.alloc(0));
  const emptyErr = await rejects(client.get('empty.bin', { headers: { Range: 'bytes=0-', 'x-oss-range-behavior': 'standard' } }));
  assert.is(emptyErr.code, 'InvalidRange');
  const emptyDefault = await client.get('empty.bin', { headers: { Range: 'bytes=0-' } });
  assert.is(emptyDefault.res.status, 200);
  assert.is(Buffer.from(emptyDefault.content ?? []).length, 0);
});

objects('If-Match / If-None-Match on GET and HEAD: 412 PreconditionFailed, 304', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from('conditional');
  const etag = md5Etag(body);
  await client.put('cond.txt', body);
  const matchOk = await client.get('cond.txt', { headers: { 'If-Match': etag } });
  assert.is(matchOk.res.status, 200);
  const mismatch = await rejects(client.get('cond.txt', { headers: { 'If-Match': '"0123"' } }));
  assert.is(mismatch.status, 412);
  assert.is(mismatch.code, 'PreconditionFailed');
  const notModified = await client.get('cond.txt', { headers: { 'If-None-Match': etag } });
  assert.is(notModified.res.status, 304);
  assert.is(Buffer.from(notModified.content ?? []).length, 0);
  const modified = await client.get('cond.txt', { headers: { 'If-None-Match': '"0123"' } });
  assert.is(modified.res.status, 200);
  const headNotModified = await client.head('cond.txt', { headers: { 'If-None-Match': etag } });
  assert.is(headNotModified.status, 304);
  const headMismatch = await rejects(client.head('cond.txt', { headers: { 'If-Match': '"0123"' } }));
  assert.is(headMismatch.code, 'PreconditionFailed');
});

objects('head: meta, length and CRC; a missing key is NoSuchKey (404); HEAD errors travel in x-oss-err', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(321, 8));
  await client.put('head.bin', body, { meta: { 'X-Y': '1' } as never });
  const head = await client.head('head.bin');
  assert.is(head.status, 200);
  assert.equal(head.meta, { 'x-y': '1' });
  const h = head.res.headers as Record<string, string>;
  assert.is(h['content-length'], '321');
  assert.is(h['x-oss-hash-crc64ecma'], crcText(body));
  assert.is(h.etag, md5Etag(body));
  const missing = await rejects(client.head('no/such/key'));
  assert.is(missing.code, 'NoSuchKey');
  assert.is(missing.status, 404);
  const rawHead = await raw(oss, { method: 'HEAD', path: '/no/such/key' });
  assert.is(rawHead.status, 404);
  assert.is(rawHead.body.length, 0);
  const xml = Buffer.from(String(rawHead.headers['x-oss-err']), 'base64').toString('utf8');
  assert.is(xmlField(xml, 'Code'), 'NoSuchKey');
  assert.is(xmlField(xml, 'RequestId'), rawHead.headers['x-oss-request-id']);
  assert.is(xmlField(xml, 'HostId'), `${BUCKET}.oss-cn-hangzhou.aliyuncs.com`);
});

objects('GET errors are OSS XML with Code, Message, RequestId, HostId', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const err = await rejects(client.get('missing.bin'));
  assert.is(err.code, 'NoSuchKey');
  assert.is(err.status, 404);
  assert.match(String(err.requestId), /^[0-9A-F]{24}$/);
  const res = await raw(oss, { method: 'GET', path: '/missing.bin' });
  const xml = res.body.toString('utf8');
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error>/);
  assert.is(xmlField(xml, 'Code'), 'NoSuchKey');
  assert.ok((xmlField(xml, 'Message') ?? '').length > 0);
  assert.is(xmlField(xml, 'RequestId'), res.headers['x-oss-request-id']);
  assert.is(xmlField(xml, 'Key'), 'missing.bin');
  assert.is(res.headers['content-type'], 'application/xml');
});

objects('delete: 204, object gone; deleting a missing key is also 204', async ({ oss }) => {
  const client = oss.client(BUCKET);
  await client.put('del.bin', Buffer.from('x'));
  const res = await client.delete('del.bin');
  assert.is(res.res.status, 204);
  assert.is(oss.getObject(BUCKET, 'del.bin'), undefined);
  assert.is((await rejects(client.head('del.bin'))).code, 'NoSuchKey');
  assert.is((await client.delete('del.bin')).res.status, 204);
});

objects('copy: COPY keeps bytes, ETag, CRC, meta and type; REPLACE takes the new meta; missing source is NoSuchKey', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(777, 9));
  await client.put('copy/src.bin', body, { meta: { a: '1' } as never, mime: 'application/x-test' });
  const copied = await client.copy('copy/dst.bin', 'copy/src.bin');
  assert.is(copied.res.status, 200);
  assert.is(copied.data?.etag, md5Etag(body));
  assert.is((copied.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(body));
  const dst = oss.getObject(BUCKET, 'copy/dst.bin');
  assert.ok(dst?.body?.equals(body));
  assert.equal(dst?.meta, { a: '1' });
  assert.is(dst?.contentType, 'application/x-test');
  assert.is(oss.log[oss.log.length - 1].kind, 'copy');

  await client.copy('copy/replaced.bin', 'copy/src.bin', { meta: { b: '2' } as never });
  assert.is(oss.log[oss.log.length - 1].headers['x-oss-metadata-directive'], 'REPLACE');
  assert.equal(oss.getObject(BUCKET, 'copy/replaced.bin')?.meta, { b: '2' });
  assert.ok(oss.getObject(BUCKET, 'copy/replaced.bin')?.body?.equals(body));

  await oss.client('other-bucket').copy('from-other.bin', `/${BUCKET}/copy/src.bin`);
  assert.ok(oss.getObject('other-bucket', 'from-other.bin')?.body?.equals(body));

  const missing = await rejects(client.copy('copy/x.bin', 'copy/none.bin'));
  assert.is(missing.code, 'NoSuchKey');
  assert.is(missing.status, 404);
  const ifMatch = await rejects(client.copy('copy/y.bin', 'copy/src.bin', { headers: { 'If-Match': '"00"' } }));
  assert.is(ifMatch.code, 'PreconditionFailed');
});

objects('x-oss-forbid-overwrite: true refuses PutObject, CopyObject and Complete onto an existing key (409 FileAlreadyExists)', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const forbid = { headers: { 'x-oss-forbid-overwrite': 'true' } };
  const first = Buffer.from('first');
  await client.put('forbid/a.bin', first, forbid);
  const put = await rejects(client.put('forbid/a.bin', Buffer.from('second'), forbid));
  assert.is(put.status, 409);
  assert.is(put.code, 'FileAlreadyExists');

  await client.put('forbid/src.bin', Buffer.from('source'));
  const copy = await rejects(client.copy('forbid/a.bin', 'forbid/src.bin', forbid));
  assert.is(copy.status, 409);
  assert.is(copy.code, 'FileAlreadyExists');
  const replace = await rejects(client.copy('forbid/a.bin', 'forbid/src.bin', { ...forbid, meta: { x: '1' } as never }));
  assert.is(replace.code, 'FileAlreadyExists');
  await client.copy('forbid/new.bin', 'forbid/src.bin', forbid);
  assert.ok(oss.getObject(BUCKET, 'forbid/new.bin')?.body?.equals(Buffer.from('source')));

  const { uploadId } = await client.initMultipartUpload('forbid/a.bin');
  const part = await client.uploadPart('forbid/a.bin', uploadId, 1, Buffer.from('multipart'), 0, 9);
  const parts = [{ number: 1, etag: part.etag }];
  const complete = await rejects(client.completeMultipartUpload('forbid/a.bin', uploadId, parts, forbid));
  assert.is(complete.status, 409);
  assert.is(complete.code, 'FileAlreadyExists');
  assert.is(oss.uploads(BUCKET).filter((u) => u.uploadId === uploadId).length, 1, 'a refused Complete keeps the upload');
  assert.ok(oss.getObject(BUCKET, 'forbid/a.bin')?.body?.equals(first), 'nothing was overwritten');
  // 'false' (or no header) overwrites.
  await client.completeMultipartUpload('forbid/a.bin', uploadId, parts, { headers: { 'x-oss-forbid-overwrite': 'false' } });
  assert.ok(oss.getObject(BUCKET, 'forbid/a.bin')?.body?.equals(Buffer.from('multipart')));
});

objects('list v1: prefix, marker, max-keys with NextMarker, delimiter; list v2 paging', async ({ oss }) => {
  const client = oss.client('list-bucket');
  const keys = ['p/a', 'p/b', 'p/c/1', 'p/c/2', 'p/d', 'q/z'];
  for (const k of keys) await client.put(k, Buffer.from(k));
  const all = await client.list({ prefix: 'p/', 'max-keys': 100 }, {});
  assert.equal(all.objects.map((o) => o.name), ['p/a', 'p/b', 'p/c/1', 'p/c/2', 'p/d']);
  assert.is(all.isTruncated, false);
  assert.is(all.objects[0].size, 3);
  assert.is(all.objects[0].etag, md5Etag(Buffer.from('p/a')));
  const page1 = await client.list({ prefix: 'p/', 'max-keys': 2 }, {});
  assert.equal(page1.objects.map((o) => o.name), ['p/a', 'p/b']);
  assert.is(page1.isTruncated, true);
  assert.is(page1.nextMarker, 'p/b');
  const page2 = await client.list({ prefix: 'p/', 'max-keys': 2, marker: page1.nextMarker as string }, {});
  assert.equal(page2.objects.map((o) => o.name), ['p/c/1', 'p/c/2']);
  const delimited = await client.list({ prefix: 'p/', delimiter: '/', 'max-keys': 100 }, {});
  assert.equal(delimited.objects.map((o) => o.name), ['p/a', 'p/b', 'p/d']);
  assert.equal(delimited.prefixes, ['p/c/']);
  const v2 = await client.listV2({ prefix: 'p/', 'max-keys': '3' }, {});
  assert.equal(v2.objects.map((o) => o.name), ['p/a', 'p/b', 'p/c/1']);
  assert.is(v2.isTruncated, true);
  const v2next = await client.listV2({ prefix: 'p/', 'max-keys': '3', 'continuation-token': v2.nextContinuationToken as string }, {});
  assert.equal(v2next.objects.map((o) => o.name), ['p/c/2', 'p/d']);
  assert.is(v2next.keyCount, 2);
  assert.is(oss.log[oss.log.length - 1].kind, 'list');
});

objects('keys with spaces, plus signs, slashes and non-ASCII round-trip; path style via localhost + sldEnable', async ({ oss }) => {
  const virtual = oss.client(BUCKET);
  const path = oss.client(BUCKET, { endpoint: `http://localhost:${oss.port}`, sldEnable: true });
  for (const key of ['a b+c/d%20e', 'dir//double', 'ünï/code €.bin']) {
    const body = Buffer.from(`body of ${key}`);
    await virtual.put(key, body);
    assert.ok(oss.getObject(BUCKET, key)?.body?.equals(body), key);
    const got = await path.get(key);
    assert.ok(Buffer.from(got.content).equals(body), key);
    const entry = oss.log[oss.log.length - 1];
    assert.is(entry.headers.host, `localhost:${oss.port}`);
    assert.is(entry.bucket, BUCKET);
    assert.is(entry.key, key);
  }
  const url = path.signatureUrl('dir//double', { expires: 60 });
  assert.match(url, /OSSAccessKeyId=.*Signature=/);
  const signed = await fetch(url);
  assert.is(signed.status, 200);
  assert.is(await signed.text(), 'body of dir//double');
});

objects('Content-MD5 is checked (InvalidDigest); an upload without a length is MissingContentLength', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const err = await rejects(client.put('md5.bin', Buffer.from('abc'), { headers: { 'Content-MD5': createHash('md5').update('abd').digest('base64') } }));
  assert.is(err.code, 'InvalidDigest');
  assert.is(err.status, 400);
  assert.is(oss.getObject(BUCKET, 'md5.bin'), undefined);
  // Node's HTTP client always adds a length to a PUT, so this one is written by hand.
  const host = `${BUCKET}.${oss.region}.aliyuncs.com`;
  const auth = signedHeaders('PUT', host, '/nolength.bin', {});
  const noLength = await rawSocket(oss.port, `PUT /nolength.bin HTTP/1.1\r\nHost: ${host}\r\nDate: ${auth.date}\r\nAuthorization: ${auth.authorization}\r\nConnection: close\r\n\r\n`);
  assert.match(noLength, /^HTTP\/1.1 411 /);
  assert.match(noLength, /<Code>MissingContentLength<\/Code>/);
  assert.is(oss.getObject(BUCKET, 'nolength.bin'), undefined);
});

objects('putObjectRaw serves an interop fixture as the official SDK stored it', async ({ oss }) => {
  const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as {
    vectors: { name: string; ciphertext_file: string; headers: Record<string, string>; oss_object: Record<string, string> }[];
  };
  const vector = manifest.vectors.find((v) => v.name === 'v2-rsa-pkcs1-put-102403');
  assert.ok(vector);
  const stored = readFileSync(fixturePath('interop', vector.ciphertext_file));
  const upper = Object.fromEntries(Object.entries(vector.headers).map(([k, v]) => [k.toUpperCase(), v]));
  const snapshot = oss.putObjectRaw('fixtures', 'v2.bin', stored, upper);
  assert.is(snapshot.etag, vector.oss_object.etag);
  const client = oss.client('fixtures');
  const got = await client.get('v2.bin');
  assert.ok(Buffer.from(got.content).equals(stored));
  const h = got.res.headers as Record<string, string>;
  assert.is(h['x-oss-hash-crc64ecma'], vector.oss_object['x-oss-hash-crc64ecma']);
  assert.is(h.etag, vector.oss_object.etag);
  for (const [name, value] of Object.entries(vector.headers)) assert.is(h[name.toLowerCase()], value, name);
  const ranged = await client.get('v2.bin', { headers: { Range: 'bytes=16-31' } });
  assert.ok(Buffer.from(ranged.content).equals(stored.subarray(16, 32)));

  // A multipart fixture keeps the ETag and object type the writer's server reported.
  const mp = manifest.vectors.find((v) => v.name === 'v2-rsa-pkcs1-multipart-238133');
  assert.ok(mp);
  const mpBytes = readFileSync(fixturePath('interop', mp.ciphertext_file));
  oss.putObjectRaw('fixtures', 'mp.bin', mpBytes, { ...mp.headers, ETag: mp.oss_object.etag, 'x-oss-object-type': 'Multipart' });
  const head = await client.head('mp.bin');
  const hh = head.res.headers as Record<string, string>;
  assert.is(hh.etag, mp.oss_object.etag);
  assert.is(hh['x-oss-object-type'], 'Multipart');
  assert.is(hh['x-oss-hash-crc64ecma'], mp.oss_object['x-oss-hash-crc64ecma']);

  // Snapshots are copies: scribbling on one does not change what is served.
  const snap = oss.getObject('fixtures', 'v2.bin');
  snap?.body?.fill(0);
  assert.ok(Buffer.from((await client.get('v2.bin')).content).equals(stored));
});

objects('buckets: NoSuchBucket when auto-creation is off, putBucket creates, deleteBucket refuses a non-empty one', async () => {
  const strict = await startOssServer({ autoCreateBuckets: false, buckets: ['pre-made'] });
  try {
    const client = strict.client('fresh-bucket');
    const missing = await rejects(client.get('a'));
    assert.is(missing.code, 'NoSuchBucket');
    assert.is(missing.status, 404);
    await strict.client('pre-made').put('x', Buffer.from('x'));
    await client.putBucket('fresh-bucket');
    await client.put('a', Buffer.from('a'));
    assert.equal(strict.listKeys('fresh-bucket'), ['a']);
    const notEmpty = await rejects(client.deleteBucket('fresh-bucket'));
    assert.is(notEmpty.code, 'BucketNotEmpty');
    await client.delete('a');
    await client.deleteBucket('fresh-bucket');
    assert.is((await rejects(client.get('a'))).code, 'NoSuchBucket');
  } finally {
    await strict.close();
  }
});

objects('AppendObject: creates an Appendable object, appends at its length; a wrong position or a Normal object is 409', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const first = await client.append('append.bin', Buffer.from('abc'));
  assert.is(first.nextAppendPosition, '3');
  const second = await client.append('append.bin', Buffer.from('defg'), { position: first.nextAppendPosition } as never);
  assert.is(second.nextAppendPosition, '7');
  const head = await client.head('append.bin');
  const h = head.res.headers as Record<string, string>;
  assert.is(h['x-oss-object-type'], 'Appendable');
  assert.is(h['x-oss-hash-crc64ecma'], crcText(Buffer.from('abcdefg')));
  assert.is(h.etag, md5Etag(Buffer.from('abcdefg')));
  const wrong = await rejects(client.append('append.bin', Buffer.from('x'), { position: '3' } as never));
  assert.is(wrong.status, 409);
  assert.is(wrong.code, 'PositionNotEqualToLength');
  await client.put('normal.bin', Buffer.from('n'));
  const normal = await rejects(client.append('normal.bin', Buffer.from('x'), { position: '1' } as never));
  assert.is(normal.code, 'ObjectNotAppendable');
  assert.is(String((await client.get('append.bin')).content), 'abcdefg');
});

objects('operations the stand-in does not implement answer 501 NotImplemented', async ({ oss }) => {
  const client = oss.client(BUCKET);
  await client.put('acl.bin', Buffer.from('x'));
  const acl = await rejects(client.putACL('acl.bin', 'private'));
  assert.is(acl.status, 501);
  assert.is(acl.code, 'NotImplemented');
  assert.match(acl.message, /acl/);
  const symlink = await rejects(client.putSymlink('link.bin', 'acl.bin'));
  assert.is(symlink.code, 'NotImplemented');
  assert.is(oss.log[oss.log.length - 1].kind, 'unsupported');
});

// ---------------------------------------------------------------------------------------------------------

const multipart = suite<{ oss: OssServer }>('oss-server: multipart through ali-oss');
multipart.before(async (ctx) => {
  ctx.oss = await startOssServer(); // OSS's own 100 KiB minimum part size
});
multipart.after(async (ctx) => {
  await ctx.oss.close();
});

const CSE_META = {
  'client-side-encryption-key': 'd3JhcHBlZC1rZXk=',
  'client-side-encryption-start': 'd3JhcHBlZC1pdg==',
  'client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
  'client-side-encryption-wrap-alg': 'RSA/NONE/PKCS1Padding',
  'client-side-encryption-data-size': '209000',
  'client-side-encryption-part-size': '102400',
};

multipart('init → uploadPart ×3 (out of order, parallel) → listParts → complete: ETag "<md5 of md5s>-3", combined CRC, Initiate meta', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const data = Buffer.from(pseudoRandomBytes(209_000, 31));
  const parts = [data.subarray(0, 102_400), data.subarray(102_400, 204_800), data.subarray(204_800)];
  const init = await client.initMultipartUpload('mp/object.bin', { meta: CSE_META, mime: 'application/x-cse' } as never);
  assert.match(init.uploadId, /^[0-9A-F]{32}$/);
  assert.is(init.bucket, BUCKET);
  assert.is(init.name, 'mp/object.bin');
  const results = await Promise.all(
    [3, 1, 2].map((n) => client.uploadPart('mp/object.bin', init.uploadId, n, data, (n - 1) * 102_400, Math.min(n * 102_400, data.length))),
  );
  for (const [i, n] of [3, 1, 2].entries()) {
    assert.is(results[i].etag, md5Etag(parts[n - 1]), `part ${n} ETag`);
    assert.is((results[i].res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(parts[n - 1]), `part ${n} CRC`);
  }
  const listed = await client.listParts('mp/object.bin', init.uploadId, {} as never);
  const listedParts = listed.parts as unknown as Record<string, string>[];
  assert.equal(listedParts.map((p) => p.PartNumber), ['1', '2', '3']);
  assert.equal(listedParts.map((p) => p.Size), ['102400', '102400', String(data.length - 204_800)]);
  assert.equal(listedParts.map((p) => p.ETag), parts.map(md5Etag));
  assert.equal(listedParts.map((p) => p.HashCrc64ecma), parts.map(crcText));
  // ali-oss drops the CSE fields from its result; they are in the raw XML, as on real OSS.
  const rawXml = String((listed.res as unknown as { data: Buffer }).data);
  assert.is(xmlField(rawXml, 'ClientEncryptionKey'), CSE_META['client-side-encryption-key']);
  assert.is(xmlField(rawXml, 'ClientEncryptionStart'), CSE_META['client-side-encryption-start']);
  assert.is(xmlField(rawXml, 'ClientEncryptionCekAlg'), 'AES/CTR/NoPadding');
  assert.is(xmlField(rawXml, 'ClientEncryptionWrapAlg'), 'RSA/NONE/PKCS1Padding');
  assert.is(xmlField(rawXml, 'ClientEncryptionDataSize'), '209000');
  assert.is(xmlField(rawXml, 'ClientEncryptionPartSize'), '102400');
  assert.is(oss.uploads(BUCKET).length, 1);

  const done = await client.completeMultipartUpload(
    'mp/object.bin',
    init.uploadId,
    results.map((r, i) => ({ number: [3, 1, 2][i], etag: r.etag })),
  );
  assert.is(done.etag, multipartEtag(parts));
  assert.is((done.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(data));
  const completeXml = String((done.res as unknown as { data: Buffer }).data);
  assert.is(xmlField(completeXml, 'Key'), 'mp/object.bin');
  assert.is(xmlField(completeXml, 'ETag'), '&quot;' + multipartEtag(parts).slice(1, -1) + '&quot;');

  const head = await client.head('mp/object.bin');
  assert.equal(head.meta, CSE_META);
  const h = head.res.headers as Record<string, string>;
  assert.is(h['x-oss-object-type'], 'Multipart');
  assert.is(h['content-type'], 'application/x-cse');
  assert.is(h['x-oss-hash-crc64ecma'], crcText(data));
  assert.is(h.etag, multipartEtag(parts));
  const got = await client.get('mp/object.bin');
  assert.ok(Buffer.from(got.content).equals(data));
  const ranged = await client.get('mp/object.bin', { headers: { Range: 'bytes=102390-102409' } });
  assert.ok(Buffer.from(ranged.content).equals(data.subarray(102_390, 102_410)));
  assert.is(oss.uploads(BUCKET).length, 0);
  const sequence = oss.log.filter((e) => e.key === 'mp/object.bin').map((e) => e.kind);
  assert.equal(sequence.slice(0, 6), ['initiate', 'uploadPart', 'uploadPart', 'uploadPart', 'listParts', 'complete']);
  assert.equal(
    oss.log.filter((e) => e.kind === 'uploadPart').map((e) => e.partNumber).sort(),
    [1, 2, 3],
  );
  assert.ok(oss.log.filter((e) => e.kind === 'uploadPart').every((e) => e.uploadId === init.uploadId));
});

multipart('EntityTooSmall below 100 KiB for all but the last part; exactly 100 KiB is accepted', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const data = Buffer.from(pseudoRandomBytes(102_399 + 50, 32));
  const small = await client.initMultipartUpload('mp/small.bin');
  const a = await client.uploadPart('mp/small.bin', small.uploadId, 1, data, 0, 102_399);
  const b = await client.uploadPart('mp/small.bin', small.uploadId, 2, data, 102_399, data.length);
  const err = await rejects(
    client.completeMultipartUpload('mp/small.bin', small.uploadId, [
      { number: 1, etag: a.etag },
      { number: 2, etag: b.etag },
    ]),
  );
  assert.is(err.code, 'EntityTooSmall');
  assert.is(err.status, 400);
  assert.match(err.message, /part 1 is 102399 bytes.*102400/);

  const exact = Buffer.from(pseudoRandomBytes(102_400 + 1, 33));
  const ok = await client.initMultipartUpload('mp/exact.bin');
  const p1 = await client.uploadPart('mp/exact.bin', ok.uploadId, 1, exact, 0, 102_400);
  const p2 = await client.uploadPart('mp/exact.bin', ok.uploadId, 2, exact, 102_400, exact.length);
  await client.completeMultipartUpload('mp/exact.bin', ok.uploadId, [
    { number: 1, etag: p1.etag },
    { number: 2, etag: p2.etag },
  ]);
  assert.ok(oss.getObject(BUCKET, 'mp/exact.bin')?.body?.equals(exact));
  // A single short part is fine: it is the last one.
  const single = await client.initMultipartUpload('mp/single.bin');
  const only = await client.uploadPart('mp/single.bin', single.uploadId, 1, Buffer.from('tiny'), 0, 4);
  await client.completeMultipartUpload('mp/single.bin', single.uploadId, [{ number: 1, etag: only.etag }]);
  assert.is(oss.getObject(BUCKET, 'mp/single.bin')?.etag, multipartEtag([Buffer.from('tiny')]));
});

multipart('InvalidPart (wrong ETag, part never uploaded), InvalidPartOrder, MalformedXML', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const init = await client.initMultipartUpload('mp/bad.bin');
  const p1 = await client.uploadPart('mp/bad.bin', init.uploadId, 1, Buffer.alloc(102_400, 1), 0, 102_400);
  const p2 = await client.uploadPart('mp/bad.bin', init.uploadId, 2, Buffer.alloc(10, 2), 0, 10);
  const wrongEtag = await rejects(
    client.completeMultipartUpload('mp/bad.bin', init.uploadId, [
      { number: 1, etag: p1.etag },
      { number: 2, etag: p1.etag },
    ]),
  );
  assert.is(wrongEtag.code, 'InvalidPart');
  assert.is(wrongEtag.status, 400);
  const neverUploaded = await rejects(client.completeMultipartUpload('mp/bad.bin', init.uploadId, [{ number: 7, etag: p1.etag }]));
  assert.is(neverUploaded.code, 'InvalidPart');
  // ali-oss sorts the list itself, so the wrong order has to be sent raw.
  const body = `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>${p2.etag}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>${p1.etag}</ETag></Part></CompleteMultipartUpload>`;
  const order = await raw(oss, { method: 'POST', path: `/mp/bad.bin?uploadId=${init.uploadId}`, body, headers: { 'content-length': String(body.length) } });
  assert.is(order.status, 400);
  assert.is(xmlField(order.body.toString(), 'Code'), 'InvalidPartOrder');
  const malformed = await raw(oss, { method: 'POST', path: `/mp/bad.bin?uploadId=${init.uploadId}`, body: '<nope/>', headers: { 'content-length': '7' } });
  assert.is(xmlField(malformed.body.toString(), 'Code'), 'MalformedXML');
  // None of this consumed the upload.
  await client.completeMultipartUpload('mp/bad.bin', init.uploadId, [
    { number: 1, etag: p1.etag },
    { number: 2, etag: p2.etag },
  ]);
  assert.is(oss.getObject(BUCKET, 'mp/bad.bin')?.size, 102_410);
});

multipart('abort: 204, then NoSuchUpload for uploadPart, listParts, complete and abort', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const init = await client.initMultipartUpload('mp/abort.bin');
  const p1 = await client.uploadPart('mp/abort.bin', init.uploadId, 1, Buffer.alloc(100, 1), 0, 100);
  const aborted = await client.abortMultipartUpload('mp/abort.bin', init.uploadId);
  assert.is((aborted as unknown as { res: { status: number } }).res.status, 204);
  const calls: (() => Promise<unknown>)[] = [
    () => client.uploadPart('mp/abort.bin', init.uploadId, 2, Buffer.alloc(100, 1), 0, 100),
    () => client.listParts('mp/abort.bin', init.uploadId, {} as never),
    () => client.completeMultipartUpload('mp/abort.bin', init.uploadId, [{ number: 1, etag: p1.etag }]),
    () => client.abortMultipartUpload('mp/abort.bin', init.uploadId),
  ];
  for (const call of calls) {
    const err = await rejects(call());
    assert.is(err.code, 'NoSuchUpload');
    assert.is(err.status, 404);
  }
  assert.is(oss.getObject(BUCKET, 'mp/abort.bin'), undefined);
  const wrongKey = await rejects(client.listParts('mp/other-key.bin', init.uploadId, {} as never));
  assert.is(wrongKey.code, 'NoSuchUpload');
});

multipart('UploadPart with CSE headers: equal to Initiate is accepted, a different start is rejected', async ({ oss }) => {
  const client = oss.client(BUCKET);
  // Two 64-byte parts, so that a 64-byte part 1 is exactly part-size (test/oss-cse-rules.test.ts has every rule).
  const meta = { ...CSE_META, 'client-side-encryption-data-size': '128', 'client-side-encryption-part-size': '64' };
  const init = await client.initMultipartUpload('mp/cse.bin', { meta } as never);
  const same = Object.fromEntries(Object.entries(meta).map(([k, v]) => [`x-oss-meta-${k}`, v]));
  const ok = await client.uploadPart('mp/cse.bin', init.uploadId, 1, Buffer.alloc(64, 1), 0, 64, { headers: same } as never);
  assert.is(ok.res.status, 200);
  const other = { ...same, 'x-oss-meta-client-side-encryption-start': 'b3RoZXItaXY=' };
  const err = await rejects(client.uploadPart('mp/cse.bin', init.uploadId, 2, Buffer.alloc(64, 1), 0, 64, { headers: other } as never));
  assert.is(err.status, 400);
  assert.is(err.code, 'InvalidArgument');
  assert.match(err.message, /client-side-encryption-start/);
  assert.is(err.ecCode, '0005-00000413');
  // xml2js (explicitArray: false) gives a lone part as an object, not a one-element array.
  const listed = await client.listParts('mp/cse.bin', init.uploadId, {} as never);
  assert.equal(([] as Record<string, string>[]).concat(listed.parts as never).map((p) => p.PartNumber), ['1']);
});

multipart('re-uploading a part number replaces it; part numbers outside 1..10000 are InvalidArgument', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const init = await client.initMultipartUpload('mp/replace.bin');
  await client.uploadPart('mp/replace.bin', init.uploadId, 1, Buffer.from('first'), 0, 5);
  const second = await client.uploadPart('mp/replace.bin', init.uploadId, 1, Buffer.from('second'), 0, 6);
  const upload = oss.uploads(BUCKET).find((u) => u.uploadId === init.uploadId);
  assert.is(upload?.parts.length, 1);
  assert.is(upload?.parts[0].etag, second.etag);
  assert.ok(upload?.parts[0].body?.equals(Buffer.from('second')));
  for (const n of [0, 10_001]) {
    const err = await rejects(client.uploadPart('mp/replace.bin', init.uploadId, n, Buffer.from('x'), 0, 1));
    assert.is(err.code, 'InvalidArgument', String(n));
  }
  await client.abortMultipartUpload('mp/replace.bin', init.uploadId);
});

multipart('listUploads shows uploads in progress; uploadPartCopy copies a byte range of an object', async ({ oss }) => {
  const client = oss.client('uploads-bucket');
  const a = await client.initMultipartUpload('u/a');
  const b = await client.initMultipartUpload('u/b');
  const listed = await client.listUploads({ prefix: 'u/' }, {});
  assert.equal(listed.uploads.map((u) => [u.name, u.uploadId]), [
    ['u/a', a.uploadId],
    ['u/b', b.uploadId],
  ]);
  const source = Buffer.from(pseudoRandomBytes(300_000, 34));
  await client.put('u/source.bin', source);
  const p1 = await client.uploadPartCopy('u/a', a.uploadId, 1, '0-102399', { sourceKey: 'u/source.bin', sourceBucketName: 'uploads-bucket' }, {});
  const p2 = await client.uploadPartCopy('u/a', a.uploadId, 2, '102400-149999', { sourceKey: 'u/source.bin', sourceBucketName: 'uploads-bucket' }, {});
  assert.is(p1.etag, md5Etag(source.subarray(0, 102_400)));
  await client.completeMultipartUpload('u/a', a.uploadId, [
    { number: 1, etag: p1.etag },
    { number: 2, etag: p2.etag },
  ]);
  assert.ok(oss.getObject('uploads-bucket', 'u/a')?.body?.equals(source.subarray(0, 150_000)));
  assert.equal((await client.listUploads({}, {})).uploads.map((u) => u.name), ['u/b']);
  assert.is(oss.log[oss.log.length - 1].kind, 'listUploads');
});

// ---------------------------------------------------------------------------------------------------------

const faults = suite<{ oss: OssServer }>('oss-server: fault injection seen by ali-oss');
faults.before(async (ctx) => {
  ctx.oss = await startOssServer({ minPartSize: 16 });
});
faults.after(async (ctx) => {
  await ctx.oss.close();
});
faults.before.each(({ oss }) => {
  oss.clearFaults();
});

faults('the Nth UploadPart fails with the given 5xx (err.status), the others succeed', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const handle = oss.inject({ kind: 'uploadPart', nth: 2, status: 503 });
  const init = await client.initMultipartUpload('f/parts.bin');
  const data = Buffer.from(pseudoRandomBytes(48, 41));
  const statuses: (number | string)[] = [];
  for (const n of [1, 2, 3]) {
    try {
      await client.uploadPart('f/parts.bin', init.uploadId, n, data, (n - 1) * 16, n * 16);
      statuses.push(200);
    } catch (err) {
      statuses.push((err as AnyError).status as number);
      assert.is((err as AnyError).code, 'ServiceUnavailable');
    }
  }
  assert.equal(statuses, [200, 503, 200]);
  assert.is(handle.hits, 1);
  assert.is(handle.seen, 3);
  assert.equal(oss.uploads(BUCKET).find((u) => u.uploadId === init.uploadId)?.parts.map((p) => p.partNumber), [1, 3]);
  const logged = oss.log.filter((e) => e.kind === 'uploadPart' && e.uploadId === init.uploadId);
  assert.equal(logged.map((e) => [e.partNumber, e.status, e.fault]), [
    [1, 200, undefined],
    [2, 503, 'status'],
    [3, 200, undefined],
  ]);
});

faults('status faults: custom code and message, key filter, times: Infinity, cancel()', async ({ oss }) => {
  const client = oss.client(BUCKET);
  await client.put('f/a', Buffer.from('a'));
  await client.put('f/b', Buffer.from('b'));
  const handle = oss.inject({ kind: '*', key: 'f/a', status: 500, code: 'InternalError', message: 'boom', times: Infinity });
  for (let i = 0; i < 2; i++) {
    const err = await rejects(client.get('f/a'));
    assert.is(err.status, 500);
    assert.is(err.code, 'InternalError');
    assert.is(err.message, 'boom');
  }
  assert.is((await client.get('f/b')).res.status, 200);
  const head = await rejects(client.head('f/a'));
  assert.is(head.status, 500);
  assert.is(head.code, 'InternalError');
  handle.cancel();
  assert.is((await client.get('f/a')).res.status, 200);
  assert.is(handle.hits, 3);
});

faults('HEAD 5xx reaches ali-oss through x-oss-err (code parsed from the header)', async ({ oss }) => {
  const client = oss.client(BUCKET);
  await client.put('f/head', Buffer.from('x'));
  oss.inject({ kind: 'head', status: 503, message: 'slow down' });
  const err = await rejects(client.head('f/head'));
  assert.is(err.status, 503);
  assert.is(err.code, 'ServiceUnavailable');
  assert.is(err.message, 'slow down');
});

faults('GET reset after K body bytes: getStream sees the connection die after exactly K bytes', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const body = Buffer.from(pseudoRandomBytes(200_000, 42));
  await client.put('f/get.bin', body);
  oss.inject({ kind: 'get', reset: { afterBytes: 1000 } });
  const { stream, res } = await client.getStream('f/get.bin');
  assert.is(res.status, 200);
  assert.is((res.headers as Record<string, string>)['content-length'], '200000');
  const received: Buffer[] = [];
  const err = await rejects(
    (async () => {
      for await (const chunk of stream as AsyncIterable<Buffer>) received.push(chunk);
    })(),
  );
  assert.match(`${err.code} ${err.message}`, /ECONNRESET|aborted/);
  assert.ok(Buffer.concat(received).equals(body.subarray(0, 1000)));
  const entry = oss.log[oss.log.length - 1];
  assert.equal([entry.kind, entry.status, entry.fault, entry.bytesOut], ['get', 0, 'reset', 1000]);
  // ali-oss's buffered get() also fails (it reports the cut body as unparsable error XML).
  oss.inject({ kind: 'get', reset: { afterBytes: 1000 } });
  await rejects(client.get('f/get.bin'));
  assert.ok(Buffer.from((await client.get('f/get.bin')).content).equals(body));
});

faults('upload reset while receiving: ali-oss gets a connection error (status -1), nothing is stored', async ({ oss }) => {
  const client = oss.client(BUCKET);
  oss.inject({ kind: 'put', reset: { afterBytes: 64 * 1024 } });
  const err = await rejects(client.put('f/put.bin', Buffer.alloc(1 << 20, 7)));
  assert.is(err.status, -1);
  assert.match(err.message, /ECONNRESET|EPIPE|socket hang up/);
  assert.is(oss.getObject(BUCKET, 'f/put.bin'), undefined);
  const entry = oss.log.filter((e) => e.key === 'f/put.bin')[0];
  assert.equal([entry.kind, entry.status, entry.fault], ['put', 0, 'reset']);
  assert.ok(entry.bytesIn >= 64 * 1024 && entry.bytesIn < 1 << 20, `bytesIn ${entry.bytesIn}`);
  const init = await client.initMultipartUpload('f/part-reset.bin');
  oss.inject({ kind: 'uploadPart', reset: true });
  const partErr = await rejects(client.uploadPart('f/part-reset.bin', init.uploadId, 1, Buffer.alloc(1000), 0, 1000));
  assert.is(partErr.status, -1);
  assert.equal(oss.uploads(BUCKET).find((u) => u.uploadId === init.uploadId)?.parts, []);
});

faults('afterApply: the complete takes effect but its response is lost; a repeat is NoSuchUpload', async ({ oss }) => {
  const client = oss.client(BUCKET);
  const init = await client.initMultipartUpload('f/applied.bin');
  const p1 = await client.uploadPart('f/applied.bin', init.uploadId, 1, Buffer.from('applied'), 0, 7);
  oss.inject({ kind: 'complete', reset: true, afterApply: true });
  const err = await rejects(client.completeMultipartUpload('f/applied.bin', init.uploadId, [{ number: 1, etag: p1.etag }]));
  assert.is(err.status, -1);
  assert.ok(oss.getObject(BUCKET, 'f/applied.bin')?.body?.equals(Buffer.from('applied')));
  const again = await rejects(client.completeMultipartUpload('f/applied.bin', init.uploadId, [{ number: 1, etag: p1.etag }]));
  assert.is(again.code, 'NoSuchUpload');
  oss.inject({ kind: 'put', status: 500, afterApply: true });
  const put = await rejects(client.put('f/applied-put.bin', Buffer.from('kept')));
  assert.is(put.status, 500);
  assert.ok(oss.getObject(BUCKET, 'f/applied-put.bin')?.body?.equals(Buffer.from('kept')));
});

faults('delay: the client waits (and times out when shorter); later requests are not delayed', async ({ oss }) => {
  const client = oss.client(BUCKET);
  await client.put('f/slow', Buffer.from('x'));
  oss.inject({ kind: 'head', delayMs: 300 });
  let t = performance.now();
  await client.head('f/slow');
  assert.ok(performance.now() - t >= 290, `delayed head took ${performance.now() - t} ms`);
  t = performance.now();
  await client.head('f/slow');
  assert.ok(performance.now() - t < 250, `undelayed head took ${performance.now() - t} ms`);
  oss.inject({ kind: 'get', delayMs: 400 });
  const err = await rejects(client.get('f/slow', { timeout: 100 }));
  assert.match(err.name, /Timeout/);
  assert.is(oss.log.filter((e) => e.key === 'f/slow').map((e) => e.fault).filter(Boolean).length, 2);
});

faults('fault specs are validated', ({ oss }) => {
  assert.throws(() => oss.inject({ kind: 'get' }), /does nothing/);
  assert.throws(() => oss.inject({ kind: 'get', nth: 0, status: 500 }), /"fault.nth" expected an integer >= 1, got 0/);
  assert.throws(() => oss.inject({ kind: 'get', status: 200 }), /"fault.status"/);
  assert.throws(() => oss.inject({ kind: 'get', reset: { afterBytes: -1 } }), /afterBytes/);
});

// ---------------------------------------------------------------------------------------------------------

const details = suite('oss-server: CORS, lean storage, child process');

details('CORS: preflight allows the methods and requested headers; responses expose ETag, CRC and metadata', async () => {
  const oss = await startOssServer();
  try {
    const pre = await raw(oss, {
      method: 'OPTIONS',
      path: `/${BUCKET}/k.bin`,
      bucketHost: null,
      headers: {
        origin: 'http://127.0.0.1:9',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,content-type,x-oss-date,x-oss-meta-client-side-encryption-key',
      },
    });
    assert.is(pre.status, 200);
    assert.is(pre.headers['access-control-allow-origin'], '*');
    assert.match(String(pre.headers['access-control-allow-methods']), /PUT/);
    assert.match(String(pre.headers['access-control-allow-headers']), /x-oss-meta-client-side-encryption-key/);
    assert.is(oss.log[0].kind, 'preflight');
    await oss.client(BUCKET).put('k.bin', Buffer.from('x'), { meta: { custom: 'y' } as never });
    const got = await raw(oss, { method: 'GET', path: '/k.bin', headers: { origin: 'http://127.0.0.1:9' } });
    assert.is(got.headers['access-control-allow-origin'], '*');
    const exposed = String(got.headers['access-control-expose-headers']).split(/,\s*/).map((h) => h.toLowerCase());
    for (const name of [
      'etag',
      'x-oss-request-id',
      'x-oss-hash-crc64ecma',
      'content-range',
      'content-length',
      'x-oss-meta-client-side-encryption-key',
      'x-oss-meta-client-side-encryption-start',
      'x-oss-meta-client-side-encryption-matdesc',
      'x-oss-meta-custom',
    ]) {
      assert.ok(exposed.includes(name), `${name} exposed`);
    }
    const error = await raw(oss, { method: 'GET', path: '/missing', headers: { origin: 'http://127.0.0.1:9' } });
    assert.is(error.headers['access-control-allow-origin'], '*');
  } finally {
    await oss.close();
  }
});

details("addressing: 'path' serves ali-oss with an IP endpoint and sldEnable (bucket in both Host and path)", async () => {
  const oss = await startOssServer({ addressing: 'path' });
  try {
    const client = oss.client(BUCKET, { sldEnable: true });
    await client.put('k/ey.bin', Buffer.from('path style'));
    const entry = oss.log[oss.log.length - 1];
    assert.is(entry.headers.host, `${BUCKET}.oss-cn-hangzhou.aliyuncs.com`);
    assert.equal([entry.bucket, entry.key], [BUCKET, 'k/ey.bin']);
    assert.equal(oss.listKeys(BUCKET), ['k/ey.bin']);
    assert.is(Buffer.from((await client.get('k/ey.bin')).content).toString(), 'path style');
  } finally {
    await oss.close();
  }
});

details('storeBodies: false keeps length, ETag and CRC (also combined for multipart) but no bytes', async () => {
  const oss = await startOssServer({ storeBodies: false, minPartSize: 16 });
  try {
    const client = oss.client(BUCKET);
    const body = Buffer.from(pseudoRandomBytes(300_000, 51));
    const put = await client.put('lean.bin', body);
    assert.is((put.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(body));
    const stored = oss.getObject(BUCKET, 'lean.bin');
    assert.is(stored?.body, undefined);
    assert.is(stored?.size, body.length);
    assert.is(stored?.etag, md5Etag(body));
    const get = await rejects(client.get('lean.bin'));
    assert.is(get.code, 'NotImplemented');
    assert.is((await client.head('lean.bin')).res.headers['content-length' as never], '300000');
    const init = await client.initMultipartUpload('lean-mp.bin');
    const parts = [body.subarray(0, 100_000), body.subarray(100_000, 200_000), body.subarray(200_000)];
    const etags = [];
    for (const [i, p] of parts.entries()) etags.push((await client.uploadPart('lean-mp.bin', init.uploadId, i + 1, p, 0, p.length)).etag);
    const done = await client.completeMultipartUpload('lean-mp.bin', init.uploadId, etags.map((etag, i) => ({ number: i + 1, etag })));
    assert.is((done.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'], crcText(body));
    assert.is(done.etag, multipartEtag(parts));
    const uploaded = oss.log.filter((e) => e.kind === 'put' || e.kind === 'uploadPart').reduce((n, e) => n + e.bytesIn, 0);
    assert.is(uploaded, 2 * body.length);
    assert.ok(oss.stats.bytesIn > uploaded, 'stats count the Complete XML too');
  } finally {
    await oss.close();
  }
});

details('runs as a child process: prints the endpoint as one JSON line, serves ali-oss, stops on SIGTERM', async () => {
  const script = fileURLToPath(new URL('./support/oss-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0', '--min-part-size', '16', '--credential', 'child-id:child-secret'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
      setTimeout(() => reject(new Error('no endpoint line within 15 s')), 15_000).unref();
    });
    const info = JSON.parse(line) as { endpoint: string; port: number; region: string; pid: number };
    assert.match(info.endpoint, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    assert.is(info.endpoint, `http://127.0.0.1:${info.port}`);
    assert.is(info.region, 'oss-cn-hangzhou');
    assert.is(info.pid, child.pid);
    const OSS = (await import('ali-oss')).default;
    const client = new OSS({ region: info.region, bucket: 'child', accessKeyId: 'child-id', accessKeySecret: 'child-secret', endpoint: info.endpoint });
    await client.put('x.bin', Buffer.from('from the child'));
    assert.is(Buffer.from((await client.get('x.bin')).content).toString(), 'from the child');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid as number, 'SIGTERM');
    assert.is(await exited, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }
});

objects.run();
multipart.run();
faults.run();
details.run();

// ---------------------------------------------------------------------------------------------------------
// Signatures (test/support/oss-auth.ts): what OSS refuses, the stand-in refuses.

const STS = { accessKeyId: 'STS.test-temporary-id', accessKeySecret: 'sts-temporary-secret', securityToken: 'CAIS-test-security-token+/=' };
const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivatePem = rsaPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const BACKENDS: { name: string; backend: CtrBackend | undefined }[] = [
  { name: 'wasm', backend: wasmBackend() },
  { name: 'native', backend: nativeBackend },
];
/** Keys that need every kind of escaping: spaces, unicode, `+`, `%`, `?`, `#`, `&`, `=`, and `/` segments (some empty). */
const AWKWARD_KEYS = ['dir a/b c+d%20e?f#g&h=i.bin', 'ünïcödé/日本語/€ 1.txt', 'x//y/z~!*\'()..', 'plain-last-segment/', '%2F%zz%'];

const auth = suite<{ oss: OssServer }>('oss-server: request signatures (V1, V4, signed URLs, STS)');
auth.before(async (ctx) => {
  ctx.oss = await startOssServer({ credentials: [STS] });
});
auth.after(async (ctx) => {
  await ctx.oss.close();
});

auth('a wrong secret is SignatureDoesNotMatch (403) through ali-oss, V1 and V4, GET and HEAD; nothing is stored', async ({ oss }) => {
  for (const authorizationV4 of [false, true]) {
    const bad = oss.client(BUCKET, { accessKeySecret: 'not-the-secret', authorizationV4 });
    const put = await rejects(bad.put(`wrong-secret-${authorizationV4}.bin`, Buffer.from('x')));
    assert.equal([put.code, put.status], ['SignatureDoesNotMatch', 403], `put, V4=${authorizationV4}`);
    assert.is(oss.getObject(BUCKET, `wrong-secret-${authorizationV4}.bin`), undefined);
    // HEAD has no body: the code travels base64 in x-oss-err, and ali-oss still surfaces it.
    const head = await rejects(bad.head('anything.bin'));
    assert.equal([head.code, head.status], ['SignatureDoesNotMatch', 403], `head, V4=${authorizationV4}`);
    const entry = oss.log[oss.log.length - 1];
    assert.equal([entry.kind, entry.status, entry.errorCode], ['head', 403, 'SignatureDoesNotMatch']);
  }
});

auth('an unknown access key is InvalidAccessKeyId (403), V1 and V4', async ({ oss }) => {
  for (const authorizationV4 of [false, true]) {
    const stranger = oss.client(BUCKET, { accessKeyId: 'LTAI-nobody', authorizationV4 });
    const err = await rejects(stranger.get('x.bin'));
    assert.equal([err.code, err.status], ['InvalidAccessKeyId', 403], `V4=${authorizationV4}`);
  }
});

auth('SignatureDoesNotMatch echoes the StringToSign OSS computed; it is VERB, MD5, type, date, x-oss-* sorted, resource', async ({ oss }) => {
  const date = new Date().toUTCString();
  const headers = { date, 'content-type': 'text/plain', 'x-oss-meta-b': ' two ', 'X-OSS-Meta-A': 'one' };
  const res = await raw(oss, {
    method: 'PUT',
    path: `/echo/${encodeURIComponent('k y+ü.txt')}?acl&prefix=p`,
    headers: { ...headers, 'content-length': '1' },
    body: 'x',
    sign: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: 'wrong' },
  });
  assert.is(res.status, 403);
  const xml = res.body.toString('utf8');
  assert.is(xmlField(xml, 'Code'), 'SignatureDoesNotMatch');
  // Built here by hand: names lower-cased and sorted, values trimmed; `acl` is a sub-resource, `prefix` is not.
  const expected = `PUT\n\ntext/plain\n${date}\nx-oss-meta-a:one\nx-oss-meta-b:two\n/${BUCKET}/echo/k y+ü.txt?acl`;
  assert.is(xmlField(xml, 'StringToSign'), expected);
  assert.is(xmlField(xml, 'OSSAccessKeyId'), TEST_ACCESS_KEY_ID);
  // The same request signed with the right secret over that string is accepted... as an unsupported ?acl.
  const good = createHmac('sha1', TEST_ACCESS_KEY_SECRET).update(expected, 'utf8').digest('base64');
  const ok = await raw(oss, {
    method: 'PUT',
    path: `/echo/${encodeURIComponent('k y+ü.txt')}?acl&prefix=p`,
    headers: { ...headers, 'content-length': '1', authorization: `OSS ${TEST_ACCESS_KEY_ID}:${good}` },
    body: 'x',
    sign: false,
  });
  assert.is(ok.status, 501, 'past authentication: PutObjectAcl is not implemented');
});

auth('a header changed, added or dropped after signing is refused; the untouched request passes', async ({ oss }) => {
  const date = new Date().toUTCString();
  const signed = { date, 'content-type': 'application/octet-stream', 'x-oss-meta-label': 'AAAA' };
  const authorization = signV1(
    { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
    { method: 'PUT', bucket: BUCKET, key: 'tamper.bin', headers: signed },
  );
  const send = (headers: Record<string, string>) =>
    raw(oss, { method: 'PUT', path: '/tamper.bin', headers: { ...headers, authorization, 'content-length': '3' }, body: 'abc', sign: false });
  const variants: [string, Record<string, string>][] = [
    ['x-oss-meta value changed', { ...signed, 'x-oss-meta-label': 'AAAB' }],
    ['x-oss-meta header added', { ...signed, 'x-oss-meta-extra': '1' }],
    ['Content-Type changed', { ...signed, 'content-type': 'text/plain' }],
    ['Content-MD5 added', { ...signed, 'content-md5': createHash('md5').update('abc').digest('base64') }],
    ['Date changed', { ...signed, date: new Date(Date.parse(date) + 1000).toUTCString() }],
    ['x-oss-date added (it replaces Date in the string to sign)', { ...signed, 'x-oss-date': new Date(Date.parse(date) + 1000).toUTCString() }],
  ];
  for (const [what, headers] of variants) {
    const res = await send(headers);
    assert.is(res.status, 403, what);
    assert.is(xmlField(res.body.toString(), 'Code'), 'SignatureDoesNotMatch', what);
  }
  assert.is(oss.getObject(BUCKET, 'tamper.bin'), undefined);
  // Headers OSS does not sign (User-Agent, Range...) may change freely.
  assert.is((await send({ ...signed, 'user-agent': 'changed' })).status, 200);
  assert.ok(oss.getObject(BUCKET, 'tamper.bin')?.body?.equals(Buffer.from('abc')));
});

auth('the signed key is the decoded path: a key signed as one name but sent as another is refused', async ({ oss }) => {
  const date = new Date().toUTCString();
  const authorization = signV1({ accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET }, { method: 'GET', bucket: BUCKET, key: 'a+b', headers: { date } });
  // '+' on the wire is '+' in the key (ali-oss sends %2B); a client that sent a space instead would be refused.
  const asSpace = await raw(oss, { method: 'GET', path: '/a%20b', headers: { date, authorization }, sign: false });
  assert.equal([asSpace.status, xmlField(asSpace.body.toString(), 'Code')], [403, 'SignatureDoesNotMatch']);
  const asPlus = await raw(oss, { method: 'GET', path: '/a%2Bb', headers: { date, authorization }, sign: false });
  assert.equal([asPlus.status, xmlField(asPlus.body.toString(), 'Code')], [404, 'NoSuchKey'], 'authenticated, then NoSuchKey');
});

auth('no signature is AccessDenied unless the server is anonymous; OPTIONS preflights never need one', async ({ oss }) => {
  const unsigned = await raw(oss, { method: 'GET', path: '/x.bin', sign: false });
  assert.equal([unsigned.status, xmlField(unsigned.body.toString(), 'Code')], [403, 'AccessDenied']);
  const open = await startOssServer({ anonymous: true });
  try {
    open.putObjectRaw(BUCKET, 'public.txt', Buffer.from('hello'));
    const anon = await raw(open, { method: 'GET', path: '/public.txt', sign: false });
    assert.equal([anon.status, anon.body.toString()], [200, 'hello']);
    // Anonymous access does not excuse a bad signature.
    const bad = await raw(open, { method: 'GET', path: '/public.txt', sign: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: 'wrong' } });
    assert.is(bad.status, 403);
  } finally {
    await open.close();
  }
  const pre = await raw(oss, {
    method: 'OPTIONS',
    path: '/x.bin',
    headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'PUT' },
    sign: false,
  });
  assert.is(pre.status, 200);
});

auth('a Date more than 15 minutes off is RequestTimeTooSkewed, even correctly signed', async ({ oss }) => {
  const res = await raw(oss, { method: 'GET', path: '/x.bin', headers: { date: new Date(Date.now() - 16 * 60_000).toUTCString() } });
  assert.equal([res.status, xmlField(res.body.toString(), 'Code')], [403, 'RequestTimeTooSkewed']);
  const near = await raw(oss, { method: 'GET', path: '/x.bin', headers: { date: new Date(Date.now() - 14 * 60_000).toUTCString() } });
  assert.is(xmlField(near.body.toString(), 'Code'), 'NoSuchKey');
});

auth('V1 signed URLs: valid works; a wrong Signature is SignatureDoesNotMatch; a past Expires is "Request has expired."', async ({ oss }) => {
  const client = oss.client(BUCKET, { endpoint: `http://localhost:${oss.port}`, sldEnable: true });
  const key = AWKWARD_KEYS[0];
  await client.put(key, Buffer.from('signed url body'));
  const url = client.signatureUrl(key, { expires: 60, response: { 'content-type': 'text/x-test' } });
  const ok = await fetch(url);
  assert.equal([ok.status, await ok.text(), ok.headers.get('content-type')], [200, 'signed url body', 'text/x-test']);

  const forged = new URL(url);
  forged.searchParams.set('Signature', createHmac('sha1', 'wrong').update('x').digest('base64'));
  const bad = await fetch(forged);
  assert.is(bad.status, 403);
  assert.is(xmlField(await bad.text(), 'Code'), 'SignatureDoesNotMatch');

  // A signed override cannot be changed: response-* parameters are sub-resources.
  const swapped = new URL(url);
  swapped.searchParams.set('response-content-type', 'text/html');
  assert.is((await fetch(swapped)).status, 403);

  const expired = await fetch(client.signatureUrl(key, { expires: -5 }));
  assert.is(expired.status, 403);
  const xml = await expired.text();
  assert.equal([xmlField(xml, 'Code'), xmlField(xml, 'Message')], ['AccessDenied', 'Request has expired.']);
  assert.ok(xmlField(xml, 'Expires') && xmlField(xml, 'ServerTime'));
});

auth('V4 (authorizationV4: true): put, head, get, list, multipart and delete work; signed V4 URLs verify and expire', async ({ oss }) => {
  const client = oss.client(BUCKET, { authorizationV4: true });
  await client.put('v4/a b+c.bin', Buffer.from('v4 body'), { meta: { note: 'x' } as never });
  const entry = oss.log[oss.log.length - 1];
  assert.match(entry.headers.authorization, /^OSS4-HMAC-SHA256 Credential=test-access-key-id\/[0-9]{8}\/cn-hangzhou\/oss\/aliyun_v4_request,Signature=[0-9a-f]{64}$/);
  assert.is((await client.head('v4/a b+c.bin')).meta.note, 'x');
  assert.is(Buffer.from((await client.get('v4/a b+c.bin')).content).toString(), 'v4 body');
  const listed = await client.listV2({ prefix: 'v4/', 'max-keys': '10' }, {});
  assert.equal(listed.objects.map((o) => o.name), ['v4/a b+c.bin']);
  const { uploadId } = await client.initMultipartUpload('v4/mp.bin');
  const part = await client.uploadPart('v4/mp.bin', uploadId, 1, Buffer.from('only part'), 0, 9);
  await client.completeMultipartUpload('v4/mp.bin', uploadId, [{ number: 1, etag: part.etag }]);
  assert.is(oss.getObject(BUCKET, 'v4/mp.bin')?.body?.toString(), 'only part');
  await client.delete('v4/mp.bin');
  assert.is(oss.getObject(BUCKET, 'v4/mp.bin'), undefined);

  const pathClient = oss.client(BUCKET, { endpoint: `http://localhost:${oss.port}`, sldEnable: true, authorizationV4: true });
  const url = await pathClient.signatureUrlV4('GET', 60, { headers: {}, queries: { 'response-content-type': 'text/x-v4' } }, 'v4/a b+c.bin');
  const ok = await fetch(url);
  assert.equal([ok.status, await ok.text()], [200, 'v4 body']);
  const forged = new URL(url);
  forged.searchParams.set('response-content-type', 'text/html');
  const bad = await fetch(forged);
  assert.is(bad.status, 403);
  const xml = await bad.text();
  assert.is(xmlField(xml, 'Code'), 'SignatureDoesNotMatch');
  assert.match(xmlField(xml, 'CanonicalRequest') ?? '', /^GET\n\/test-bucket\/v4\/a%20b%2Bc\.bin\n/);
  // An expired V4 URL: x-oss-date a minute back with a 1-second lifetime. Not re-signed: the stand-in checks the
  // lifetime before the signature (V1 and V4 alike), so an expired link is reported as expired either way.
  const stale = new URL(url);
  const staleDate = new Date(Date.now() - 60_000).toISOString().replace(/[-:]|\.[0-9]{3}/g, '');
  stale.searchParams.set('x-oss-date', staleDate);
  stale.searchParams.set('x-oss-expires', '1');
  stale.searchParams.set('x-oss-credential', `${TEST_ACCESS_KEY_ID}/${staleDate.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request`);
  const expired = await fetch(stale);
  assert.is(expired.status, 403);
  assert.is(xmlField(await expired.text(), 'Message'), 'Request has expired.');
});

auth('STS: the right token is accepted (V1, V4, signed URL); a wrong one is InvalidSecurityToken; none, or a token on a permanent key, is InvalidAccessKeyId', async ({ oss }) => {
  for (const authorizationV4 of [false, true]) {
    const sts = oss.client(BUCKET, { ...STS, stsToken: STS.securityToken, authorizationV4 });
    await sts.put(`sts-${authorizationV4}.bin`, Buffer.from('sts'));
    assert.is(oss.log[oss.log.length - 1].headers['x-oss-security-token'], STS.securityToken);
    assert.is(Buffer.from((await sts.get(`sts-${authorizationV4}.bin`)).content).toString(), 'sts');

    const wrong = oss.client(BUCKET, { ...STS, stsToken: 'CAIS-some-other-token', authorizationV4 });
    assert.equal(pick(await rejects(wrong.get(`sts-${authorizationV4}.bin`))), ['InvalidSecurityToken', 403], `V4=${authorizationV4}`);
    const none = oss.client(BUCKET, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, authorizationV4 });
    assert.equal(pick(await rejects(none.get(`sts-${authorizationV4}.bin`))), ['InvalidAccessKeyId', 403], `V4=${authorizationV4}`);
    const permanent = oss.client(BUCKET, { stsToken: STS.securityToken, authorizationV4 });
    assert.equal(pick(await rejects(permanent.get(`sts-${authorizationV4}.bin`))), ['InvalidAccessKeyId', 403], `V4=${authorizationV4}`);
  }
  const pathSts = oss.client(BUCKET, { ...STS, stsToken: STS.securityToken, endpoint: `http://localhost:${oss.port}`, sldEnable: true });
  const url = pathSts.signatureUrl('sts-false.bin', { expires: 60 });
  assert.match(url, /security-token=/);
  assert.is((await fetch(url)).status, 200);
  const swapped = new URL(url);
  swapped.searchParams.set('security-token', 'CAIS-some-other-token');
  assert.is((await fetch(swapped)).status, 403);
});

function pick(err: AnyError): [string | undefined, number | undefined] {
  return [err.code, err.status];
}

for (const { name, backend } of BACKENDS) {
  auth(`CryptoClient (${name}) with verification on: awkward keys round-trip over V1 and V4, virtual host and path style`, async ({ oss }) => {
    const variants: [string, Partial<Parameters<OssServer['client']>[1]>][] = [
      ['V1 virtual host', {}],
      ['V1 path style', { endpoint: `http://localhost:${oss.port}`, sldEnable: true }],
      ['V4 virtual host', { authorizationV4: true }],
    ];
    for (const [label, extra] of variants) {
      const crypto = new CryptoClient(oss.client(BUCKET, extra) as any, { material: rsaKeyWrapper({ privateKey: rsaPrivatePem }), backend });
      for (const key of AWKWARD_KEYS) {
        const body = Buffer.from(pseudoRandomBytes(1000 + key.length, key.length));
        await crypto.put(key, body);
        const stored = oss.getObject(BUCKET, key);
        assert.ok(stored, `${label}: stored under the exact key ${key}`);
        assert.not.ok(stored.body?.equals(body), `${label}: stored encrypted`);
        assert.ok((await crypto.get(key)).content?.equals(body), `${label}: ${key}`);
        const ranged = await crypto.get(key, { headers: { Range: 'bytes=17-40' } });
        assert.ok(ranged.content?.equals(body.subarray(17, 41)), `${label}: range of ${key}`);
        assert.is((await crypto.head(key)).status, 200);
        await crypto.delete(key);
        assert.is(oss.getObject(BUCKET, key), undefined, `${label}: deleted ${key}`);
      }
    }
  });
}

auth('a key with a "." or ".." path segment: ali-oss signs it but sends the normalised path; refused as on OSS, never stored under the other key', async ({ oss }) => {
  for (const [key, sentAs] of [['x/./y', 'x/y'], ['a/../b', 'b']]) {
    for (const authorizationV4 of [false, true]) {
      const crypto = new CryptoClient(oss.client(BUCKET, { authorizationV4 }) as any, { material: rsaKeyWrapper({ privateKey: rsaPrivatePem }), backend: nativeBackend });
      const err = await rejects(crypto.put(key, Buffer.from('dot segments')));
      assert.equal([err.code, err.status], ['SignatureDoesNotMatch', 403], `${key}, V4=${authorizationV4}`);
      const entry = oss.log[oss.log.length - 1];
      assert.is(entry.key, sentAs, 'the URL layer removed the dot segment after signing');
      assert.is(oss.getObject(BUCKET, sentAs), undefined);
      assert.is(oss.getObject(BUCKET, key), undefined);
    }
  }
});

auth('CryptoClient.put with a non-ASCII matdesc (V1 and V4): the signed metadata is what goes on the wire, and get reads it back', async ({ oss }) => {
  const matdesc = { owner: 'Zoë Ångström', team: '数据平台', note: 'a "quoted" value; ≠ ascii' };
  for (const authorizationV4 of [false, true]) {
    const material = rsaKeyWrapper({ privateKey: rsaPrivatePem, matdesc });
    const crypto = new CryptoClient(oss.client(BUCKET, { authorizationV4 }) as any, { material, backend: nativeBackend });
    const key = `matdesc/${authorizationV4 ? 'v4' : 'v1'} ü.bin`;
    const body = Buffer.from('matdesc body');
    await crypto.put(key, body, { meta: { plain: 'value' } as never });
    const sent = oss.log.filter((e) => e.kind === 'put').at(-1);
    const wire = sent?.headers['x-oss-meta-client-side-encryption-matdesc'] ?? '';
    assert.ok(/^[\x20-\x7e]+$/.test(wire), `matdesc on the wire is printable ASCII: ${wire}`);
    assert.equal(JSON.parse(wire), matdesc);
    assert.ok((await crypto.get(key)).content?.equals(body));
  }
});
auth.run();
