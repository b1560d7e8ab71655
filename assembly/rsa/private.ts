/**
 * The RSA operations of the core: the private operation `c^d mod n` through the CRT (RFC 8017 §5.1.2, case
 * 2.b), base-blinded and checked against the public key before release, and the public operation `m^e mod n`.
 *
 * Private operation, for a ciphertext c < n and the blinding pair (A = r^e, AI = r^-1) mod n:
 *   c' = c * A;  m' = c'^d via CRT (fixed 5-bit windows over every limb of dP and dQ);  m = m' * AI;
 *   release m only if m^e == c (a fault in one CRT half would otherwise leak a factor of n: Boneh, DeMillo
 *   and Lipton 1997); otherwise return zeros.
 * The pair is either new (r from JS's `crypto.getRandomValues`, A = r^e, AI = r^(p-2) mod p and r^(q-2) mod q
 * recombined: Fermat, with the same constant-time exponentiation) or the previous pair squared (A^2, AI^2),
 * as OpenSSL's BN_BLINDING_update does between regenerations; JS decides which, by a public call count.
 *
 * Speed: the two CRT exponentiations run at once, mod p in one SIMD lane and mod q in the other, over 28-bit
 * limbs with lazy carries (rsa/lanes.ts); the operations mod n (blinding, the check) use rsa/mont.ts.
 *
 * Constant time: the exponent windows are read at public bit positions and used only as a masked index into a
 * window table that is read in full for every lookup; every loop bound is a limb count; no branch depends on
 * the key, the blinded values or the result except the final fault verdict (which only a fault makes false).
 * How it was checked: in build/rsa.release.wat every `if`/`br_if`/`select` of rsaPrivate and of the functions
 * it calls (inlined or not: montMul, montReduce, finalSubtract, modSub, crt, expLanes with windowAt, toLane,
 * fromLane, laneRSquared, lookupLanes, montMulLanes, montSquareLanes, powPublic) was listed and read: each is
 * a loop bound over limb, column or window counters, a comparison of two table or limb pointers that move by
 * public steps (the square's `pa < pb`, `pa == pb`), the parity of a public limb count, the public
 * `limb + 1 < L` of windowAt and `k + s < K` of fromLane, `e`'s bits in powPublic, the size checks, `c < n`,
 * `newPair`, or the final status select; every load and store address is a window base plus counters.
 * `npm run bench:rsa -- --ct` measures the result (README, Security notes).
 * @module
 */
import { expLanes } from './lanes';
import { addInto, equal, finalSubtract, lessThan, modSub, montMul, montReduce, mulFull, negInverse32, rSquared } from './mont';
import {
  BLIND, BLIND_INV, DP, DQ, E0, E1, HALF_LIMBS, IO, MAX_LIMBS, N, N_RR, ONE, P, P_RR, Q, Q_RR, QINV, RANDOM,
  S0, S1, S2, S3, S4, S5, wipeSecrets,
} from './windows';

/** Status codes returned to JS. */
export const OK: i32 = 0;
export const INPUT_OUT_OF_RANGE: i32 = 1;
export const FAULT: i32 = 2;
export const BAD_SIZE: i32 = 3;

/**
 * Computes R^2 mod n into N_RR (nLimbs) and R^2 mod p, R^2 mod q into P_RR, Q_RR (halfLimbs), from N, P, Q.
 * JS reads the three back and keeps them with the key: they are written before every later call. With
 * halfLimbs = 0 (a public key), only N_RR.
 */
export function rsaPrepare(nLimbs: i32, halfLimbs: i32): i32 {
  // halfLimbs 0: a public key, no primes
  if (!sizesOk(nLimbs, halfLimbs == 0 ? (nLimbs + 1) >> 1 : halfLimbs)) return BAD_SIZE;
  rSquared(N_RR, N, nLimbs);
  if (halfLimbs == 0) return OK;
  rSquared(P_RR, P, halfLimbs);
  rSquared(Q_RR, Q, halfLimbs);
  return OK;
}

/** IO = IO^e mod n (public operation). Needs N and N_RR. */
export function rsaPublic(nLimbs: i32, e: u32): i32 {
  if (!sizesOk(nLimbs, (nLimbs + 1) >> 1)) return BAD_SIZE;
  if (lessThan(IO, N, nLimbs) == 0) return INPUT_OUT_OF_RANGE;
  const n0 = negInverse32(load<u32>(N));
  montMul(S0, IO, N_RR, N, nLimbs, n0);
  powPublic(S1, S0, e, N, nLimbs, n0);
  montMul(IO, S1, ONE, N, nLimbs, n0);
  memory.fill(S0, 0, (nLimbs << 2) as usize);
  memory.fill(S1, 0, (nLimbs << 2) as usize);
  return OK;
}

/**
 * IO = IO^d mod n (private operation, blinded, CRT, checked). Needs N, N_RR, P, Q, DP, DQ, QINV, P_RR, Q_RR,
 * and either RANDOM (newPair = 1) or the previous BLIND, BLIND_INV (newPair = 0); leaves the pair to use next
 * time in BLIND, BLIND_INV. Zeroes every secret window and scratch area before returning; JS zeroes IO and the
 * pair with `rsaWipeIo` once it has read them.
 */
