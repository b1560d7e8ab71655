/**
 * The two CRT exponentiations (mod p and mod q) run together, one in each 64-bit lane of a SIMD vector, over
 * 28-bit limbs with lazy carries: the hot path of the private operation.
 *
 * Why this shape: with 32-bit limbs every multiply-add must split its 64-bit sum into a limb and a carry at once.
 * With 28-bit limbs a product is below 2^56, so a column of up to 256 products fits in 64 bits: a Montgomery
 * product becomes plain multiply-accumulate, normalised once per column (product scanning with the reduction
 * interleaved: Koc, Acar and Kaliski 1996, "FIPS"). p and q are independent and of the same limb count, so one
 * `i64x2.extmul_low_i32x4_u` computes a limb product of both halves at once.
 *
 * Layout of a "pair number": K limbs, limb j at byte 8 j as two u32 (lane 0: the mod-p value, lane 1: mod q),
 * each below 2^28. With R = 2^(28 K) > 4 m (K = laneLimbs(L)), products of inputs below 2 m stay below 2 m
 * (Walter 1999), so no conditional subtraction is needed inside the exponentiation; one masked subtraction
 * brings the result below m when it leaves the lanes.
 *
 * Constant time as in mont.ts: loop bounds are limb counts, addresses are area bases plus counters, the window
 * table is read in full at every lookup and the entry kept by masks.
 * @module
 */
import { finalSubtract, negInverse32 } from './mont';
import { LANE_ACC, LANE_BASE, LANE_MOD, LANE_MOD_REV, LANE_ONE, LANE_PICK, LANE_RR, LANE_U, T, TABLE, TABLE_SIZE, WINDOW_BITS } from './windows';

const LIMB_BITS: i32 = 28;
const LIMB_MASK: u32 = (1 << LIMB_BITS) - 1;

/** Limbs of 28 bits for a modulus of L 32-bit limbs, with two bits to spare (R > 4 m). */
export function laneLimbs(L: i32): i32 {
  return (L * 32 + 2 + LIMB_BITS - 1) / LIMB_BITS;
}

/** Writes src (L 32-bit limbs) into lane `lane` of the pair number dst (K 28-bit limbs). */
function toLane(dst: usize, src: usize, L: i32, K: i32, lane: i32): void {
  const laneOffset = (lane << 2) as usize;
  for (let k = 0; k < K; k++) {
    const bit = k * LIMB_BITS;
    const limb = bit >>> 5;
    const lo: u64 = limb < L ? <u64>load<u32>(src + ((limb << 2) as usize)) : 0; // limb and L are public
    const hi: u64 = limb + 1 < L ? <u64>load<u32>(src + (((limb + 1) << 2) as usize)) : 0;
    store<u32>(dst + ((k << 3) as usize) + laneOffset, <u32>(((hi << 32) | lo) >> (bit & 31)) & LIMB_MASK);
  }
}

/** Writes lane `lane` of the pair number src (K limbs, value below 2^(32 L)) into dst as L 32-bit limbs. */
function fromLane(dst: usize, src: usize, K: i32, L: i32, lane: i32): void {
  const laneOffset = (lane << 2) as usize;
  for (let j = 0; j < L; j++) {
    const bit = j * 32;
    const k = bit / LIMB_BITS;
    let v: u64 = 0;
    for (let s = 0; s < 3; s++) {
      if (k + s < K) v |= <u64>load<u32>(src + (((k + s) << 3) as usize) + laneOffset) << <u64>(s * LIMB_BITS);
    }
    store<u32>(dst + ((j << 2) as usize), <u32>(v >> <u64>(bit - k * LIMB_BITS)));
  }
}

/** The limb product of both lanes: [a.p * b.p, a.q * b.q] as two u64. */
// @ts-ignore: decorator
@inline function limbProduct(a: usize, b: usize): v128 {
  return i64x2.extmul_low_i32x4_u(v128.load64_zero(a), v128.load64_zero(b));
}

/**
 * acc + sum of u[j] m[c - j] over j = j0 .. j1 - 1, both lanes, for column c. The modulus is read from its
 * reversed copy (LANE_MOD_REV, limb t = m[K-1-t]) so that u[j], u[j+1] and m[c-j], m[c-j-1] are each one
 * 16-byte load apart: two limb products per step.
 */
