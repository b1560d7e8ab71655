/**
 * Tests of bindings/integrity/crc64.ts (CRC-64/XZ, docs/FORMAT.md §6).
 *
 * Three independent oracles: the catalogue check value, a bit-at-a-time reference written here in the
 * *non-reflected* form (ECMA-182 polynomial MSB-first over bit-reversed bytes, then reversed back), which
 * shares no table or shift direction with the slicing-by-8 code, and the CRCs that the OSS-compatible server
 * used to make the interop fixtures reported for their stored bytes (manifest.json `oss_object`).
 * @module
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  CRC64_CHECK,
  CRC64_WASM_MIN_BYTES,
  Crc64,
  crc64,
  crc64Combine,
  crc64Js,
  crc64ToDecimal,
  parseCrc64Decimal,
} from '../bindings/integrity/crc64.js';
import { IntegrityError } from '../bindings/errors.js';
import { wasmCrc64Update } from '../bindings/integrity/crc64-wasm.js';
import { fixturePath, pseudoRandomBytes } from './_util.js';

const ASCII_CHECK = new TextEncoder().encode('123456789');
const MASK64 = (1n << 64n) - 1n;

/** CRC-64/XZ the long way: MSB-first shift register with the unreflected polynomial, reflected in and out. */
function referenceCrc64(data: Uint8Array): bigint {
  const POLY = 0x42f0e1eba9ea3693n;
  let reg = MASK64;
  for (const byte of data) {
    reg ^= BigInt(reverseBits(byte, 8)) << 56n;
    for (let bit = 0; bit < 8; bit++) {
      reg = reg & (1n << 63n) ? ((reg << 1n) & MASK64) ^ POLY : (reg << 1n) & MASK64;
    }
  }
  return reverseBits64(reg) ^ MASK64;
}

function reverseBits(value: number, width: number): number {
  let out = 0;
  for (let i = 0; i < width; i++) out |= ((value >>> i) & 1) << (width - 1 - i);
  return out >>> 0;
}

function reverseBits64(value: bigint): bigint {
  let out = 0n;
  for (let i = 0n; i < 64n; i++) out |= ((value >> i) & 1n) << (63n - i);
  return out;
}

const basics = suite('crc64: definition');

basics('check value of "123456789" is 0x995DC9BBDF1939FA (one-shot, class, reference)', () => {
  assert.is(CRC64_CHECK, 0x995dc9bbdf1939fan);
  assert.is(crc64(ASCII_CHECK), CRC64_CHECK);
  assert.is(new Crc64().update(ASCII_CHECK).digest(), CRC64_CHECK);
  assert.is(referenceCrc64(ASCII_CHECK), CRC64_CHECK);
});

basics('decimal text is what OSS puts in x-oss-hash-crc64ecma', () => {
  assert.is(crc64ToDecimal(CRC64_CHECK), '11051210869376104954');
  assert.is(new Crc64().update(ASCII_CHECK).toString(), '11051210869376104954');
  assert.is(crc64ToDecimal(0n), '0');
  assert.is(crc64ToDecimal(MASK64), '18446744073709551615');
});

basics('empty input gives 0 and leaves a running CRC unchanged', () => {
  assert.is(crc64(new Uint8Array(0)), 0n);
  assert.is(new Crc64().digest(), 0n);
  assert.is(crc64(new Uint8Array(0), CRC64_CHECK), CRC64_CHECK);
});

basics('agrees with the bit-by-bit reference for every length 0..199 and at odd byte offsets', () => {
  const data = pseudoRandomBytes(203, 7);
  for (let len = 0; len < 200; len++) {
    for (const start of [0, 1, 3]) {
      const view = data.subarray(start, start + len);
      assert.is(crc64(view), referenceCrc64(view), `length ${len} at offset ${start}`);
    }
  }
});

basics('agrees with the bit-by-bit reference on random inputs (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (data) => crc64(data) === referenceCrc64(data)),
    { numRuns: 200 },
  );
});

basics('single-bit and all-0xff inputs (catch table and sign-extension slips)', () => {
  for (let len = 1; len <= 24; len++) {
    const ones = new Uint8Array(len).fill(0xff);
    assert.is(crc64(ones), referenceCrc64(ones), `0xff x ${len}`);
    for (let bit = 0; bit < len * 8; bit += 5) {
      const one = new Uint8Array(len);
      one[bit >> 3] = 1 << (bit & 7);
      assert.is(crc64(one), referenceCrc64(one), `bit ${bit} of ${len}`);
    }
  }
});

basics('matches the CRCs the fixtures server reported for every interop object', () => {
  const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as {
    vectors: { name: string; ciphertext_file: string; oss_object: Record<string, string> }[];
  };
  let checked = 0;
  for (const v of manifest.vectors) {
    const stored = readFileSync(fixturePath('interop', v.ciphertext_file));
    assert.is(crc64ToDecimal(crc64(stored)), v.oss_object['x-oss-hash-crc64ecma'], v.name);
    checked++;
  }
  assert.ok(checked >= 20, `expected the manifest's vectors, found ${checked}`);
});

