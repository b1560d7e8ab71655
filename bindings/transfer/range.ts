/**
 * Ranged reads of encrypted objects: parse what the caller asked for, plan the request, and check the server's
 * answer before a single byte is decrypted (docs/FORMAT.md §4, §8; RFC 9110 §14).
 *
 * **Design: no widening.** docs/FORMAT.md §4 describes the official SDKs' approach: widen the start down to a
 * multiple of 16, ask for that, and drop the extra leading bytes. We do not widen, because AES-CTR can start at
 * any byte: `aesCtr(cek, iv, S)` positions the counter at `IV + floor(S/16)` and skips `S % 16` keystream bytes.
 * Asking for exactly the caller's bytes is therefore correct, and it is simpler in three ways:
 * - suffix (`bytes=-n`) and open (`bytes=a-`) ranges go out unchanged (widening a suffix needs the object size,
 *   which is exactly where the official SDKs go wrong);
 * - the server's `Content-Range` and `Content-Length` describe the bytes the caller gets, so a client can hand
 *   the response headers back as they came, exactly like a plain ali-oss `get`;
 * - fewer bytes travel.
 * What correctness does need is the real start of the returned bytes, so the counter is positioned from the
 * response's `Content-Range`, after checking that it is exactly the range RFC 9110 says the request selects
 * (with the object's total size). A server that answers with other bytes is caught here (`INTEGRITY_RANGE`),
 * never decrypted under the wrong counter. Every plan sends `x-oss-range-behavior: standard`, so OSS answers a
 * start past the end with 416 instead of silently returning the whole object (docs/FORMAT.md §8).
 *
 * Accepted forms (ali-oss users pass `headers: { Range: 'bytes=0-99' }`; ali-oss has no `range` option, so
 * {@link rangeFromHeaders} reads that header in any letter case): `bytes=a-b`, `bytes=a-`, `bytes=-n`, the
 * same without `bytes=`, and the objects `{ offset, length? }` and `{ suffix }`. There is deliberately no
 * `{ start, end }` or `[start, end]` form: HTTP's end is inclusive, `Buffer#slice`'s and ali-oss
 * `uploadPart`'s are exclusive, and guessing which one a caller meant is how off-by-one reads happen.
 * Multi-range requests are refused (a multipart/byteranges body cannot be one CTR stream).
 *
 * Pure: no I/O, no `node:` imports. Not here: sending the request, decrypting, counting the body's bytes
 * (a short body is the client's `INTEGRITY_TRUNCATED`).
 * @module
 */
import { IntegrityError } from '../errors.js';
import { describe } from '../util/describe.js';

/** The request header that makes OSS follow RFC 9110 range semantics (docs/FORMAT.md §8). */
export const RANGE_BEHAVIOR_HEADER = 'x-oss-range-behavior';

/** A single byte range, normalised. Positions are byte offsets in the object; `end` is inclusive, as in HTTP. */
export type RangeSpec =
  | { readonly kind: 'bounded'; readonly start: number; readonly end: number }
  | { readonly kind: 'open'; readonly start: number }
  | { readonly kind: 'suffix'; readonly length: number };

/**
 * What {@link parseRange} accepts: a Range header value (`bytes=5-99`, `bytes=5-`, `bytes=-17`, or the same
 * without `bytes=`), `{ offset, length? }` (no `length`: to the end), `{ suffix }` (the last `suffix` bytes), or
 * an already parsed {@link RangeSpec}.
 */
export type RangeInput = string | { readonly offset: number; readonly length?: number } | { readonly suffix: number } | RangeSpec;

/** The bytes a range selects in an object of known size: `[start, end]`, inclusive. */
export interface ResolvedRange {
  readonly start: number;
  readonly end: number;
}

/** A parsed `Content-Range: bytes S-E/T` value. `total` is `undefined` for `bytes S-E/*`. */
export interface ContentRange {
  readonly start: number;
  readonly end: number;
  readonly total: number | undefined;
}

