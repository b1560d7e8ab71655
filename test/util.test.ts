/**
 * Tests of bindings/util/: the describe() family that every "got …" message uses, and the one transient-error
 * rule shared by OSS and KMS calls (util/retry.ts), for the KMS failures it took over from keys/kms.ts; and the
 * import rules of the low folders (util/ is a leaf; wasm/ knows nothing of cipher/; envelope/ nothing of keys/).
 * (withRetry's counting and backoff are tested in client.test.ts; base64 in codec.test.ts; randomBytes in
 * keyring.test.ts.)
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KmsError } from '../bindings/errors.js';
import { isTransientKmsFailure } from '../bindings/keys/kms-failure.js';
import { describe, describeKind, describeValue } from '../bindings/util/describe.js';
import { isTransientError } from '../bindings/util/retry.js';

const names = suite('describe()');

names('describe names the type only, never the value', () => {
  const cases: [unknown, string][] = [
    [null, 'null'], [undefined, 'undefined'], [[1, 2], 'Array'], [{}, 'Object'], [new Uint16Array(2), 'Uint16Array'],
    [new ArrayBuffer(4), 'ArrayBuffer'], [Object.create(null), 'object'], ['a secret key', 'string'], [5, 'number'],
    [5n, 'bigint'], [true, 'boolean'], [() => 1, 'function'], [Symbol('s'), 'symbol'],
  ];
  for (const [value, want] of cases) assert.is(describe(value), want, String(want));
});

names('describeValue shows non-secret numbers, bigints and short strings; long strings by length', () => {
  assert.is(describeValue(-5), '-5');
  assert.is(describeValue(1.5), '1.5');
  assert.is(describeValue(Number.NaN), 'NaN');
  assert.is(describeValue(-1n), '-1n');
  assert.is(describeValue('abc'), '"abc"');
  assert.is(describeValue('x'.repeat(40)), JSON.stringify('x'.repeat(40)));
  assert.is(describeValue('x'.repeat(41)), 'a 41-character string');
  assert.is(describeValue(new Uint8Array(1)), 'Uint8Array');
});

names('describeKind phrases a stored field for checkpoint messages', () => {
  const cases: [unknown, string][] = [
    [null, 'null'], [undefined, 'nothing'], [[], 'an array'], [7, 'the number 7'], ['', 'a string of 0 characters'],
    [{}, 'a object'], [false, 'a boolean'],
  ];
  for (const [value, want] of cases) assert.is(describeKind(value), want, want);
});

const transient = suite('one transient-error rule for OSS and KMS');

transient('KMS busy codes are transient whatever status carries them; other KMS 4xx are final', () => {
  for (const code of ['Rejected.Throttling', 'Throttling', 'Throttling.User', 'InternalFailure', 'ServiceUnavailableTemporary']) {
    assert.is(isTransientError({ code, status: 400 }), true, code);
  }
  assert.is(isTransientError({ code: 'Forbidden.KeyNotFound', status: 404 }), false);
  assert.is(isTransientError({ code: 'InvalidParameter', status: 400 }), false);
});

transient('network failures the KMS SDK (httpx) raises are transient; a timeout under a 4xx is not', () => {
  assert.is(isTransientError({ code: 'ESOCKETTIMEDOUT' }), true);
  assert.is(isTransientError({ name: 'RequestTimeoutError' }), true);
  assert.is(isTransientError({ message: 'ReadTimeout(5000). GET http://kms/?Plaintext=… failed: timeout' }), true);
  assert.is(isTransientError({ message: 'timeout', status: 403 }), false);
  // Our own KmsError was already retried by the KMS wrapper: never again by an OSS retry around it.
  assert.is(isTransientError(new KmsError('x', { kmsCode: 'Throttling', status: 503 })), false);
});

transient('isTransientKmsFailure reads the SDK error shape (code in data, status in the message) before the shared rule', () => {
  const sdkError = (Code: string, status: number) =>
    Object.assign(new Error(`${Code}Error: code: ${status}, the message request id: r`), { code: `${Code}Error`, data: { Code, Message: 'm', RequestId: 'r' } });
  assert.is(isTransientKmsFailure(sdkError('Rejected.Throttling', 400)), true);
  assert.is(isTransientKmsFailure(sdkError('ServiceUnavailableTemporary', 503)), true);
  assert.is(isTransientKmsFailure(sdkError('Forbidden.KeyNotFound', 404)), false);
  assert.is(isTransientKmsFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true);
  assert.is(isTransientKmsFailure(new Error('Plaintext is not valid')), false);
});

const BINDINGS = fileURLToPath(new URL('../bindings/', import.meta.url));

/** Every relative import of every file in `folder` (a bindings/ subfolder), as paths relative to bindings/. */
function importsOf(folder: string): { file: string; target: string }[] {
  const dir = join(BINDINGS, folder);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => ({
        file: `${folder}/${name}`,
        target: relative(BINDINGS, normalize(join(dir, m[1]))),
      }));
    });
}

const leaves = suite('low folders import only what lies below them');

leaves('util/ imports nothing from bindings/ but errors.ts', () => {
  const found = importsOf('util');
  assert.ok(found.length > 0, 'no imports parsed at all: is the pattern still right?');
  assert.equal(found.filter((i) => !i.target.startsWith('util/') && i.target !== 'errors.js'), []);
});

leaves('wasm/ imports nothing from cipher/, envelope/ nothing from keys/', () => {
  assert.equal(importsOf('wasm').filter((i) => dirname(i.target) === 'cipher'), []);
  assert.equal(importsOf('envelope').filter((i) => dirname(i.target) === 'keys'), []);
  assert.ok(importsOf('envelope').some((i) => i.target === 'util/describe.js'), 'the import pattern finds envelope/\'s imports');
});

names.run();
transient.run();
leaves.run();
