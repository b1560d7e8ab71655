/**
 * Tests of bindings/envelope/ (headers.ts, base64.ts, codec.ts, describe.ts): docs/FORMAT.md §2, §2.3, §3.
 *
 * Oracles: the literal header names and algorithm strings of docs/FORMAT.md, Node's own base64 (`Buffer`), the
 * headers of the 30 interop vectors written by the official SDKs (manifest.json), and fast-check properties
 * (decode ∘ encode = identity; decoding ignores name case).
 * @module
 */
import { readFileSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { base64Problem, decodeBase64, encodeBase64 } from '../bindings/util/base64.js';
import {
  canonicalMatdesc,
  decodeEnvelope,
  encodeEnvelope,
  headersFromMeta,
  matdescEquals,
  metaFromEnvelope,
  type Envelope,
} from '../bindings/envelope/codec.js';
import { describeEnvelope } from '../bindings/envelope/describe.js';
import { CEK_ALG, ENVELOPE_HEADERS, metaKey, WRAP_ALG } from '../bindings/envelope/headers.js';
import { MetadataError } from '../bindings/errors.js';
import { fixturePath, throwsCode } from './_util.js';

interface Vector {
  name: string;
  format: 'v1' | 'v2';
  wrap_alg: string;
  headers: Record<string, string>;
  multipart?: { part_size: number; data_size: number };
}
const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as { vectors: Vector[] };

const K = 'x-oss-meta-client-side-encryption-key';
const S = 'x-oss-meta-client-side-encryption-start';
const CEK = 'x-oss-meta-client-side-encryption-cek-alg';
const WRAP = 'x-oss-meta-client-side-encryption-wrap-alg';
const MATDESC = 'x-oss-meta-client-side-encryption-matdesc';
const DATA = 'x-oss-meta-client-side-encryption-data-size';
const PART = 'x-oss-meta-client-side-encryption-part-size';
const LEN = 'x-oss-meta-client-side-encryption-unencrypted-content-length';
const MD5 = 'x-oss-meta-client-side-encryption-unencrypted-content-md5';
const B64_KEY = Buffer.alloc(256, 7).toString('base64');
const B64_START = Buffer.alloc(256, 9).toString('base64');

/** A minimal valid V2 header set, optionally changed. */
function v2(changes: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    [K]: B64_KEY,
    [S]: B64_START,
    [CEK]: 'AES/CTR/NoPadding',
    [WRAP]: 'RSA/NONE/PKCS1Padding',
    ...changes,
  };
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function v1(changes: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string | undefined> = {
    'x-oss-meta-oss-crypto-key': B64_KEY,
    'x-oss-meta-oss-crypto-start': B64_START,
    'x-oss-meta-oss-cek-alg': 'AES/GCM/NoPadding',
    'x-oss-meta-oss-wrap-alg': 'rsa',
    ...changes,
  };
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

const throwsMeta = (fn: () => unknown, code: string, pattern?: RegExp) => throwsCode(fn, MetadataError, code, pattern);

// ---------------------------------------------------------------------------------------------------------------
const table = suite('envelope headers table');

table('V2 and V1 names and algorithm strings are those of docs/FORMAT.md §2 and §3', () => {
  assert.equal(ENVELOPE_HEADERS.v2, {
    key: K,
    start: S,
    cekAlg: CEK,
    wrapAlg: WRAP,
    matdesc: MATDESC,
    unencryptedContentLength: LEN,
    unencryptedContentMd5: MD5,
    dataSize: DATA,
    partSize: PART,
  });
  assert.equal(ENVELOPE_HEADERS.v1, {
    key: 'x-oss-meta-oss-crypto-key',
    start: 'x-oss-meta-oss-crypto-start',
    cekAlg: 'x-oss-meta-oss-cek-alg',
    wrapAlg: 'x-oss-meta-oss-wrap-alg',
    unencryptedContentLength: 'x-oss-meta-unencrypted-content-length',
    unencryptedContentMd5: 'x-oss-meta-unencrypted-content-md5',
  });
  assert.is(CEK_ALG.ctr, 'AES/CTR/NoPadding');
  assert.is(WRAP_ALG.rsaPkcs1, 'RSA/NONE/PKCS1Padding');
  assert.is(WRAP_ALG.rsaOaep, 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding');
  assert.is(WRAP_ALG.kms, 'KMS/ALICLOUD');
});

table('metaKey strips the x-oss-meta- prefix ali-oss adds itself, and refuses other names', () => {
  assert.is(metaKey(K), 'client-side-encryption-key');
  assert.is(metaKey('X-OSS-META-Oss-Crypto-Key'), 'oss-crypto-key');
  assert.throws(() => metaKey('content-type'), (e: Error) => e instanceof RangeError && /x-oss-meta-/.test(e.message));
});

// ---------------------------------------------------------------------------------------------------------------
const b64 = suite('strict base64');

b64('encode and decode agree with Buffer for every length 0..200 and random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const text = encodeBase64(bytes);
      assert.is(text, Buffer.from(bytes).toString('base64'));
      assert.equal(decodeBase64(text), new Uint8Array(bytes));
    }),
    { numRuns: 300 },
  );
});

