/**
 * Tests of bindings/keys/bigint-bytes.ts (the fixed-length conversions of the PKCS#1 v1.5 encrypt path):
 * round trips and agreement with Buffer's hex codec (fast-check), leading zeros kept, overflow refused; and the
 * source of keys/rsa.ts no longer converts the padded block through a hex string.
 * @module
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bigIntToBytes, bytesToBigInt } from '../bindings/keys/bigint-bytes.js';

const s = suite('bigint-bytes: fixed-length big-endian conversions');

s('agree with a hex round trip through Buffer, for every length 0..600 bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const n = bytesToBigInt(bytes);
      const viaHex = bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
      return n === viaHex && Buffer.from(bigIntToBytes(n, bytes.length)).equals(Buffer.from(bytes));
    }),
    { numRuns: 500 },
  );
});

s('leading zero bytes are kept; values that do not fit or are negative are refused', () => {
  assert.equal([...bigIntToBytes(1n, 4)], [0, 0, 0, 1]);
  assert.equal([...bigIntToBytes(0n, 3)], [0, 0, 0]);
  assert.is(bytesToBigInt(new Uint8Array([0, 0, 0x0f])), 15n);
  assert.throws(() => bigIntToBytes(256n, 1), RangeError);
  assert.throws(() => bigIntToBytes(-1n, 8), RangeError);
});

s('keys/rsa-engine.ts (the PKCS#1 v1.5 encryption, moved out of rsa.ts) builds no hex string of the padded block and has no branch on b < 16', () => {
  const source = readFileSync(new URL('../bindings/keys/rsa-engine.ts', import.meta.url), 'utf8');
  assert.not.match(source, /b < 16/);
  assert.not.match(source, /toHexString/);
  assert.match(source, /modPow\(bytesToBigInt\(em\), e, n\)/);
});

s.run();
