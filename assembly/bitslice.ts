/**
 * Conversions between 8 AES blocks and 8 bit-planes, and between bytes and planes for the key schedule.
 *
 * Blocks to planes is an 8x8 bit-matrix transpose in every byte lane (bit j of block k becomes bit k of plane
 * j): three layers of "swapmove", each a shift by a constant, an XOR and an AND with a constant mask. The
 * shifts work on 64-bit lanes; the masks keep only bits that stayed inside their byte. A transpose is its own
 * inverse, so the same network converts planes back to blocks. Nothing here depends on the values it moves.
 *
 * One output per call (see sbox.ts): the compiler merges the 8 calls on the same inputs into one network.
 */

/**
 * Output `j` of the 8x8 bit transpose, in every byte lane, of `x0..x7`: bit k of output j is bit j of x_k.
 * Blocks in, plane j out; or planes in, block j out. `j` must be a constant at the call site.
 */
// @ts-ignore: decorator
@inline export function transpose(
  j: i32, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128,
): v128 {
  const m1 = i8x16.splat(0x55);
  const m2 = i8x16.splat(0x33);
  const m4 = i8x16.splat(0x0f);
  let t: v128;
  // Swap bits between rows 1 apart, then 2 apart, then 4 apart: (b ^= t, a ^= t << n) for each pair (a, b).
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
  if (j == 0) return x0;
  if (j == 1) return x1;
  if (j == 2) return x2;
  if (j == 3) return x3;
  if (j == 4) return x4;
  if (j == 5) return x5;
  if (j == 6) return x6;
  return x7;
}

/** Plane `j` of `bytes`: each byte lane 0xff where bit j of that byte is set, else 0x00. */
// @ts-ignore: decorator
@inline export function bytePlane(j: i32, bytes: v128): v128 {
  const bit = i8x16.splat(<i8>(<i32>1 << j));
  return i8x16.eq(v128.and(bytes, bit), bit);
}

/** Inverse of bytePlane for planes whose byte lanes are all 0x00 or 0xff. */
// @ts-ignore: decorator
@inline export function planesToBytes(
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): v128 {
  return v128.or(
    v128.or(
      v128.or(v128.and(p0, i8x16.splat(0x01)), v128.and(p1, i8x16.splat(0x02))),
      v128.or(v128.and(p2, i8x16.splat(0x04)), v128.and(p3, i8x16.splat(0x08))),
    ),
    v128.or(
      v128.or(v128.and(p4, i8x16.splat(0x10)), v128.and(p5, i8x16.splat(0x20))),
      v128.or(v128.and(p6, i8x16.splat(0x40)), v128.and(p7, i8x16.splat(<i8>0x80))),
    ),
  );
}

/**
 * The bits to exchange between `a` and `b`: those of `b` selected by `mask` against those of `a` selected by
 * `mask << n`. The caller applies it as b ^= t, a ^= t << n.
 */
// @ts-ignore: decorator
@inline function swapDelta(a: v128, b: v128, n: i32, mask: v128): v128 {
  return v128.and(v128.xor(i64x2.shr_u(a, n), b), mask);
}
