/**
 * MixColumns (FIPS-197 §5.1.3) over bit-planes, conjugated by ShiftRows^k for fixslicing (see aes.ts).
 *
 * Per column, row r of the result is 2a_r ^ 3a_{r+1} ^ a_{r+2} ^ a_{r+3} = xtime(t_r) ^ b_r ^ rot2(t)_r, with
 * b = rot1(a) and t = a ^ b (Käsper and Schwabe's 27-XOR form). xtime (multiplication by x in GF(2^8)) works
 * plane-wise: plane j of xtime(t) is plane j - 1 of t, and bit 7 feeds back into bits 0, 1, 3 and 4
 * (x^8 = x^4 + x^3 + x + 1).
 *
 * In the row-major plane layout (32-bit lane r = row r, byte c of it = column c), the stored state after
 * round i is the real state with ShiftRows^-i applied. Conjugated by ShiftRows^k (k = i mod 4), "row r takes
 * row r + n" becomes "row r takes row r + n and column c takes column c + n*k": a fixed byte permutation,
 * done as `i8x16.swizzle` with a constant index vector (V8 emits a single `pshufb` and keeps the indices in a
 * register), or as a 32-bit lane shuffle (`pshufd`) where it is one. Not `i8x16.shuffle`: V8 rebuilds its
 * 16-byte mask from immediates at every use (five instructions instead of one).
 *
 * One output per call, like sbox.ts: the compiler merges the shared rotations of the 8 calls of a round.
 */

/**
 * Plane `j` of MixColumns conjugated by ShiftRows^k, for the input planes `a0..a7`. `j` and `k` (0..3) must
 * be constants at the call site.
 */
// @ts-ignore: decorator
@inline export function mixColumnsPlane(
  j: i32, k: i32, a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128, a7: v128,
): v128 {
  // Plane j of the result: xtime(t)_j ^ b_j ^ rot2(t_j); xtime(t)_j is t_{j-1}, plus t_7 for j = 0, 1, 3, 4.
  const t7 = v128.xor(a7, rot1(a7, k));
  if (j == 0) return v128.xor(v128.xor(t7, rot1(a0, k)), rot2(v128.xor(a0, rot1(a0, k)), k));
  if (j == 1) return v128.xor(v128.xor(t(a0, k), t7), bRot2t(a1, k));
  if (j == 2) return v128.xor(t(a1, k), bRot2t(a2, k));
  if (j == 3) return v128.xor(v128.xor(t(a2, k), t7), bRot2t(a3, k));
  if (j == 4) return v128.xor(v128.xor(t(a3, k), t7), bRot2t(a4, k));
  if (j == 5) return v128.xor(t(a4, k), bRot2t(a5, k));
  if (j == 6) return v128.xor(t(a5, k), bRot2t(a6, k));
  return v128.xor(t(a6, k), v128.xor(rot1(a7, k), rot2(t7, k)));
}

/** Plane t = a ^ rot1(a) of one input plane. */
// @ts-ignore: decorator
@inline function t(a: v128, k: i32): v128 {
  return v128.xor(a, rot1(a, k));
}

/** b ^ rot2(t) of one input plane: rot1(a) ^ rot2(a ^ rot1(a)). */
// @ts-ignore: decorator
@inline function bRot2t(a: v128, k: i32): v128 {
  return v128.xor(rot1(a, k), rot2(t(a, k), k));
}

/** Row r takes row r + 1 and column c takes column c + k (lane byte 4r + c takes 4(r+1) + (c+k), mod 4 each). */
// @ts-ignore: decorator
@inline function rot1(x: v128, k: i32): v128 {
  if (k == 0) return i32x4.shuffle(x, x, 1, 2, 3, 0);
  if (k == 1) return i8x16.swizzle(x, i8x16(5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, 1, 2, 3, 0));
  if (k == 2) return i8x16.swizzle(x, i8x16(6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1));
  return i8x16.swizzle(x, i8x16(7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0, 1, 2));
}

/** Row r takes row r + 2 and column c takes column c + 2k. */
// @ts-ignore: decorator
@inline function rot2(x: v128, k: i32): v128 {
  if ((k & 1) == 0) return i32x4.shuffle(x, x, 2, 3, 0, 1);
  return i8x16.swizzle(x, i8x16(10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5));
}