// @ts-ignore: decorator
@inline function addQuotientTimesModulus(acc: v128, j0: usize, j1: usize, c8: usize, k8: usize): v128 {
  let pu = LANE_U + j0;
  let pr = LANE_MOD_REV + k8 - 8 - c8 + j0;
  const end = LANE_U + j1;
  if ((((j1 - j0) >> 3) & 1) != 0) { // an odd count (public): one single product first
    acc = i64x2.add(acc, limbProduct(pu, pr));
    pu += 8;
    pr += 8;
  }
  let other = i64x2.splat(0); // a second sum: two independent chains of additions
  if ((((j1 - j0) >> 4) & 1) != 0) { // then a count that is 2 mod 4 (public): one pair
    const uu = v128.load(pu);
    const mm = v128.load(pr);
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(uu, mm));
    other = i64x2.add(other, i64x2.extmul_high_i32x4_u(uu, mm));
    pu += 16;
    pr += 16;
  }
  for (; pu < end; pu += 32, pr += 32) {
    const uu = v128.load(pu);
    const mm = v128.load(pr);
    const uu2 = v128.load(pu, 16);
    const mm2 = v128.load(pr, 16);
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(uu, mm));
    other = i64x2.add(other, i64x2.extmul_high_i32x4_u(uu, mm));
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(uu2, mm2));
    other = i64x2.add(other, i64x2.extmul_high_i32x4_u(uu2, mm2));
  }
  return i64x2.add(acc, other);
}

/**
 * acc + sum of a[j] b[c - j] over j = j0 .. j1 - 1 (both lanes): a[j], a[j+1] in one 16-byte load,
 * b[c-j-1], b[c-j] in another with its halves swapped, two products per step.
 */
// @ts-ignore: decorator
@inline function addProductColumn(acc: v128, a: usize, b: usize, j0: usize, j1: usize, c8: usize): v128 {
  let pa = a + j0;
  let pb = b + c8 - j0;
  const end = a + j1;
  if ((((j1 - j0) >> 3) & 1) != 0) { // an odd count (public): one single product first
    acc = i64x2.add(acc, limbProduct(pa, pb));
    pa += 8;
    pb -= 8;
  }
  let other = i64x2.splat(0);
  for (; pa < end; pa += 16, pb -= 16) {
    const lo = v128.load(pa);
    const hi = v128.load(pb - 8);
    const swapped = i32x4.shuffle(hi, hi, 2, 3, 0, 1);
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(lo, swapped));
    other = i64x2.add(other, i64x2.extmul_high_i32x4_u(lo, swapped));
  }
  return i64x2.add(acc, other);
}

/**
 * acc + 2 * (sum of a[j] a[c - j] over j0 <= j < c - j) + a[c/2]^2 when c is even: the products of column c of
 * a square, each cross product once. Two products per step: a[j], a[j+1] in one load, a[c-j-1], a[c-j] in
 * another, halves swapped.
 */
// @ts-ignore: decorator
@inline function addSquareColumn(acc: v128, a: usize, j0: usize, c8: usize): v128 {
  let cross = i64x2.splat(0);
  let other = i64x2.splat(0);
  let pa = a + j0;
  let pb = a + c8 - j0;
  for (; pa + 16 < pb; pa += 16, pb -= 16) {
    const lo = v128.load(pa);
    const hi = v128.load(pb - 8);
    const swapped = i32x4.shuffle(hi, hi, 2, 3, 0, 1);
    cross = i64x2.add(cross, i64x2.extmul_low_i32x4_u(lo, swapped));
    other = i64x2.add(other, i64x2.extmul_high_i32x4_u(lo, swapped));
  }
  cross = i64x2.add(cross, other);
  if (pa < pb) {
    cross = i64x2.add(cross, limbProduct(pa, pb));
    pa += 8;
    pb -= 8;
  }
  acc = i64x2.add(acc, i64x2.shl(cross, 1));
  if (pa == pb) acc = i64x2.add(acc, limbProduct(pa, pa));
  return acc;
}

/**
 * r = a * b * R^-1 in both lanes, for a, b < 2 m (m = LANE_MOD); r < 2 m, normalised. r may be a or b: limb t
 * of r is written only after the last column that reads limb t of a or b. `minv` holds -m^-1 mod 2^28 of each
 * lane in its low 32 bits.
 */
