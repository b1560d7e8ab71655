/**
 * AES-256 encryption (FIPS-197) of 8 blocks at a time, bitsliced and fixsliced over WebAssembly SIMD; and the
 * key schedule.
 *
 * Layout. A batch of 8 blocks is 8 v128 bit-planes: plane j holds bit j of every state byte of every block
 * (block k in bit k of each byte lane). Lane bytes are in row-major order: 32-bit lane r is row r of the AES
 * state, byte c of it is column c (FIPS-197 numbers state bytes column-major, r + 4c). In this layout the
 * MixColumns row rotations are 32-bit lane shuffles, and column moves are rotations inside a lane.
 *
 * Rounds (round.ts). SubBytes is a boolean circuit over the planes. ShiftRows is never executed
 * (fixslicing): round i runs MixColumns conjugated by ShiftRows^i, and its round key is stored with
 * ShiftRows^-i applied, so the state stays ShiftRows^i behind the real one; after round 14 that is
 * ShiftRows^2, which the output byte order undoes (bitslice.ts). The affine constant 0x63 of SubBytes is folded
 * into round keys 1..14: a constant byte survives any byte permutation, and MixColumns maps the constant
 * column (c, c, c, c) to itself (2 ^ 3 ^ 1 ^ 1 = 1 in GF(2^8)).
 *
 * Constant time. Every instruction is a SIMD bitwise operation, a shift or shuffle by a constant, or a
 * load/store at an address that depends only on the round number or the batch position, never on key or
 * data. There are no tables and no branches on secrets, in the rounds or in the key schedule (SubWord runs
 * through the same S-box circuit).
 */
import { KEY, ROUND_KEYS, SCHEDULE, STATE, WORD_PLANES } from './windows';
import { bytesToPlanes, fromPlanesXor, planesToBytes, toPlanesAddKey } from './bitslice';
import { LAST_ROUND, round, SUB_BYTES_ONLY } from './round';

/** Bytes of one round key in bit-plane form: 8 planes x 16 bytes. */
const PLANES_BYTES: usize = 128;

/**
 * FIPS-197 §5.2 key expansion of the key in KEY (Nk = 8, Nr = 14), stored as bitsliced round keys in
 * ROUND_KEYS: round key i in the internal lane order, with ShiftRows^-i applied (fixslicing) and, for i >= 1,
 * the S-box constant 0x63 added.
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
    bytesToPlanes(roundKeyOrder(rk, <i32>(i & 3)), ROUND_KEYS + i * PLANES_BYTES);
  }
}

/**
 * The 16 bytes of the big-endian 128-bit integer hi:lo as an AES input block in the internal lane order
 * (row-major): lane byte 4r + c is block byte r + 4c, which is byte 15 - (r + 4c) of the little-endian pair.
 */
// @ts-ignore: decorator
@inline export function blockFromBigEndian(hi: u64, lo: u64): v128 {
  const v = i64x2.replace_lane(i64x2.splat(lo), 1, hi);
  return i8x16.shuffle(v, v, 15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
}

/**
 * Encrypts the 8 blocks `b0..b7` (internal lane order, see blockFromBigEndian) with the round keys in
 * ROUND_KEYS and XORs the results, in FIPS-197 byte order, into the 128 bytes at `dst` (block k at dst + 16k).
 */
// @ts-ignore: decorator
@inline export function encrypt8Xor(
  b0: v128, b1: v128, b2: v128, b3: v128, b4: v128, b5: v128, b6: v128, b7: v128, dst: usize,
): void {
  toPlanesAddKey(b0, b1, b2, b3, b4, b5, b6, b7, ROUND_KEYS, STATE);
  // Rounds 1..12 in groups of four: round i uses the MixColumns variant i mod 4.
  for (let rk = ROUND_KEYS + PLANES_BYTES; rk < ROUND_KEYS + 13 * PLANES_BYTES; rk += 4 * PLANES_BYTES) {
    round(STATE, 1, rk);
    round(STATE, 2, rk + PLANES_BYTES);
    round(STATE, 3, rk + 2 * PLANES_BYTES);
    round(STATE, 0, rk + 3 * PLANES_BYTES);
  }
  round(STATE, 1, ROUND_KEYS + 13 * PLANES_BYTES);
  round(STATE, LAST_ROUND, ROUND_KEYS + 14 * PLANES_BYTES);
  fromPlanesXor(STATE, dst);
}

/** SubWord (FIPS-197 §5.2) of a little-endian word, constant-time: the 4 bytes go through the S-box circuit. */
function subWord(word: u32): u32 {
  bytesToPlanes(i32x4.splat(word), WORD_PLANES);
  round(WORD_PLANES, SUB_BYTES_ONLY, 0);
  return i32x4.extract_lane(planesToBytes(WORD_PLANES), 0) ^ 0x63636363;
}

/**
 * Round key i (FIPS-197 byte order) in the internal lane order with ShiftRows^-i applied: lane byte 4r + c
 * takes key byte r + 4((c - i*r) mod 4). `phase` = i mod 4 (ShiftRows^4 is the identity).
 */
// @ts-ignore: decorator
@inline function roundKeyOrder(rk: v128, phase: i32): v128 {
  if (phase == 0) return i8x16.shuffle(rk, rk, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  if (phase == 1) return i8x16.shuffle(rk, rk, 0, 4, 8, 12, 13, 1, 5, 9, 10, 14, 2, 6, 7, 11, 15, 3);
  if (phase == 2) return i8x16.shuffle(rk, rk, 0, 4, 8, 12, 9, 13, 1, 5, 2, 6, 10, 14, 11, 15, 3, 7);
  return i8x16.shuffle(rk, rk, 0, 4, 8, 12, 5, 9, 13, 1, 10, 14, 2, 6, 15, 3, 7, 11);
}
