/**
 * Conversions between 8 AES blocks and 8 bit-planes, and between bytes and planes for the key schedule.
 *
 * Blocks to planes is an 8x8 bit-matrix transpose in every byte lane (block k, bit j -> plane j, bit k):
 * three layers of "swapmove", each a shift by a constant, an XOR and an AND with a constant mask. The shifts
 * work on 64-bit lanes; the masks keep only bits that stayed inside their byte. The transpose is its own
 * inverse, so the same sequence converts back. Nothing here depends on the values it moves.
 */

/**
 * Transposes the 8 blocks `x0..x7` into 8 planes, XORs the key planes at `rk` into them (the first
 * AddRoundKey) and stores them at `dst` (plane j at dst + 16j).
 */
// @ts-ignore: decorator
@inline export function toPlanesAddKey(
  x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128, rk: usize, dst: usize,
): void {
  const m1 = i8x16.splat(0x55);
  const m2 = i8x16.splat(0x33);
  const m4 = i8x16.splat(0x0f);
  let t: v128;
  t = swapDelta(x0, x1, 1, m1); x1 = v128.xor(x1, t); x0 = v128.xor(x0, i64x2.shl(t, 1));
  t = swapDelta(x2, x3, 1, m1); x3 = v128.xor(x3, t); x2 = v128.xor(x2, i64x2.shl(t, 1));
  t = swapDelta(x4, x5, 1, m1); x5 = v128.xor(x5, t); x4 = v128.xor(x4, i64x2.shl(t, 1));
  t = swapDelta(x6, x7, 1, m1); x7 = v128.xor(x7, t); x6 = v128.xor(x6, i64x2.shl(t, 1));
  t = swapDelta(x0, x2, 2, m2); x2 = v128.xor(x2, t); x0 = v128.xor(x0, i64x2.shl(t, 2));
  t = swapDelta(x1, x3, 2, m2); x3 = v128.xor(x3, t); x1 = v128.xor(x1, i64x2.shl(t, 2));
  t = swapDelta(x4, x6, 2, m2); x6 = v128.xor(x6, t); x4 = v128.xor(x4, i64x2.shl(t, 2));
  t = swapDelta(x5, x7, 2, m2); x7 = v128.xor(x7, t); x5 = v128.xor(x5, i64x2.shl(t, 2));
  t = swapDelta(x0, x4, 4, m4); x4 = v128.xor(x4, t); x0 = v128.xor(x0, i64x2.shl(t, 4));
  t = swapDelta(x1, x5, 4, m4); x5 = v128.xor(x5, t); x1 = v128.xor(x1, i64x2.shl(t, 4));
  t = swapDelta(x2, x6, 4, m4); x6 = v128.xor(x6, t); x2 = v128.xor(x2, i64x2.shl(t, 4));
  t = swapDelta(x3, x7, 4, m4); x7 = v128.xor(x7, t); x3 = v128.xor(x3, i64x2.shl(t, 4));
  v128.store(dst, v128.xor(x0, v128.load(rk, 0)), 0);
  v128.store(dst, v128.xor(x1, v128.load(rk, 16)), 16);
  v128.store(dst, v128.xor(x2, v128.load(rk, 32)), 32);
  v128.store(dst, v128.xor(x3, v128.load(rk, 48)), 48);
  v128.store(dst, v128.xor(x4, v128.load(rk, 64)), 64);
  v128.store(dst, v128.xor(x5, v128.load(rk, 80)), 80);
  v128.store(dst, v128.xor(x6, v128.load(rk, 96)), 96);
  v128.store(dst, v128.xor(x7, v128.load(rk, 112)), 112);
}

/**
 * Transposes the 8 planes at `src` back into 8 blocks, puts each block's bytes back in FIPS-197 order (a byte
 * permutation, see outputOrder) and XORs block k into memory at dst + 16k.
 */
