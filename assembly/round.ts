/**
 * One bitsliced AES round over 8 bit-planes in memory: SubBytes as a boolean circuit, then, by `mode`,
 * nothing, AddRoundKey, or a fixsliced MixColumns and AddRoundKey.
 *
 * SubBytes (FIPS-197 §5.1.1) is the published depth-16 S-box circuit of Boyar and Peralta ("A depth-16 circuit
 * for the AES S-box", 2011): a linear top layer, a shared GF(2^4)-tower inversion, a linear bottom layer; 32 AND
 * and 83 XOR gates, no tables. Every gate runs on whole v128 registers, so one evaluation computes the S-box
 * of 128 bytes (one bit of each byte per lane bit) with the same instructions whatever the bytes are. The four
 * NOTs that add the affine constant 0x63 are left out: the round keys carry it (aes.ts), and the key schedule
 * adds it to SubWord's result.
 *
 * Plane layout (see aes.ts): plane j holds bit j of every state byte; 32-bit lane r holds row r, byte c of the
 * lane column c. Fixslicing (Adomnicai and Peyrin, 2020) never applies ShiftRows: after round i the stored
 * state u is the real state with ShiftRows^-i applied, so MixColumns is conjugated by ShiftRows^i. Its row
 * rotations become "row r takes row r + n, column c takes column c + n * k" with k = i mod 4: a 32-bit lane
 * shuffle (`pshufd`) and a rotation inside every lane by 8 * n * k bits (shifts), never a byte shuffle with
 * a mask (which V8 rebuilds from immediates at every use).
 *
 * The whole round is one function so that the circuit's 8 outputs stay in locals until MixColumns has used
 * them: AssemblyScript functions return one value, so the planes cross between rounds through memory.
 */

/** `round` mode: SubBytes only (minus the constant), for the key schedule. */
export const SUB_BYTES_ONLY: i32 = -1;
/** `round` mode: SubBytes and AddRoundKey, the last round. */
export const LAST_ROUND: i32 = 4;

/**
 * One round over the 8 planes at `planes` (plane j at planes + 16j, plane 0 the least significant bit), in
 * place. `mode` is a constant at every call site, so the compiler keeps one branch:
 *   - SUB_BYTES_ONLY: planes of SubBytes(x) ^ 0x63;
 *   - 0..3: SubBytes, MixColumns conjugated by ShiftRows^mode, then XOR of the key planes at `rk`;
 *   - LAST_ROUND: SubBytes then XOR of the key planes at `rk`.
 */