b64('rejects newlines, spaces, missing or extra padding, URL-safe and non-alphabet characters, non-canonical bits', () => {
  const good = Buffer.from('any carnal pleas').toString('base64'); // 'YW55IGNhcm5hbCBwbGVhcw=='
  assert.is(base64Problem(good), undefined);
  const bad: Array<[string, RegExp]> = [
    [good.slice(0, 12) + '\n' + good.slice(12), /"\\n"/],
    [good.slice(0, 12) + '\r\n' + good.slice(12, -2), /"\\r"/],
    [' ' + good.slice(0, -1), /space/],
    [good.slice(0, -2), /multiple of 4/], // padding dropped
    [good + '==', /padding inside|not in the standard/],
    ['YW55-_-_', /"-"/], // URL-safe alphabet
    ['YW5*', /"\*"/],
    ['YQ=A', /padding inside/],
    ['YR==', /non-zero bits/], // 'a' is YQ==; YR== decodes to the same byte under a lax decoder
    ['YWF=', /non-zero bits/], // 'aa' is YWE=
    ['Ã©Ã©', /not in the standard/],
  ];
  for (const [text, reason] of bad) {
    const problem = base64Problem(text);
    assert.ok(problem !== undefined, `accepted ${JSON.stringify(text)}`);
    assert.match(problem!, reason);
    assert.is(decodeBase64(text), undefined);
  }
});

// ---------------------------------------------------------------------------------------------------------------
const fixtures = suite('decodeEnvelope on the SDK-written interop vectors');

fixtures('every one of the 30 vectors decodes to its format, wrap-alg and CTR', () => {
  assert.is(manifest.vectors.length, 30);
  for (const v of manifest.vectors) {
    const env = decodeEnvelope(v.headers)!;
    assert.ok(env, v.name);
    assert.is(env.format, v.format, v.name);
    assert.is(env.wrapped.format, v.format, v.name);
    assert.is(env.cekAlg, 'AES/CTR/NoPadding', v.name);
    assert.is(env.wrapped.wrapAlg, v.wrap_alg, v.name);
    const prefix = v.format === 'v1' ? 'x-oss-meta-oss-crypto-' : 'x-oss-meta-client-side-encryption-';
    assert.is(env.wrapped.wrappedKey, v.headers[prefix + 'key'], v.name);
    assert.is(env.wrapped.wrappedStart, v.headers[prefix + 'start'], v.name);
    assert.is(env.dataSize, v.multipart?.data_size, v.name);
    assert.is(env.partSize, v.multipart?.part_size, v.name);
  }
});

fixtures('matdesc is parsed whatever the writer spacing (oss2 json.dumps with \\u escapes, C++ compact)', () => {
  const byName = (n: string) => manifest.vectors.find((v) => v.name === n)!;
  const oss2 = decodeEnvelope(byName('v2-rsa-pkcs1-put-matdesc-4097').headers)!;
  assert.equal(oss2.wrapped.matdesc, { desc: 'golden fixture', owner: 'Köln' });
  const cpp = decodeEnvelope(byName('cpp-rsa-pkcs1-put-matdesc-2048').headers)!;
  assert.equal(cpp.wrapped.matdesc, { owner: 'cpp-fixture', purpose: 'interop' });
  assert.equal(decodeEnvelope(byName('v2-rsa-pkcs1-put-0').headers)!.wrapped.matdesc, {});
});

