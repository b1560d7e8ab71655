/**
 * AES-256-CTR keystream XOR over the IO window (FORMATS.md §1; NIST SP 800-38A §6.5).
 *
 * The counter block is one 128-bit big-endian integer: block i of a call uses (CTR + i) mod 2^128, the carry
 * running through all 16 bytes. A call may start `skip` (0..15) bytes into the first block, so JS can resume
 * at any byte offset: it writes the counter block of floor(offset / 16) and passes offset mod 16.
 *
 * Blocks go through AES 8 at a time (aes.ts), as bit-planes built straight from the counter: no transpose on
 * the way in (see counterPlanes). Full batches XOR straight into IO; a partial batch at either end is
 * encrypted into SCRATCH and XORed from there. Only the length and `skip` decide the path, and both are
 * public (the message length and position); the counter's value changes constants, never the instruction
 * sequence.
 */
import { CTR, IO, IO_BYTES, SCRATCH, wipeSecrets } from './windows';
import { blockFromBigEndian, encryptPlanesXor, expandKey } from './aes';
import { bytePlane } from './bitslice';

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

  // Every batch starts 8 blocks after the previous one, so all batches of the call share r = counter mod 8.
  const r = <u32>(lo0 & 7);
  // Block k of a batch belongs to the next multiple of 8 when r + k >= 8: blocks 8 - r .. 7, bits of `upper`.
  const upper = i8x16.splat(<i8>((0xff << (8 - r)) & 0xff));
  // The 3 low bits of block k's counter are (r + k) mod 8; plane j holds bit j of them, block k at bit k.
  let low0: i32 = 0, low1: i32 = 0, low2: i32 = 0;
  for (let k: u32 = 0; k < 8; k++) {
    const v = (r + k) & 7;
    low0 |= <i32>(v & 1) << k;
    low1 |= <i32>((v >> 1) & 1) << k;
    low2 |= <i32>((v >> 2) & 1) << k;
  }
  // Those bits sit in the last byte of the block: row 3, column 3, which is lane byte 15 in the internal order.
  const lowPlane0 = i8x16.replace_lane(i8x16.splat(0), 15, <i8>low0);
  const lowPlane1 = i8x16.replace_lane(i8x16.splat(0), 15, <i8>low1);
  const lowPlane2 = i8x16.replace_lane(i8x16.splat(0), 15, <i8>low2);

  let hi = hi0;
  let lo = lo0;
  let p = IO;
  const end = IO + len;
  if (skip != 0 && len != 0) {
    // Head: the first batch, used from byte `skip` on.
    const n = min<u32>(len, BATCH - skip);
    scratchBatch(hi, lo, upper, lowPlane0, lowPlane1, lowPlane2);
    xorBytes(p, SCRATCH + skip, n);
    p += n;
    lo += 8;
    hi += <u64>(lo < 8);
  }
  while (end - p >= BATCH) {
    counterBatchXor(hi, lo, upper, lowPlane0, lowPlane1, lowPlane2, p);
    p += BATCH;
    lo += 8;
    hi += <u64>(lo < 8);
  }
  if (p < end) {
    // Tail: a partial batch.
    scratchBatch(hi, lo, upper, lowPlane0, lowPlane1, lowPlane2);
    xorBytes(p, SCRATCH, <u32>(end - p));
  }

  const blocks = <u64>((skip + len) >> 4);
  const lo1 = lo0 + blocks;
  store<u64>(CTR, bswap<u64>(hi0 + <u64>(lo1 < lo0)));
  store<u64>(CTR, bswap<u64>(lo1), 8);
  wipeSecrets();
}

/**
 * Zeroes KEY, CTR, the round keys and scratch areas, and IO[0..ioBytes): the part of IO that JS used since the
 * last wipe (zeroing all 64 KiB after a 16-byte call would cost more than the call).
 */
export function wipe(ioBytes: u32): void {
  wipeSecrets();
  memory.fill(CTR, 0, 16);
  memory.fill(IO, 0, min<u32>(ioBytes, IO_BYTES));
}

/**
 * XORs the keystream of counter blocks hi:lo + 0..7 into the 128 bytes at `dst`.
 *
 * With A = hi:lo rounded down to a multiple of 8 and B = A + 8, block k's counter is A + (r + k) or, for the
 * blocks selected by `upper`, B + (r + k - 8). So the 8 counters share everything but their 3 low bits with A
 * or with B, and their bit-planes need no transpose: plane j takes bit j of A's or B's bytes, broadcast to the
 * 8 block bits of each lane (blocks chosen by `upper`), and planes 0..2 add the low bits in lane byte 15.
 */
// @ts-ignore: decorator
@inline function counterBatchXor(
  hi: u64, lo: u64, upper: v128, lowPlane0: v128, lowPlane1: v128, lowPlane2: v128, dst: usize,
): void {
  const aLo = lo & ~(<u64>7);
  const bLo = aLo + 8;
  const a = blockFromBigEndian(hi, aLo);
  const b = blockFromBigEndian(hi + <u64>(bLo < aLo), bLo);
  encryptPlanesXor(
    v128.xor(v128.bitselect(bytePlane(0, b), bytePlane(0, a), upper), lowPlane0),
    v128.xor(v128.bitselect(bytePlane(1, b), bytePlane(1, a), upper), lowPlane1),
    v128.xor(v128.bitselect(bytePlane(2, b), bytePlane(2, a), upper), lowPlane2),
    v128.bitselect(bytePlane(3, b), bytePlane(3, a), upper),
    v128.bitselect(bytePlane(4, b), bytePlane(4, a), upper),
    v128.bitselect(bytePlane(5, b), bytePlane(5, a), upper),
    v128.bitselect(bytePlane(6, b), bytePlane(6, a), upper),
    v128.bitselect(bytePlane(7, b), bytePlane(7, a), upper),
    dst,
  );
}

/** The keystream of one batch, written to SCRATCH (a function of its own: one more copy of the rounds is enough). */
function scratchBatch(hi: u64, lo: u64, upper: v128, lowPlane0: v128, lowPlane1: v128, lowPlane2: v128): void {
  memory.fill(SCRATCH, 0, BATCH);
  counterBatchXor(hi, lo, upper, lowPlane0, lowPlane1, lowPlane2, SCRATCH);
}

// @ts-ignore: decorator
@inline function xorBytes(dst: usize, src: usize, n: u32): void {
  for (let i: usize = 0; i < n; i++) store<u8>(dst + i, load<u8>(dst + i) ^ load<u8>(src + i));
}