// @ts-ignore: decorator
@inline export function round(planes: usize, mode: i32, rk: usize): void {
  // The circuit numbers bits from the most significant one: x0 is bit 7.
  const x0 = v128.load(planes, 7 * 16);
  const x1 = v128.load(planes, 6 * 16);
  const x2 = v128.load(planes, 5 * 16);
  const x3 = v128.load(planes, 4 * 16);
  const x4 = v128.load(planes, 3 * 16);
  const x5 = v128.load(planes, 2 * 16);
  const x6 = v128.load(planes, 1 * 16);
  const x7 = v128.load(planes, 0);

  // Top linear layer: 23 XORs.
  const y14 = v128.xor(x3, x5);
  const y13 = v128.xor(x0, x6);
  const y9 = v128.xor(x0, x3);
  const y8 = v128.xor(x0, x5);
  const t0 = v128.xor(x1, x2);
  const y1 = v128.xor(t0, x7);
  const y4 = v128.xor(y1, x3);
  const y12 = v128.xor(y13, y14);
  const y2 = v128.xor(y1, x0);
  const y5 = v128.xor(y1, x6);
  const y3 = v128.xor(y5, y8);
  const t1 = v128.xor(x4, y12);
  const y15 = v128.xor(t1, x5);
  const y20 = v128.xor(t1, x1);
  const y6 = v128.xor(y15, x7);
  const y10 = v128.xor(y15, t0);
  const y11 = v128.xor(y20, y9);
  const y7 = v128.xor(x7, y11);
  const y17 = v128.xor(y10, y11);
  const y19 = v128.xor(y10, y8);
  const y16 = v128.xor(t0, y11);
  const y21 = v128.xor(y13, y16);
  const y18 = v128.xor(x0, y16);

  // Middle, non-linear layer: the inversion in GF(2^8) through GF(2^4).
  const t2 = v128.and(y12, y15);
  const t3 = v128.and(y3, y6);
  const t4 = v128.xor(t3, t2);
  const t5 = v128.and(y4, x7);
  const t6 = v128.xor(t5, t2);
  const t7 = v128.and(y13, y16);
  const t8 = v128.and(y5, y1);
  const t9 = v128.xor(t8, t7);
  const t10 = v128.and(y2, y7);
  const t11 = v128.xor(t10, t7);
  const t12 = v128.and(y9, y11);
  const t13 = v128.and(y14, y17);
  const t14 = v128.xor(t13, t12);
  const t15 = v128.and(y8, y10);
  const t16 = v128.xor(t15, t12);
  const t17 = v128.xor(t4, t14);
  const t18 = v128.xor(t6, t16);
  const t19 = v128.xor(t9, t14);
  const t20 = v128.xor(t11, t16);
  const t21 = v128.xor(t17, y20);
  const t22 = v128.xor(t18, y19);
  const t23 = v128.xor(t19, y21);
  const t24 = v128.xor(t20, y18);

  const t25 = v128.xor(t21, t22);
  const t26 = v128.and(t21, t23);
  const t27 = v128.xor(t24, t26);
  const t28 = v128.and(t25, t27);
  const t29 = v128.xor(t28, t22);
  const t30 = v128.xor(t23, t24);
  const t31 = v128.xor(t22, t26);
  const t32 = v128.and(t31, t30);
  const t33 = v128.xor(t32, t24);
  const t34 = v128.xor(t23, t33);
  const t35 = v128.xor(t27, t33);
  const t36 = v128.and(t24, t35);
  const t37 = v128.xor(t36, t34);
  const t38 = v128.xor(t27, t36);
  const t39 = v128.and(t29, t38);
  const t40 = v128.xor(t25, t39);

  const t41 = v128.xor(t40, t37);
  const t42 = v128.xor(t29, t33);
  const t43 = v128.xor(t29, t40);
  const t44 = v128.xor(t33, t37);
  const t45 = v128.xor(t42, t41);
  const z0 = v128.and(t44, y15);
  const z1 = v128.and(t37, y6);
  const z2 = v128.and(t33, x7);
  const z3 = v128.and(t43, y16);
  const z4 = v128.and(t40, y1);
  const z5 = v128.and(t29, y7);
  const z6 = v128.and(t42, y11);
  const z7 = v128.and(t45, y17);
  const z8 = v128.and(t41, y10);
  const z9 = v128.and(t44, y12);
  const z10 = v128.and(t37, y3);
  const z11 = v128.and(t33, y4);
  const z12 = v128.and(t43, y13);
  const z13 = v128.and(t40, y5);
  const z14 = v128.and(t29, y2);
  const z15 = v128.and(t42, y9);
  const z16 = v128.and(t45, y14);
  const z17 = v128.and(t41, y8);

  // Bottom linear layer (the XNORs of the published circuit are plain XORs here: see the header).
  const t46 = v128.xor(z15, z16);
  const t47 = v128.xor(z10, z11);
  const t48 = v128.xor(z5, z13);
  const t49 = v128.xor(z9, z10);
  const t50 = v128.xor(z2, z12);
  const t51 = v128.xor(z2, z5);
  const t52 = v128.xor(z7, z8);
  const t53 = v128.xor(z0, z3);
  const t54 = v128.xor(z6, z7);
  const t55 = v128.xor(z16, z17);
  const t56 = v128.xor(z12, t48);
  const t57 = v128.xor(t50, t53);
  const t58 = v128.xor(z4, t46);
  const t59 = v128.xor(z3, t54);
  const t60 = v128.xor(t46, t57);
  const t61 = v128.xor(z14, t57);
  const t62 = v128.xor(t52, t58);
  const t63 = v128.xor(t49, t58);
  const t64 = v128.xor(z4, t59);
  const t65 = v128.xor(t61, t62);
  const t66 = v128.xor(z1, t63);
  const t67 = v128.xor(t64, t65);

  const s3 = v128.xor(t53, t66);
  // Back to LSB-first plane numbering: plane 7 is the circuit's s0.
  const p7 = v128.xor(t59, t63);
  const p6 = v128.xor(t64, s3);
  const p5 = v128.xor(t55, t67);
  const p4 = s3;
  const p3 = v128.xor(t51, t66);
  const p2 = v128.xor(t47, t65);
  const p1 = v128.xor(t56, t62);
  const p0 = v128.xor(t48, t60);

  if (mode == SUB_BYTES_ONLY) {
    v128.store(planes, p0, 0);
    v128.store(planes, p1, 16);
    v128.store(planes, p2, 32);
    v128.store(planes, p3, 48);
    v128.store(planes, p4, 64);
    v128.store(planes, p5, 80);
    v128.store(planes, p6, 96);
    v128.store(planes, p7, 112);
  } else if (mode == LAST_ROUND) {
    v128.store(planes, v128.xor(p0, v128.load(rk, 0)), 0);
    v128.store(planes, v128.xor(p1, v128.load(rk, 16)), 16);
    v128.store(planes, v128.xor(p2, v128.load(rk, 32)), 32);
    v128.store(planes, v128.xor(p3, v128.load(rk, 48)), 48);
    v128.store(planes, v128.xor(p4, v128.load(rk, 64)), 64);
    v128.store(planes, v128.xor(p5, v128.load(rk, 80)), 80);
    v128.store(planes, v128.xor(p6, v128.load(rk, 96)), 96);
    v128.store(planes, v128.xor(p7, v128.load(rk, 112)), 112);
  } else {
    // MixColumns, per row: 2a_r ^ 3a_{r+1} ^ a_{r+2} ^ a_{r+3} = xtime(t) ^ b ^ rot2(t), with b = rot1(a) and
    // t = a ^ b. xtime works plane-wise: x^8 = x^4 + x^3 + x + 1 feeds bit 7 into bits 0, 1, 3 and 4.
    const b0 = rot1(p0, mode);
    const b1 = rot1(p1, mode);
    const b2 = rot1(p2, mode);
    const b3 = rot1(p3, mode);
    const b4 = rot1(p4, mode);
    const b5 = rot1(p5, mode);
    const b6 = rot1(p6, mode);
    const b7 = rot1(p7, mode);
    const u0 = v128.xor(p0, b0);
    const u1 = v128.xor(p1, b1);
    const u2 = v128.xor(p2, b2);
    const u3 = v128.xor(p3, b3);
    const u4 = v128.xor(p4, b4);
    const u5 = v128.xor(p5, b5);
    const u6 = v128.xor(p6, b6);
    const u7 = v128.xor(p7, b7);
    v128.store(planes, v128.xor(v128.xor(u7, b0), v128.xor(rot2(u0, mode), v128.load(rk, 0))), 0);
    v128.store(planes, v128.xor(v128.xor(v128.xor(u0, u7), b1), v128.xor(rot2(u1, mode), v128.load(rk, 16))), 16);
    v128.store(planes, v128.xor(v128.xor(u1, b2), v128.xor(rot2(u2, mode), v128.load(rk, 32))), 32);
    v128.store(planes, v128.xor(v128.xor(v128.xor(u2, u7), b3), v128.xor(rot2(u3, mode), v128.load(rk, 48))), 48);
    v128.store(planes, v128.xor(v128.xor(v128.xor(u3, u7), b4), v128.xor(rot2(u4, mode), v128.load(rk, 64))), 64);
    v128.store(planes, v128.xor(v128.xor(u4, b5), v128.xor(rot2(u5, mode), v128.load(rk, 80))), 80);
    v128.store(planes, v128.xor(v128.xor(u5, b6), v128.xor(rot2(u6, mode), v128.load(rk, 96))), 96);
    v128.store(planes, v128.xor(v128.xor(u6, b7), v128.xor(rot2(u7, mode), v128.load(rk, 112))), 112);
  }
}

/** Row r takes row r + 1 and column c takes column c + k: a lane shuffle, then a rotation by 8k bits. */
// @ts-ignore: decorator
@inline function rot1(x: v128, k: i32): v128 {
  const y = i32x4.shuffle(x, x, 1, 2, 3, 0);
  if (k == 0) return y;
  if (k == 2) return rotateLanes16(y);
  return v128.or(i32x4.shr_u(y, 8 * k), i32x4.shl(y, 32 - 8 * k));
}

/** Row r takes row r + 2 and column c takes column c + 2k. */
// @ts-ignore: decorator
@inline function rot2(x: v128, k: i32): v128 {
  const y = i32x4.shuffle(x, x, 2, 3, 0, 1);
  return (k & 1) != 0 ? rotateLanes16(y) : y;
}

/** Swaps the 16-bit halves of every 32-bit lane (V8 emits two word shuffles, no mask). */
// @ts-ignore: decorator
@inline function rotateLanes16(x: v128): v128 {
  return i16x8.shuffle(x, x, 1, 0, 3, 2, 5, 4, 7, 6);
}