/** What to send for one ranged read. */
export interface RangedReadPlan {
  /** The caller's range, normalised. */
  readonly range: RangeSpec;
  /** The `Range` header value to send, e.g. `bytes=5-99` (never widened: see the module notes). */
  readonly header: string;
  /** Every header the request needs: `Range` and `x-oss-range-behavior: standard`. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Where the wanted plaintext sits in a checked response body. Decrypt the body from object offset
 * `cipherOffset` (`aesCtr(cek, iv, cipherOffset)`), then return bytes `[dropLeading, dropLeading + keepLength)`.
 */
export interface RangedReadSelection {
  /** Object offset of the body's first byte: the CTR position to decrypt the body from. */
  readonly cipherOffset: number;
  /** Body bytes before the first wanted byte. Always 0 in this design (we never widen); kept so callers slice by contract. */
  readonly dropLeading: number;
  /** Wanted bytes after `dropLeading`; the body must hold at least `dropLeading + keepLength` bytes. */
  readonly keepLength: number;
  /** The object's total size, from `Content-Range` (206) or `Content-Length` (200). */
  readonly totalSize: number;
  /** First wanted byte's object offset. */
  readonly start: number;
  /** Last wanted byte's object offset (inclusive). */
  readonly end: number;
}

/** The parts of an HTTP response {@link checkRangedResponse} reads; ali-oss's `result.res` fits as is. */
export interface RangedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
}

/** Options of {@link checkRangedResponse}. */
export interface CheckRangedResponseOptions {
  /** The object size the caller already knows (from HEAD or a checkpoint); the response's total must equal it. */
  expectedTotal?: number;
}

/**
 * Parses one byte range in any accepted form.
 * @throws {RangeError} `"range" expected bytes=a-b, bytes=a- or bytes=-n, got "bytes=0-1,5-6" (multiple ranges
 *   are not supported)`; also malformed numbers, `a > b`, empty selections (`bytes=-0`, `length: 0`)
 * @throws {TypeError} for a value of the wrong type or an object of unknown shape such as `{ start, end }`
 * @example
 *   parseRange('bytes=5-99');            // { kind: 'bounded', start: 5, end: 99 }
 *   parseRange('-17');                   // { kind: 'suffix', length: 17 }
 *   parseRange({ offset: 100 });         // { kind: 'open', start: 100 }
 *   parseRange({ offset: 0, length: 16 }); // { kind: 'bounded', start: 0, end: 15 }
 */
export function parseRange(input: RangeInput): RangeSpec {
  if (typeof input === 'string') return parseRangeText(input);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(
      `"range" expected a Range string or { offset, length? } / { suffix }, got ${Array.isArray(input) ? 'an array (ambiguous: is the end inclusive?)' : describe(input)}`,
    );
  }
  const keys = Object.keys(input).sort().join(',');
  const o = input as Record<string, unknown>;
  if ('kind' in o) {
    if (o.kind === 'bounded' && keys === 'end,kind,start') return bounded(o.start, o.end, `bounded range ${o.start}-${o.end}`);
    if (o.kind === 'open' && keys === 'kind,start') return freeze({ kind: 'open', start: position('start', o.start) });
    if (o.kind === 'suffix' && keys === 'kind,length') return suffix(o.length, `suffix range -${o.length}`);
  } else if (keys === 'length,offset' || keys === 'offset') {
    const start = position('offset', o.offset);
    if (o.length === undefined) return freeze({ kind: 'open', start });
    const length = position('length', o.length);
    if (length === 0) throw new RangeError(`"range" expected a length of at least 1, got { offset: ${start}, length: 0 }`);
    // Compared this way round so that no intermediate value leaves the safe-integer range.
    if (length - 1 > Number.MAX_SAFE_INTEGER - start) {
      throw new RangeError(`"range" expected offset + length - 1 <= 2^53 - 1, got { offset: ${start}, length: ${length} }`);
    }
    return bounded(start, start + length - 1, `{ offset: ${start}, length: ${length} }`);
  } else if (keys === 'suffix') {
    return suffix(o.suffix, `{ suffix: ${String(o.suffix)} }`);
  }
  throw new TypeError(
    `"range" expected { offset, length? } or { suffix }, got an object with keys {${keys}}` +
      (keys === 'end,start' ? ' (ambiguous: HTTP ends are inclusive, slice ends exclusive; use { offset, length })' : ''),
  );
}

/**
 * The `Range` header value for a range: `bytes=a-b`, `bytes=a-` or `bytes=-n`.
 * @example
 *   formatRange(parseRange({ offset: 0, length: 100 })); // 'bytes=0-99'
 */
