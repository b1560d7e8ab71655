/**
 * How error messages name a value they did not expect, in one place, so every "got …" reads alike.
 *
 * Three phrasings, each for one kind of message:
 * - {@link describe}: the value's type only (`null`, `Array`, `Uint16Array`, `string`, `number`). Safe for any
 *   argument, including ones that may hold key material, because it never shows the value itself.
 * - {@link describeValue}: like `describe`, but shows numbers, bigints and short strings, for arguments that are
 *   never secret (lengths, offsets, CRC text) where the value explains the mistake better than its type.
 * - {@link describeKind}: a phrase for parsers of stored documents (checkpoints): "a string of 0 characters",
 *   "the number 5", "an array", "nothing".
 *
 * Deliberately not here: the message around the description; each caller says what it expected.
 * @module
 */

/** Strings longer than this are described by their length, not shown. */
const SHOWN_STRING_MAX = 40;

/**
 * The type of `value` as a message names it; never its contents.
 * @param value anything a caller passed
 * @returns `null`, `Array`, the constructor name of an object (`Uint16Array`, `Object`), or `typeof value`
 * @example
 *   describe(null)               // 'null'
 *   describe([1, 2])             // 'Array'
 *   describe(new ArrayBuffer(4)) // 'ArrayBuffer'
 *   describe('secret')           // 'string'
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Like {@link describe}, but shows a number, a bigint or a short string itself. Use only where the value cannot
 * be secret.
 * @param value a non-secret value a caller passed
 * @returns `-5`, `1.5`, `-1n`, `"abc"`, `a 90-character string`, or what {@link describe} says
 * @example
 *   describeValue(1.5)   // '1.5'
 *   describeValue(-1n)   // '-1n'
 *   describeValue('abc') // '"abc"'
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') {
    return value.length > SHOWN_STRING_MAX ? `a ${value.length}-character string` : JSON.stringify(value);
  }
  return describe(value);
}

/**
 * A phrase for a field of a stored document that has the wrong kind of value. Strings are described by their
 * length only (a document may hold names the reader should not see echoed).
 * @param value the field's value as parsed from JSON
 * @returns `null`, `nothing`, `an array`, `the number 5`, `a string of 3 characters`, or `a <typeof>`
 * @example
 *   describeKind(undefined) // 'nothing'
 *   describeKind('')        // 'a string of 0 characters'
 *   describeKind(7)         // 'the number 7'
 */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return `a ${typeof value}`;
}
