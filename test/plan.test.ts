/**
 * Tests of bindings/upload/plan.ts: the part-plan invariants (fast-check), oss2's part-size rules, the
 * low-level part check, the plans of the multipart objects the official SDKs wrote, and that encrypting the
 * planned parts independently at `part.start` rebuilds those objects byte for byte.
 * @module
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor, type AesCtrOptions } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { PartError } from '../bindings/errors.js';
import {
  checkPart,
  choosePartSize,
  DEFAULT_PART_SIZE,
  MAX_PART_SIZE,
  MAX_PARTS,
  MIN_PART_SIZE,
  partAt,
  planParts,
  type PartPlan,
} from '../bindings/upload/plan.js';
import { fixturePath, hex, pseudoRandomBytes, throwsCode, throwsWith, toHex } from './_util.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Every CTR engine the checks must hold for: the default (WASM core) and node:crypto. */
const backends: Array<{ name: string; options: AesCtrOptions }> = [
  { name: 'default', options: {} },
  { name: 'native', options: { backend: nativeBackend } },
];


const throwsBuiltin = throwsWith;

/** The plan invariants of docs/ARCHITECTURE.md §7, checked from scratch. */
function assertPlanInvariants(plan: PartPlan, dataSize: number, partSize: number): void {
  assert.is(plan.dataSize, dataSize);
  assert.is(plan.partSize, partSize);
  assert.is(plan.parts.length, plan.partCount);
  assert.ok(plan.partCount >= 1 && plan.partCount <= MAX_PARTS, `partCount ${plan.partCount}`);
  let next = 0;
  plan.parts.forEach((part, i) => {
    assert.is(part.partNumber, i + 1);
    assert.is(part.start, next, 'contiguous');
    assert.is(part.start % 16, 0, 'block-aligned start');
    const last = i === plan.parts.length - 1;
    if (!last) assert.is(part.length, partSize, 'only the last part may be short');
    else {
      assert.ok(part.length <= partSize, 'last part no longer than partSize');
      assert.ok(part.length > 0 || dataSize === 0, 'no empty last part unless the object is empty');
    }
    next += part.length;
  });
  assert.is(next, dataSize, 'covers [0, dataSize)');
}

// oss2's rule for crypto multipart uploads (oss2/utils.py is_valid_crypto_part_size), restated independently.
function oss2ValidCryptoPartSize(partSize: number, dataSize: number): boolean {
  return partSize % 16 === 0 && partSize >= 100 * KiB && partSize * 10000 >= dataSize;
}

const invariants = suite('planParts invariants');

invariants('random (dataSize, partSize): contiguous, covering, aligned, only the last short, ≤ 10,000 parts', () => {
  const dataSize = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 44 }), fc.constant(0));
  const partSize = fc.oneof(
    fc.integer({ min: 1, max: 64 }).map((n) => n * 16),
    fc.integer({ min: 1, max: MAX_PART_SIZE / 16 }).map((n) => n * 16),
  );
  let planned = 0;
  let refused = 0;
  fc.assert(
    fc.property(dataSize, partSize, (d, p) => {
      const count = Math.max(1, Math.ceil(d / p));
      if (count > MAX_PARTS) {
        throwsCode(() => planParts(d, p, { minPartSize: 16 }), PartError, 'PART_INVALID', `makes ${count} parts`);
        refused++;
        return;
      }
      assertPlanInvariants(planParts(d, p, { minPartSize: 16 }), d, p);
      planned++;
    }),
    { numRuns: 400, seed: 20240611 },
  );
  assert.ok(planned > 50 && refused > 50, `both branches exercised (planned ${planned}, refused ${refused})`);
});

invariants('dataSize 0 plans one empty part (CompleteMultipartUpload needs a part)', () => {
  const plan = planParts(0, MiB);
  assert.equal(plan.parts, [{ partNumber: 1, start: 0, length: 0 }]);
  assert.is(plan.partCount, 1);
});