export function formatRange(range: RangeSpec): string {
  switch (range.kind) {
    case 'bounded':
      return `bytes=${range.start}-${range.end}`;
    case 'open':
      return `bytes=${range.start}-`;
    case 'suffix':
      return `bytes=-${range.length}`;
  }
}

/**
 * The bytes a range selects in an object of `totalSize` bytes, under RFC 9110 §14.1.2 (which OSS follows when
 * sent `x-oss-range-behavior: standard`): an end past the last byte is clamped, a suffix longer than the object
 * selects all of it, and a start at or past the end (or any range of an empty object) selects nothing (`null`,
 * a 416 answer).
 * @example
 *   resolveRange(parseRange('bytes=-17'), 1000);     // { start: 983, end: 999 }
 *   resolveRange(parseRange('bytes=10-1031'), 31);   // { start: 10, end: 30 }
 *   resolveRange(parseRange('bytes=31-'), 31);       // null
 */
export function resolveRange(range: RangeSpec, totalSize: number): ResolvedRange | null {
  position('totalSize', totalSize);
  if (totalSize === 0) return null;
  switch (range.kind) {
    case 'bounded':
      return range.start >= totalSize ? null : { start: range.start, end: Math.min(range.end, totalSize - 1) };
    case 'open':
      return range.start >= totalSize ? null : { start: range.start, end: totalSize - 1 };
    case 'suffix':
      return { start: Math.max(0, totalSize - range.length), end: totalSize - 1 };
  }
}

/**
 * The range a caller set in an ali-oss style headers object (`{ Range: 'bytes=0-99' }`, any letter case), or
 * `undefined` when there is none.
 * @throws {RangeError} when the value is malformed or more than one key spells `range`
 * @throws {TypeError} when the value is not a string
 * @example
 *   const range = rangeFromHeaders(options.headers);
 *   if (range) plan = planRangedRead(range);
 */