function montMulLanes(r: usize, a: usize, b: usize, K: i32, minv: v128): void {
  const m = LANE_MOD;
  const u = LANE_U;
  const mask = i64x2.splat(LIMB_MASK);
  const k8 = (K << 3) as usize;
  let acc = i64x2.splat(0);
  // columns 0 .. K-1: sum a[j] b[i-j] + u[j] m[i-j], then choose u[i] so that the column vanishes mod 2^28
  for (let i8: usize = 0; i8 < k8; i8 += 8) {
    // the column is summed apart from the carry: its products need not wait for the previous column
    const column = addProductColumn(i64x2.splat(0), a, b, 0, i8 + 8, i8);
    acc = i64x2.add(acc, addQuotientTimesModulus(column, 0, i8, i8, k8));
    let q = v128.and(i32x4.mul(acc, minv), mask);
    q = i32x4.shuffle(q, q, 0, 2, 0, 2);
    v128.store64_lane(u + i8, q, 0);
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(q, v128.load64_zero(m)));
    acc = i64x2.shr_u(acc, LIMB_BITS);
  }
  // columns K .. 2K-2: what is left of the products, one limb of the result per column
  const last = k8 - 8;
  for (let i8: usize = k8; i8 < k8 + last; i8 += 8) {
    const column = addProductColumn(i64x2.splat(0), a, b, i8 - last, k8, i8);
    acc = i64x2.add(acc, addQuotientTimesModulus(column, i8 - last, k8, i8, k8));
    const limb = v128.and(acc, mask);
    v128.store64_lane(r + i8 - k8, i32x4.shuffle(limb, limb, 0, 2, 0, 2), 0);
    acc = i64x2.shr_u(acc, LIMB_BITS);
  }
  v128.store64_lane(r + last, i32x4.shuffle(acc, acc, 0, 2, 0, 2), 0);
}

/**
 * r = a * a * R^-1 in both lanes (as montMulLanes(r, a, a), a < 2 m): each cross product a[j] a[i-j], j < i-j,
 * is computed once and doubled, so a squaring costs three quarters of a product. r may be a.
 */
function montSquareLanes(r: usize, a: usize, K: i32, minv: v128): void {
  const m = LANE_MOD;
  const u = LANE_U;
  const mask = i64x2.splat(LIMB_MASK);
  const k8 = (K << 3) as usize;
  let acc = i64x2.splat(0);
  for (let i8: usize = 0; i8 < k8; i8 += 8) {
    // cross products of column i (pairs j < i - j), doubled, plus the square a[i/2]^2 for an even i (public)
    const column = addSquareColumn(i64x2.splat(0), a, 0, i8);
    acc = i64x2.add(acc, addQuotientTimesModulus(column, 0, i8, i8, k8));
    let q = v128.and(i32x4.mul(acc, minv), mask);
    q = i32x4.shuffle(q, q, 0, 2, 0, 2);
    v128.store64_lane(u + i8, q, 0);
    acc = i64x2.add(acc, i64x2.extmul_low_i32x4_u(q, v128.load64_zero(m)));
    acc = i64x2.shr_u(acc, LIMB_BITS);
  }
  const last = k8 - 8;
  for (let i8: usize = k8; i8 < k8 + last; i8 += 8) {
    const column = addSquareColumn(i64x2.splat(0), a, i8 - last, i8);
    acc = i64x2.add(acc, addQuotientTimesModulus(column, i8 - last, k8, i8, k8));
    const limb = v128.and(acc, mask);
    v128.store64_lane(r + i8 - k8, i32x4.shuffle(limb, limb, 0, 2, 0, 2), 0);
    acc = i64x2.shr_u(acc, LIMB_BITS);
  }
  v128.store64_lane(r + last, i32x4.shuffle(acc, acc, 0, 2, 0, 2), 0);
}

/** r = TABLE[indexP] in lane p and TABLE[indexQ] in lane q, reading every entry in full and keeping by masks. */
function lookupLanes(r: usize, indexP: u32, indexQ: u32, K: i32): void {
  const entryBytes = (K << 3) as usize;
  const chunks = (((K + 1) >> 1) << 4) as usize; // whole 16-byte chunks: may read and write one pair past K
  memory.fill(r, 0, chunks);
  for (let k: u32 = 0; k < <u32>TABLE_SIZE; k++) {
    const maskP = 0 - (((k ^ indexP) - 1) >>> 31);
    const maskQ = 0 - (((k ^ indexQ) - 1) >>> 31);
    const mask = i32x4(maskP, maskQ, maskP, maskQ);
    const entry = TABLE + entryBytes * k;
    for (let j: usize = 0; j < chunks; j += 16) {
      v128.store(r + j, v128.or(v128.load(r + j), v128.and(v128.load(entry + j), mask)));
    }
  }
}

