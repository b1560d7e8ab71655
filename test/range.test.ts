/**
 * Tests of bindings/transfer/range.ts: every Range form, the strict Content-Range parser, and the ranged-read
 * plan checked against a small model of an RFC 9110 server with OSS's `x-oss-range-behavior: standard`
 * (random objects, every spec form, decrypted with both CTR engines), every kind of inconsistent answer, and
 * the ranged-read cases of the SDK fixtures (decrypted and hashed).
 * @module
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor, type AesCtrOptions } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import {
  applyRangeHeaders,
  checkRangedResponse,
  formatRange,
  parseContentRange,
  parseRange,
  planRangedRead,
  RANGE_BEHAVIOR_HEADER,
  rangeFromHeaders,
  resolveRange,
  type RangeInput,
  type RangeSpec,
  type RangedResponse,
} from '../bindings/transfer/range.js';
import { IntegrityError } from '../bindings/errors.js';
import { hex, pseudoRandomBytes, throwsWith, toHex } from './_util.js';
import { ciphertextOf, interopRanges, interopVectors } from './support/interop.js';

const backends: Array<{ name: string; options: AesCtrOptions }> = [
  { name: 'default', options: {} },
  { name: 'native', options: { backend: nativeBackend } },
];

function integrity(fn: () => unknown, ...includes: string[]): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, IntegrityError, `expected IntegrityError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.is((err as IntegrityError).code, 'INTEGRITY_RANGE');
    const message = (err as Error).message;
    for (const part of includes) assert.ok(message.includes(part), `message ${JSON.stringify(message)} lacks ${JSON.stringify(part)}`);
    return message;
  }
  assert.unreachable('expected IntegrityError INTEGRITY_RANGE');
  return '';
}

const builtin = throwsWith;

// ---------------------------------------------------------------------------------------------------------------
// A tiny model of an OSS-like server: RFC 9110 §14 single ranges. With `x-oss-range-behavior: standard` a start
// past the end is 416 and an end past the end is clamped; without it OSS answers such ranges with the whole object.
// Written independently of range.ts (its own parsing), so the two check each other.
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

function serve(object: Uint8Array, request: Record<string, unknown>, honourStandard = true): Answer {
  const get = (name: string) => Object.entries(request).find(([k]) => k.toLowerCase() === name)?.[1] as string | undefined;
  const total = object.length;
  const whole: Answer = { status: 200, headers: { 'content-length': String(total) }, body: object };
  const range = get('range');
  const standard = honourStandard && get(RANGE_BEHAVIOR_HEADER) === 'standard';
  const m = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range);
  if (m === null || (m[1] === '' && m[2] === '')) return whole; // no or unparseable range: ignored
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || total === 0) return standard ? unsatisfiable(total) : whole;
    start = Math.max(0, total - n);
    end = total - 1;
  } else {
    start = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < start) return whole; // invalid: ignored
    const last = m[2] === '' ? total - 1 : Number(m[2]);
    if (start >= total) return standard ? unsatisfiable(total) : whole;
    if (last >= total && !standard) return whole;
    end = Math.min(last, total - 1);
  }
  return {
    status: 206,
    headers: { 'content-range': `bytes ${start}-${end}/${total}`, 'content-length': String(end - start + 1) },
    body: object.subarray(start, end + 1),
  };
}

function unsatisfiable(total: number): Answer {
  return { status: 416, headers: { 'content-range': `bytes */${total}` }, body: new Uint8Array(0) };
}

/** What RFC 9110 says a range selects, computed the slow way: mark every selected byte. */
function selectedBytes(spec: RangeSpec, total: number): [number, number] | null {
  let first = -1;
  let last = -1;
  for (let i = 0; i < total; i++) {
    const inside =
      spec.kind === 'bounded' ? i >= spec.start && i <= spec.end : spec.kind === 'open' ? i >= spec.start : i >= total - spec.length;
    if (inside) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? null : [first, last];
}

/** Every way of writing one spec that the parser accepts. */
function spellings(spec: RangeSpec): RangeInput[] {
  const text = formatRange(spec);
  const out: RangeInput[] = [text, text.slice('bytes='.length), `  BYTES=${text.slice(6)} `, spec];
  if (spec.kind === 'bounded') out.push({ offset: spec.start, length: spec.end - spec.start + 1 });
  if (spec.kind === 'open') out.push({ offset: spec.start });
  if (spec.kind === 'suffix') out.push({ suffix: spec.length });
  return out;
}

const specFor = (total: number): fc.Arbitrary<RangeSpec> =>
  fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: total + 20 }), fc.integer({ min: 0, max: total + 40 })).map(([a, len]) => ({ kind: 'bounded' as const, start: a, end: a + len })),
    fc.integer({ min: 0, max: total + 20 }).map((a) => ({ kind: 'open' as const, start: a })),
    fc.integer({ min: 1, max: total + 20 }).map((n) => ({ kind: 'suffix' as const, length: n })),
  );

// ---------------------------------------------------------------------------------------------------------------
const parsing = suite('parseRange / formatRange / rangeFromHeaders');

parsing('every accepted form', () => {
  const cases: Array<[RangeInput, RangeSpec]> = [
    ['bytes=0-99', { kind: 'bounded', start: 0, end: 99 }],
    ['bytes=5-', { kind: 'open', start: 5 }],
    ['bytes=-17', { kind: 'suffix', length: 17 }],
    ['0-0', { kind: 'bounded', start: 0, end: 0 }],
    ['1362152-', { kind: 'open', start: 1362152 }],
    ['-1', { kind: 'suffix', length: 1 }],
    ['Bytes=3-4', { kind: 'bounded', start: 3, end: 4 }],
    [' bytes=7-8\t', { kind: 'bounded', start: 7, end: 8 }],
    ['bytes=007-0010', { kind: 'bounded', start: 7, end: 10 }],
    [{ offset: 100, length: 16 }, { kind: 'bounded', start: 100, end: 115 }],
    [{ offset: 100 }, { kind: 'open', start: 100 }],
    [{ suffix: 9 }, { kind: 'suffix', length: 9 }],
    [{ kind: 'bounded', start: 1, end: 1 }, { kind: 'bounded', start: 1, end: 1 }],
    [{ kind: 'open', start: 0 }, { kind: 'open', start: 0 }],
    [{ kind: 'suffix', length: 4 }, { kind: 'suffix', length: 4 }],
    [`bytes=${Number.MAX_SAFE_INTEGER - 1}-${Number.MAX_SAFE_INTEGER}`, { kind: 'bounded', start: Number.MAX_SAFE_INTEGER - 1, end: Number.MAX_SAFE_INTEGER }],
  ];
  for (const [input, want] of cases) {
    const got = parseRange(input);
    assert.equal(got, want, JSON.stringify(input));
    assert.ok(Object.isFrozen(got));
  }
});

parsing('malformed and unsupported ranges are RangeError / TypeError naming the value', () => {
  const bad = (text: string, why: string) =>
    builtin(() => parseRange(text), RangeError, `"range" expected bytes=a-b, bytes=a- or bytes=-n, got ${JSON.stringify(text)} (${why})`);
  bad('bytes=0-1,5-6', 'multiple ranges are not supported');
  bad('bytes=0-1, 5-6', 'multiple ranges are not supported');
  bad('bytes=5-3', 'first byte 5 is after last byte 3');
  bad('bytes=-0', 'a suffix of 0 bytes selects nothing');
  bad('items=0-1', 'the only range unit is bytes');
  bad('bytes=', 'not a byte range');
  bad('bytes=-', 'not a byte range');
  bad('', 'not a byte range');
  bad('bytes=0-1a', 'not a byte range');
  bad('bytes= 0-1', 'not a byte range');
  bad('bytes=+1-2', 'not a byte range');
  bad('bytes=1.5-2', 'not a byte range');
  bad('bytes=0x10-20', 'not a byte range');
  bad('bytes=9007199254740992-', '9007199254740992 is beyond 2^53 - 1');
  builtin(() => parseRange({ start: 0, end: 99 } as unknown as RangeInput), TypeError, /keys \{end,start\} \(ambiguous: HTTP ends are inclusive/);
  builtin(() => parseRange([0, 99] as unknown as RangeInput), TypeError, /an array \(ambiguous/);
  builtin(() => parseRange(42 as unknown as RangeInput), TypeError, /got number/);
  builtin(() => parseRange(null as unknown as RangeInput), TypeError, /got null/);
  builtin(() => parseRange({ offset: 1, length: 2, extra: 1 } as unknown as RangeInput), TypeError, /keys \{extra,length,offset\}/);
  builtin(() => parseRange({ offset: -1 }), RangeError, '"offset" expected a non-negative safe integer, got -1');
  builtin(() => parseRange({ offset: 1.5 }), RangeError, '"offset" expected a non-negative safe integer, got 1.5');
  builtin(() => parseRange({ offset: 5, length: 0 }), RangeError, '"range" expected a length of at least 1, got { offset: 5, length: 0 }');
  builtin(() => parseRange({ offset: Number.MAX_SAFE_INTEGER, length: 2 }), RangeError, '"range" expected offset + length - 1 <= 2^53 - 1, got { offset: 9007199254740991, length: 2 }');
  assert.equal(parseRange({ offset: Number.MAX_SAFE_INTEGER, length: 1 }), { kind: 'bounded', start: Number.MAX_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER });
  builtin(() => parseRange({ suffix: 0 }), RangeError, '"range" expected a suffix of at least 1 byte, got { suffix: 0 }');
  builtin(() => parseRange({ kind: 'bounded', start: 9, end: 3 }), RangeError, '"range" expected start <= end, got bounded range 9-3');
  builtin(() => parseRange({ offset: '5' } as unknown as RangeInput), TypeError, '"offset" expected a number, got string');
});

parsing('formatRange and parseRange are inverse on every spec (property)', () => {
  fc.assert(
    fc.property(specFor(2 ** 40), (spec) => {
      for (const form of spellings(spec)) assert.equal(parseRange(form), spec, JSON.stringify(form));
      assert.is(parseRange(formatRange(spec)).kind, spec.kind);
    }),
    { numRuns: 300, seed: 5 },
  );
});

parsing('rangeFromHeaders reads the Range header in any letter case, as ali-oss users set it', () => {
  assert.equal(rangeFromHeaders({ Range: 'bytes=0-99' }), { kind: 'bounded', start: 0, end: 99 });
  assert.equal(rangeFromHeaders({ range: 'bytes=-5', 'x-oss-meta-a': '1' }), { kind: 'suffix', length: 5 });
  assert.equal(rangeFromHeaders({ RANGE: '7-' }), { kind: 'open', start: 7 });
  assert.is(rangeFromHeaders({ 'x-oss-meta-range': 'bytes=0-1' }), undefined);
  assert.is(rangeFromHeaders({}), undefined);
  assert.is(rangeFromHeaders(undefined), undefined);
  builtin(() => rangeFromHeaders({ Range: 'bytes=0-1', range: 'bytes=2-3' }), RangeError, '"headers" expected one Range header, got 2: "Range", "range"');
  builtin(() => rangeFromHeaders({ Range: 5 }), TypeError, '"headers.Range" expected a string, got number');
  builtin(() => rangeFromHeaders({ Range: 'bytes=1-2,4-5' }), RangeError, /multiple ranges/);
});

parsing('planRangedRead sends the range unchanged plus x-oss-range-behavior: standard; applyRangeHeaders replaces the caller\'s', () => {
  const plan = planRangedRead('5-99');
  assert.is(plan.header, 'bytes=5-99');
  assert.equal(plan.headers, { Range: 'bytes=5-99', 'x-oss-range-behavior': 'standard' });
  assert.equal(planRangedRead({ suffix: 17 }).header, 'bytes=-17');
  assert.equal(planRangedRead({ offset: 1000003 }).header, 'bytes=1000003-');
  const merged = applyRangeHeaders({ range: 'bytes=5-99', 'X-OSS-Range-Behavior': 'legacy', 'x-oss-meta-a': 'b', 'Content-Type': 'x' }, plan);
  assert.equal(merged, { 'x-oss-meta-a': 'b', 'Content-Type': 'x', Range: 'bytes=5-99', 'x-oss-range-behavior': 'standard' });
  assert.equal(applyRangeHeaders(undefined, plan), { ...plan.headers });
  assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.headers));
});

parsing('resolveRange follows RFC 9110: clamp the end, whole object for long suffixes, nothing past the end', () => {
  assert.equal(resolveRange(parseRange('bytes=-17'), 1000), { start: 983, end: 999 });
  assert.equal(resolveRange(parseRange('bytes=10-1031'), 31), { start: 10, end: 30 });
  assert.equal(resolveRange(parseRange('bytes=-50'), 31), { start: 0, end: 30 });
  assert.is(resolveRange(parseRange('bytes=31-'), 31), null);
  assert.is(resolveRange(parseRange('bytes=31-40'), 31), null);
  assert.is(resolveRange(parseRange('bytes=-1'), 0), null);
  assert.is(resolveRange(parseRange('bytes=0-'), 0), null);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }).chain((t) => fc.tuple(fc.constant(t), specFor(t))), ([total, spec]) => {
      const got = resolveRange(spec, total);
      const want = selectedBytes(spec, total);
      assert.equal(got === null ? null : [got.start, got.end], want);
    }),
    { numRuns: 400, seed: 8 },
  );
});

parsing.run();

// ---------------------------------------------------------------------------------------------------------------
const contentRange = suite('parseContentRange');

contentRange('accepts exactly bytes S-E/T and bytes S-E/*', () => {
  assert.equal(parseContentRange('bytes 1363132-1363148/1363149'), { start: 1363132, end: 1363148, total: 1363149 });
  assert.equal(parseContentRange('bytes 0-0/1'), { start: 0, end: 0, total: 1 });
  assert.equal(parseContentRange('bytes 5-9/*'), { start: 5, end: 9, total: undefined });
  assert.equal(parseContentRange('BYTES 5-9/10'), { start: 5, end: 9, total: 10 });
});

contentRange('refuses everything else with INTEGRITY_RANGE quoting the value', () => {
  const bad = [
    'bytes */1000', // 416 form
    'bytes 5-3/10',
    'bytes 0-10/10',
    'bytes 0-9/0',
    'bytes=0-9/10',
    'bytes 0-9',
    '0-9/10',
    'bytes  0-9/10',
    'bytes 0 -9/10',
    'bytes -1-9/10',
    'bytes +0-9/10',
    'bytes 0-9/10 ',
    'bytes 0-9/10,bytes 0-9/10',
    'items 0-9/10',
    'bytes 0-9007199254740992/9007199254740993',
    '',
  ];
  for (const value of bad) integrity(() => parseContentRange(value), 'malformed Content-Range', JSON.stringify(value));
  builtin(() => parseContentRange(7 as unknown as string), TypeError, '"value" expected a string, got number');
});

contentRange('agrees with a reference reading of RFC 9110 on random values (property)', () => {
  const token = fc.oneof(fc.nat({ max: 2000 }).map(String), fc.constantFrom('', '*', '-1', '01', ' 1', '1e3'));
  fc.assert(
    fc.property(token, token, token, (a, b, t) => {
      const value = `bytes ${a}-${b}/${t}`;
      const digits = (s: string) => /^\d+$/.test(s);
      const ok = digits(a) && digits(b) && (t === '*' || digits(t)) && +a <= +b && (t === '*' || +b < +t);
      if (ok) assert.equal(parseContentRange(value), { start: +a, end: +b, total: t === '*' ? undefined : +t });
      else integrity(() => parseContentRange(value));
    }),
    { numRuns: 400, seed: 13 },
  );
});

contentRange.run();

// ---------------------------------------------------------------------------------------------------------------
const model = suite('planned reads against a model RFC 9110 / OSS-standard server');

for (const backend of backends) {
  model(`every spec form on random objects yields exactly the selected plaintext (${backend.name})`, () => {
    const key = pseudoRandomBytes(32, 21);
    const iv = hex('a1a2a3a4a5a6a7a8 00000000 fffffff0'); // close to a 32-bit carry
    let served = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 700 }).chain((t) => fc.tuple(fc.constant(t), specFor(t), fc.nat({ max: 5 }))),
        ([total, spec, pick]) => {
          const plaintext = pseudoRandomBytes(total, total * 7 + 1);
          const stored = aesCtrXor(key, iv, plaintext, 0, backend.options);
          const forms = spellings(spec);
          const plan = planRangedRead(forms[pick % forms.length]);
          const answer = serve(stored, applyRangeHeaders({ 'x-oss-meta-other': '1' }, plan));
          const want = selectedBytes(spec, total);
          if (answer.status === 416) {
            assert.is(want, null, 'the server refused only what selects nothing');
            refused++;
            return;
          }
          const sel = checkRangedResponse(plan, answer, { expectedTotal: total });
          const plain = aesCtrXor(key, iv, answer.body, sel.cipherOffset, backend.options).subarray(sel.dropLeading, sel.dropLeading + sel.keepLength);
          assert.ok(want !== null);
          assert.is(toHex(plain), toHex(plaintext.subarray(want[0], want[1] + 1)));
          assert.equal([sel.start, sel.end, sel.totalSize], [want[0], want[1], total]);
          served++;
        },
      ),
      { numRuns: 250, seed: 17 },
    );
    assert.ok(served > 100 && refused > 5, `both answers exercised (served ${served}, refused ${refused})`);
  });
}

model('a whole-object 200 is accepted only when the range selects the whole object', () => {
  const object = pseudoRandomBytes(100, 3);
  for (const [range, ok] of [['bytes=0-', true], ['bytes=-100', true], ['bytes=-500', true], ['bytes=0-99', true], ['bytes=0-5000', true], ['bytes=1-', false], ['bytes=0-98', false], ['bytes=-99', false]] as const) {
    const plan = planRangedRead(range);
    const answer = serve(object, { 'x-oss-meta-a': '1' }); // a server that ignored Range altogether
    assert.is(answer.status, 200);
    if (ok) assert.equal(checkRangedResponse(plan, answer), { cipherOffset: 0, dropLeading: 0, keepLength: 100, totalSize: 100, start: 0, end: 99 });
    else integrity(() => checkRangedResponse(plan, answer), `Range: ${range} (with x-oss-range-behavior: standard)`, '200 with the whole object (Content-Length: 100)', 'the server ignored the range');
  }
});

model('OSS\'s default behaviour (standard ignored) on an out-of-bounds range is caught, never decrypted', () => {
  const object = pseudoRandomBytes(31, 4);
  const plan = planRangedRead('bytes=10-1031');
  const lax = serve(object, applyRangeHeaders({}, plan), false);
  assert.is(lax.status, 200);
  integrity(() => checkRangedResponse(plan, lax), 'the range selects only bytes 10-30');
  const strict = serve(object, applyRangeHeaders({}, plan));
  assert.equal(checkRangedResponse(plan, strict), { cipherOffset: 10, dropLeading: 0, keepLength: 21, totalSize: 31, start: 10, end: 30 });
});

model('every inconsistent answer is INTEGRITY_RANGE naming what was asked and what came back (property)', () => {
  type Mutation = (a: Answer) => Answer | null;
  const withHeaders = (a: Answer, h: Record<string, string | undefined>): Answer => {
    const headers: Record<string, string> = { ...a.headers };
    for (const [k, v] of Object.entries(h)) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    return { ...a, headers };
  };
  const cr = (a: Answer) => parseContentRange(a.headers['content-range']);
  const mutations: Record<string, Mutation> = {
    'shifted start': (a) => { const c = cr(a); return c.start + 1 > c.end ? null : withHeaders(a, { 'content-range': `bytes ${c.start + 1}-${c.end}/${c.total}`, 'content-length': String(c.end - c.start) }); },
    'earlier start (a widened answer)': (a) => { const c = cr(a); return c.start === 0 ? null : withHeaders(a, { 'content-range': `bytes ${c.start - 1}-${c.end}/${c.total}`, 'content-length': String(c.end - c.start + 2) }); },
    'shorter end': (a) => { const c = cr(a); return c.end === c.start ? null : withHeaders(a, { 'content-range': `bytes ${c.start}-${c.end - 1}/${c.total}`, 'content-length': String(c.end - c.start) }); },
    'other total': (a) => { const c = cr(a); return withHeaders(a, { 'content-range': `bytes ${c.start}-${c.end}/${c.total! + 16}` }); },
    'unknown total': (a) => { const c = cr(a); return withHeaders(a, { 'content-range': `bytes ${c.start}-${c.end}/*` }); },
    'no Content-Range': (a) => withHeaders(a, { 'content-range': undefined }),
    'malformed Content-Range': (a) => withHeaders(a, { 'content-range': a.headers['content-range'].replace(' ', '=') }),
    'Content-Length disagreeing': (a) => withHeaders(a, { 'content-length': String(Number(a.headers['content-length']) + 1) }),
    'malformed Content-Length': (a) => withHeaders(a, { 'content-length': '12abc' }),
    'two Content-Range values': (a) => ({ ...a, headers: { ...a.headers, 'content-range': [a.headers['content-range'], a.headers['content-range']] as unknown as string } }),
    'status 200 with the range\'s bytes': (a) => { const c = cr(a); return c.start === 0 && c.end === c.total! - 1 ? null : { ...a, status: 200, headers: { 'content-length': String(c.total) } }; },
    'status 304': (a) => ({ ...a, status: 304 }),
    'status 416': (a) => ({ ...a, status: 416 }),
    'status 500': (a) => ({ ...a, status: 500 }),
  };
  const names = Object.keys(mutations);
  const hits = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400 }).chain((t) => fc.tuple(fc.constant(t), specFor(t))),
      fc.constantFrom(...names),
      ([total, spec], name) => {
        const object = pseudoRandomBytes(total, total);
        const plan = planRangedRead(spec);
        const answer = serve(object, applyRangeHeaders({}, plan));
        fc.pre(answer.status === 206);
        const bad = mutations[name](answer);
        fc.pre(bad !== null);
        // A changed total is only visible when the selection depends on it, or against the known size.
        const options = name === 'other total' ? { expectedTotal: total } : {};
        integrity(() => checkRangedResponse(plan, bad!, options), `Range: ${plan.header}`);
        hits.set(name, (hits.get(name) ?? 0) + 1);
      },
    ),
    { numRuns: 600, seed: 23 },
  );
  for (const name of names) assert.ok((hits.get(name) ?? 0) > 3, `mutation "${name}" exercised ${hits.get(name) ?? 0} times`);
});

model('messages name both the request and the answer', () => {
  const plan = planRangedRead('bytes=5-99');
  const res = (headers: Record<string, string>, status = 206): RangedResponse => ({ status, headers });
  integrity(() => checkRangedResponse(plan, res({ 'content-range': 'bytes 0-99/1000' })),
    'the server answered 206 with Content-Range: bytes 0-99/1000, but RFC 9110 selects bytes 5-99 of a 1000-byte object to Range: bytes=5-99 (with x-oss-range-behavior: standard)');
  integrity(() => checkRangedResponse(plan, res({})), '206 without a Content-Range header');
  integrity(() => checkRangedResponse(plan, res({ 'content-range': 'bytes 5-99/1000', 'content-length': '94' })), 'Content-Length: 94, but that range holds 95 bytes');
  integrity(() => checkRangedResponse(plan, res({ 'content-range': 'bytes 5-99/1000' }), { expectedTotal: 2000 }), 'total size 1000, but the object is 2000 bytes (expectedTotal)');
  integrity(() => checkRangedResponse(planRangedRead('bytes=2000-'), res({ 'content-range': 'bytes 0-999/1000' })), 'selects no byte of a 1000-byte object (expected 416)');
  integrity(() => checkRangedResponse(plan, res({}, 200)), '200 (the whole object) without Content-Length');
  // ali-oss hands headers lower-cased; other casings and numeric values are read too.
  assert.equal(checkRangedResponse(plan, { status: 206, headers: { 'Content-Range': 'bytes 5-99/1000', 'Content-Length': 95 } }).keepLength, 95);
});

model.run();

// ---------------------------------------------------------------------------------------------------------------
const ranges = { cases: interopRanges() };
const vectors = new Map(interopVectors().map((v) => [v.name, v]));

const fixtures = suite('ranges.json cases (objects written by the official SDKs)');

fixtures('parser, resolver and planner agree with every case', () => {
  assert.ok(ranges.cases.length >= 20);
  for (const c of ranges.cases) {
    const stored = ciphertextOf(vectors.get(c.vector)!);
    const cr = parseContentRange(c.content_range);
    assert.equal(cr, { start: c.start, end: c.end, total: stored.length }, c.range);
    assert.is(c.end - c.start + 1, c.expected_length);
    const plan = planRangedRead(c.range);
    assert.is(plan.header, c.range, 'sent unchanged');
    assert.equal(resolveRange(plan.range, stored.length), { start: c.start, end: c.end }, c.range);
    // The model server gives the case's own Content-Range.
    const answer = serve(new Uint8Array(stored), applyRangeHeaders({}, plan));
    assert.is(answer.headers['content-range'], c.content_range, c.range);
    assert.equal(
      checkRangedResponse(plan, { status: 206, headers: { 'content-range': c.content_range, 'content-length': String(c.expected_length) } }, { expectedTotal: stored.length }),
      { cipherOffset: c.start, dropLeading: 0, keepLength: c.expected_length, totalSize: stored.length, start: c.start, end: c.end },
    );
  }
});

for (const backend of backends) {
  fixtures(`decrypting the checked selection gives the expected plaintext hash (${backend.name})`, () => {
    for (const c of ranges.cases) {
      const v = vectors.get(c.vector)!;
      const stored = new Uint8Array(ciphertextOf(v));
      const plan = planRangedRead(c.range);
      const answer = serve(stored, applyRangeHeaders({}, plan));
      const sel = checkRangedResponse(plan, answer, { expectedTotal: stored.length });
      const key = hex(v.plain_unwrap.data_key_hex);
      const counter = hex(v.plain_unwrap.initial_counter_block_hex); // V2: the IV; V1: the decimal start as a block
      const plain = aesCtrXor(key, counter, answer.body, sel.cipherOffset, backend.options).subarray(sel.dropLeading, sel.dropLeading + sel.keepLength);
      assert.is(plain.length, c.expected_length, `${c.vector} ${c.range}`);
      assert.is(createHash('sha256').update(plain).digest('hex'), c.expected_sha256, `${c.vector} ${c.range}`);
    }
  });
}

fixtures.run();
