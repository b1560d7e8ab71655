/**
 * Constant-time multi-precision arithmetic over little-endian arrays of 32-bit limbs, with 64-bit products:
 * Montgomery multiplication (CIOS, Koc, Acar and Kaliski 1996, "Analyzing and comparing Montgomery
 * multiplication algorithms", §4), Montgomery reduction of a double-length number, and the masked helpers the
 * private operation is built from. The two CRT exponentiations, where nearly all the time goes, use the faster
 * two-lane arithmetic of lanes.ts instead; this file serves the operations mod n (blinding, the check against
 * the public key, the public operation) and the CRT recombination.
 *
 * Every loop runs a number of times fixed by the limb count `L` (public: the size of the key), every memory
 * address depends only on `L` and on loop counters, and every data-dependent choice is a mask (`-bit`), never a
 * branch: the final subtraction of a Montgomery product is always computed and then selected with a mask.
 * @module
 */
import { T } from './windows';

/** -m^-1 mod 2^32 for an odd m0 (Newton's iteration, a fixed 5 steps: 5 -> 80 correct bits). */
export function negInverse32(m0: u32): u32 {
  let x: u32 = (m0 * 3) ^ 2; // correct to 5 bits
  x *= 2 - m0 * x;
  x *= 2 - m0 * x;
  x *= 2 - m0 * x;
  x *= 2 - m0 * x;
  return 0 - x;
}

/**
 * r = a * b * R^-1 mod m (R = 2^(32 L)), for a, b < m and L a multiple of 4. r may be a or b. The product and
 * the reduction share one pass per limb of b (CIOS with the two inner loops fused), unrolled by four limbs.
 * The result is fully reduced (< m): the subtraction of m is computed every time and kept or dropped with a mask.
 */
export function montMul(r: usize, a: usize, b: usize, m: usize, L: i32, m0inv: u32): void {
  const t = T;
  memory.fill(t, 0, ((L + 2) << 2) as usize);
  const end = (L << 2) as usize;
  for (let i: usize = 0; i < end; i += 4) {
    const bi = <u64>load<u32>(b + i);
    // limb 0: x = t0 + a0 * bi; u makes (x + u * m0) vanish mod 2^32
    let x = <u64>load<u32>(t) + <u64>load<u32>(a) * bi;
    let c = x >> 32;
    const low = <u32>x;
    const uLow: u32 = low * m0inv;
    const u = <u64>uLow;
    let y = <u64>low + <u64>load<u32>(m) * u;
    let d = y >> 32;
    // limbs 1..3, then groups of four: t[j - 1] = (t[j] + a[j] bi + c) + m[j] u + d
    for (let j: usize = 4; j < 16; j += 4) {
      x = <u64>load<u32>(t + j) + <u64>load<u32>(a + j) * bi + c;
      c = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(m + j) * u + d;
      d = y >> 32;
      store<u32>(t + j - 4, <u32>y);
    }
    // pointers with immediate offsets: no address arithmetic inside the group
    const tEnd = t + end;
    for (let pt = t + 16, pa = a + 16, pm = m + 16; pt < tEnd; pt += 16, pa += 16, pm += 16) {
      x = <u64>load<u32>(pt, 0) + <u64>load<u32>(pa, 0) * bi + c;
      c = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(pm, 0) * u + d;
      d = y >> 32;
      store<u32>(pt - 4, <u32>y);
      x = <u64>load<u32>(pt, 4) + <u64>load<u32>(pa, 4) * bi + c;
      c = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(pm, 4) * u + d;
      d = y >> 32;
      store<u32>(pt, <u32>y, 0);
      x = <u64>load<u32>(pt, 8) + <u64>load<u32>(pa, 8) * bi + c;
      c = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(pm, 8) * u + d;
      d = y >> 32;
      store<u32>(pt, <u32>y, 4);
      x = <u64>load<u32>(pt, 12) + <u64>load<u32>(pa, 12) * bi + c;
      c = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(pm, 12) * u + d;
      d = y >> 32;
      store<u32>(pt, <u32>y, 8);
    }
    x = <u64>load<u32>(t + end) + c + d;
    store<u32>(t + end - 4, <u32>x);
    store<u32>(t + end, <u32>(x >> 32));
  }
  finalSubtract(r, t, m, L);
}

/**
 * r = t mod m for t < 2m given as L limbs plus a carry limb t[L]: computes t - m into r, then keeps it when
 * t >= m (carry set or no borrow) and restores t otherwise, with a mask.
 */
export function finalSubtract(r: usize, t: usize, m: usize, L: i32): void {
  const end = (L << 2) as usize;
  let borrow: u64 = 0;
  for (let j: usize = 0; j < end; j += 4) {
    const d = <u64>load<u32>(t + j) - <u64>load<u32>(m + j) - borrow;
    store<u32>(r + j, <u32>d);
    borrow = (d >> 63) & 1;
  }
  // keep the difference when carry - borrow >= 0, i.e. unless (carry == 0 and borrow == 1)
  const carry = <u64>load<u32>(t + end);
  const restore = <u32>(0 - (borrow & (carry ^ 1)));
  for (let j: usize = 0; j < end; j += 4) {
    const d = load<u32>(r + j);
    store<u32>(r + j, d ^ ((d ^ load<u32>(t + j)) & restore));
  }
}