/** The 5-bit window w of exp (L limbs); bits past the top are zero. The position is public. */
function windowAt(exp: usize, L: i32, w: i32): u32 {
  const bit = w * WINDOW_BITS;
  const limb = bit >>> 5;
  const lo = <u64>load<u32>(exp + ((limb << 2) as usize));
  const hi: u64 = limb + 1 < L ? <u64>load<u32>(exp + (((limb + 1) << 2) as usize)) : 0;
  return <u32>(((hi << 32) | lo) >> (bit & 31)) & (TABLE_SIZE - 1);
}

/** rr = R^2 mod m (R = 2^(28 K)) from mRR = 2^(64 L) mod m, by constant-time doublings. Uses T. */
function laneRSquared(rr: usize, mRR: usize, m: usize, L: i32, K: i32): void {
  const end = (L << 2) as usize;
  memory.copy(rr, mRR, end);
  const steps = 2 * LIMB_BITS * K - 64 * L;
  for (let s = 0; s < steps; s++) {
    let c: u32 = 0;
    for (let j: usize = 0; j < end; j += 4) {
      const v = load<u32>(rr + j);
      store<u32>(T + j, (v << 1) | c);
      c = v >>> 31;
    }
    store<u32>(T + end, c);
    finalSubtract(rr, T, m, L);
  }
}

/**
 * outP = xp^expP mod p and outQ = xq^expQ mod q (each L 32-bit limbs; xp < p, xq < q, normal form), with fixed
 * 5-bit windows over all 32 L bits of each exponent. pRR, qRR: 2^(64 L) mod p, mod q. outP, outQ may be xp, xq.
 * Uses T and the LANE_* areas; `rr` is scratch of L + 1 limbs.
 */
export function expLanes(
  outP: usize, outQ: usize, xp: usize, xq: usize, expP: usize, expQ: usize,
  p: usize, q: usize, pRR: usize, qRR: usize, rr: usize, L: i32,
): void {
  const K = laneLimbs(L);
  const entryBytes = (K << 3) as usize;
  toLane(LANE_MOD, p, L, K, 0);
  toLane(LANE_MOD, q, L, K, 1);
  for (let t = 0; t < K; t++) store<u64>(LANE_MOD_REV + ((t << 3) as usize), load<u64>(LANE_MOD + (((K - 1 - t) << 3) as usize)));
  laneRSquared(rr, pRR, p, L, K);
  toLane(LANE_RR, rr, L, K, 0);
  laneRSquared(rr, qRR, q, L, K);
  toLane(LANE_RR, rr, L, K, 1);
  toLane(LANE_BASE, xp, L, K, 0);
  toLane(LANE_BASE, xq, L, K, 1);
  const minv = i32x4(negInverse32(load<u32>(p)) & LIMB_MASK, 0, negInverse32(load<u32>(q)) & LIMB_MASK, 0);
  // TABLE[k] = x^k R mod m, below 2 m
  montMulLanes(TABLE, LANE_ONE, LANE_RR, K, minv);
  montMulLanes(TABLE + entryBytes, LANE_BASE, LANE_RR, K, minv);
  for (let k = 2; k < TABLE_SIZE; k++) {
    montMulLanes(TABLE + entryBytes * k, TABLE + entryBytes * (k - 1), TABLE + entryBytes, K, minv);
  }
  const windows = (L * 32 + WINDOW_BITS - 1) / WINDOW_BITS;
  lookupLanes(LANE_ACC, windowAt(expP, L, windows - 1), windowAt(expQ, L, windows - 1), K);
  for (let w = windows - 2; w >= 0; w--) {
    for (let s = 0; s < WINDOW_BITS; s++) montSquareLanes(LANE_ACC, LANE_ACC, K, minv);
    lookupLanes(LANE_PICK, windowAt(expP, L, w), windowAt(expQ, L, w), K);
    montMulLanes(LANE_ACC, LANE_ACC, LANE_PICK, K, minv);
  }
  // leave Montgomery form: x R * 1 * R^-1 <= m, then one masked subtraction in each half
  montMulLanes(LANE_ACC, LANE_ACC, LANE_ONE, K, minv);
  const end = (L << 2) as usize;
  fromLane(rr, LANE_ACC, K, L, 0);
  store<u32>(rr + end, 0);
  finalSubtract(outP, rr, p, L);
  fromLane(rr, LANE_ACC, K, L, 1);
  store<u32>(rr + end, 0);
  finalSubtract(outQ, rr, q, L);
}