invariants('exact multiples end on a full part; one byte more adds a 1-byte part', () => {
  const exact = planParts(3 * MiB, MiB);
  assert.is(exact.partCount, 3);
  assert.is(exact.parts[2].length, MiB);
  const more = planParts(3 * MiB + 1, MiB);
  assert.is(more.partCount, 4);
  assert.equal(more.parts[3], { partNumber: 4, start: 3 * MiB, length: 1 });
});

invariants('exactly 10,000 parts is allowed, 10,001 is not', () => {
  assert.is(planParts(MAX_PARTS * MIN_PART_SIZE, MIN_PART_SIZE).partCount, MAX_PARTS);
  const message = throwsCode(() => planParts(MAX_PARTS * MIN_PART_SIZE + 1, MIN_PART_SIZE), PartError, 'PART_INVALID');
  assert.ok(message.includes('10001 parts') && message.includes('at most 10000') && message.includes('102416'), message);
});

invariants('the 100 KiB minimum applies to every part but the last', () => {
  assert.is(planParts(MIN_PART_SIZE - 16, MIN_PART_SIZE - 16).partCount, 1);
  assert.is(planParts(50, 16 * 4096).partCount, 1); // one short part: no minimum
  throwsCode(() => planParts(MIN_PART_SIZE, MIN_PART_SIZE - 16), PartError, 'PART_INVALID', 'below the minimum part size 102400');
  assert.is(planParts(MIN_PART_SIZE, MIN_PART_SIZE - 16, { minPartSize: 16 }).partCount, 2);
});

invariants('the plan is frozen data that survives JSON', () => {
  const plan = planParts(5 * MiB + 7, MiB);
  assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.parts) && Object.isFrozen(plan.parts[0]));
  assert.equal(JSON.parse(JSON.stringify(plan)), plan);
  assert.equal(plan.parts[5], { partNumber: 6, start: 5 * MiB, length: 7 });
});

invariants('programmer mistakes are RangeError / TypeError naming the argument', () => {
  throwsBuiltin(() => planParts(1000, 100001), RangeError, '"partSize" expected a multiple of 16, got 100001');
  throwsBuiltin(() => planParts(-1, MiB), RangeError, '"dataSize" expected a non-negative safe integer, got -1');
  throwsBuiltin(() => planParts(1.5, MiB), RangeError, '"dataSize" expected a non-negative safe integer, got 1.5');
  throwsBuiltin(() => planParts(Number.NaN, MiB), RangeError, '"dataSize" expected a non-negative safe integer, got NaN');
  throwsBuiltin(() => planParts(2 ** 53, MiB), RangeError, /"dataSize" expected a non-negative safe integer/);
  throwsBuiltin(() => planParts(1000, 0), RangeError, '"partSize" expected a positive safe integer, got 0');
  throwsBuiltin(() => planParts(1000, -16), RangeError, '"partSize" expected a positive safe integer, got -16');
  throwsBuiltin(() => planParts(1000, MAX_PART_SIZE + 16), RangeError, /"partSize" expected at most 5368709120/);
  throwsBuiltin(() => planParts('1000' as unknown as number, MiB), TypeError, '"dataSize" expected a number, got string');
  throwsBuiltin(() => planParts(1000, MiB, { minPartSize: 0 }), RangeError, /"minPartSize"/);
});

invariants('partAt returns the planned part and refuses numbers outside 1..partCount', () => {
  const plan = planParts(10 * MiB + 5, 2 * MiB);
  assert.equal(partAt(plan, 6), { partNumber: 6, start: 10 * MiB, length: 5 });
  assert.is(partAt(plan, 1), plan.parts[0]);
  throwsBuiltin(() => partAt(plan, 0), RangeError, '"partNumber" expected an integer in 1..6, got 0');
  throwsBuiltin(() => partAt(plan, 7), RangeError, '"partNumber" expected an integer in 1..6, got 7');
  throwsBuiltin(() => partAt(plan, 2.5), RangeError, '"partNumber" expected an integer in 1..6, got 2.5');
});

invariants.run();

const choose = suite('choosePartSize');