/**
 * r = x * R^-1 mod m for x of 2L limbs with x < m * R (Montgomery's REDC). r gets L limbs. Uses T.
 */
export function montReduce(r: usize, x: usize, m: usize, L: i32, m0inv: u32): void {
  const t = T;
  const end = (L << 2) as usize;
  memory.copy(t, x, end << 1);
  store<u32>(t + (end << 1), 0);
  // classic REDC: for each i, add u * m * 2^(32 i) so that limb i vanishes, carrying to the end
  for (let i: usize = 0; i < end; i += 4) {
    const u32u: u32 = load<u32>(t + i) * m0inv;
    const u = <u64>u32u;
    let c: u64 = 0;
    for (let j: usize = 0; j < end; j += 4) {
      const s = <u64>load<u32>(t + i + j) + <u64>load<u32>(m + j) * u + c;
      store<u32>(t + i + j, <u32>s);
      c = s >> 32;
    }
    // propagate the carry through the remaining limbs (a fixed count: up to the top)
    for (let j: usize = i + end; j <= (end << 1); j += 4) {
      const s = <u64>load<u32>(t + j) + c;
      store<u32>(t + j, <u32>s);
      c = s >> 32;
    }
  }
  // the upper half (plus carry limb) is < 2m
  finalSubtract(r, t + end, m, L);
}

/** r = 2^(64 L) mod m (R^2 mod m), by 64 L constant-time doublings of 1. For odd m > 1. Uses T. */
export function rSquared(r: usize, m: usize, L: i32): void {
  const end = (L << 2) as usize;
  const t = T;
  memory.fill(r, 0, end);
  store<u32>(r, 1);
  const steps = L << 6;
  for (let k = 0; k < steps; k++) {
    let c: u32 = 0;
    for (let j: usize = 0; j < end; j += 4) {
      const v = load<u32>(r + j);
      store<u32>(t + j, (v << 1) | c);
      c = v >>> 31;
    }
    store<u32>(t + end, c);
    finalSubtract(r, t, m, L);
  }
}

/** r = (a - b) mod m for a, b < m: the sum a - b + m is computed and kept with a mask when a - b borrowed. */
export function modSub(r: usize, a: usize, b: usize, m: usize, L: i32): void {
  const end = (L << 2) as usize;
  let borrow: u64 = 0;
  for (let j: usize = 0; j < end; j += 4) {
    const d = <u64>load<u32>(a + j) - <u64>load<u32>(b + j) - borrow;
    store<u32>(r + j, <u32>d);
    borrow = (d >> 63) & 1;
  }
  const mask = <u64>(0 - <u32>borrow);
  let c: u64 = 0;
  for (let j: usize = 0; j < end; j += 4) {
    const s = <u64>load<u32>(r + j) + (<u64>load<u32>(m + j) & mask) + c;
    store<u32>(r + j, <u32>s);
    c = s >> 32;
  }
}

/** r (2L limbs) = a * b (L limbs each); r must not overlap a or b. */
export function mulFull(r: usize, a: usize, b: usize, L: i32): void {
  const end = (L << 2) as usize;
  memory.fill(r, 0, end << 1);
  for (let i: usize = 0; i < end; i += 4) {
    const bi = <u64>load<u32>(b + i);
    let c: u64 = 0;
    for (let j: usize = 0; j < end; j += 4) {
      const s = <u64>load<u32>(r + i + j) + <u64>load<u32>(a + j) * bi + c;
      store<u32>(r + i + j, <u32>s);
      c = s >> 32;
    }
    store<u32>(r + i + end, <u32>c);
  }
}

/** Adds b (L limbs) into r (rL limbs, rL >= L), carrying to the top; returns the carry out. */
export function addInto(r: usize, rL: i32, b: usize, L: i32): u32 {
  let c: u64 = 0;
  const end = (rL << 2) as usize;
  const bEnd = (L << 2) as usize;
  for (let j: usize = 0; j < end; j += 4) {
    const bj = j < bEnd ? <u64>load<u32>(b + j) : 0; // j and L are public: a bound, not data
    const s = <u64>load<u32>(r + j) + bj + c;
    store<u32>(r + j, <u32>s);
    c = s >> 32;
  }
  return <u32>c;
}

/** 1 when a == b over L limbs, 0 otherwise, reading every limb. */
export function equal(a: usize, b: usize, L: i32): u32 {
  const end = (L << 2) as usize;
  let diff: u32 = 0;
  for (let j: usize = 0; j < end; j += 4) diff |= load<u32>(a + j) ^ load<u32>(b + j);
  return <u32>((<u64>diff - 1) >> 63);
}

/** 1 when a < b over L limbs (a public comparison: used on the ciphertext and the modulus only). */
export function lessThan(a: usize, b: usize, L: i32): u32 {
  let borrow: u64 = 0;
  const end = (L << 2) as usize;
  for (let j: usize = 0; j < end; j += 4) {
    const d = <u64>load<u32>(a + j) - <u64>load<u32>(b + j) - borrow;
    borrow = (d >> 63) & 1;
  }
  return <u32>borrow;
}
