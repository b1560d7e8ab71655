/**
 * The AES S-box (FIPS-197 §5.1.1) as a boolean circuit over bit-planes: 32 AND and 83 XOR gates, no tables.
 *
 * The circuit is the published S-box circuit of Boyar and Peralta ("A depth-16 circuit for the AES S-box",
 * 2011, and their earlier 113-gate circuit): a linear top layer, a shared GF(2^4)-tower inversion, a linear
 * bottom layer. Every gate runs on whole v128 registers, so one evaluation computes the S-box of 128 bytes (one
 * bit of each byte per lane bit) with the same instructions whatever the bytes are.
 *
 * Deliberately left out: the four NOTs that add the affine constant 0x63. Callers add it where it is free: the
 * round keys carry it (aes.ts), and the key schedule XORs it into SubWord's result.
 *
 * One output per call. AssemblyScript functions return one value, and state that crosses a call boundary any
 * other way goes through memory; so `subBytesPlane(j, ...)` evaluates the circuit and returns output plane j.
 * A round calls it for j = 0..7 on the same inputs and the compiler merges the eight copies into one circuit
 * (Binaryen's common-subexpression elimination at -O3, which both build targets use; V8's value numbering
 * would too). The planes then stay in registers from round to round.
 */

/**
 * Plane `j` of SubBytes(x) ^ 0x63, where x is given as its planes `p0..p7` (plane i holds bit i of every
 * byte, p0 the least significant). `j` must be a constant at the call site.
 */
// @ts-ignore: decorator
@inline export function subBytesPlane(
  j: i32, p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128,
): v128 {
  // The circuit numbers bits from the most significant one: x0 is bit 7.
  const x0 = p7;
  const x1 = p6;
  const x2 = p5;
  const x3 = p4;
  const x4 = p3;
  const x5 = p2;
  const x6 = p1;
  const x7 = p0;

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

  // Output s0 is bit 7 (plane 7), s7 bit 0.
  if (j == 7) return v128.xor(t59, t63); // s0
  if (j == 6) return v128.xor(t64, s3); // s1
  if (j == 5) return v128.xor(t55, t67); // s2
  if (j == 4) return s3;
  if (j == 3) return v128.xor(t51, t66); // s4
  if (j == 2) return v128.xor(t47, t65); // s5
  if (j == 1) return v128.xor(t56, t62); // s6
  return v128.xor(t48, t60); // s7
}
