/**
 * The WebAssembly RSA core, compiled on its own (asconfig.rsa.json) so that the AES-only bundle does not carry
 * it: its whole ABI, numbers only.
 *
 *   IO, N, N_RR, P, Q, DP, DQ, QINV, P_RR, Q_RR, BLIND, BLIND_INV, RANDOM   window addresses (rsa/windows.ts)
 *   MAX_LIMBS, HALF_LIMBS                     capacity of the windows, in 32-bit limbs
 *   rsaPrepare(nLimbs, halfLimbs)             R^2 mod n, p, q into N_RR, P_RR, Q_RR
 *   rsaPublic(nLimbs, e)                      IO = IO^e mod n
 *   rsaPrivate(nLimbs, halfLimbs, e, newPair) IO = IO^d mod n (CRT, blinded, checked); zeroes the secrets
 *   rsaWipe()                                 zeroes every window
 * Every number is little-endian 32-bit limbs. Status: 0 ok, 1 input >= n, 2 fault detected, 3 bad sizes.
 */
export {
  IO, N, N_RR, P, Q, DP, DQ, QINV, P_RR, Q_RR, BLIND, BLIND_INV, RANDOM, MAX_LIMBS, HALF_LIMBS,
} from './rsa/windows';
export { rsaPrepare, rsaPublic, rsaPrivate } from './rsa/private';
import { wipeIo, wipeSecrets } from './rsa/windows';

/** Zeroes every window and scratch area. */
export function rsaWipe(): void {
  wipeSecrets();
  wipeIo();
}
