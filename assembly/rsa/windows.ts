/**
 * The static memory windows of the RSA core (assembly/rsa.ts): what JS writes before a call and reads after it,
 * plus the core's scratch areas. Every number is a little-endian array of 32-bit limbs; JS converts from and to
 * big-endian bytes. No allocation happens after start-up (runtime `stub`): every address is fixed at compile time.
 *
 * Sizes: a modulus of up to 4096 bits is 128 limbs; each CRT half (p, q, dP, dQ, qInv) gets HALF_LIMBS, a little
 * more than 64 so that keys with slightly unbalanced primes still fit.
 */

/** Limbs of the largest modulus (4096 bits). */
export const MAX_LIMBS: i32 = 128;
/** Limbs of the largest CRT half (a prime of up to 2304 bits). */
export const HALF_LIMBS: i32 = 72;
/** Bits of an exponent window: 2^5 = 32 table entries, each read in full at every lookup. */
export const WINDOW_BITS: i32 = 5;
/** Entries of a window table. */
export const TABLE_SIZE: i32 = 1 << WINDOW_BITS;

const FULL: i32 = MAX_LIMBS * 4;
const HALF: i32 = HALF_LIMBS * 4;
/** Scratch numbers hold a double-length CRT product (2 * HALF_LIMBS limbs, more than MAX_LIMBS). */
const BIG: i32 = HALF * 2 + 16;

// ---- public windows (JS writes and reads them) -------------------------------------------------------------------

/** Input and output of an operation (modulus-length). */
export const IO: usize = memory.data(FULL, 16);
/** The modulus n. */
export const N: usize = memory.data(FULL, 16);
/** R^2 mod n (R = 2^(32 nLimbs)), computed by `rsaPrepare`, kept by JS, written back before each call. */
export const N_RR: usize = memory.data(FULL, 16);

// ---- secret windows (JS writes them before each private call; zeroed when it returns) ------------------------------

export const P: usize = memory.data(HALF, 16);
export const Q: usize = memory.data(HALF, 16);
export const DP: usize = memory.data(HALF, 16);
export const DQ: usize = memory.data(HALF, 16);
export const QINV: usize = memory.data(HALF, 16);
/** R^2 mod p and R^2 mod q (R = 2^(32 halfLimbs)). */
export const P_RR: usize = memory.data(HALF, 16);
export const Q_RR: usize = memory.data(HALF, 16);
/** The blinding pair, Montgomery form mod n: A = r^e and AI = r^-1. Read back by JS after each call. */
export const BLIND: usize = memory.data(FULL, 16);
export const BLIND_INV: usize = memory.data(FULL, 16);
/** Fresh random bytes from JS (`crypto.getRandomValues`), below n, for a new blinding pair. */
export const RANDOM: usize = memory.data(FULL, 16);

// ---- scratch -------------------------------------------------------------------------------------------------------

/** Montgomery product accumulator (L + 2 limbs). */
export const T: usize = memory.data(BIG, 16);
/** Largest limb count of a pair number (rsa/lanes.ts: 28-bit limbs of both CRT halves, 8 bytes a limb). */
const LANE_MAX_LIMBS: i32 = (HALF_LIMBS * 32 + 2 + 27) / 28;
/** Bytes of a pair-number area: two limbs of slack for the 16-byte reads and writes of the table lookup. */
const LANE: i32 = (LANE_MAX_LIMBS + 2) * 8;
/** The window table of both CRT halves: TABLE_SIZE pair numbers (rsa/lanes.ts), packed at 8 K bytes apiece. */
export const TABLE: usize = memory.data(LANE * TABLE_SIZE, 16);
/** Pair numbers of rsa/lanes.ts: the moduli, R^2, the base, the running power, the looked-up entry, and the
 * Montgomery quotient digits of the current product. */
export const LANE_MOD: usize = memory.data(LANE, 16);
/** The moduli pair with its limbs in reverse order (limb t = limb K-1-t of LANE_MOD). */
export const LANE_MOD_REV: usize = memory.data(LANE, 16);
export const LANE_RR: usize = memory.data(LANE, 16);
export const LANE_BASE: usize = memory.data(LANE, 16);
export const LANE_ACC: usize = memory.data(LANE, 16);
export const LANE_PICK: usize = memory.data(LANE, 16);
export const LANE_U: usize = memory.data(LANE, 16);
/** The pair number 1 in both lanes (constant). */
export const LANE_ONE: usize = memory.data(LANE, 16);
store<u32>(LANE_ONE, 1);
store<u32>(LANE_ONE + 4, 1);
/** Scratch numbers. */
export const S0: usize = memory.data(BIG, 16);
export const S1: usize = memory.data(BIG, 16);
export const S2: usize = memory.data(BIG, 16);
export const S3: usize = memory.data(BIG, 16);
export const S4: usize = memory.data(BIG, 16);
export const S5: usize = memory.data(BIG, 16);

/** The exponents p - 2 and q - 2 (Fermat inversion of the blinding value). */
export const E0: usize = memory.data(HALF, 16);
export const E1: usize = memory.data(HALF, 16);
/** The number 1 (limb 0 set, every other limb zero): leaves Montgomery form through one product. */
export const ONE: usize = memory.data(BIG, 16);
store<u32>(ONE, 1);

/** Zeroes every secret window and every scratch area (not IO, N, N_RR, BLIND, BLIND_INV). */
export function wipeSecrets(): void {
  memory.fill(P, 0, HALF);
  memory.fill(Q, 0, HALF);
  memory.fill(DP, 0, HALF);
  memory.fill(DQ, 0, HALF);
  memory.fill(QINV, 0, HALF);
  memory.fill(P_RR, 0, HALF);
  memory.fill(Q_RR, 0, HALF);
  memory.fill(RANDOM, 0, FULL);
  memory.fill(T, 0, BIG);
  memory.fill(TABLE, 0, LANE * TABLE_SIZE);
  memory.fill(LANE_MOD, 0, LANE);
  memory.fill(LANE_MOD_REV, 0, LANE);
  memory.fill(LANE_RR, 0, LANE);
  memory.fill(LANE_BASE, 0, LANE);
  memory.fill(LANE_ACC, 0, LANE);
  memory.fill(LANE_PICK, 0, LANE);
  memory.fill(LANE_U, 0, LANE);
  memory.fill(S0, 0, BIG);
  memory.fill(S1, 0, BIG);
  memory.fill(S2, 0, BIG);
  memory.fill(S3, 0, BIG);
  memory.fill(S4, 0, BIG);
  memory.fill(S5, 0, BIG);
  memory.fill(E0, 0, HALF);
  memory.fill(E1, 0, HALF);
}

/** Zeroes the windows JS reads back (after it has read them). */
export function wipeIo(): void {
  memory.fill(IO, 0, FULL);
  memory.fill(BLIND, 0, FULL);
  memory.fill(BLIND_INV, 0, FULL);
}