fixtures('unencrypted length and MD5: V2 with the infix, V1 without it', () => {
  const byName = (n: string) => manifest.vectors.find((v) => v.name === n)!;
  const two = decodeEnvelope(byName('v2-rsa-pkcs1-put-content-md5-5000').headers)!;
  assert.is(two.unencryptedContentLength, 5000);
  assert.is(two.unencryptedContentMd5, 'Df0nZyaiI3ExNGNg03wAHQ==');
  const one = decodeEnvelope(byName('v1-rsa-oaep-put-content-md5-3000').headers)!;
  assert.is(one.unencryptedContentLength, 3000);
  assert.is(one.unencryptedContentMd5, 'LhI2wxPR8c7p+sI31023Tg==');
  // Those V1 names are plain user metadata on a V2 object: not read there.
  const mixed = decodeEnvelope({ ...v2(), 'x-oss-meta-unencrypted-content-length': '12' })!;
  assert.is(mixed.unencryptedContentLength, undefined);
});

// ---------------------------------------------------------------------------------------------------------------
const detect = suite('decodeEnvelope detection');

detect('null for a plain object: no key/start/cek-alg/wrap-alg of either generation', () => {
  assert.is(decodeEnvelope({}), null);
  assert.is(decodeEnvelope({ 'content-type': 'text/plain', 'x-oss-meta-app': 'x', etag: '"abc"' }), null);
  // data-size / matdesc alone do not make an object encrypted (docs/FORMAT.md §2 detection).
  assert.is(decodeEnvelope({ [MATDESC]: '{"a":"b"}', [DATA]: '5' }), null);
});

detect('header names match in any case; values may be arrays of equal strings; Headers and Map work', () => {
  const upper = Object.fromEntries(Object.entries(v2()).map(([k, v]) => [k.toUpperCase(), v]));
  assert.equal(decodeEnvelope(upper), decodeEnvelope(v2()));
  const arrays = Object.fromEntries(Object.entries(v2()).map(([k, v]) => [k, [v, v]]));
  assert.equal(decodeEnvelope(arrays), decodeEnvelope(v2()));
  assert.equal(decodeEnvelope(new Headers(v2())), decodeEnvelope(v2()));
  assert.equal(decodeEnvelope(new Map(Object.entries(v2()))), decodeEnvelope(v2()));
});

detect('V1 wins when x-oss-meta-oss-crypto-key is present, even beside V2 headers', () => {
  const env = decodeEnvelope({ ...v2({ [WRAP]: 'KMS/ALICLOUD' }), ...v1() })!;
  assert.is(env.format, 'v1');
  assert.is(env.wrapped.wrapAlg, 'rsa');
  assert.is(env.wrapped.wrappedKey, B64_KEY);
});

detect('V1: AES/GCM/NoPadding means CTR; wrap-alg missing or not "kms" means RSA-OAEP ("rsa")', () => {
  assert.is(decodeEnvelope(v1())!.cekAlg, 'AES/CTR/NoPadding');
  assert.is(decodeEnvelope(v1({ 'x-oss-meta-oss-wrap-alg': undefined }))!.wrapped.wrapAlg, 'rsa');
  assert.is(decodeEnvelope(v1({ 'x-oss-meta-oss-wrap-alg': 'something' }))!.wrapped.wrapAlg, 'rsa');
  assert.is(decodeEnvelope(v1({ 'x-oss-meta-oss-wrap-alg': 'kms' }))!.wrapped.wrapAlg, 'kms');
  assert.equal(decodeEnvelope(v1())!.wrapped.matdesc, {});
});

detect('an empty matdesc header means no matdesc', () => {
  assert.equal(decodeEnvelope(v2({ [MATDESC]: '' }))!.wrapped.matdesc, {});
});

// ---------------------------------------------------------------------------------------------------------------
const errors = suite('decodeEnvelope errors (stable codes)');

errors('META_MISSING: key without start, start without key, V2 without cek-alg or wrap-alg, V1 start alone', () => {
  throwsMeta(() => decodeEnvelope(v2({ [S]: undefined })), 'META_MISSING', /client-side-encryption-start is missing/);
  throwsMeta(() => decodeEnvelope(v2({ [K]: undefined })), 'META_MISSING', /client-side-encryption-key is missing/);
  throwsMeta(() => decodeEnvelope(v2({ [CEK]: undefined })), 'META_MISSING', /cek-alg is missing/);
  throwsMeta(() => decodeEnvelope(v2({ [WRAP]: undefined })), 'META_MISSING', /wrap-alg is missing/);
  throwsMeta(() => decodeEnvelope({ [CEK]: 'AES/CTR/NoPadding' }), 'META_MISSING', /-key is missing/);
  throwsMeta(() => decodeEnvelope(v1({ 'x-oss-meta-oss-crypto-key': undefined })), 'META_MISSING', /oss-crypto-key is missing/);
  throwsMeta(() => decodeEnvelope(v1({ 'x-oss-meta-oss-crypto-start': undefined })), 'META_MISSING', /oss-crypto-start is missing/);
});

