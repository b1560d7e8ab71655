/**
 * AES-256 encryption (FIPS-197) of 8 blocks at a time, bitsliced over WebAssembly SIMD; and the key schedule.
 *
 * Bitslice layout (Käsper–Schwabe): a batch of 8 blocks is held as 8 v128 bit-planes. Plane j holds bit j of
 * every state byte of every block: byte lane p of plane j carries bit j of state byte p (FIPS-197 order,
 * p = row + 4 * column) of blocks 0..7, block k in bit k. With that layout
 *   - SubBytes is one evaluation of the S-box circuit over the 8 planes (sbox.ts);
 *   - ShiftRows and the row rotations of MixColumns move whole byte lanes: constant `i8x16.shuffle`s;
 *   - xtime (multiplication by 2 in GF(2^8)) moves and XORs whole planes;
 *   - AddRoundKey XORs 8 precomputed key planes, each byte lane 0x00 or 0xff (the key is the same for all
 *     8 blocks).
 * Converting 8 blocks to planes and back is an 8x8 bit-matrix transpose per byte lane: three layers of
 * "swapmove" (shift, XOR, AND with a constant mask).
 *
 * The affine constant 0x63 of SubBytes is folded into round keys 1..14: ShiftRows keeps a constant byte in
 * every lane, and MixColumns maps the constant column (c, c, c, c) to itself (2 ^ 3 ^ 1 ^ 1 = 1 in GF(2^8)).
 *
 * Constant time: every instruction here is a SIMD bitwise operation, a shift or shuffle by a constant, or a
 * load/store at an address that depends only on the round number or the batch position, never on key or data.
 * There are no tables and no branches on secrets, in the rounds or in the key schedule.
 */
import { KEY, ROUND_KEYS, SCHEDULE, STATE, WORD_PLANES } from './windows';
import { subBytesNoConstant } from './sbox';

const ROUNDS: usize = 14;
const PLANES_BYTES: usize = 128;

/**
 * FIPS-197 §5.2 key expansion of the key in KEY (Nk = 8, Nr = 14), stored as bitsliced round keys in
 * ROUND_KEYS, the S-box constant folded into rounds 1..14. SubWord runs through the same S-box circuit as
 * the rounds.
 */
export function expandKey(): void {
  memory.copy(SCHEDULE, KEY, 32);
  let rcon: u32 = 1;
  for (let i: usize = 8; i < 60; i++) {
    let temp = load<u32>(SCHEDULE + ((i - 1) << 2));
    if ((i & 7) == 0) {
      // RotWord: bytes (a0, a1, a2, a3) -> (a1, a2, a3, a0); the word is read little-endian, so rotate right.
      temp = subWord(rotr<u32>(temp, 8)) ^ rcon;
      rcon <<= 1;
    } else if ((i & 7) == 4) {
      temp = subWord(temp);
    }
    store<u32>(SCHEDULE + (i << 2), load<u32>(SCHEDULE + ((i - 8) << 2)) ^ temp);
  }
  for (let r: usize = 0; r <= ROUNDS; r++) {
    let rk = v128.load(SCHEDULE + (r << 4));
    if (r > 0) rk = v128.xor(rk, i8x16.splat(0x63));
    bytesToPlanes(rk, ROUND_KEYS + r * PLANES_BYTES);
  }
}

/**
 * Encrypts the 8 blocks `b0..b7` (block k at bit k of the planes) with the round keys in ROUND_KEYS and XORs
 * the 128 result bytes into memory at `dst` (block k at dst + 16k).
 */