choose('results satisfy oss2 rules and are the smallest multiple of 16 that does', () => {
  const maxData = MAX_PARTS * MAX_PART_SIZE;
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 0, max: 10 * MiB }), fc.integer({ min: 0, max: maxData })),
      fc.option(fc.integer({ min: 1, max: 64 * MiB }), { nil: undefined }),
      (dataSize, preferred) => {
        const size = choosePartSize(dataSize, preferred === undefined ? {} : { preferred });
        const floor = preferred ?? DEFAULT_PART_SIZE;
        assert.ok(oss2ValidCryptoPartSize(size, dataSize), `oss2 accepts ${size} for ${dataSize}`);
        assert.ok(size >= floor && size <= MAX_PART_SIZE, `${size} within [${floor}, 5 GiB]`);
        // Minimal: 16 bytes less breaks a rule or the preference.
        const smaller = size - 16;
        assert.ok(smaller < floor || !oss2ValidCryptoPartSize(smaller, dataSize), `${smaller} would also do`);
        assertPlanInvariants(planParts(dataSize, size), dataSize, size);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

choose('known answers', () => {
  assert.is(choosePartSize(0), MiB);
  assert.is(choosePartSize(1000), MiB);
  assert.is(choosePartSize(1000, { preferred: 100_001 }), 102_400);
  assert.is(choosePartSize(1000, { preferred: 200_001 }), 200_016);
  assert.is(choosePartSize(20 * GiB), 2_147_488); // ceil(20 GiB / 10000) = 2147484, rounded up to 16
  assert.is(choosePartSize(10 * MiB, { preferred: 16, minimum: 16 }), 1056); // ceil(10 MiB / 10000) = 1049 → 1056
  assert.is(choosePartSize(MAX_PARTS * MAX_PART_SIZE), MAX_PART_SIZE);
});

choose('impossible sizes explain where the numbers came from', () => {
  const tooBig = MAX_PARTS * MAX_PART_SIZE + 1;
  throwsCode(() => choosePartSize(tooBig), PartError, 'PART_INVALID', /dataSize 53687091200001 needs parts of at least 5368709136 bytes to fit in 10000 parts, but OSS allows at most 5368709120 bytes/);
  throwsCode(() => choosePartSize(10, { preferred: 6 * GiB }), PartError, 'PART_INVALID', /preferred part size 6442450944/);
  throwsBuiltin(() => choosePartSize(10, { preferred: 0 }), RangeError, '"preferred" expected a positive safe integer, got 0');
  throwsBuiltin(() => choosePartSize(-5), RangeError, '"dataSize" expected a non-negative safe integer, got -5');
});

choose.run();

const parts = suite('checkPart');

parts('accepts exactly the planned lengths (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 36 }),
      fc.integer({ min: 1, max: 1 << 22 }).map((n) => n * 16),
      fc.integer({ min: -2, max: MAX_PARTS + 2 }),
      fc.integer({ min: -3, max: 3 }),
      (dataSize, partSize, partNumber, delta) => {
        fc.pre(Math.max(1, Math.ceil(dataSize / partSize)) <= MAX_PARTS);
        const plan = planParts(dataSize, partSize, { minPartSize: 16 });
        const inPlan = partNumber >= 1 && partNumber <= plan.partCount;
        const planned = inPlan ? plan.parts[partNumber - 1].length : partSize;
        const length = Math.max(0, planned + delta);
        if (inPlan && length === planned) {
          assert.is(checkPart(plan, partNumber, length), plan.parts[partNumber - 1]);
        } else {
          throwsCode(() => checkPart(plan, partNumber, length), PartError, 'PART_INVALID');
        }
      },
    ),
    { numRuns: 500, seed: 99 },
  );
});