errors('META_MISSING: data-size without part-size and part-size without data-size', () => {
  throwsMeta(() => decodeEnvelope(v2({ [DATA]: '100' })), 'META_MISSING', /part-size is missing/);
  throwsMeta(() => decodeEnvelope(v2({ [PART]: '102400' })), 'META_MISSING', /data-size is missing/);
});

errors('META_MALFORMED: strict base64 of key and start (newline, bad padding, non-alphabet, empty)', () => {
  const withNewline = B64_KEY.slice(0, 76) + '\n' + B64_KEY.slice(76);
  throwsMeta(() => decodeEnvelope(v2({ [K]: withNewline })), 'META_MALFORMED', /client-side-encryption-key is not standard padded base64.*"\\n"/);
  throwsMeta(() => decodeEnvelope(v2({ [S]: B64_START.replace(/=+$/, '') })), 'META_MALFORMED', /-start is not standard.*multiple of 4/);
  throwsMeta(() => decodeEnvelope(v2({ [K]: B64_KEY.replace(/^..../, 'ab_-') })), 'META_MALFORMED', /"_"/);
  throwsMeta(() => decodeEnvelope(v2({ [K]: '' })), 'META_MALFORMED', /empty/);
  throwsMeta(() => decodeEnvelope(v1({ 'x-oss-meta-oss-crypto-start': 'YR==' })), 'META_MALFORMED', /non-zero bits/);
});

errors('META_MALFORMED: matdesc that is not a JSON object of strings', () => {
  for (const bad of ['{not json', '[]', '["a"]', '"text"', '42', 'null', '{"a":1}', '{"a":null}', '{"a":{"b":"c"}}', '{"a":["x"]}']) {
    throwsMeta(() => decodeEnvelope(v2({ [MATDESC]: bad })), 'META_MALFORMED', /matdesc/);
  }
});

errors('META_MALFORMED: non-numeric data-size, part-size and unencrypted-content-length', () => {
  for (const bad of ['', '12a', '-1', '1.5', ' 12', '1e3', '0x10', '99999999999999999']) {
    throwsMeta(() => decodeEnvelope(v2({ [DATA]: bad, [PART]: '16' })), 'META_MALFORMED', /data-size/);
    throwsMeta(() => decodeEnvelope(v2({ [DATA]: '16', [PART]: bad })), 'META_MALFORMED', /part-size/);
    throwsMeta(() => decodeEnvelope(v2({ [LEN]: bad })), 'META_MALFORMED', /unencrypted-content-length/);
    throwsMeta(() => decodeEnvelope(v1({ 'x-oss-meta-unencrypted-content-length': bad })), 'META_MALFORMED', /unencrypted-content-length/);
  }
});

errors('META_MALFORMED: part-size not a positive multiple of 16', () => {
  throwsMeta(() => decodeEnvelope(v2({ [DATA]: '1000', [PART]: '100008' })), 'META_MALFORMED', /100008.*multiple of 16/);
  throwsMeta(() => decodeEnvelope(v2({ [DATA]: '1000', [PART]: '0' })), 'META_MALFORMED', /multiple of 16/);
  assert.is(decodeEnvelope(v2({ [DATA]: '1000', [PART]: '102400' }))!.partSize, 102400);
});

errors('META_MALFORMED: the same header twice with different values', () => {
  throwsMeta(() => decodeEnvelope({ ...v2(), [K.toUpperCase()]: B64_START }), 'META_MALFORMED', /more than once/);
  throwsMeta(() => decodeEnvelope({ ...v2(), [K]: [B64_KEY, B64_START] }), 'META_MALFORMED', /2 times/);
});