// @ts-ignore: decorator
@inline export function encrypt8Xor(
  b0: v128, b1: v128, b2: v128, b3: v128, b4: v128, b5: v128, b6: v128, b7: v128, dst: usize,
): void {
  toPlanes(b0, b1, b2, b3, b4, b5, b6, b7, STATE);
  addRoundKey(STATE, ROUND_KEYS);
  for (let r: usize = 1; r < ROUNDS; r++) {
    subBytesNoConstant(STATE);
    shiftRowsMixColumnsAddKey(STATE, ROUND_KEYS + r * PLANES_BYTES);
  }
  subBytesNoConstant(STATE);
  shiftRowsAddKey(STATE, ROUND_KEYS + ROUNDS * PLANES_BYTES);
  fromPlanesXor(STATE, dst);
}

/** SubWord (FIPS-197 §5.2) of a little-endian word, constant-time: the 4 bytes go through the S-box circuit. */
function subWord(word: u32): u32 {
  bytesToPlanes(i32x4.splat(word), WORD_PLANES);
  subBytesNoConstant(WORD_PLANES);
  return i32x4.extract_lane(planesToBytes(WORD_PLANES), 0) ^ 0x63636363;
}

/** Plane j of `bytes`: each byte lane 0xff where bit j of that byte is set, else 0x00. */
// @ts-ignore: decorator
@inline function bytesToPlanes(bytes: v128, dst: usize): void {
  for (let j = 0; j < 8; j++) {
    const value: i32 = 1 << j;
    const bit = i8x16.splat(<i8>value);
    v128.store(dst + (<usize>j << 4), i8x16.eq(v128.and(bytes, bit), bit));
  }
}

/** Inverse of bytesToPlanes for planes whose byte lanes are all 0x00 or 0xff. */
// @ts-ignore: decorator
@inline function planesToBytes(src: usize): v128 {
  let bytes = i8x16.splat(0);
  for (let j = 0; j < 8; j++) {
    const value: i32 = 1 << j;
    bytes = v128.or(bytes, v128.and(v128.load(src + (<usize>j << 4)), i8x16.splat(<i8>value)));
  }
  return bytes;
}

/**
 * Exchanges the bits of `b` selected by `mask` with the bits of `a` selected by `mask << n` (all shifts stay
 * inside a byte lane because the mask clears the bits that cross). Returns the new `a`; the new `b` is
 * `b ^ swapDelta(a, b, n, mask)`.
 */
// @ts-ignore: decorator
@inline function swapDelta(a: v128, b: v128, n: i32, mask: v128): v128 {
  return v128.and(v128.xor(i64x2.shr_u(a, n), b), mask);
}

/** Transposes 8 blocks into 8 bit-planes (an 8x8 bit transpose in every byte lane) and stores the planes. */
// @ts-ignore: decorator
@inline function toPlanes(
  x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128, dst: usize,
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
  v128.store(dst, x0, 0);
  v128.store(dst, x1, 16);
  v128.store(dst, x2, 32);
  v128.store(dst, x3, 48);
  v128.store(dst, x4, 64);
  v128.store(dst, x5, 80);
  v128.store(dst, x6, 96);
  v128.store(dst, x7, 112);
}

/** The transpose back (it is its own inverse), XORing block k into dst + 16k. */
// @ts-ignore: decorator
@inline function fromPlanesXor(src: usize, dst: usize): void {
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
  v128.store(dst, v128.xor(v128.load(dst, 0), x0), 0);
  v128.store(dst, v128.xor(v128.load(dst, 16), x1), 16);
  v128.store(dst, v128.xor(v128.load(dst, 32), x2), 32);
  v128.store(dst, v128.xor(v128.load(dst, 48), x3), 48);
  v128.store(dst, v128.xor(v128.load(dst, 64), x4), 64);
  v128.store(dst, v128.xor(v128.load(dst, 80), x5), 80);
  v128.store(dst, v128.xor(v128.load(dst, 96), x6), 96);
  v128.store(dst, v128.xor(v128.load(dst, 112), x7), 112);
}

// @ts-ignore: decorator
@inline function addRoundKey(state: usize, rk: usize): void {
  for (let j: usize = 0; j < 8; j++) {
    const at = j << 4;
    v128.store(state + at, v128.xor(v128.load(state + at), v128.load(rk + at)));
  }
}