// @ts-ignore: decorator
@inline export function fromPlanesXor(src: usize, dst: usize): void {
  let x0 = v128.load(src, 0);
  let x1 = v128.load(src, 16);
  let x2 = v128.load(src, 32);
  let x3 = v128.load(src, 48);
  let x4 = v128.load(src, 64);
  let x5 = v128.load(src, 80);
  let x6 = v128.load(src, 96);
  let x7 = v128.load(src, 112);
  const m1 = i8x16.splat(0x55);
  const m2 = i8x16.splat(0x33);
  const m4 = i8x16.splat(0x0f);
  let t: v128;
  t = swapDelta(x0, x1, 1, m1); x1 = v128.xor(x1, t); x0 = v128.xor(x0, i64x2.shl(t, 1));
  t = swapDelta(x2, x3, 1, m1); x3 = v128.xor(x3, t); x2 = v128.xor(x2, i64x2.shl(t, 1));
  t = swapDelta(x4, x5, 1, m1); x5 = v128.xor(x5, t); x4 = v128.xor(x4, i64x2.shl(t, 1));
  t = swapDelta(x6, x7, 1, m1); x7 = v128.xor(x7, t); x6 = v128.xor(x6, i64x2.shl(t, 1));
  t = swapDelta(x0, x2, 2, m2); x2 = v128.xor(x2, t); x0 = v128.xor(x0, i64x2.shl(t, 2));
  t = swapDelta(x1, x3, 2, m2); x3 = v128.xor(x3, t); x1 = v128.xor(x1, i64x2.shl(t, 2));
  t = swapDelta(x4, x6, 2, m2); x6 = v128.xor(x6, t); x4 = v128.xor(x4, i64x2.shl(t, 2));
  t = swapDelta(x5, x7, 2, m2); x7 = v128.xor(x7, t); x5 = v128.xor(x5, i64x2.shl(t, 2));
  t = swapDelta(x0, x4, 4, m4); x4 = v128.xor(x4, t); x0 = v128.xor(x0, i64x2.shl(t, 4));
  t = swapDelta(x1, x5, 4, m4); x5 = v128.xor(x5, t); x1 = v128.xor(x1, i64x2.shl(t, 4));
  t = swapDelta(x2, x6, 4, m4); x6 = v128.xor(x6, t); x2 = v128.xor(x2, i64x2.shl(t, 4));
  t = swapDelta(x3, x7, 4, m4); x7 = v128.xor(x7, t); x3 = v128.xor(x3, i64x2.shl(t, 4));
  v128.store(dst, v128.xor(v128.load(dst, 0), outputOrder(x0)), 0);
  v128.store(dst, v128.xor(v128.load(dst, 16), outputOrder(x1)), 16);
  v128.store(dst, v128.xor(v128.load(dst, 32), outputOrder(x2)), 32);
  v128.store(dst, v128.xor(v128.load(dst, 48), outputOrder(x3)), 48);
  v128.store(dst, v128.xor(v128.load(dst, 64), outputOrder(x4)), 64);
  v128.store(dst, v128.xor(v128.load(dst, 80), outputOrder(x5)), 80);
  v128.store(dst, v128.xor(v128.load(dst, 96), outputOrder(x6)), 96);
  v128.store(dst, v128.xor(v128.load(dst, 112), outputOrder(x7)), 112);
}

/**
 * From the internal byte order after the last round (row-major lanes, ShiftRows^14 = ShiftRows^2 still
 * pending) to FIPS-197 byte order: byte r + 4c takes lane byte 4r + ((c + 2r) mod 4).
 */
// @ts-ignore: decorator
@inline function outputOrder(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 6, 8, 14, 1, 7, 9, 15, 2, 4, 10, 12, 3, 5, 11, 13);
}

/** Plane j of `bytes` (j = 0..7) at dst + 16j: each byte lane 0xff where bit j of that byte is set, else 0. */
// @ts-ignore: decorator
@inline export function bytesToPlanes(bytes: v128, dst: usize): void {
  for (let j = 0; j < 8; j++) {
    const value: i32 = 1 << j;
    const bit = i8x16.splat(<i8>value);
    v128.store(dst + (<usize>j << 4), i8x16.eq(v128.and(bytes, bit), bit));
  }
}

/** Inverse of bytesToPlanes, for planes whose byte lanes are all 0x00 or 0xff. */
// @ts-ignore: decorator
@inline export function planesToBytes(src: usize): v128 {
  let bytes = i8x16.splat(0);
  for (let j = 0; j < 8; j++) {
    const value: i32 = 1 << j;
    bytes = v128.or(bytes, v128.and(v128.load(src + (<usize>j << 4)), i8x16.splat(<i8>value)));
  }
  return bytes;
}

/**
 * The bits to exchange between `a` and `b`: those of `b` selected by `mask` against those of `a` selected by
 * `mask << n`. The caller applies it as b ^= t, a ^= t << n.
 */
// @ts-ignore: decorator
@inline function swapDelta(a: v128, b: v128, n: i32, mask: v128): v128 {
  return v128.and(v128.xor(i64x2.shr_u(a, n), b), mask);
}