errors('META_UNSUPPORTED: unknown cek-alg and wrap-alg, checked before anything else', () => {
  throwsMeta(() => decodeEnvelope(v2({ [CEK]: 'AES/GCM/NoPadding' })), 'META_UNSUPPORTED', /AES\/GCM\/NoPadding.*only AES\/CTR\/NoPadding/);
  throwsMeta(() => decodeEnvelope(v2({ [WRAP]: 'RSA/NONE/OAEPWithSHA-256AndMGF1Padding' })), 'META_UNSUPPORTED', /supported: RSA\/NONE\/PKCS1Padding/);
  throwsMeta(() => decodeEnvelope(v2({ [WRAP]: 'kms' })), 'META_UNSUPPORTED');
  throwsMeta(() => decodeEnvelope(v1({ 'x-oss-meta-oss-cek-alg': 'AES/CBC/PKCS5Padding' })), 'META_UNSUPPORTED', /V1/);
  // Algorithms first: missing start and bad base64 are not what gets reported.
  throwsMeta(() => decodeEnvelope(v2({ [CEK]: 'SM4/CTR/NoPadding', [S]: undefined, [K]: 'bad!' })), 'META_UNSUPPORTED');
  throwsMeta(() => decodeEnvelope({ [WRAP]: 'RSA/ECB/NoPadding' }), 'META_UNSUPPORTED');
});

errors('programmer mistakes: TypeError for a non-object or a value of the wrong type', () => {
  assert.throws(() => decodeEnvelope(null as never), (e: Error) => e instanceof TypeError && /"headers"/.test(e.message));
  assert.throws(() => decodeEnvelope({ [K]: { a: 1 } } as never), (e: Error) => e instanceof TypeError && /client-side-encryption-key/.test(e.message));
});

// ---------------------------------------------------------------------------------------------------------------
const encode = suite('encodeEnvelope');