export function rangeFromHeaders(headers: Readonly<Record<string, unknown>> | undefined | null): RangeSpec | undefined {
  if (headers === undefined || headers === null) return undefined;
  const keys = Object.keys(headers).filter((k) => k.toLowerCase() === 'range');
  if (keys.length === 0) return undefined;
  if (keys.length > 1) {
    throw new RangeError(`"headers" expected one Range header, got ${keys.length}: ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  const value = headers[keys[0]];
  if (typeof value !== 'string') throw new TypeError(`"headers.${keys[0]}" expected a string, got ${describe(value)}`);
  return parseRangeText(value);
}

/**
 * Plans one ranged read: the headers to send (the caller's range, unchanged, plus `x-oss-range-behavior:
 * standard`). Check the answer with {@link checkRangedResponse}.
 * @throws {RangeError}/{TypeError} as {@link parseRange}
 * @example
 *   const plan = planRangedRead('bytes=5-99');
 *   const res = await oss.get(name, { headers: applyRangeHeaders(userHeaders, plan) });
 *   const sel = checkRangedResponse(plan, res.res);
 *   const plain = aesCtrXor(cek, iv, res.content, sel.cipherOffset).subarray(sel.dropLeading, sel.dropLeading + sel.keepLength);
 */
export function planRangedRead(input: RangeInput): RangedReadPlan {
  const range = parseRange(input);
  const header = formatRange(range);
  return Object.freeze({ range, header, headers: Object.freeze({ Range: header, [RANGE_BEHAVIOR_HEADER]: 'standard' }) });
}

/**
 * A copy of `headers` with the plan's headers in place of any `Range` / `x-oss-range-behavior` the caller set
 * (matched in any letter case, so the request never carries two Range headers).
 * @example
 *   applyRangeHeaders({ range: 'bytes=5-', 'x-oss-foo': '1' }, planRangedRead('bytes=5-'))
 *   // { 'x-oss-foo': '1', Range: 'bytes=5-', 'x-oss-range-behavior': 'standard' }
 */
export function applyRangeHeaders(
  headers: Readonly<Record<string, unknown>> | undefined | null,
  plan: RangedReadPlan,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const lower = k.toLowerCase();
    if (lower !== 'range' && lower !== RANGE_BEHAVIOR_HEADER) out[k] = v;
  }
  return Object.assign(out, plan.headers);
}

/**
 * Parses a `Content-Range` value strictly (RFC 9110 §14.4): `bytes S-E/T` or `bytes S-E/*`, digits only,
 * `S ≤ E`, `E < T`. The unsatisfied form `bytes *\/T` (only valid on a 416) is refused.
 * @throws {IntegrityError} `INTEGRITY_RANGE` for anything else (the value comes from the server)
 * @throws {TypeError} when `value` is not a string
 * @example
 *   parseContentRange('bytes 1363132-1363148/1363149'); // { start: 1363132, end: 1363148, total: 1363149 }
 */
export function parseContentRange(value: string): ContentRange {
  if (typeof value !== 'string') throw new TypeError(`"value" expected a string, got ${describe(value)}`);
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(value);
  const bad = (why: string) =>
    new IntegrityError('INTEGRITY_RANGE', `malformed Content-Range ${JSON.stringify(value)} from the server: ${why}`);
  if (m === null) {
    if (/^bytes \*\/\d+$/i.test(value)) throw bad('the unsatisfied-range form is only valid on a 416 answer');
    throw bad('expected "bytes <first>-<last>/<total>"');
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || (total !== undefined && !Number.isSafeInteger(total))) {
    throw bad('a number is beyond 2^53 - 1');
  }
  if (start > end) throw bad(`first byte ${start} is after last byte ${end}`);
  if (total !== undefined && end >= total) throw bad(`last byte ${end} is not inside the total size ${total}`);
  return Object.freeze({ start, end, total });
}

/**
 * Checks the server's answer to a planned ranged read and says which body bytes to decrypt from which offset.
 * Accepted: a 206 whose `Content-Range` is exactly the range RFC 9110 selects from its total size (and whose
 * `Content-Length`, when present, matches); or a 200 whose body (per `Content-Length`) is the whole object
 * *and* the whole object is what the range selects (e.g. `bytes=0-` or a suffix longer than the object).
 * @throws {IntegrityError} `INTEGRITY_RANGE`, naming what was asked and what came back: a 206 without or with a
 *   malformed `Content-Range`, a different start or end, an unknown total, a length disagreeing with the range,
 *   a whole-object 200 to a range that selects less (OSS ignored the range although `x-oss-range-behavior:
 *   standard` was sent), a total other than `expectedTotal`, any other status
 * @example
 *   const sel = checkRangedResponse(plan, { status: 206, headers: { 'content-range': 'bytes 5-99/1000' } });
 *   // { cipherOffset: 5, dropLeading: 0, keepLength: 95, totalSize: 1000, start: 5, end: 99 }
 */
export function checkRangedResponse(
  plan: RangedReadPlan,
  response: RangedResponse,
  options: CheckRangedResponseOptions = {},
): RangedReadSelection {
  const asked = `Range: ${plan.header} (with ${RANGE_BEHAVIOR_HEADER}: standard)`;
  const fail = (what: string) => new IntegrityError('INTEGRITY_RANGE', `the server answered ${what} to ${asked}`);
  const contentRange = header(response.headers, 'content-range', fail);
  const contentLength = header(response.headers, 'content-length', fail);
  const length = contentLength === undefined ? undefined : parseLength(contentLength, fail);
  if (options.expectedTotal !== undefined) position('expectedTotal', options.expectedTotal);

  if (response.status === 206) {
    if (contentRange === undefined) throw fail('206 without a Content-Range header; cannot tell where the bytes start');
    let got: ContentRange;
    try {
      got = parseContentRange(contentRange);
    } catch (err) {
      throw fail(`206 with ${(err as Error).message}`);
    }
    const shown = `206 with Content-Range: ${contentRange}`;
    if (got.total === undefined) throw fail(`${shown}: unknown total size, so the range cannot be verified`);
    checkTotal(got.total, options.expectedTotal, shown, fail);
    const want = resolveRange(plan.range, got.total);
    if (want === null) {
      throw fail(`${shown}, but that range selects no byte of a ${got.total}-byte object (expected 416)`);
    }
    if (got.start !== want.start || got.end !== want.end) {
      throw fail(`${shown}, but RFC 9110 selects bytes ${want.start}-${want.end} of a ${got.total}-byte object`);
    }
    const keepLength = got.end - got.start + 1;
    if (length !== undefined && length !== keepLength) {
      throw fail(`${shown} and Content-Length: ${length}, but that range holds ${keepLength} bytes`);
    }
    return selection(got.start, got.end, got.total);
  }

  if (response.status === 200) {
    if (length === undefined) throw fail('200 (the whole object) without Content-Length; cannot tell what it holds');
    const shown = `200 with the whole object (Content-Length: ${length})`;
    checkTotal(length, options.expectedTotal, shown, fail);
    const want = resolveRange(plan.range, length);
    if (want === null || want.start !== 0 || want.end !== length - 1) {
      const selects = want === null ? 'nothing (expected 416)' : `only bytes ${want.start}-${want.end}`;
      throw fail(`${shown}, but the range selects ${selects}; the server ignored the range`);
    }
    return selection(0, length - 1, length);
  }

  throw fail(`status ${response.status}; a ranged read expects 206 (or 200 with exactly the selected bytes)`);
}

function selection(start: number, end: number, totalSize: number): RangedReadSelection {
  return Object.freeze({ cipherOffset: start, dropLeading: 0, keepLength: end - start + 1, totalSize, start, end });
}

function checkTotal(total: number, expected: number | undefined, shown: string, fail: (what: string) => IntegrityError): void {
  if (expected !== undefined && total !== expected) {
    throw fail(`${shown}: total size ${total}, but the object is ${expected} bytes (expectedTotal); it changed`);
  }
}

function header(
  headers: Readonly<Record<string, unknown>>,
  name: string,
  fail: (what: string) => IntegrityError,
): string | undefined {
  let found: string | undefined;
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== name || v === undefined) continue;
    const value = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if ((typeof value !== 'string' && typeof value !== 'number') || found !== undefined) {
      throw fail(`several ${name} values (${JSON.stringify(v)})`);
    }
    found = String(value);
  }
  return found;
}

function parseLength(value: string, fail: (what: string) => IntegrityError): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw fail(`a malformed Content-Length ${JSON.stringify(value)}`);
  return n;
}

