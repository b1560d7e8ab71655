/**
 * AES-256-CTR keystream XOR over the IO window (FORMATS.md §1; NIST SP 800-38A §6.5).
 *
 * The counter block is one 128-bit big-endian integer: block i of a call uses (CTR + i) mod 2^128, the carry
 * running through all 16 bytes. A call may start `skip` (0..15) bytes into the first block, so JS can resume
 * at any byte offset: it writes the counter block of floor(offset / 16) and passes offset mod 16.
 *
 * Blocks go through AES 8 at a time (aes.ts). Full batches XOR straight into IO; a partial batch at either
 * end is encrypted into SCRATCH and XORed from there. The lengths that decide this are public (they are the
 * message length and position), so the branches on them leak nothing about key or data.
 */
import { CTR, IO, IO_BYTES, SCRATCH, wipeSecrets } from './windows';
import { blockFromBigEndian, encrypt8Xor, expandKey } from './aes';

const BATCH: u32 = 128;

/**
 * XORs the AES-256-CTR keystream for key KEY and counter block CTR, starting `skip` bytes into that block,
 * into IO[0..len). Leaves in CTR the counter block of keystream byte `skip + len`, and zeroes KEY, the round
 * keys and every other secret scratch area before returning.
 * @param len bytes to transform, at most IO_BYTES
 * @param skip keystream bytes to skip in the first block, 0..15
 */
export function ctrXor(len: u32, skip: u32): void {
  assert(len <= IO_BYTES, 'ctrXor: len exceeds IO_BYTES');
  assert(skip < 16, 'ctrXor: skip must be below 16');
  expandKey();
  const hi0 = bswap<u64>(load<u64>(CTR));
  const lo0 = bswap<u64>(load<u64>(CTR, 8));
  let hi = hi0;
  let lo = lo0;
  let p = IO;
  const end = IO + len;

  if (skip != 0 && len != 0) {
    // Head: the batch that contains the start, used from byte `skip` on.
    const n = min<u32>(len, BATCH - skip);
    keystreamBatch(hi, lo);
    xorBytes(p, SCRATCH + skip, n);
    p += n;
    lo += 8;
    hi += <u64>(lo < 8);
  }
  while (end - p >= BATCH) {
    encrypt8Xor(
      counterBlock(hi, lo, 0), counterBlock(hi, lo, 1), counterBlock(hi, lo, 2), counterBlock(hi, lo, 3),
      counterBlock(hi, lo, 4), counterBlock(hi, lo, 5), counterBlock(hi, lo, 6), counterBlock(hi, lo, 7),
      p,
    );
    p += BATCH;
    lo += 8;
    hi += <u64>(lo < 8);
  }
  if (p < end) {
    // Tail: a partial batch.
    keystreamBatch(hi, lo);
    xorBytes(p, SCRATCH, <u32>(end - p));
  }

  const blocks = <u64>((skip + len) >> 4);
  const lo1 = lo0 + blocks;
  store<u64>(CTR, bswap<u64>(hi0 + <u64>(lo1 < lo0)));
  store<u64>(CTR, bswap<u64>(lo1), 8);
  wipeSecrets();
}

/** Zeroes every window: KEY, CTR, IO and all scratch areas. */
export function wipe(): void {
  wipeSecrets();
  memory.fill(CTR, 0, 16);
  memory.fill(IO, 0, IO_BYTES);
}

/** The counter block (hi:lo + i) mod 2^128 as an AES input block. */
// @ts-ignore: decorator
@inline function counterBlock(hi: u64, lo: u64, i: u64): v128 {
  const l = lo + i;
  // The carry is a comparison result, not a branch.
  return blockFromBigEndian(hi + <u64>(l < lo), l);
}

/** Writes the 128 keystream bytes of counter blocks hi:lo + 0..7 to SCRATCH. */
function keystreamBatch(hi: u64, lo: u64): void {
  memory.fill(SCRATCH, 0, BATCH);
  encrypt8Xor(
    counterBlock(hi, lo, 0), counterBlock(hi, lo, 1), counterBlock(hi, lo, 2), counterBlock(hi, lo, 3),
    counterBlock(hi, lo, 4), counterBlock(hi, lo, 5), counterBlock(hi, lo, 6), counterBlock(hi, lo, 7),
    SCRATCH,
  );
}

// @ts-ignore: decorator
@inline function xorBytes(dst: usize, src: usize, n: u32): void {
  for (let i: usize = 0; i < n; i++) store<u8>(dst + i, load<u8>(dst + i) ^ load<u8>(src + i));
}