const sampleEnv: Envelope = {
  format: 'v2',
  cekAlg: 'AES/CTR/NoPadding',
  wrapped: { format: 'v2', wrapAlg: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', wrappedKey: B64_KEY, wrappedStart: B64_START, matdesc: { z: '1', a: 'Köln' } },
  unencryptedContentLength: 5,
  unencryptedContentMd5: 'd41d8cd98f00b204e9800998ecf8427e',
  dataSize: 300000,
  partSize: 102400,
};

encode('writes exactly the V2 headers, full lower-case names, matdesc compact with sorted keys', () => {
  assert.equal(encodeEnvelope(sampleEnv), {
    [K]: B64_KEY,
    [S]: B64_START,
    [CEK]: 'AES/CTR/NoPadding',
    [WRAP]: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding',
    [MATDESC]: '{"a":"K\\u00f6ln","z":"1"}',
    [LEN]: '5',
    [MD5]: 'd41d8cd98f00b204e9800998ecf8427e',
    [DATA]: '300000',
    [PART]: '102400',
  });
});

encode('a non-ASCII matdesc is written as pure-ASCII JSON (\\u escapes) that every reader parses back to the same map', () => {
  // Node refuses header characters above U+00FF (the put failed with ERR_INVALID_CHAR), and a Latin-1 byte such as
  // 0xF6 is not UTF-8 to Go or C++ readers. JSON \\u escapes (what oss2's json.dumps writes) are read by all.
  const matdesc = { owner: '中文', city: 'Köln', key: '🔑', tab: 'a\tb', plain: 'x' };
  const env: Envelope = { format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped: { ...sampleEnv.wrapped, matdesc } };
  const written = encodeEnvelope(env)[MATDESC];
  assert.ok(/^[\x20-\x7e]+$/.test(written), `printable ASCII only, got ${JSON.stringify(written)}`);
  assert.not.throws(() => validateHeaderValue(MATDESC, written));
  assert.equal(JSON.parse(written), matdesc);
  assert.is(written, '{"city":"K\\u00f6ln","key":"\\ud83d\\udd11","owner":"\\u4e2d\\u6587","plain":"x","tab":"a\\tb"}');
  const back = decodeEnvelope(encodeEnvelope(env))!.wrapped.matdesc;
  assert.ok(matdescEquals(back, matdesc));
  assert.equal(decodeEnvelope(headersFromMeta(metaFromEnvelope(env)))!.wrapped.matdesc, matdesc);
});

encode('omits the matdesc when empty and optional fields when absent', () => {
  const env: Envelope = { format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped: { ...sampleEnv.wrapped, matdesc: {} } };
  assert.equal(Object.keys(encodeEnvelope(env)).sort(), [CEK, K, S, WRAP].sort());
});

encode('metaFromEnvelope gives ali-oss meta keys; headersFromMeta turns them back', () => {
  const meta = metaFromEnvelope(sampleEnv);
  assert.is(meta['client-side-encryption-key'], B64_KEY);
  assert.is(meta['client-side-encryption-part-size'], '102400');
  assert.ok(Object.keys(meta).every((k) => !k.startsWith('x-oss-meta-')));
  assert.equal(decodeEnvelope(headersFromMeta(meta)), sampleEnv);
});

encode('refuses to write V1 or an invalid envelope (RangeError/TypeError naming the field)', () => {
  const bad: Array<[Envelope, RegExp]> = [
    [{ ...sampleEnv, format: 'v1' }, /"env.format"/],
    [{ ...sampleEnv, cekAlg: 'AES/GCM/NoPadding' }, /"env.cekAlg"/],
    [{ ...sampleEnv, wrapped: { ...sampleEnv.wrapped, wrapAlg: 'rsa' } }, /"env.wrapped.wrapAlg"/],
    [{ ...sampleEnv, wrapped: { ...sampleEnv.wrapped, wrappedKey: B64_KEY + '\n' } }, /"env.wrapped.wrappedKey"/],
    [{ ...sampleEnv, wrapped: { ...sampleEnv.wrapped, matdesc: { a: 1 } as never } }, /"env.wrapped.matdesc"/],
    [{ ...sampleEnv, partSize: 100 }, /"env.partSize".*multiple of 16/],
    [{ ...sampleEnv, partSize: undefined }, /go together/],
    [{ ...sampleEnv, unencryptedContentLength: -1 }, /"env.unencryptedContentLength"/],
  ];
  for (const [env, pattern] of bad) {
    assert.throws(() => encodeEnvelope(env), (e: Error) => (e instanceof RangeError || e instanceof TypeError) && pattern.test(e.message), pattern.source);
  }
});

// ---------------------------------------------------------------------------------------------------------------
const matdesc = suite('matdescEquals');

matdesc('compares parsed maps: key order and spacing do not matter, values and key sets do', () => {
  const stored = decodeEnvelope(v2({ [MATDESC]: '{"owner": "K\\u00f6ln",   "desc": "golden fixture"}' }))!.wrapped.matdesc;
  assert.ok(matdescEquals(stored, { desc: 'golden fixture', owner: 'Köln' }));
  assert.not.ok(matdescEquals(stored, { desc: 'golden fixture', owner: 'Koln' }));
  assert.not.ok(matdescEquals(stored, { desc: 'golden fixture' }));
  assert.not.ok(matdescEquals(stored, { desc: 'golden fixture', owner: 'Köln', extra: '' }));
  assert.ok(matdescEquals({}, {}));
  assert.not.ok(matdescEquals({ a: '' }, { b: '' }));
  assert.is(canonicalMatdesc({ b: 'x', a: 'ö"' }), '{"a":"ö\\"","b":"x"}');
});

// ---------------------------------------------------------------------------------------------------------------
const describe = suite('describeEnvelope');

describe('describes every interop vector without its wrapped key or start (nor their decoded bytes)', () => {
  for (const v of manifest.vectors) {
    const env = decodeEnvelope(v.headers)!;
    const text = JSON.stringify(describeEnvelope(env));
    for (const value of [env.wrapped.wrappedKey, env.wrapped.wrappedStart]) {
      const decoded = Buffer.from(value, 'base64');
      for (const needle of [value.slice(0, 16), value.slice(-24), decoded.toString('hex').slice(0, 16), decoded.toString('latin1').slice(0, 12)]) {
        assert.not.ok(text.includes(needle), `${v.name}: description contains part of a wrapped value`);
      }
    }
    const d = describeEnvelope(env);
    assert.is(d.formatVersion, v.format === 'v1' ? 1 : 2);
    assert.is(d.wrapAlg, v.wrap_alg);
    assert.is(d.keyKind, /kms/i.test(v.wrap_alg) ? 'kms' : 'rsa');
  }
});

describe('reports RSA modulus size, multipart sizes, matdesc and the KMS blob layering', () => {
  const byName = (n: string) => decodeEnvelope(manifest.vectors.find((v) => v.name === n)!.headers)!;
  assert.equal(describeEnvelope(byName('v2-rsa-pkcs1-multipart-238133')), {
    formatVersion: 2,
    cekAlg: 'AES/CTR/NoPadding',
    wrapAlg: 'RSA/NONE/PKCS1Padding',
    keyKind: 'rsa',
    matdesc: {},
    wrappedKeyBytes: 256,
    wrappedStartBytes: 256,
    dataSize: 238133,
    partSize: 102400,
  });
  assert.equal(describeEnvelope(byName('cpp-rsa-pkcs1-put-matdesc-2048')).matdesc, { owner: 'cpp-fixture', purpose: 'interop' });
  assert.is(describeEnvelope(byName('cpp-rsa-pkcs1-put-matdesc-2048')).wrappedKeyBytes, 384);
  // oss2 AliKMSProvider: base64 of the blob text; V1: the blob itself.
  const oss2Kms = byName('v2-kms-put-16');
  assert.is(describeEnvelope(oss2Kms).kmsBlobLayering, 'base64-of-blob');
  assert.is(describeEnvelope(byName('v1-kms-put-2049')).kmsBlobLayering, 'blob');
  // Go/Java layering: the header is the blob text itself.
  const blobText = Buffer.from(oss2Kms.wrapped.wrappedKey, 'base64').toString('latin1');
  const goStyle = decodeEnvelope(v2({ [WRAP]: 'KMS/ALICLOUD', [K]: blobText, [S]: blobText }))!;
  assert.is(describeEnvelope(goStyle).kmsBlobLayering, 'blob');
  assert.is(describeEnvelope(byName('v2-rsa-pkcs1-put-1')).kmsBlobLayering, undefined);
});

// ---------------------------------------------------------------------------------------------------------------
const props = suite('codec properties (fast-check)');

const base64Value = fc.uint8Array({ minLength: 1, maxLength: 520 }).map((b) => Buffer.from(b).toString('base64'));
const size = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const envelopeArb: fc.Arbitrary<Envelope> = fc
  .record(
    {
      wrapAlg: fc.constantFrom('RSA/NONE/PKCS1Padding', 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', 'KMS/ALICLOUD'),
      wrappedKey: base64Value,
      wrappedStart: base64Value,
      matdesc: fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 }), { maxKeys: 5 }),
      unencryptedContentLength: size,
      unencryptedContentMd5: fc.string({ minLength: 1, maxLength: 40 }),
      multipart: fc.record({ dataSize: size, partSize: fc.integer({ min: 1, max: 2 ** 40 }).map((n) => n * 16) }),
    },
    { requiredKeys: ['wrapAlg', 'wrappedKey', 'wrappedStart', 'matdesc'] },
  )
  .map((r) => {
    const env: Record<string, unknown> = {
      format: 'v2',
      cekAlg: 'AES/CTR/NoPadding',
      wrapped: { format: 'v2', wrapAlg: r.wrapAlg, wrappedKey: r.wrappedKey, wrappedStart: r.wrappedStart, matdesc: { ...r.matdesc } },
    };
    if (r.unencryptedContentLength !== undefined) env.unencryptedContentLength = r.unencryptedContentLength;
    if (r.unencryptedContentMd5 !== undefined) env.unencryptedContentMd5 = r.unencryptedContentMd5;
    if (r.multipart !== undefined) {
      env.dataSize = r.multipart.dataSize;
      env.partSize = r.multipart.partSize;
    }
    return env as unknown as Envelope;
  });

