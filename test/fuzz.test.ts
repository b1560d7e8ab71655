/**
 * Fuzz / property suite over every parser of untrusted input (issue 12 §6), with fast-check: the envelope decoder
 * (object headers), the upload-checkpoint, multipart-context and download-checkpoint parsers (files and messages),
 * the Range grammar (caller input) and Content-Range (server input), and the KMS blob reader. For each: arbitrary
 * text, arbitrary JSON, and single-field mutations of a valid document; every outcome is a return value or the
 * parser's own typed error (MetadataError, CheckpointError, IntegrityError, KeyUnwrapError; RangeError/TypeError
 * only for the caller-facing Range grammar), never a TypeError from inside, a SyntaxError or a stack overflow.
 * Large adversarial inputs (1 MiB strings, 100,000-deep JSON, regex-hostile runs) must each finish within a
 * generous bound: a hang or catastrophic backtracking fails the test; the bound is not a speed claim.
 * @module
 */
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDownloadCheckpoint, parseDownloadCheckpoint, serializeDownloadCheckpoint } from '../bindings/download/checkpoint.js';
import { parseContentRange, parseRange, rangeFromHeaders } from '../bindings/transfer/range.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { ENVELOPE_HEADERS } from '../bindings/envelope/headers.js';
import { CheckpointError, IntegrityError, KeyUnwrapError, MetadataError } from '../bindings/errors.js';
import { kmsBlobFromHeader } from '../bindings/keys/kms.js';
import {
  createMultipartCryptoContext,
  createUploadCheckpoint,
  parseMultipartCryptoContext,
  parseUploadCheckpoint,
  serializeMultipartCryptoContext,
  serializeUploadCheckpoint,
} from '../bindings/upload/checkpoint.js';
import { pseudoRandomBytes } from './_util.js';