function parseRangeText(text: string): RangeSpec {
  if (typeof text !== 'string') throw new TypeError(`"range" expected a string, got ${describe(text)}`);
  const bad = (why: string) =>
    new RangeError(`"range" expected bytes=a-b, bytes=a- or bytes=-n, got ${JSON.stringify(text)} (${why})`);
  let body = text.trim();
  const eq = body.indexOf('=');
  if (eq >= 0) {
    if (body.slice(0, eq).toLowerCase() !== 'bytes') throw bad('the only range unit is bytes');
    body = body.slice(eq + 1);
  }
  if (body.includes(',')) throw bad('multiple ranges are not supported');
  let m = /^(\d+)-(\d*)$/.exec(body);
  if (m !== null) {
    const start = digits(m[1], bad);
    if (m[2] === '') return freeze({ kind: 'open', start });
    const end = digits(m[2], bad);
    if (start > end) throw bad(`first byte ${start} is after last byte ${end}`);
    return freeze({ kind: 'bounded', start, end });
  }
  m = /^-(\d+)$/.exec(body);
  if (m !== null) {
    const length = digits(m[1], bad);
    if (length === 0) throw bad('a suffix of 0 bytes selects nothing');
    return freeze({ kind: 'suffix', length });
  }
  throw bad('not a byte range');
}

function digits(text: string, bad: (why: string) => RangeError): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw bad(`${text} is beyond 2^53 - 1`);
  return n;
}

function bounded(start: unknown, end: unknown, shown: string): RangeSpec {
  const s = position('start', start);
  const e = position('end', end);
  if (s > e) throw new RangeError(`"range" expected start <= end, got ${shown}`);
  return freeze({ kind: 'bounded', start: s, end: e });
}

function suffix(length: unknown, shown: string): RangeSpec {
  const n = position('suffix', length);
  if (n === 0) throw new RangeError(`"range" expected a suffix of at least 1 byte, got ${shown}`);
  return freeze({ kind: 'suffix', length: n });
}

function position(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`"${name}" expected a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`"${name}" expected a non-negative safe integer, got ${value}`);
  }
  return value;
}

function freeze<T extends RangeSpec>(spec: T): T {
  return Object.freeze(spec);
}
