/**
 * Constant-time evidence for RSA unwrapping, dudect-style (Reparaz, Balasch and Verbauwhede, "Dude, is my code
 * constant time?", DATE 2017): many interleaved timings of two classes of input, compared with Welch's t-test.
 * `npm run bench:rsa -- --ct [--samples N]`. A bench, not a test: it proves nothing when it passes (|t| < 4.5
 * means no leak was detected at this sample size, on this machine, with this noise), and a large |t| is a lead
 * to investigate, not a verdict.
 *
 * Two comparisons, each for the WebAssembly engine (RsaPrivateKeyOps.decryptRaw + pkcs1.ts unpadding, i.e. what
 * RsaKeyWrapper runs per wrapped value) and for node-forge (`decrypt(.., 'RSAES-PKCS1-V1_5')`, the portable
 * engine's former private path):
 * - fixed vs random: one fixed ciphertext against fresh random ciphertexts below n (leaks of the exponentiation
 *   on its input);
 * - valid vs invalid padding: ciphertexts of well-formed PKCS#1 v1.5 blocks against ciphertexts of blocks that
 *   fail (a Bleichenbacher/Marvin oracle would show here).
 * Classes are drawn at random for every measurement (so drift hits both alike); each measurement is one call,
 * timed with `process.hrtime.bigint()`. Besides the raw t, the t over the samples below the pooled 90th percentile
 * is printed (dudect's cropping: the shared machine's scheduling noise lives in the upper tail).
 * @module
 */
import { constants, createPrivateKey, privateDecrypt, publicEncrypt, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { pkcs1v15Pad, pkcs1v15Unpad } from '../bindings/keys/pkcs1.js';
import { wasmRsaEngine } from '../bindings/keys/rsa-wasm.js';
import { flagValue, formatTable, machine } from './_util.js';

const keyDir = new URL('../test/fixtures/interop/keys/', import.meta.url);
const pem = readFileSync(new URL('rsaprovider-main-rsa2048.private.pem', keyDir), 'utf8');
const nodeKey = createPrivateKey(pem);
const k = 256;
const pkcs8 = new Uint8Array(nodeKey.export({ format: 'der', type: 'pkcs8' }));
const wasmKey = wasmRsaEngine.importPrivateKey(pkcs8);
const forgeKey = forge.pki.privateKeyFromPem(pem);
const samplesWasm = Number(flagValue(process.argv, '--samples') ?? 4000);
const samplesForge = Math.max(200, Math.round(samplesWasm / 10));

const raw = (em: Uint8Array) => publicEncrypt({ key: nodeKey, padding: constants.RSA_NO_PADDING }, em);
const validBlock = () => pkcs1v15Pad(randomBytes(32), k, (a) => randomBytes(a.length).copy(a as Buffer));
/** A block that fails: the type byte wrong, or no separator, or the message of the wrong length, at random. */
const invalidBlock = () => {
  const em = validBlock();
  const kind = randomInt(3);
  if (kind === 0) em[1] = 3 + randomInt(250); // any type byte but 02
  else if (kind === 1) em.fill(0x5a, 2);
  else em[k - 40] = 0; // separator moved: the message becomes 39 bytes, not 32
  return em;
};
/** A ciphertext below n, uniformly random enough for timing (the top byte cleared). */
const randomCiphertext = () => {
  const c = randomBytes(k);
  c[0] = 0;
  return c;
};
const POOL = 256;
const fixed = raw(validBlock());
const randoms = Array.from({ length: POOL }, randomCiphertext);
const valids = Array.from({ length: POOL }, () => raw(validBlock()));
const invalids = Array.from({ length: POOL }, () => raw(invalidBlock()));
// sanity: the classes are what they claim to be
for (const c of valids) if (pkcs1v15Unpad(privateDecrypt({ key: nodeKey, padding: constants.RSA_NO_PADDING }, c), 32).valid !== 1) throw new Error('a valid ciphertext is not');
for (const c of invalids) if (pkcs1v15Unpad(privateDecrypt({ key: nodeKey, padding: constants.RSA_NO_PADDING }, c), 32).valid !== 0) throw new Error('an invalid ciphertext is not');

const wasmUnwrap = (c: Uint8Array) => {
  const em = wasmKey.decryptRaw(c) as Uint8Array;
  const { valid, message } = pkcs1v15Unpad(em, 32);
  em.fill(0);
  message.fill(0);
  return valid;
};
const forgeUnwrap = (c: Uint8Array) => {
  try {
    forgeKey.decrypt(Buffer.from(c).toString('binary'), 'RSAES-PKCS1-V1_5');
    return 1;
  } catch {
    return 0;
  }
};

const rows: string[][] = [];
for (const [name, fn, samples] of [['ours (wasm)', wasmUnwrap, samplesWasm], ['node-forge', forgeUnwrap, samplesForge]] as const) {
  for (const [test, a, b] of [
    ['fixed vs random ciphertext', () => fixed, () => randoms[randomInt(POOL)]],
    ['valid vs invalid padding', () => valids[randomInt(POOL)], () => invalids[randomInt(POOL)]],
  ] as const) {
    for (let i = 0; i < 20; i++) fn(i % 2 ? a() : b()); // warm-up
    const times: [number[], number[]] = [[], []];
    for (let i = 0; i < samples; i++) {
      const cls = randomInt(2);
      const input = cls === 0 ? a() : b();
      const t0 = process.hrtime.bigint();
      fn(input);
      times[cls].push(Number(process.hrtime.bigint() - t0));
    }
    const all = [...times[0], ...times[1]].sort((x, y) => x - y);
    const p90 = all[Math.floor(all.length * 0.9)];
    const cropped = times.map((t) => t.filter((x) => x <= p90)) as [number[], number[]];
    rows.push([
      name,
      test,
      `${times[0].length}/${times[1].length}`,
      (mean(times[0]) / 1e3).toFixed(1),
      (mean(times[1]) / 1e3).toFixed(1),
      Math.abs(welch(times[0], times[1])).toFixed(2),
      Math.abs(welch(cropped[0], cropped[1])).toFixed(2),
    ]);
  }
}
const { node, cpu } = machine();
console.log(`\nRSA-2048 unwrap timing, dudect-style Welch t-test (|t| < 4.5: no leak detected at this size); Node ${node}, ${cpu}`);
console.log(formatTable(['implementation', 'classes', 'samples', 'mean A µs', 'mean B µs', '|t|', '|t| (<p90)'], rows));

function mean(x: number[]): number {
  return x.reduce((s, v) => s + v, 0) / x.length;
}

function welch(a: number[], b: number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  const va = a.reduce((s, v) => s + (v - ma) ** 2, 0) / (a.length - 1);
  const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0) / (b.length - 1);
  return (ma - mb) / Math.sqrt(va / a.length + vb / b.length);
}
