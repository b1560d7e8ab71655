/**
 * Tests of bindings/download/part-stream.ts: one part's body checksummed, decrypted in place and written at its
 * offset as it arrives. The body is a Readable of chosen chunk sizes (the resumable download tests drive the same
 * code over real HTTP); the oracles are node:crypto AES-256-CTR and the JavaScript CRC-64.
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtr, counterAt } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { createCtrPool } from '../bindings/cipher/worker-pool.js';
import { PART_WRITE_BATCH_BYTES, streamPartToFile } from '../bindings/download/part-stream.js';
import { IntegrityError } from '../bindings/errors.js';
import { crc64Js } from '../bindings/integrity/crc64.js';
import { pseudoRandomBytes, rejects } from './_util.js';

const KEY = pseudoRandomBytes(32, 1);
const IV = pseudoRandomBytes(16, 2);
const dir = await mkdtemp(join(tmpdir(), 'oss-crypto-part-stream-'));

/** The body as a stream of fresh chunks of the given sizes (each its own buffer, as a socket gives them). */
function bodyOf(bytes: Uint8Array, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - at);
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

function oracleDecrypt(cipher: Uint8Array, offset: number): Uint8Array {
  const d = createCipheriv('aes-256-ctr', KEY, counterAt(IV, offset - (offset % 16)));
  d.update(new Uint8Array(offset % 16));
  return new Uint8Array(d.update(cipher));
}

const s = suite('part-stream: streamPartToFile');

for (const engine of [undefined, nativeBackend]) {
  s(`decrypts in place at the part offset, writes there, returns the stored bytes' CRC (${engine?.name ?? 'wasm'})`, async () => {
    const path = join(dir, `a-${engine?.name ?? 'wasm'}.bin`);
    const file = await open(path, 'w+');
    try {
      await file.truncate(3 * PART_WRITE_BATCH_BYTES);
      // An unaligned offset and chunk sizes that straddle blocks and the write batch.
      const offset = PART_WRITE_BATCH_BYTES / 2 + 7;
      const length = 2 * PART_WRITE_BATCH_BYTES + 33;
      const stored = pseudoRandomBytes(length, 3);
      const ctr = aesCtr(KEY, IV, offset, { backend: engine });
      const crc = await streamPartToFile(bodyOf(stored, [1, 15, 4096, 65536, 70001, 100]), { file, offset, length, label: 'part 1', ctr });
      ctr.dispose();
      assert.is(crc, crc64Js(stored));
      const written = new Uint8Array(await readFile(path));
      assert.equal(written.subarray(offset, offset + length), oracleDecrypt(stored, offset));
      assert.ok(written.subarray(0, offset).every((b) => b === 0), 'nothing before the part');
      assert.ok(written.subarray(offset + length).every((b) => b === 0), 'nothing after the part');
    } finally {
      await file.close();
    }
  });
}

s('with a worker pool instead of a CTR stream: the same bytes at the same place, the same CRC', async () => {
  const path = join(dir, 'pool.bin');
  const file = await open(path, 'w+');
  const pool = createCtrPool({ workers: 2 });
  try {
    const offset = 3 * 16 + 5;
    const length = 2 * PART_WRITE_BATCH_BYTES + 1001;
    const stored = pseudoRandomBytes(length, 9);
    const crc = await streamPartToFile(bodyOf(stored, [65536, 333]), { file, offset, length, label: 'p', pool: { pool, key: KEY, iv: IV } });
    assert.is(crc, crc64Js(stored));
    assert.equal(new Uint8Array(await readFile(path)).subarray(offset), oracleDecrypt(stored, offset));
  } finally {
    await pool.close();
    await file.close();
  }
});

s('without a CTR stream (a plain object) the bytes are written as they came; an empty part writes nothing', async () => {
  const path = join(dir, 'plain.bin');
  const file = await open(path, 'w+');
  try {
    const stored = pseudoRandomBytes(5000, 4);
    assert.is(await streamPartToFile(bodyOf(stored, [999]), { file, offset: 100, length: 5000, label: 'p' }), crc64Js(stored));
    assert.equal(new Uint8Array(await readFile(path)).subarray(100), stored);
    assert.is(await streamPartToFile(Readable.from([]), { file, offset: 0, length: 0, label: 'p' }), 0n);
  } finally {
    await file.close();
  }
});

s('checksum: false writes the same bytes and computes no CRC-64 (a ranged get has nothing to compare it with)', async () => {
  const path = join(dir, 'no-crc.bin');
  const file = await open(path, 'w+');
  try {
    const stored = pseudoRandomBytes(70_000, 5);
    assert.is(await streamPartToFile(bodyOf(stored, [4096, 65536]), { file, offset: 0, length: stored.length, label: 'p', checksum: false }), undefined);
    assert.equal(new Uint8Array(await readFile(path)), stored);
  } finally {
    await file.close();
  }
});

s('a body longer than the part is INTEGRITY_LENGTH; a short one INTEGRITY_TRUNCATED without a cause', async () => {
  const file = await open(join(dir, 'len.bin'), 'w+');
  try {
    const stored = pseudoRandomBytes(3000, 5);
    const long = await rejects(streamPartToFile(bodyOf(stored, [1000]), { file, offset: 0, length: 2999, label: 'part 7' }), IntegrityError, 'INTEGRITY_LENGTH', /part 7 should hold 2999 bytes/);
    assert.is(long.cause, undefined);
    const short = await rejects(streamPartToFile(bodyOf(stored, [1000]), { file, offset: 0, length: 3001, label: 'part 8' }), IntegrityError, 'INTEGRITY_TRUNCATED', /ended after 3000/);
    assert.is(short.cause, undefined);
  } finally {
    await file.close();
  }
});

s('a body that breaks off is INTEGRITY_TRUNCATED carrying the stream error (so a transient break is retried)', async () => {
  const file = await open(join(dir, 'broken.bin'), 'w+');
  try {
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(100));
    setImmediate(() => body.destroy(reset));
    const err = await rejects(streamPartToFile(body, { file, offset: 0, length: 1000, label: 'part 2' }), IntegrityError, 'INTEGRITY_TRUNCATED', /part 2: the body broke off after 100 of 1000/);
    assert.is(err.cause, reset);
  } finally {
    await file.close();
  }
});

s("the file's write error passes through untouched, not as a broken body", async () => {
  const path = join(dir, 'readonly.bin');
  await (await open(path, 'w')).close();
  const file = await open(path, 'r');
  try {
    const stored = pseudoRandomBytes(2 * PART_WRITE_BATCH_BYTES, 6);
    const err = await rejects(streamPartToFile(bodyOf(stored, [65536]), { file, offset: 0, length: stored.length, label: 'p' }));
    assert.not.instance(err, IntegrityError);
    assert.is(err.code, 'EBADF');
  } finally {
    await file.close();
  }
});

s.after(() => rm(dir, { recursive: true, force: true }));
s.run();
