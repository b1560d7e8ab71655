/**
 * The strict reader every checkpoint schema is parsed with (upload checkpoints, multipart crypto contexts,
 * download checkpoints): JSON parsing that keeps the parser's message only as the cause, and field checks whose
 * messages name the field and the expected shape, and quote numbers but never strings (a string in the wrong
 * place could be anything, key material included). A wrong field is `CHECKPOINT_MALFORMED`.
 *
 * Deliberately not here: any one schema (upload/checkpoint.ts, download/checkpoint.ts), files.
 * @module
 */
import { CheckpointError } from '../errors.js';
import { describeKind } from '../util/describe.js';

/** The schema version this library writes and reads. */
export const CHECKPOINT_VERSION = 1;

/**
 * Parses JSON text for a checkpoint schema.
 * @example
 *   const doc = parseJson(text, 'download checkpoint');
 */
export function parseJson(text: string, what: string): unknown {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser's message can quote the text; keep it only as the cause.
    throw new CheckpointError('CHECKPOINT_MALFORMED', `the ${what} is not valid JSON`, { cause: err });
  }
}

/**
 * Strict field validation for the checkpoint schemas. Messages name the field and the expected shape, and quote
 * numbers, never strings (a string in the wrong place could be anything, key material included).
 * @example
 *   const r = new FieldReader('upload checkpoint');
 *   const o = r.object(parseJson(text, 'upload checkpoint'), '', ['type', 'version'], []);
 */
export class FieldReader {
  /** @param what the document's name, for messages (`upload checkpoint`) */
  constructor(readonly what: string) {}

  fail(path: string, why: string): CheckpointError {
    return new CheckpointError('CHECKPOINT_MALFORMED', `${this.what}: ${path === '' ? 'the document' : `"${path}"`} ${why}`);
  }

  /** A plain object with exactly the required keys and no keys beyond the optional ones. */
  object(value: unknown, path: string, required: readonly string[], optional: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(path, `expected an object, got ${describeKind(value)}`);
    }
    const o = value as Record<string, unknown>;
    for (const key of required) {
      if (o[key] === undefined) throw this.fail(join(path, key), 'is missing');
    }
    const known = new Set([...required, ...optional]);
    const extra = Object.keys(o).filter((k) => !known.has(k) && o[k] !== undefined);
    if (extra.length > 0) throw this.fail(path, `has unknown field${extra.length > 1 ? 's' : ''} ${extra.map(fieldName).join(', ')}`);
    return o;
  }

  /** Checks `type` and `version`. */
  header(o: Record<string, unknown>, type: string): void {
    if (o.type !== type) throw this.fail('type', `expected ${JSON.stringify(type)}${typeof o.type === 'string' ? ' (this is another kind of document)' : `, got ${describeKind(o.type)}`}`);
    if (o.version !== CHECKPOINT_VERSION) {
      throw this.fail('version', `expected ${CHECKPOINT_VERSION}, got ${typeof o.version === 'number' ? o.version : describeKind(o.version)}; it was written by another version of ali-oss-crypto`);
    }
  }

  /** A non-empty string (object names, paths, bucket names: any characters). */
  text(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) throw this.fail(path, `expected a non-empty string, got ${describeKind(value)}`);
    return value;
  }

  /** A non-empty string of visible ASCII: header values and ids (upload id, ETag, wrapped key, wrap-alg). */
  token(value: unknown, path: string): string {
    const s = this.text(value, path);
    if (!/^[\x21-\x7e]+$/.test(s)) throw this.fail(path, 'expected visible ASCII only (it is sent in an HTTP header or URL)');
    return s;
  }

  /** A non-negative safe integer. */
  size(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.fail(path, `expected a non-negative integer, got ${typeof value === 'number' ? value : describeKind(value)}`);
    }
    return value;
  }

  /** A positive safe integer. */
  positive(value: unknown, path: string): number {
    const n = this.size(value, path);
    if (n === 0) throw this.fail(path, 'expected a positive integer, got 0');
    return n;
  }

  /** A finite number. */
  finite(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.fail(path, `expected a finite number, got ${describeKind(value)}`);
    return value;
  }

  /** CRC-64 as decimal text, `0 ≤ n < 2^64`, no leading zeros (as OSS's `x-oss-hash-crc64ecma`). */
  crc64(value: unknown, path: string): string {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(value) || BigInt(value) >= 1n << 64n) {
      throw this.fail(path, `expected a CRC-64 as decimal text (0 to 2^64 - 1), got ${describeKind(value)}`);
    }
    return value;
  }

  /** `Date#toISOString` output. */
  timestamp(value: unknown, path: string): string {
    const ok = typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
    if (!ok) throw this.fail(path, `expected an ISO 8601 UTC time such as 2024-01-31T12:00:00.000Z, got ${describeKind(value)}`);
    return value as string;
  }

  /** A JSON object of string values. */
  matdesc(value: unknown, path: string): Readonly<Record<string, string>> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      throw this.fail(path, `expected an object of strings, got ${describeKind(value)}`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw this.fail(join(path, SHOWN_NAME.test(k) ? k : `(a name of ${k.length} characters)`), `expected a string, got ${describeKind(v)}`);
    }
    // fromEntries defines own properties, so a key such as "__proto__" stays data, as JSON.parse made it.
    return Object.freeze(Object.fromEntries(Object.entries(value)));
  }

  /** An array of parts numbered 1..partCount, no duplicates; returned sorted by number and frozen. */
  parts<T extends { readonly number: number }>(
    value: unknown,
    path: string,
    partCount: number,
    readOne: (item: unknown, at: string) => T,
  ): readonly T[] {
    if (!Array.isArray(value)) throw this.fail(path, `expected an array, got ${describeKind(value)}`);
    const seen = new Set<number>();
    const out = value.map((item, i) => {
      const at = `${path}[${i}]`;
      const part = readOne(item, at);
      if (part.number < 1 || part.number > partCount) {
        throw this.fail(`${at}.number`, `expected a part number in 1..${partCount} (the plan's part count), got ${part.number}`);
      }
      if (seen.has(part.number)) throw this.fail(`${at}.number`, `repeats part ${part.number}`);
      seen.add(part.number);
      return Object.freeze(part);
    });
    return Object.freeze(out.sort((a, b) => a.number - b.number));
  }
}

/** A field name for a message: short identifier-like names as they are, anything else only by its length. */
function fieldName(key: string): string {
  return SHOWN_NAME.test(key) ? JSON.stringify(key) : `(a name of ${key.length} characters)`;
}

const SHOWN_NAME = /^[A-Za-z_$][\w$.-]{0,39}$/;

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