const incremental = suite('crc64: incremental');

incremental('crc64(b, crc64(a)) equals crc64(a‖b) at every split point', () => {
  const data = pseudoRandomBytes(97, 3);
  const whole = crc64(data);
  for (let cut = 0; cut <= data.length; cut++) {
    const a = data.subarray(0, cut);
    const b = data.subarray(cut);
    assert.is(crc64(b, crc64(a)), whole, `split at ${cut}`);
    assert.is(new Crc64().update(a).update(b).digest(), whole, `class, split at ${cut}`);
  }
});

incremental('three-way splits through the class, and a class resumed from a previous CRC', () => {
  const data = pseudoRandomBytes(41, 9);
  const whole = crc64(data);
  for (let i = 0; i <= data.length; i++) {
    for (let j = i; j <= data.length; j++) {
      const c = new Crc64().update(data.subarray(0, i)).update(data.subarray(i, j)).update(data.subarray(j));
      assert.is(c.digest(), whole, `splits ${i}, ${j}`);
      assert.is(c.length, data.length);
    }
    const resumed = new Crc64(crc64(data.subarray(0, i)), i).update(data.subarray(i));
    assert.is(resumed.digest(), whole, `resumed at ${i}`);
    assert.is(resumed.length, data.length);
  }
});

incremental('digest() can be read repeatedly between updates', () => {
  const c = new Crc64();
  c.update(ASCII_CHECK.subarray(0, 4));
  assert.is(c.digest(), crc64(ASCII_CHECK.subarray(0, 4)));
  assert.is(c.digest(), crc64(ASCII_CHECK.subarray(0, 4)));
  c.update(ASCII_CHECK.subarray(4));
  assert.is(c.digest(), CRC64_CHECK);
});

const combine = suite('crc64: combine');

combine('crc64Combine(crc(A), crc(B), |B|) equals crc(A‖B) for random sizes (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
      const joined = new Uint8Array(a.length + b.length);
      joined.set(a);
      joined.set(b, a.length);
      return crc64Combine(crc64(a), crc64(b), b.length) === crc64(joined);
    }),
    { numRuns: 150 },
  );
});

combine('zero-length sides, bigint lengths, and a 1 MiB right side', () => {
  const a = pseudoRandomBytes(100, 5);
  assert.is(crc64Combine(crc64(a), 0n, 0), crc64(a));
  assert.is(crc64Combine(0n, crc64(a), a.length), crc64(a));
  assert.is(crc64Combine(crc64(a), crc64(a), BigInt(a.length)), crc64(new Uint8Array([...a, ...a])));
  const big = pseudoRandomBytes(1 << 20, 11);
  const joined = new Uint8Array(a.length + big.length);
  joined.set(a);
  joined.set(big, a.length);
  assert.is(crc64Combine(crc64(a), crc64(big), big.length), crc64(joined));
});

combine('folding part CRCs in order gives the multipart object CRC', () => {
  const data = pseudoRandomBytes(5 * 1024 + 7, 13);
  for (const partSize of [16, 1000, 1024, 4096]) {
    let folded = 0n;
    for (let start = 0; start < data.length; start += partSize) {
      const part = data.subarray(start, start + partSize);
      folded = crc64Combine(folded, crc64(part), part.length);
    }
    assert.is(folded, crc64(data), `partSize ${partSize}`);
  }
});

const api = suite('crc64: arguments and parsing');

