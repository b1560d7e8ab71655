/**
 * The one check of a content key and the one check of a material description, for every layer that accepts
 * them from a caller (key wrappers, the codec, the keyring). docs/FORMAT.md §1 (sizes), §2.3 (matdesc).
 *
 * Programmer mistakes throw `TypeError`/`RangeError` naming the argument (docs/ARCHITECTURE.md §9). A layer
 * that must report a bad key as a domain failure (the keyring, about what a material returned) asks
 * {@link contentKeyProblem} and words its own error.
 * @module
 */
import { IV_BYTES, KEY_BYTES } from '../cipher/sizes.js';
import { describe } from '../util/describe.js';
import type { ContentKey, Matdesc } from './types.js';

/**
 * What is wrong with a would-be content key, first problem only; `undefined` when it is a 32-byte key and a
 * 16-byte IV.
 * @example
 *   contentKeyProblem({ key: new Uint8Array(31), iv }) // { field: 'key', length: 31, expected: 32 }
 */
export type ContentKeyProblem =
  | { readonly field: 'content' | 'key' | 'iv'; readonly got: string; readonly length?: undefined; readonly expected?: undefined }
  | { readonly field: 'key' | 'iv'; readonly length: number; readonly expected: number; readonly got?: undefined };

/**
 * Finds the first problem of a would-be content key: not an object, key not bytes, key length, IV not bytes,
 * IV length (in that order).
 * @param content anything a caller or a material handed over
 * @returns the problem, or `undefined` when `content` is a valid {@link ContentKey}
 * @example
 *   const problem = contentKeyProblem(returned);
 *   if (problem?.length !== undefined) console.log(`${problem.field} has ${problem.length} bytes`);
 */
export function contentKeyProblem(content: unknown): ContentKeyProblem | undefined {
  if (content === null || typeof content !== 'object') return { field: 'content', got: describe(content) };
  const { key, iv } = content as { key?: unknown; iv?: unknown };
  if (!(key instanceof Uint8Array)) return { field: 'key', got: describe(key) };
  if (key.length !== KEY_BYTES) return { field: 'key', length: key.length, expected: KEY_BYTES };
  if (!(iv instanceof Uint8Array)) return { field: 'iv', got: describe(iv) };
  if (iv.length !== IV_BYTES) return { field: 'iv', length: iv.length, expected: IV_BYTES };
  return undefined;
}

/**
 * Checks a content key argument.
 * @param content the argument
 * @param name its name in messages. Default `content`.
 * @throws {TypeError} `"content.key" expected a Uint8Array, got string`
 * @throws {RangeError} `"content.key" expected 32 bytes, got 31`
 * @example
 *   checkContentKey(content); // at the top of wrap(content)
 */
export function checkContentKey(content: unknown, name = 'content'): asserts content is ContentKey {
  const problem = contentKeyProblem(content);
  if (problem === undefined) return;
  const where = problem.field === 'content' ? name : `${name}.${problem.field}`;
  if (problem.length !== undefined) throw new RangeError(`"${where}" expected ${problem.expected} bytes, got ${problem.length}`);
  throw new TypeError(`"${where}" expected ${problem.field === 'content' ? 'a ContentKey { key, iv }' : 'a Uint8Array'}, got ${problem.got}`);
}

/**
 * Checks a material description argument and returns a frozen copy of it (own properties only, so a
 * `__proto__` name stays an ordinary entry).
 * @param value the argument
 * @param name its name in messages. Default `matdesc`.
 * @returns the frozen copy
 * @throws {TypeError} `"matdesc" expected an object of strings, got Array`, `"matdesc.a" expected a string, got number: "matdesc" holds string values only`
 * @example
 *   const matdesc = checkMatdesc(options.matdesc ?? {});
 */
export function checkMatdesc(value: unknown, name = 'matdesc'): Matdesc {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`"${name}" expected an object of strings, got ${describe(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new TypeError(`"${name}.${k}" expected a string, got ${describe(v)}: "${name}" holds string values only`);
    }
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: false, configurable: false });
  }
  return Object.freeze(out);
}
