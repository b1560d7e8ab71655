/**
 * Shared test helpers: hex, boundary lists and fixture paths.
 * @module
 */
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';

/** Hex string to bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Bytes to lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Absolute path of a file under test/fixtures/. */
export function fixturePath(...parts: string[]): string {
  return fileURLToPath(new URL(['fixtures', ...parts].join('/'), import.meta.url));
}

/**
 * Awaits `promise`, which must reject, and returns the error after checking it: with a function `check`, or with
 * a class and a stable code (and optionally a message pattern) as `rejects(p, KeyUnwrapError, 'KEY_NO_MATCH')`.
 */
export async function rejects(promise: Promise<unknown>, check?: (err: any) => void): Promise<any>;
export async function rejects(promise: Promise<unknown>, cls: Function, code: string, pattern?: string | RegExp): Promise<any>;
export async function rejects(
  promise: Promise<unknown>,
  checkOrClass?: Function,
  code?: string,
  pattern?: string | RegExp,
): Promise<any> {
  const check = typeof code === 'string' ? isCode(checkOrClass!, code, pattern) : (checkOrClass as ((err: any) => void) | undefined);
  try {
    await promise;
  } catch (err) {
    check?.(err);
    return err;
  }
  throw new assert.Assertion({ message: 'expected a rejection, the call succeeded', generated: false, operator: 'rejects', expects: 'a rejection', actual: 'success' } as never);
}

/** A `rejects` check: the error is an instance of `cls` carrying `code`, its message matching `pattern` if given. */
export const isCode = (cls: Function, code: string, pattern?: string | RegExp) => (err: any): void => {
  assert.instance(err, cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`);
  assert.is(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
};

/**
 * Calls `fn`, which must throw an instance of `Class` whose message equals `message` (a string) or matches it
 * (a RegExp).
 */
export function throwsWith(fn: () => unknown, Class: Function, message: string | RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, Class, `expected ${Class.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    if (typeof message === 'string') assert.is((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${Class.name}`);
}

/**
 * The synchronous {@link rejects}: `fn` must throw an instance of `cls` carrying `code`, its message matching
 * `pattern` (a RegExp, or a string it must contain) if given. Returns the message.
 */
export function throwsCode(fn: () => unknown, cls: Function, code: string, pattern?: string | RegExp): string {
  try {
    fn();
  } catch (err) {
    isCode(cls, code, pattern)(err);
    return (err as Error).message;
  }
  assert.unreachable(`expected ${cls.name} ${code}`);
  return '';
}