parts('messages say which rule and where the numbers came from', () => {
  const plan = planParts(5 * MiB + 4000, MiB);
  const name = { name: 'big.bin' };
  throwsCode(() => checkPart(plan, 3, 1048000, name), PartError, 'PART_INVALID', 'part 3 of "big.bin" expected 1048576 bytes (partSize), got 1048000');
  throwsCode(() => checkPart(plan, 6, 5000, name), PartError, 'PART_INVALID',
    'part 6 of "big.bin" is the last part and expected 4000 bytes (dataSize 5246880 − start 5242880), got 5000');
  throwsCode(() => checkPart(plan, 7, 10, name), PartError, 'PART_INVALID',
    'part 7 of "big.bin" is beyond the plan: dataSize 5246880 in parts of partSize 1048576 makes 6 parts');
  throwsCode(() => checkPart(plan, 0, 10), PartError, 'PART_INVALID', 'part 0: part numbers start at 1');
  // A last part that is a full partSize long is still wrong when the plan says 4000.
  throwsCode(() => checkPart(plan, 6, MiB), PartError, 'PART_INVALID', 'expected 4000 bytes');
  assert.equal(checkPart(plan, 6, 4000), { partNumber: 6, start: 5 * MiB, length: 4000 });
  assert.equal(checkPart(planParts(0, MiB), 1, 0), { partNumber: 1, start: 0, length: 0 });
  throwsBuiltin(() => checkPart(plan, 1.5, 10), RangeError, '"partNumber" expected an integer, got 1.5');
  throwsBuiltin(() => checkPart(plan, 1, -1), RangeError, '"length" expected a non-negative safe integer, got -1');
});

parts.run();

interface Vector {
  name: string;
  ciphertext_file: string;
  plaintext_file?: string;
  multipart?: { part_size: number; data_size: number; parts: number; part_lengths: number[] };
  plain_unwrap: { data_key_hex: string; initial_counter_block_hex: string };
}
const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as { vectors: Vector[] };
const multipartVectors = manifest.vectors.filter((v) => v.multipart !== undefined);

const sdk = suite('plans of SDK-written multipart objects');

sdk('planParts reproduces the part layout oss2 and the C++ SDK used', () => {
  assert.ok(multipartVectors.length >= 4, 'the fixture set has multipart vectors');
  for (const v of multipartVectors) {
    const m = v.multipart!;
    const plan = planParts(m.data_size, m.part_size);
    assert.is(plan.partCount, m.parts, v.name);
    assert.equal(plan.parts.map((p) => p.length), m.part_lengths, v.name);
    // The plans are valid for checkPart exactly as the SDK cut them.
    m.part_lengths.forEach((len, i) => checkPart(plan, i + 1, len, { name: v.name }));
  }
});

for (const backend of backends) {
  sdk(`encrypting each planned part at part.start rebuilds the SDK object (${backend.name})`, () => {
    for (const v of multipartVectors) {
      const plaintext = new Uint8Array(readFileSync(fixturePath('interop', v.plaintext_file!)));
      const stored = new Uint8Array(readFileSync(fixturePath('interop', v.ciphertext_file)));
      const key = hex(v.plain_unwrap.data_key_hex);
      const iv = hex(v.plain_unwrap.initial_counter_block_hex);
      const plan = planParts(plaintext.length, v.multipart!.part_size);
      const out = new Uint8Array(plaintext.length);
      // Parts in reverse order: each part depends on nothing but its start.
      for (const part of [...plan.parts].reverse()) {
        const body = plaintext.subarray(part.start, part.start + part.length);
        out.set(aesCtrXor(key, iv, body, part.start, backend.options), part.start);
      }
      assert.is(toHex(out), toHex(stored), v.name);
    }
  });
}

for (const backend of backends) {
  sdk(`random plans: parts encrypted independently equal one whole-stream encryption (${backend.name})`, () => {
    const key = pseudoRandomBytes(32, 11);
    const iv = hex('0011223344556677 00000000 fffffffe');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 40 }).map((n) => n * 16), (size, partSize) => {
        const data = pseudoRandomBytes(size, size + 1);
        const whole = aesCtrXor(key, iv, data, 0, backend.options);
        const plan = planParts(size, partSize, { minPartSize: 16 });
        const out = new Uint8Array(size);
        for (const part of plan.parts) {
          out.set(aesCtrXor(key, iv, data.subarray(part.start, part.start + part.length), part.start, backend.options), part.start);
        }
        assert.is(toHex(out), toHex(whole));
      }),
      { numRuns: 60, seed: 3 },
    );
  });
}

sdk.run();