props('decodeEnvelope(encodeEnvelope(e)) deep-equals e', () => {
  fc.assert(
    fc.property(envelopeArb, (env) => {
      assert.equal(decodeEnvelope(encodeEnvelope(env)), env);
      assert.ok(matdescEquals(decodeEnvelope(encodeEnvelope(env))!.wrapped.matdesc, env.wrapped.matdesc));
    }),
    { numRuns: 400 },
  );
});

props('decoding is insensitive to the case of header names', () => {
  fc.assert(
    fc.property(envelopeArb, fc.infiniteStream(fc.boolean()), (env, flips) => {
      const headers = encodeEnvelope(env);
      const mixed: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        mixed[[...name].map((c) => (flips.next().value ? c.toUpperCase() : c)).join('')] = value;
      }
      assert.equal(decodeEnvelope(mixed), env);
    }),
    { numRuns: 200 },
  );
});

props('the ali-oss meta round trip preserves the envelope', () => {
  fc.assert(
    fc.property(envelopeArb, (env) => {
      assert.equal(decodeEnvelope(headersFromMeta(metaFromEnvelope(env))), env);
    }),
    { numRuns: 100 },
  );
});

table.run();
b64.run();
fixtures.run();
detect.run();
errors.run();
encode.run();
matdesc.run();
describe.run();
props.run();