// ShiftRows: lane p = row + 4 * column takes lane row + 4 * ((column + row) mod 4).
// @ts-ignore: decorator
@inline function shiftRows(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}

// Rotation of every column by one row (lane row takes lane row + 1), composed with ShiftRows.
// @ts-ignore: decorator
@inline function shiftRowsRot1(x: v128): v128 {
  return i8x16.shuffle(x, x, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
}

// Rotation of every column by two rows.
// @ts-ignore: decorator
@inline function rot2(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

/**
 * ShiftRows, MixColumns and AddRoundKey. With a = ShiftRows(s) and t = a ^ rot1(a), MixColumns is
 * xtime(t) ^ rot1(a) ^ rot2(t): row r gives 2a_r ^ 2a_{r+1} ^ a_{r+1} ^ a_{r+2} ^ a_{r+3}.
 */
// @ts-ignore: decorator
@inline function shiftRowsMixColumnsAddKey(state: usize, rk: usize): void {
  const b0 = shiftRowsRot1(v128.load(state, 0));
  const b1 = shiftRowsRot1(v128.load(state, 16));
  const b2 = shiftRowsRot1(v128.load(state, 32));
  const b3 = shiftRowsRot1(v128.load(state, 48));
  const b4 = shiftRowsRot1(v128.load(state, 64));
  const b5 = shiftRowsRot1(v128.load(state, 80));
  const b6 = shiftRowsRot1(v128.load(state, 96));
  const b7 = shiftRowsRot1(v128.load(state, 112));
  const t0 = v128.xor(shiftRows(v128.load(state, 0)), b0);
  const t1 = v128.xor(shiftRows(v128.load(state, 16)), b1);
  const t2 = v128.xor(shiftRows(v128.load(state, 32)), b2);
  const t3 = v128.xor(shiftRows(v128.load(state, 48)), b3);
  const t4 = v128.xor(shiftRows(v128.load(state, 64)), b4);
  const t5 = v128.xor(shiftRows(v128.load(state, 80)), b5);
  const t6 = v128.xor(shiftRows(v128.load(state, 96)), b6);
  const t7 = v128.xor(shiftRows(v128.load(state, 112)), b7);
  // xtime(t), plane by plane: reduction by x^8 = x^4 + x^3 + x + 1 feeds bit 7 into bits 0, 1, 3 and 4.
  v128.store(state, v128.xor(v128.xor(t7, b0), v128.xor(rot2(t0), v128.load(rk, 0))), 0);
  v128.store(state, v128.xor(v128.xor(v128.xor(t0, t7), b1), v128.xor(rot2(t1), v128.load(rk, 16))), 16);
  v128.store(state, v128.xor(v128.xor(t1, b2), v128.xor(rot2(t2), v128.load(rk, 32))), 32);
  v128.store(state, v128.xor(v128.xor(v128.xor(t2, t7), b3), v128.xor(rot2(t3), v128.load(rk, 48))), 48);
  v128.store(state, v128.xor(v128.xor(v128.xor(t3, t7), b4), v128.xor(rot2(t4), v128.load(rk, 64))), 64);
  v128.store(state, v128.xor(v128.xor(t4, b5), v128.xor(rot2(t5), v128.load(rk, 80))), 80);
  v128.store(state, v128.xor(v128.xor(t5, b6), v128.xor(rot2(t6), v128.load(rk, 96))), 96);
  v128.store(state, v128.xor(v128.xor(t6, b7), v128.xor(rot2(t7), v128.load(rk, 112))), 112);
}

/** The last round's ShiftRows and AddRoundKey (no MixColumns). */
// @ts-ignore: decorator
@inline function shiftRowsAddKey(state: usize, rk: usize): void {
  for (let j: usize = 0; j < 8; j++) {
    const at = j << 4;
    v128.store(state + at, v128.xor(shiftRows(v128.load(state + at)), v128.load(rk + at)));
  }
}
