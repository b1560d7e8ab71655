/**
 * AES-256 encryption (FIPS-197) of 8 blocks at a time, bitsliced and fixsliced over WebAssembly SIMD; and the
 * key schedule.
 *
 * Layout. A batch of 8 blocks is 8 v128 bit-planes: plane j holds bit j of every state byte of every block
 * (block k in bit k of each byte lane; bitslice.ts converts). Lane bytes are in row-major order: 32-bit lane r
 * is row r of the AES state, byte c of it is column c (FIPS-197 numbers state bytes column-major, r + 4c). In
 * this layout the MixColumns row rotations are 32-bit lane shuffles, and the fixsliced variants are fixed byte
 * permutations (mixcolumns.ts). Byte permutations use `i8x16.swizzle` with constant indices throughout (one
 * `pshufb` in V8; see mixcolumns.ts).
 *
 * Rounds. SubBytes is a boolean circuit over the planes (sbox.ts). ShiftRows is never executed
 * (fixslicing, Adomnicai and Peyrin 2020): round i runs MixColumns conjugated by ShiftRows^i, and its round key
 * is stored with ShiftRows^-i applied, so the stored state lags the real one by ShiftRows^i; after round 14 the
 * lag is ShiftRows^2, which the output byte order undoes. The affine constant 0x63 of SubBytes is folded into
 * round keys 1..14: a constant byte survives any byte permutation, and MixColumns maps the constant column
 * (c, c, c, c) to itself (2 ^ 3 ^ 1 ^ 1 = 1 in GF(2^8)).
 *
 * Constant time. Every instruction is a SIMD bitwise operation, a shift by a constant, a byte permutation with
 * constant indices (a swizzle's index vector is always a `v128.const`: the tests check the compiled module), or
 * a load/store at an address that depends only on the round number or the batch position, never on key or
 * data. There are no tables and no branches on secrets, in the rounds or in the key schedule (SubWord runs
 * through the same S-box circuit).
 */
import { KEY, ROUND_KEYS, SCHEDULE } from './windows';
import { bytePlane, planesToBytes, transpose } from './bitslice';
import { mixColumnsPlane } from './mixcolumns';
import { subBytesPlane } from './sbox';

/** Bytes of one round key in plane form: 8 planes x 16 bytes. */
const PLANES_BYTES: usize = 128;

/**
 * FIPS-197 §5.2 key expansion of the key in KEY (Nk = 8, Nr = 14), stored as bitsliced round keys in
 * ROUND_KEYS (round key i, plane j at ROUND_KEYS + 128i + 16j): in the internal lane order, with ShiftRows^-i
 * applied (fixslicing) and, for i >= 1, the S-box constant 0x63 added.
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
  for (let i: usize = 0; i <= 14; i++) {
    let rk = v128.load(SCHEDULE + (i << 4));
    if (i > 0) rk = v128.xor(rk, i8x16.splat(0x63));
    rk = roundKeyOrder(rk, <i32>(i & 3));
    const at = ROUND_KEYS + i * PLANES_BYTES;
    v128.store(at, bytePlane(0, rk), 0);
    v128.store(at, bytePlane(1, rk), 16);
    v128.store(at, bytePlane(2, rk), 32);
    v128.store(at, bytePlane(3, rk), 48);
    v128.store(at, bytePlane(4, rk), 64);
    v128.store(at, bytePlane(5, rk), 80);
    v128.store(at, bytePlane(6, rk), 96);
    v128.store(at, bytePlane(7, rk), 112);
  }
}

/**
 * The 16 bytes of the big-endian 128-bit integer hi:lo as an AES input block in the internal lane order
 * (row-major): lane byte 4r + c is block byte r + 4c, which is byte 15 - (r + 4c) of the little-endian pair.
 */
// @ts-ignore: decorator
@inline export function blockFromBigEndian(hi: u64, lo: u64): v128 {
  const v = i64x2.replace_lane(i64x2.splat(lo), 1, hi);
  return i8x16.swizzle(v, i8x16(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0));
}