/** Returns normally or throws one of `allowed`; anything else fails the property with the error shown. */
function onlyTyped(allowed: Function[], fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (allowed.some((cls) => err instanceof cls)) return true;
    throw new Error(`unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  }
}

/** Runs `fn` and fails when it takes longer than `ms` (a hang guard, not a speed claim). */
function finishesWithin(ms: number, what: string, fn: () => void): void {
  const t0 = performance.now();
  fn();
  const took = performance.now() - t0;
  assert.ok(took < ms, `${what} took ${took.toFixed(0)} ms (bound ${ms} ms): a hang or catastrophic backtracking`);
}

const B64_KEY = Buffer.from(pseudoRandomBytes(256, 1)).toString('base64');
const B64_START = Buffer.from(pseudoRandomBytes(256, 2)).toString('base64');
const V2 = ENVELOPE_HEADERS.v2;
const V1 = ENVELOPE_HEADERS.v1;
const VALID_V2: Record<string, string> = {
  [V2.key]: B64_KEY,
  [V2.start]: B64_START,
  [V2.cekAlg]: 'AES/CTR/NoPadding',
  [V2.wrapAlg]: 'RSA/NONE/PKCS1Padding',
  [V2.matdesc]: '{"a":"b"}',
  [V2.unencryptedContentLength]: '1000',
  [V2.unencryptedContentMd5]: 'XrY7u+Ae7tCTyyK7j1rNww==',
  [V2.dataSize]: '1000',
  [V2.partSize]: '102400',
};
const ALL_NAMES = [...Object.values(V2), ...Object.values(V1)];

/** Strings that stress parsers: numbers at the edges, JSON fragments, base64 near-misses, control characters. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '0', '-0', '01', '9007199254740992', '1e3', '0x10', 'NaN', '{', '{}', '[]', 'null', '"x"',
    '{"a":1}', '{"__proto__":"x"}', '{"a":"\\ud800"}', 'AAAA', 'AAA=', 'AA==', 'A===', 'AAAA\n', 'AA-_', '=', '\u0000', '\uFFFF'),
  fc.nat().map(String),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
);

// ---------------------------------------------------------------------------------------------------------------
const envelope = suite('fuzz: envelope decoder (MetadataError only)');

envelope('arbitrary values under every envelope name, in any case', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...ALL_NAMES, ...ALL_NAMES.map((n) => n.toUpperCase()), 'x-oss-meta-other'), nasty), (headers) =>
      onlyTyped([MetadataError], () => decodeEnvelope(headers)),
    ),
    { numRuns: 3000 },
  );
});

envelope('every single-field mutation of a valid V2 envelope, and removals', () => {
  assert.ok(decodeEnvelope(VALID_V2));
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(V2)), fc.oneof(nasty, fc.constant(undefined)), (name, value) => {
      const headers: Record<string, string | undefined> = { ...VALID_V2, [name]: value };
      return onlyTyped([MetadataError], () => decodeEnvelope(headers));
    }),
    { numRuns: 3000 },
  );
});

envelope('repeated headers (arrays) and duplicated names in two cases', () => {
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(V2)), fc.array(nasty, { maxLength: 4 }), (name, values) =>
      onlyTyped([MetadataError], () => decodeEnvelope({ ...VALID_V2, [name]: values, [name.toUpperCase()]: values[0] })),
    ),
    { numRuns: 1000 },
  );
});

envelope('large adversarial values finish', () => {
  const huge = 'A'.repeat(1 << 20);
  const cases: Array<[string, Record<string, string>]> = [
    ['1 MiB base64 key', { ...VALID_V2, [V2.key]: huge }],
    ['1 MiB of digits as a size', { ...VALID_V2, [V2.dataSize]: '9'.repeat(1 << 20) }],
    ['100,000-deep JSON matdesc', { ...VALID_V2, [V2.matdesc]: '['.repeat(100_000) + ']'.repeat(100_000) }],
    ['100,000-deep object matdesc', { ...VALID_V2, [V2.matdesc]: '{"a":'.repeat(100_000) + '""' + '}'.repeat(100_000) }],
    ['matdesc of 100,000 keys', { ...VALID_V2, [V2.matdesc]: '{' + Array.from({ length: 100_000 }, (_, i) => `"k${i}":"v"`).join(',') + '}' }],
    ['base64 with a bad last char after 1 MiB', { ...VALID_V2, [V2.start]: huge + 'B=' }],
  ];
  for (const [what, headers] of cases) finishesWithin(3000, what, () => onlyTyped([MetadataError], () => decodeEnvelope(headers)));
});

// ---------------------------------------------------------------------------------------------------------------
const checkpoints = suite('fuzz: checkpoint and context parsers (CheckpointError only)');

const WRAP = { wrapAlg: 'RSA/NONE/PKCS1Padding', wrappedKey: B64_KEY, wrappedStart: B64_START, matdesc: { k: 'v' } };
const UPLOAD = serializeUploadCheckpoint(
  createUploadCheckpoint({
    bucket: 'b', name: 'n', uploadId: 'u', file: { path: '/f', size: 300_000, mtimeMs: 1 }, dataSize: 300_000, partSize: 102_400,
    ...WRAP, doneParts: [{ number: 1, etag: '"E"', crc64: '1' }], createdAt: '2024-06-11T10:00:00.000Z',
  }),
);
const CONTEXT = serializeMultipartCryptoContext(createMultipartCryptoContext({ name: 'n', uploadId: 'u', dataSize: 300_000, partSize: 102_400, ...WRAP }));
const DOWNLOAD = serializeDownloadCheckpoint(createDownloadCheckpoint({ name: 'a', etag: '"E"', totalSize: 10, partSize: 4, tempPath: '/t', doneParts: [{ number: 1, crc64: '1' }] }));
const PARSERS: Array<[string, string, (text: string) => unknown]> = [
  ['upload checkpoint', UPLOAD, parseUploadCheckpoint],
  ['multipart context', CONTEXT, parseMultipartCryptoContext],
  ['download checkpoint', DOWNLOAD, parseDownloadCheckpoint],
];

/** A JSON value of any shape, including the awkward ones. */
const anyJson = fc.oneof(fc.jsonValue(), fc.constantFrom(null, -0, 1e308, 2 ** 53, -1, 0.5, '', [], {}, { __proto__: null }, [[[]]]));

checkpoints('arbitrary text and arbitrary JSON', () => {
  for (const [, , parse] of PARSERS) {
    fc.assert(fc.property(fc.oneof(nasty, anyJson.map((v) => JSON.stringify(v) ?? '')), (text) => onlyTyped([CheckpointError], () => parse(text))), { numRuns: 1500 });
  }
});

checkpoints('every top-level and nested field replaced by any JSON value, or removed', () => {
  for (const [what, valid, parse] of PARSERS) {
    assert.ok(parse(valid), what);
    const doc = JSON.parse(valid) as Record<string, unknown>;
    const paths: string[][] = [];
    const walk = (v: unknown, path: string[]) => {
      if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) (paths.push([...path, k]), walk(c, [...path, k]));
    };
    walk(doc, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.oneof(anyJson, fc.constant(undefined)), (path, value) => {
        const copy = JSON.parse(valid);
        let at = copy;
        for (const k of path.slice(0, -1)) at = at[k];
        if (value === undefined) delete at[path[path.length - 1]];
        else at[path[path.length - 1]] = value;
        return onlyTyped([CheckpointError], () => parse(JSON.stringify(copy)));
      }),
      { numRuns: 2000 },
    );
  }
});

checkpoints('large adversarial documents finish', () => {
  for (const [what, valid, parse] of PARSERS) {
    const doc = JSON.parse(valid);
    const big = [
      ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000)],
      ['1 MiB string field', JSON.stringify({ ...doc, name: 'x'.repeat(1 << 20) })],
      ['100,000 done parts', JSON.stringify({ ...doc, doneParts: Array.from({ length: 100_000 }, (_, i) => ({ number: i + 1, etag: '"E"' })) })],
      ['huge part number', JSON.stringify({ ...doc, doneParts: [{ number: 1e308, etag: '"E"' }] })],
    ];
    for (const [name, text] of big) finishesWithin(5000, `${what}: ${name}`, () => onlyTyped([CheckpointError], () => parse(text)));
  }
});

// ---------------------------------------------------------------------------------------------------------------
const ranges = suite('fuzz: Range grammar (RangeError/TypeError), Content-Range (IntegrityError), KMS blobs (KeyUnwrapError)');

const rangeish = fc.oneof(
  nasty,
  fc.tuple(fc.constantFrom('bytes=', 'Bytes=', 'bytes =', '', 'items='), fc.oneof(fc.nat(), fc.constant('')), fc.constantFrom('-', ',', '--', ' - '), fc.oneof(fc.nat(), fc.constant(''))).map((p) => p.join('')),
);

ranges('parseRange and rangeFromHeaders: caller input gives a RangeSpec, RangeError or TypeError', () => {
  fc.assert(
    fc.property(fc.oneof(rangeish, anyJson as fc.Arbitrary<unknown>), (input) => {
      try {
        parseRange(input as never);
        rangeFromHeaders({ Range: input });
        return true;
      } catch (err) {
        if (err instanceof RangeError || err instanceof TypeError) return !(err.message.includes('Cannot read') || err.message.includes('is not a function'));
        throw err;
      }
    }),
    { numRuns: 3000 },
  );
});

ranges('parseContentRange: any server text gives a ContentRange or IntegrityError', () => {
  const contentRangeish = fc.oneof(
    nasty,
    fc.tuple(fc.constantFrom('bytes ', 'bytes  ', 'BYTES ', ''), fc.nat(), fc.constantFrom('-', ''), fc.nat(), fc.constantFrom('/', '/*', ''), fc.oneof(fc.nat(), fc.constant('*'))).map((p) => p.join('')),
  );
  fc.assert(fc.property(contentRangeish, (text) => onlyTyped([IntegrityError], () => parseContentRange(text))), { numRuns: 3000 });
});

ranges('kmsBlobFromHeader: any header gives a blob or KeyUnwrapError', () => {
  fc.assert(fc.property(nasty, (text) => onlyTyped([KeyUnwrapError], () => kmsBlobFromHeader(text))), { numRuns: 2000 });
});

ranges('large adversarial range texts finish', () => {
  const cases = [
    'bytes=' + '0'.repeat(1 << 20) + '-',
    'bytes=' + '1-'.repeat(100_000),
    'bytes=' + ' '.repeat(1 << 20) + '1-2',
    '-'.repeat(1 << 20),
  ];
  for (const text of cases) {
    finishesWithin(3000, `parseRange of ${text.slice(0, 12)}…`, () => {
      try {
        parseRange(text);
      } catch (err) {
        assert.ok(err instanceof RangeError || err instanceof TypeError);
      }
    });
    finishesWithin(3000, `parseContentRange of ${text.slice(0, 12)}…`, () => onlyTyped([IntegrityError], () => parseContentRange('bytes ' + text)));
  }
});

envelope.run();
checkpoints.run();
ranges.run();
