/**
 * Tests of bindings/envelope/commitment.ts: the construction recomputed independently with node:crypto
 * (hkdfSync, createHmac) and an encoder written here from the spec; fixed vectors (test/vectors/commitment.json);
 * properties (fast-check): every single-field change changes the commitment, the canonical encoding is injective,
 * every malformed value is refused without throwing; and the header lookup.
 * @module
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Envelope } from '../bindings/envelope/codec.js';
import {
  COMMITMENT_HEADER,
  commitmentFromHeaders,
  commitmentMatches,
  computeCommitment,
  encodeCommitmentInput,
} from '../bindings/envelope/commitment.js';
import { fixturePath } from './_util.js';

/** The spec's encoding, written again without the module: label, then each field as flag ‖ u32be length ‖ UTF-8. */
function referenceInput(env: Envelope): Buffer {
  const sorted = Object.keys(env.wrapped.matdesc).sort();
  const matdesc = '{' + sorted.map((k) => JSON.stringify(k) + ':' + JSON.stringify(env.wrapped.matdesc[k])).join(',') + '}';
  const num = (n: number | undefined) => (n === undefined ? undefined : String(n));
  const fields = [
    'ali-oss-crypto/key-commitment/v1',
    env.format,
    env.cekAlg,
    env.wrapped.wrapAlg,
    env.wrapped.wrappedKey,
    env.wrapped.wrappedStart,
    matdesc,
    num(env.unencryptedContentLength),
    env.unencryptedContentMd5,
    num(env.dataSize),
    num(env.partSize),
  ];
  const parts: Buffer[] = [];
  for (const f of fields) {
    if (f === undefined) {
      parts.push(Buffer.from([0]));
      continue;
    }
    const bytes = Buffer.from(f, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(Buffer.from([1]), len, bytes);
  }
  return Buffer.concat(parts);
}

function referenceCommitment(key: Uint8Array, iv: Uint8Array, env: Envelope): string {
  const macKey = Buffer.from(hkdfSync('sha256', Buffer.concat([key, iv]), 'ali-oss-crypto/key-commitment/v1', 'mac key', 32));
  return 'v1:' + createHmac('sha256', macKey).update(referenceInput(env)).digest('base64');
}

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const IV = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const content = () => ({ key: KEY.slice(), iv: IV.slice() });

const BASE: Envelope = {
  format: 'v2',
  cekAlg: 'AES/CTR/NoPadding',
  wrapped: {
    format: 'v2',
    wrapAlg: 'RSA/NONE/PKCS1Padding',
    wrappedKey: 'a2V5LWJ5dGVz',
    wrappedStart: 'aXYtYnl0ZXM=',
    matdesc: { owner: 'ops', year: '2026' },
  },
  unencryptedContentLength: 1234,
  unencryptedContentMd5: 'XrY7u+Ae7tCTyyK7j1rNww==',
  dataSize: 1234,
  partSize: 1048576,
};

/** Every single-field edit of an envelope, each a different envelope from BASE. */
function singleFieldEdits(env: Envelope): Array<[string, Envelope]> {
  const w = env.wrapped;
  const withW = (patch: Partial<Envelope['wrapped']>): Envelope => ({ ...env, wrapped: { ...w, ...patch } });
  const without = (...keys: Array<keyof Envelope>): Envelope => {
    const copy: Record<string, unknown> = { ...env };
    for (const k of keys) delete copy[k];
    return copy as unknown as Envelope;
  };
  return [
    ['format', { ...env, format: 'v1' }],
    ['cekAlg', { ...env, cekAlg: 'AES/GCM/NoPadding' }],
    ['wrapAlg', withW({ wrapAlg: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding' })],
    ['wrappedKey', withW({ wrappedKey: 'b2V5LWJ5dGVz' })],
    ['wrappedStart', withW({ wrappedStart: 'aXYtYnl0ZXN=' })],
    ['key and start swapped', withW({ wrappedKey: w.wrappedStart, wrappedStart: w.wrappedKey })],
    ['matdesc value', withW({ matdesc: { ...w.matdesc, owner: 'dev' } })],
    ['matdesc key added', withW({ matdesc: { ...w.matdesc, extra: '' } })],
    ['matdesc emptied', withW({ matdesc: {} })],
    ['length', { ...env, unencryptedContentLength: 1235 }],
    ['length removed', without('unencryptedContentLength')],
    ['md5', { ...env, unencryptedContentMd5: 'XrY7u+Ae7tCTyyK7j1rNwx==' }],
    ['md5 removed', without('unencryptedContentMd5')],
    ['data size', { ...env, dataSize: 1233 }],
    ['part size', { ...env, partSize: 1048592 }],
    ['data and part size removed', without('dataSize', 'partSize')],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
const vectors = suite('commitment: construction and vectors');

vectors('the module computes what node:crypto HKDF + HMAC over the spec encoding computes', async () => {
  assert.equal(Buffer.from(encodeCommitmentInput(BASE)), referenceInput(BASE));
  assert.is(await computeCommitment(content(), BASE), referenceCommitment(KEY, IV, BASE));
});

vectors('test/vectors/commitment.json: every vector matches both implementations', async () => {
  const file = JSON.parse(readFileSync(fixturePath('..', 'vectors', 'commitment.json'), 'utf8')) as {
    vectors: Array<{ name: string; key: string; iv: string; envelope: Envelope; inputHex: string; commitment: string }>;
  };
  assert.ok(file.vectors.length >= 3);
  for (const v of file.vectors) {
    const key = Buffer.from(v.key, 'hex');
    const iv = Buffer.from(v.iv, 'hex');
    assert.is(Buffer.from(encodeCommitmentInput(v.envelope)).toString('hex'), v.inputHex, v.name);
    assert.is(referenceInput(v.envelope).toString('hex'), v.inputHex, v.name);
    assert.is(await computeCommitment({ key: new Uint8Array(key), iv: new Uint8Array(iv) }, v.envelope), v.commitment, v.name);
    assert.is(referenceCommitment(key, iv, v.envelope), v.commitment, v.name);
    assert.ok(await commitmentMatches({ key: new Uint8Array(key), iv: new Uint8Array(iv) }, v.envelope, v.commitment), v.name);
  }
});

vectors('the matdesc enters as parsed: key order does not change the commitment', async () => {
  const reordered: Envelope = { ...BASE, wrapped: { ...BASE.wrapped, matdesc: { year: '2026', owner: 'ops' } } };
  assert.is(await computeCommitment(content(), reordered), await computeCommitment(content(), BASE));
});

vectors('every single-field edit, a different key and a different IV each fail the check', async () => {
  const value = await computeCommitment(content(), BASE);
  assert.ok(await commitmentMatches(content(), BASE, value));
  for (const [field, edited] of singleFieldEdits(BASE)) {
    assert.not.ok(await commitmentMatches(content(), edited, value), field);
    assert.is.not(await computeCommitment(content(), edited), value, field);
  }
  const otherKey = content();
  otherKey.key[31] ^= 1;
  assert.not.ok(await commitmentMatches(otherKey, BASE, value), 'key');
  const otherIv = content();
  otherIv.iv[0] ^= 0x80;
  assert.not.ok(await commitmentMatches(otherIv, BASE, value), 'iv');
});

vectors('malformed values answer false (never throw): version, length, alphabet, padding bits, empty', async () => {
  const value = await computeCommitment(content(), BASE);
  const tag = value.slice(3);
  const bad = [
    '',
    tag,
    'v2:' + tag,
    'V1:' + tag,
    'v1:' + tag.slice(0, -1),
    'v1:' + tag + 'A',
    'v1:' + tag.replace('=', 'A'),
    'v1:' + tag.replace(/[+/]/, '-'),
    ' ' + value,
    value + '\n',
    // non-zero unused bits in the last character before '=' (not canonical base64)
    'v1:' + tag.slice(0, 42) + String.fromCharCode(tag.charCodeAt(42) ^ 1) + '=',
  ];
  for (const v of bad) assert.not.ok(await commitmentMatches(content(), BASE, v), JSON.stringify(v));
});

vectors('a field that is not well-formed Unicode: RangeError when writing, false when reading', async () => {
  const lone: Envelope = { ...BASE, unencryptedContentMd5: 'ab\uD800' };
  try {
    encodeCommitmentInput(lone);
    assert.unreachable('expected a RangeError');
  } catch (err) {
    assert.instance(err, RangeError);
  }
  assert.not.ok(await commitmentMatches(content(), lone, await computeCommitment(content(), BASE)));
});

vectors('commitmentFromHeaders: any case, repeats alike, conflicts are null, absence undefined', () => {
  assert.is(commitmentFromHeaders({ [COMMITMENT_HEADER.toUpperCase()]: 'v1:x' }), 'v1:x');
  assert.is(commitmentFromHeaders({ [COMMITMENT_HEADER]: ['v1:x', 'v1:x'] }), 'v1:x');
  assert.is(commitmentFromHeaders(new Map([[COMMITMENT_HEADER, ['v1:x', 'v1:y']]]) as never), null);
  assert.is(commitmentFromHeaders(new Headers({ [COMMITMENT_HEADER]: 'v1:z' })), 'v1:z');
  assert.is(commitmentFromHeaders({ 'x-oss-meta-other': 'v1:x' }), undefined);
});

// ---------------------------------------------------------------------------------------------------------------
const props = suite('commitment: properties (fast-check)');

const b64 = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
const size = fc.oneof(fc.constant(undefined), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('', '\u0000', '{"a":"b"}', '"', '\\'));
const envelopeArb: fc.Arbitrary<Envelope> = fc
  .record({
    format: fc.constantFrom('v1' as const, 'v2' as const),
    cekAlg: fc.oneof(fc.constantFrom('AES/CTR/NoPadding', 'AES/GCM/NoPadding'), fc.string()),
    wrapAlg: fc.oneof(fc.constantFrom('RSA/NONE/PKCS1Padding', 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', 'KMS/ALICLOUD', 'rsa', 'kms'), fc.string()),
    wrappedKey: fc.oneof(b64, fc.string()),
    wrappedStart: fc.oneof(b64, fc.string()),
    matdesc: fc.dictionary(text, text, { maxKeys: 4 }),
    length: size,
    md5: fc.oneof(fc.constant(undefined), text),
    dataSize: size,
    partSize: size,
  })
  .map((r) => {
    const env: Record<string, unknown> = {
      format: r.format,
      cekAlg: r.cekAlg,
      wrapped: { format: r.format, wrapAlg: r.wrapAlg, wrappedKey: r.wrappedKey, wrappedStart: r.wrappedStart, matdesc: { ...r.matdesc } },
    };
    if (r.length !== undefined) env.unencryptedContentLength = r.length;
    if (r.md5 !== undefined) env.unencryptedContentMd5 = r.md5;
    if (r.dataSize !== undefined) env.dataSize = r.dataSize;
    if (r.partSize !== undefined) env.partSize = r.partSize;
    return env as unknown as Envelope;
  });

/** The envelope as the commitment sees it: fields in order, matdesc as a sorted list of pairs. */
function logical(env: Envelope): string {
  const m = env.wrapped.matdesc;
  return JSON.stringify([
    env.format,
    env.cekAlg,
    env.wrapped.wrapAlg,
    env.wrapped.wrappedKey,
    env.wrapped.wrappedStart,
    Object.keys(m).sort().map((k) => [k, m[k]]),
    env.unencryptedContentLength ?? null,
    env.unencryptedContentMd5 ?? null,
    env.dataSize ?? null,
    env.partSize ?? null,
  ]);
}

const wellFormed = (env: Envelope) => {
  try {
    encodeCommitmentInput(env);
    return true;
  } catch {
    return false;
  }
};

props('injective: two envelopes encode alike only when they are the same envelope', () => {
  fc.assert(
    fc.property(envelopeArb, envelopeArb, (a, b) => {
      fc.pre(wellFormed(a) && wellFormed(b));
      const same = Buffer.from(encodeCommitmentInput(a)).equals(Buffer.from(encodeCommitmentInput(b)));
      return same === (logical(a) === logical(b));
    }),
    { numRuns: 2000 },
  );
});

props('injective against near neighbours: moving bytes between adjacent fields changes the encoding', () => {
  fc.assert(
    fc.property(fc.string(), fc.string({ minLength: 1 }), (x, y) => {
      const a: Envelope = { ...BASE, wrapped: { ...BASE.wrapped, wrappedKey: x + y, wrappedStart: '' } };
      const b: Envelope = { ...BASE, wrapped: { ...BASE.wrapped, wrappedKey: x, wrappedStart: y } };
      fc.pre(wellFormed(a) && wellFormed(b));
      return !Buffer.from(encodeCommitmentInput(a)).equals(Buffer.from(encodeCommitmentInput(b)));
    }),
    { numRuns: 500 },
  );
});

props('the module agrees with the reference encoding on arbitrary envelopes', () => {
  fc.assert(
    fc.property(envelopeArb, (env) => {
      fc.pre(wellFormed(env));
      return Buffer.from(encodeCommitmentInput(env)).equals(referenceInput(env));
    }),
    { numRuns: 1000 },
  );
});

props('any single-field change of an arbitrary envelope fails the check', async () => {
  await fc.assert(
    fc.asyncProperty(envelopeArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (env, key, iv) => {
      fc.pre(wellFormed(env));
      const value = await computeCommitment({ key, iv }, env);
      if (!(await commitmentMatches({ key, iv }, env, value))) return false;
      for (const [, edited] of singleFieldEdits(env)) {
        if (logical(edited) === logical(env) || !wellFormed(edited)) continue;
        if (await commitmentMatches({ key, iv }, edited, value)) return false;
      }
      return true;
    }),
    { numRuns: 100 },
  );
});

props('arbitrary header values never throw and never match', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string(), fc.string().map((s) => 'v1:' + s)), async (value) => {
      return (await commitmentMatches(content(), BASE, value)) === false;
    }),
    { numRuns: 500 },
  );
});

vectors.run();
props.run();
