/**
 * Tests of bindings/cipher/worker-pool.ts (AES-256-CTR on worker threads) against node:crypto as the oracle, on
 * both engines a worker can run: jobs at unaligned offsets, more jobs than workers, what is transferred and what
 * is copied, errors from a worker, and close().
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { counterAt } from '../bindings/cipher/aes-ctr.js';
import { createCtrPool } from '../bindings/cipher/worker-pool.js';
import { pseudoRandomBytes, rejects } from './_util.js';

const KEY = pseudoRandomBytes(32, 21);
const IV = pseudoRandomBytes(16, 22);

function oracle(data: Uint8Array, offset: number): Uint8Array {
  const c = createCipheriv('aes-256-ctr', KEY, counterAt(IV, offset - (offset % 16)));
  c.update(new Uint8Array(offset % 16));
  return new Uint8Array(c.update(data));
}

const s = suite('worker-pool: createCtrPool');

for (const engine of ['wasm', 'native'] as const) {
  s(`${engine}: 24 jobs on 2 workers at unaligned offsets give node:crypto's bytes`, async () => {
    const pool = createCtrPool({ workers: 2, engine });
    try {
      const jobs = Array.from({ length: 24 }, (_, i) => ({ offset: i * 70_001 + (i % 17), data: pseudoRandomBytes(1 + i * 9_999, 100 + i) }));
      const results = await Promise.all(jobs.map((j) => pool.xorAt(KEY, IV, j.offset, new Uint8Array(j.data))));
      results.forEach((r, i) => assert.equal(r, oracle(jobs[i].data, jobs[i].offset), `job ${i}`));
      assert.is(pool.size, 2);
    } finally {
      await pool.close();
    }
  });
}

s('a whole buffer is transferred (detached here, returned transformed); a view into a larger one is copied', async () => {
  const pool = createCtrPool({ workers: 1 });
  try {
    const whole = pseudoRandomBytes(5000, 30);
    const expected = oracle(whole, 33);
    const back = await pool.xorAt(KEY, IV, 33, whole);
    assert.is(whole.byteLength, 0, 'detached');
    assert.equal(back, expected);

    const big = pseudoRandomBytes(10_000, 31);
    const before = new Uint8Array(big);
    const view = big.subarray(100, 4100);
    const out = await pool.xorAt(KEY, IV, 7, view);
    assert.equal(big, before, 'the larger buffer is untouched and still attached');
    assert.equal(out, oracle(before.subarray(100, 4100), 7));
  } finally {
    await pool.close();
  }
});

s('a bad key is the worker’s RangeError; the pool keeps working; close() rejects later jobs', async () => {
  const pool = createCtrPool({ workers: 1 });
  await rejects(pool.xorAt(new Uint8Array(31), IV, 0, new Uint8Array(16)), (err) => {
    assert.instance(err, RangeError);
    assert.match(err.message, /"key" expected 32 bytes, got 31/);
  });
  const data = pseudoRandomBytes(100, 32);
  assert.equal(await pool.xorAt(KEY, IV, 0, new Uint8Array(data)), oracle(data, 0));
  await pool.close();
  await rejects(pool.xorAt(KEY, IV, 0, new Uint8Array(16)), (err) => assert.match(err.message, /closed/));
});

s('the worker count is checked', () => {
  assert.throws(() => createCtrPool({ workers: 0 }), (err: Error) => err instanceof RangeError && /"workers" expected an integer from 1 to 64, got 0/.test(err.message));
});

s.run();