/**
 * Encrypts the 8 blocks given as bit-planes `p0..p7` (see bitslice.ts) and XORs the results, in FIPS-197 byte
 * order, into the 128 bytes at `dst` (block k at dst + 16k).
 */
// @ts-ignore: decorator
@inline export function encryptPlanesXor(
  p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128, dst: usize,
): void {
  // Round 0: AddRoundKey.
  let q0 = v128.xor(p0, v128.load(ROUND_KEYS, 0));
  let q1 = v128.xor(p1, v128.load(ROUND_KEYS, 16));
  let q2 = v128.xor(p2, v128.load(ROUND_KEYS, 32));
  let q3 = v128.xor(p3, v128.load(ROUND_KEYS, 48));
  let q4 = v128.xor(p4, v128.load(ROUND_KEYS, 64));
  let q5 = v128.xor(p5, v128.load(ROUND_KEYS, 80));
  let q6 = v128.xor(p6, v128.load(ROUND_KEYS, 96));
  let q7 = v128.xor(p7, v128.load(ROUND_KEYS, 112));

  // Rounds 1..14. The branch on the round number (public, and predictable) picks the MixColumns variant, which
  // must be a compile-time constant; round 14 has no MixColumns.
  for (let i = 1; i <= 14; i++) {
    const rk = ROUND_KEYS + <usize>i * PLANES_BYTES;
    const s0 = subBytesPlane(0, q0, q1, q2, q3, q4, q5, q6, q7);
    const s1 = subBytesPlane(1, q0, q1, q2, q3, q4, q5, q6, q7);
    const s2 = subBytesPlane(2, q0, q1, q2, q3, q4, q5, q6, q7);
    const s3 = subBytesPlane(3, q0, q1, q2, q3, q4, q5, q6, q7);
    const s4 = subBytesPlane(4, q0, q1, q2, q3, q4, q5, q6, q7);
    const s5 = subBytesPlane(5, q0, q1, q2, q3, q4, q5, q6, q7);
    const s6 = subBytesPlane(6, q0, q1, q2, q3, q4, q5, q6, q7);
    const s7 = subBytesPlane(7, q0, q1, q2, q3, q4, q5, q6, q7);
    if (i == 14) {
      q0 = s0; q1 = s1; q2 = s2; q3 = s3; q4 = s4; q5 = s5; q6 = s6; q7 = s7;
    } else if ((i & 3) == 1) {
      q0 = mixColumnsPlane(0, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q1 = mixColumnsPlane(1, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q2 = mixColumnsPlane(2, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q3 = mixColumnsPlane(3, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q4 = mixColumnsPlane(4, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q5 = mixColumnsPlane(5, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q6 = mixColumnsPlane(6, 1, s0, s1, s2, s3, s4, s5, s6, s7);
      q7 = mixColumnsPlane(7, 1, s0, s1, s2, s3, s4, s5, s6, s7);
    } else if ((i & 3) == 2) {
      q0 = mixColumnsPlane(0, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q1 = mixColumnsPlane(1, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q2 = mixColumnsPlane(2, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q3 = mixColumnsPlane(3, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q4 = mixColumnsPlane(4, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q5 = mixColumnsPlane(5, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q6 = mixColumnsPlane(6, 2, s0, s1, s2, s3, s4, s5, s6, s7);
      q7 = mixColumnsPlane(7, 2, s0, s1, s2, s3, s4, s5, s6, s7);
    } else if ((i & 3) == 3) {
      q0 = mixColumnsPlane(0, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q1 = mixColumnsPlane(1, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q2 = mixColumnsPlane(2, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q3 = mixColumnsPlane(3, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q4 = mixColumnsPlane(4, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q5 = mixColumnsPlane(5, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q6 = mixColumnsPlane(6, 3, s0, s1, s2, s3, s4, s5, s6, s7);
      q7 = mixColumnsPlane(7, 3, s0, s1, s2, s3, s4, s5, s6, s7);
    } else {
      q0 = mixColumnsPlane(0, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q1 = mixColumnsPlane(1, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q2 = mixColumnsPlane(2, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q3 = mixColumnsPlane(3, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q4 = mixColumnsPlane(4, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q5 = mixColumnsPlane(5, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q6 = mixColumnsPlane(6, 0, s0, s1, s2, s3, s4, s5, s6, s7);
      q7 = mixColumnsPlane(7, 0, s0, s1, s2, s3, s4, s5, s6, s7);
    }
    q0 = v128.xor(q0, v128.load(rk, 0));
    q1 = v128.xor(q1, v128.load(rk, 16));
    q2 = v128.xor(q2, v128.load(rk, 32));
    q3 = v128.xor(q3, v128.load(rk, 48));
    q4 = v128.xor(q4, v128.load(rk, 64));
    q5 = v128.xor(q5, v128.load(rk, 80));
    q6 = v128.xor(q6, v128.load(rk, 96));
    q7 = v128.xor(q7, v128.load(rk, 112));
  }

  // Back to blocks, bytes in FIPS-197 order, XORed into dst.
  xorBlock(dst, 0, transpose(0, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 16, transpose(1, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 32, transpose(2, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 48, transpose(3, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 64, transpose(4, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 80, transpose(5, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 96, transpose(6, q0, q1, q2, q3, q4, q5, q6, q7));
  xorBlock(dst, 112, transpose(7, q0, q1, q2, q3, q4, q5, q6, q7));
}

/** SubWord (FIPS-197 §5.2) of a little-endian word, constant-time: the 4 bytes go through the S-box circuit. */
function subWord(word: u32): u32 {
  const w = i32x4.splat(word);
  const p0 = bytePlane(0, w);
  const p1 = bytePlane(1, w);
  const p2 = bytePlane(2, w);
  const p3 = bytePlane(3, w);
  const p4 = bytePlane(4, w);
  const p5 = bytePlane(5, w);
  const p6 = bytePlane(6, w);
  const p7 = bytePlane(7, w);
  const bytes = planesToBytes(
    subBytesPlane(0, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(1, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(2, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(3, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(4, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(5, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(6, p0, p1, p2, p3, p4, p5, p6, p7),
    subBytesPlane(7, p0, p1, p2, p3, p4, p5, p6, p7),
  );
  return i32x4.extract_lane(bytes, 0) ^ 0x63636363;
}

/**
 * Round key i (FIPS-197 byte order) in the internal lane order with ShiftRows^-i applied: lane byte 4r + c
 * takes key byte r + 4((c - i*r) mod 4). `phase` = i mod 4 (ShiftRows^4 is the identity).
 */
// @ts-ignore: decorator
@inline function roundKeyOrder(rk: v128, phase: i32): v128 {
  if (phase == 0) return i8x16.swizzle(rk, i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  if (phase == 1) return i8x16.swizzle(rk, i8x16(0, 4, 8, 12, 13, 1, 5, 9, 10, 14, 2, 6, 7, 11, 15, 3));
  if (phase == 2) return i8x16.swizzle(rk, i8x16(0, 4, 8, 12, 9, 13, 1, 5, 2, 6, 10, 14, 11, 15, 3, 7));
  return i8x16.swizzle(rk, i8x16(0, 4, 8, 12, 5, 9, 13, 1, 10, 14, 2, 6, 15, 3, 7, 11));
}

/**
 * XORs one keystream block into dst + offset, first moving its bytes from the internal order after round 14
 * (row-major, ShiftRows^2 still pending) to FIPS-197 order: byte r + 4c takes lane byte 4r + ((c + 2r) mod 4).
 */
// @ts-ignore: decorator
@inline function xorBlock(dst: usize, offset: usize, x: v128): void {
  const ordered = i8x16.swizzle(x, i8x16(0, 6, 8, 14, 1, 7, 9, 15, 2, 4, 10, 12, 3, 5, 11, 13));
  v128.store(dst + offset, v128.xor(v128.load(dst + offset), ordered));
}