api('parseCrc64Decimal reads header text and rejects what is not a 64-bit decimal', () => {
  assert.is(parseCrc64Decimal('11051210869376104954'), CRC64_CHECK);
  assert.is(parseCrc64Decimal('0'), 0n);
  assert.is(parseCrc64Decimal('18446744073709551615'), MASK64);
  for (const bad of ['', '-1', '0x10', '12 ', '1.5', '18446744073709551616', '123456789012345678901']) {
    try {
      parseCrc64Decimal(bad);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (err) {
      assert.instance(err, IntegrityError, JSON.stringify(bad));
      assert.is((err as IntegrityError).code, 'INTEGRITY_CRC64');
      assert.match((err as Error).message, 'x-oss-hash-crc64ecma');
    }
  }
  assert.throws(() => parseCrc64Decimal('abc', 'UploadPart response'), /UploadPart response/);
});

api('programmer mistakes name the argument and the value', () => {
  assert.throws(() => crc64('abc' as unknown as Uint8Array), (e: Error) => e instanceof TypeError && /"data" expected a Uint8Array, got "abc"/.test(e.message));
  assert.throws(() => crc64(new Uint8Array(1), -1n), (e: Error) => e instanceof RangeError && /"previous".*got -1/.test(e.message));
  assert.throws(() => crc64(new Uint8Array(1), 5 as unknown as bigint), (e: Error) => e instanceof TypeError && /"previous"/.test(e.message));
  assert.throws(() => crc64Combine(0n, 1n << 64n, 1), (e: Error) => e instanceof RangeError && /"crcB"/.test(e.message));
  assert.throws(() => crc64Combine(0n, 0n, -5), (e: Error) => e instanceof RangeError && /"lengthB" expected a non-negative integer, got -5/.test(e.message));
  assert.throws(() => crc64Combine(0n, 0n, 1.5), (e: Error) => e instanceof RangeError && /got 1.5/.test(e.message));
  assert.throws(() => new Crc64().update([1, 2] as unknown as Uint8Array), TypeError);
  assert.throws(() => new Crc64(0n, -1), (e: Error) => e instanceof RangeError && /"previousLength"/.test(e.message));
});

/** The CRC of `data` from the core alone (release or debug build), whatever the length. */
function crc64Core(data: Uint8Array, debug: boolean, previous = 0n): bigint {
  const state = ~previous & MASK64;
  const register = new Uint32Array([Number(state & 0xffffffffn), Number(state >> 32n)]);
  assert.ok(wasmCrc64Update(register, data, debug), 'the core is available in Node');
  return ~((BigInt(register[1]) << 32n) | BigInt(register[0])) & MASK64;
}

const IO = 65536;

/** The same differential checks for each engine: the WASM core (release, debug) against the JavaScript one. */
function engineSuite(name: string, engine: (data: Uint8Array, previous?: bigint) => bigint) {
  const s = suite(`crc64 engine: ${name} vs JavaScript`);
  s('check value, and every length 0..199 at byte offsets 0, 1, 3 (unaligned loads)', () => {
    assert.is(engine(ASCII_CHECK), CRC64_CHECK);
    const data = pseudoRandomBytes(203, 11);
    for (let len = 0; len < 200; len++) {
      for (const start of [0, 1, 3]) {
        const view = data.subarray(start, start + len);
        assert.is(engine(view), crc64Js(view), `length ${len} at offset ${start}`);
      }
    }
  });
  s('lengths around the 16-byte step and the IO window, continuing from a previous CRC', () => {
    const data = pseudoRandomBytes(2 * IO + 40, 12);
    for (const len of [15, 16, 17, 31, 32, 33, 511, 512, 513, IO - 1, IO, IO + 1, 2 * IO + 5]) {
      for (const previous of [0n, CRC64_CHECK, MASK64]) {
        const view = data.subarray(1, 1 + len);
        assert.is(engine(view, previous), crc64Js(view, previous), `length ${len} from ${previous}`);
      }
    }
  });
  s('all-0xff, all-zero and single-bit inputs (catch table-index slips)', () => {
    for (const len of [16, 24, 100, 1000]) {
      assert.is(engine(new Uint8Array(len).fill(0xff)), crc64Js(new Uint8Array(len).fill(0xff)), `0xff x ${len}`);
      assert.is(engine(new Uint8Array(len)), crc64Js(new Uint8Array(len)), `0x00 x ${len}`);
      for (const bit of [0, 7, 8 * 8 - 1, 8 * 15, 8 * len - 1]) {
        const one = new Uint8Array(len);
        one[bit >> 3] = 1 << (bit & 7);
        assert.is(engine(one), referenceCrc64(one), `bit ${bit} of ${len}`);
      }
    }
  });
  s('random inputs and previous CRCs (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.bigInt({ min: 0n, max: MASK64 }), (data, previous) =>
        engine(data, previous) === crc64Js(data, previous)),
      { numRuns: 150 },
    );
  });
  return s;
}

const engines = [
  engineSuite('wasm release', (data, previous) => crc64Core(data, false, previous)),
  engineSuite('wasm debug', (data, previous) => crc64Core(data, true, previous)),
  engineSuite('crc64() (wasm from CRC64_WASM_MIN_BYTES on)', (data, previous) => crc64(data, previous)),
];

const dispatch = suite('crc64: dispatch between engines');

dispatch('Crc64 fed in chunks that straddle CRC64_WASM_MIN_BYTES equals the JavaScript CRC of the whole', () => {
  const data = pseudoRandomBytes(5 * IO + 77, 13);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3 * CRC64_WASM_MIN_BYTES }), { minLength: 1, maxLength: 40 }), (sizes) => {
      const c = new Crc64();
      let at = 0;
      for (const size of sizes) {
        c.update(data.subarray(at, Math.min(data.length, at + size)));
        at = Math.min(data.length, at + size);
      }
      c.update(data.subarray(at));
      return c.digest() === crc64Js(data) && c.length === data.length;
    }),
    { numRuns: 60 },
  );
});

basics.run();
for (const s of engines) s.run();
dispatch.run();
incremental.run();
combine.run();
api.run();