export function rsaPrivate(nLimbs: i32, halfLimbs: i32, e: u32, newPair: i32): i32 {
  if (!sizesOk(nLimbs, halfLimbs)) {
    wipeSecrets();
    return BAD_SIZE;
  }
  if (lessThan(IO, N, nLimbs) == 0) {
    wipeSecrets();
    return INPUT_OUT_OF_RANGE;
  }
  const L = halfLimbs;
  const n0 = negInverse32(load<u32>(N));
  const nBytes = (nLimbs << 2) as usize;
  if (newPair != 0) {
    // A = r^e in Montgomery form (r < n, from JS), AI = r^-1 by Fermat in each half, then Montgomery form.
    montMul(S5, RANDOM, N_RR, N, nLimbs, n0);
    powPublic(BLIND, S5, e, N, nLimbs, n0);
    minusTwo(E0, P, L);
    minusTwo(E1, Q, L);
    crt(S5, RANDOM, E0, E1, nLimbs, L);
    montMul(BLIND_INV, S5, N_RR, N, nLimbs, n0);
  } else {
    montMul(BLIND, BLIND, BLIND, N, nLimbs, n0);
    montMul(BLIND_INV, BLIND_INV, BLIND_INV, N, nLimbs, n0);
  }
  montMul(S5, IO, BLIND, N, nLimbs, n0); // c * r^e
  crt(S5, S5, DP, DQ, nLimbs, L); // m * r
  montMul(S5, S5, BLIND_INV, N, nLimbs, n0); // m
  // the check: m^e == c
  montMul(S4, S5, N_RR, N, nLimbs, n0);
  powPublic(S3, S4, e, N, nLimbs, n0);
  montMul(S3, S3, ONE, N, nLimbs, n0);
  const ok = equal(S3, IO, nLimbs);
  const keep = 0 - ok;
  for (let j: usize = 0; j < nBytes; j += 4) store<u32>(IO + j, load<u32>(S5 + j) & keep);
  wipeSecrets();
  return ok == 1 ? OK : FAULT;
}

// ---------------------------------------------------------------------------------------------------------------

function sizesOk(nLimbs: i32, halfLimbs: i32): bool {
  return nLimbs >= 2 && nLimbs <= MAX_LIMBS && halfLimbs >= 1 && halfLimbs <= HALF_LIMBS && nLimbs <= halfLimbs * 2;
}

/**
 * out = x^dP mod p and x^dQ mod q recombined (Garner: m = mq + q * (qInv * (mp - mq) mod p)), for x < n of
 * nLimbs limbs. out may be x.
 */
function crt(out: usize, x: usize, expP: usize, expQ: usize, nLimbs: i32, L: i32): void {
  const p0 = negInverse32(load<u32>(P));
  const q0 = negInverse32(load<u32>(Q));
  const lBytes = (L << 2) as usize;
  // x padded to 2L limbs (n < p * q <= 2^(64 L), and x < n < p * R: the bound montReduce needs)
  memory.fill(S0, 0, lBytes << 1);
  memory.copy(S0, x, (nLimbs << 2) as usize);
  // x mod p into S1, x mod q into S2, then both exponentiations at once: mp into S2, mq into S3
  montReduce(S1, S0, P, L, p0);
  montMul(S1, S1, P_RR, P, L, p0);
  montReduce(S2, S0, Q, L, q0);
  montMul(S2, S2, Q_RR, Q, L, q0);
  expLanes(S2, S3, S1, S2, expP, expQ, P, Q, P_RR, Q_RR, S4, L);
  // mq mod p (mq < R <= p * R), then h = qInv * (mp - mq) mod p
  memory.fill(S0, 0, lBytes << 1);
  memory.copy(S0, S3, lBytes);
  montReduce(S1, S0, P, L, p0);
  montMul(S1, S1, P_RR, P, L, p0);
  modSub(S1, S2, S1, P, L);
  montMul(S1, S1, QINV, P, L, p0);
  montMul(S1, S1, P_RR, P, L, p0);
  // m = mq + q * h < n
  mulFull(S4, Q, S1, L);
  addInto(S4, L << 1, S3, L);
  memory.copy(out, S4, (nLimbs << 2) as usize);
}

/** out = base^e mod m in Montgomery form (left to right; e is public). out must not be base. */
function powPublic(out: usize, base: usize, e: u32, m: usize, L: i32, m0: u32): void {
  memory.copy(out, base, (L << 2) as usize);
  const top = 31 - clz(e);
  for (let i = top - 1; i >= 0; i--) {
    montMul(out, out, out, m, L, m0);
    if (((e >>> i) & 1) != 0) montMul(out, out, base, m, L, m0);
  }
}

/** r = m - 2 for an odd prime m (a borrow chain over every limb). */
function minusTwo(r: usize, m: usize, L: i32): void {
  let borrow: u64 = 2;
  for (let j: usize = 0; j < ((L << 2) as usize); j += 4) {
    const d = <u64>load<u32>(m + j) - borrow;
    store<u32>(r + j, <u32>d);
    borrow = (d >> 63) & 1;
  }
}

// keep the import list honest for readers: finalSubtract is used through montMul and montReduce
export { finalSubtract };
