/**
 * The WebAssembly RSA engine (bindings/keys/rsa-wasm.ts over bindings/wasm/rsa.ts, assembly/rsa/) against
 * node:crypto, for 1024-, 2048-, 3072- and 4096-bit keys:
 * - the raw private operation equals node:crypto's `RSA_NO_PADDING` decryption for random inputs and for 0, 1,
 *   n - 1, across new blinding pairs and squared ones; inputs >= n (n, n + 1, all ones) are refused, and the
 *   engine still works afterwards;
 * - the public operation equals node:crypto's `RSA_NO_PADDING` encryption;
 * - OAEP-SHA1: node:crypto's `publicEncrypt` is decrypted by the engine, the engine's encryption by node:crypto's
 *   `privateDecrypt`; a corrupted block is refused with one generic error;
 * - PKCS#1 v1.5 through RsaKeyWrapper both ways (node:crypto wraps, the engine unwraps; the engine wraps, the
 *   node engine unwraps);
 * - primes in either order (q > p) and a new blinding pair per operation give the same results; a disposed key
 *   refuses to work;
 * - keys the core cannot take, or whose components do not match, are refused with `KEY_INVALID`;
 * - OAEP decoding (oaep.ts) and SHA-1 (sha1.ts) against node:crypto.
 * Keys are generated per run (node:crypto), so each run checks fresh keys.
 * @module
 */
import { constants, createHash, createPrivateKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyUnwrapError, OssCryptoError } from '../bindings/errors.js';
import { oaepDecode, oaepEncode } from '../bindings/keys/oaep.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { wasmRsaEngine } from '../bindings/keys/rsa-wasm.js';
import { readRsaPkcs8 } from '../bindings/keys/rsa-der.js';
import { sha1 } from '../bindings/keys/sha1.js';
import { WasmRsaPrivateKey } from '../bindings/wasm/rsa.js';
import { throwsCode } from './_util.js';

const SIZES = [1024, 2048, 3072, 4096];
const NO_PADDING = constants.RSA_NO_PADDING;
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;

interface Pair {
  bits: number;
  k: number;
  privateKey: KeyObject;
  publicKey: KeyObject;
  pkcs8: Uint8Array;
  spki: Uint8Array;
  n: bigint;
}
const pairs = new Map<number, Pair>();
function pair(bits: number): Pair {
  let p = pairs.get(bits);
  if (p === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const n = BigInt('0x' + Buffer.from(privateKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex'));
    pairs.set(bits, (p = { bits, k: bits / 8, privateKey, publicKey, pkcs8, spki, n }));
  }
  return p;
}
const bytesOf = (x: bigint, k: number) => Buffer.from(x.toString(16).padStart(k * 2, '0'), 'hex');
const randomBelow = (n: bigint, k: number) => BigInt('0x' + randomBytes(k).toString('hex')) % n;

const raw = suite('wasm RSA engine: raw operations against node:crypto');

for (const bits of SIZES) {
  raw(`RSA-${bits}: c^d mod n equals node:crypto for 0, 1, n - 1 and random inputs (new and squared blinding pairs)`, () => {
    const p = pair(bits);
    const ops = wasmRsaEngine.importPrivateKey(p.pkcs8);
    const inputs = [0n, 1n, p.n - 1n, 2n, ...Array.from({ length: 40 }, () => randomBelow(p.n, p.k))];
    for (const x of inputs) {
      const c = bytesOf(x, p.k);
      const ours = ops.decryptRaw(c) as Uint8Array;
      const theirs = privateDecrypt({ key: p.privateKey, padding: NO_PADDING }, c);
      assert.ok(Buffer.from(ours).equals(theirs), `RSA-${bits} raw decryption differs for input ${x === p.n - 1n ? 'n - 1' : x < 3n ? x : 'random'}`);
    }
  });

  raw(`RSA-${bits}: inputs >= n are refused (KEY_UNWRAP_FAILED) and the key keeps working`, () => {
    const p = pair(bits);
    const ops = wasmRsaEngine.importPrivateKey(p.pkcs8);
    for (const x of [p.n, p.n + 1n, (1n << BigInt(bits)) - 1n]) {
      throwsCode(() => ops.decryptRaw(bytesOf(x, p.k)), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /not below the modulus/);
    }
    const c = bytesOf(randomBelow(p.n, p.k), p.k);
    assert.ok(Buffer.from(ops.decryptRaw(c) as Uint8Array).equals(privateDecrypt({ key: p.privateKey, padding: NO_PADDING }, c)));
    assert.throws(() => ops.decryptRaw(new Uint8Array(p.k - 1)), /expected a \d+-byte input/);
  });

  raw(`RSA-${bits}: x^e mod n equals node:crypto's raw public operation`, () => {
    const p = pair(bits);
    const pub = wasmRsaEngine.importPublicKey(p.spki);
    // encryptPkcs1 pads with random bytes: check it through node:crypto's raw decryption instead
    const data = randomBytes(32);
    const c = pub.encryptPkcs1(data) as Uint8Array;
    const em = privateDecrypt({ key: p.privateKey, padding: NO_PADDING }, c);
    assert.is(em[0], 0);
    assert.is(em[1], 2);
    assert.ok(em.subarray(2, p.k - 33).every((b) => b !== 0), 'PS has no zero byte');
    assert.is(em[p.k - 33], 0);
    assert.ok(em.subarray(p.k - 32).equals(data));
  });

  raw(`RSA-${bits}: OAEP-SHA1 interoperates with node:crypto both ways; a corrupted block gets one generic error`, () => {
    const p = pair(bits);
    const priv = wasmRsaEngine.importPrivateKey(p.pkcs8);
    const pub = wasmRsaEngine.importPublicKey(p.spki);
    for (const length of [0, 1, 16, 32, p.k - 42]) {
      const data = randomBytes(length);
      const fromNode = publicEncrypt({ key: p.publicKey, ...OAEP }, data);
      assert.ok(Buffer.from(priv.decryptOaep(fromNode) as Uint8Array).equals(data), `node -> wasm, ${length} bytes`);
      const fromUs = pub.encryptOaep(data) as Uint8Array;
      assert.ok(privateDecrypt({ key: p.privateKey, ...OAEP }, fromUs).equals(data), `wasm -> node, ${length} bytes`);
    }
    const good = publicEncrypt({ key: p.publicKey, ...OAEP }, randomBytes(32));
    const messages = new Set<string>();
    for (const bad of [randomBelow(p.n, p.k), 0n, 1n]) {
      messages.add(throwsCode(() => priv.decryptOaep(bytesOf(bad, p.k)), KeyUnwrapError, 'KEY_UNWRAP_FAILED'));
    }
    const flipped = Buffer.from(good);
    flipped[p.k - 1] ^= 1;
    messages.add(throwsCode(() => priv.decryptOaep(flipped), KeyUnwrapError, 'KEY_UNWRAP_FAILED'));
    assert.is(messages.size, 1, 'every OAEP failure has the same message');
  });
}

const wrapper = suite('wasm RSA engine: through RsaKeyWrapper');

for (const bits of [1024, 2048]) {
  for (const padding of ['pkcs1', 'oaep'] as const) {
    wrapper(`RSA-${bits} ${padding}: node wraps, wasm unwraps; wasm wraps, node unwraps; wrong key refused`, async () => {
      const p = pair(bits);
      const pem = p.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
      const ours = rsaKeyWrapper({ privateKey: pem, padding, engine: wasmRsaEngine });
      const node = rsaKeyWrapper({ privateKey: pem, padding, engine: nodeRsaEngine });
      assert.is(ours.engine.name, 'wasm');
      const content = { key: new Uint8Array(randomBytes(32)), iv: new Uint8Array(randomBytes(16)) };
      for (const [writer, readerW] of [[node, ours], [ours, node], [ours, ours]]) {
        const got = await readerW.unwrap(await writer.wrap(content));
        assert.ok(got !== null && Buffer.from(got.key).equals(content.key) && Buffer.from(got.iv).equals(content.iv));
      }
      const other = rsaKeyWrapper({ privateKey: pair(bits === 1024 ? 2048 : 1024).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, padding, engine: wasmRsaEngine });
      const wrapped = await ours.wrap(content);
      try {
        await other.unwrap(wrapped);
        assert.unreachable('a wrong key must not unwrap');
      } catch (err) {
        assert.instance(err, KeyUnwrapError);
      }
    });
  }
}

const keys = suite('wasm RSA engine: key checks, OAEP and SHA-1 building blocks');

keys('a PKCS#8 key whose components do not match is refused with KEY_INVALID', () => {
  const a = readRsaPkcs8(pair(1024).pkcs8);
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const b = readRsaPkcs8(new Uint8Array(other.export({ format: 'der', type: 'pkcs8' })));
  const mixed = { ...b, p: a.p, q: a.q, dP: a.dP, dQ: a.dQ, qInv: a.qInv };
  throwsCode(() => new WasmRsaPrivateKey(mixed), OssCryptoError, 'KEY_INVALID', /inconsistent/);
  const wrongQinv = { ...a, qInv: a.dP };
  throwsCode(() => new WasmRsaPrivateKey(wrongQinv), OssCryptoError, 'KEY_INVALID', /inconsistent/);
  throwsCode(() => new WasmRsaPrivateKey({ ...a, e: Uint8Array.of(1, 0, 0, 0, 0, 1) }), OssCryptoError, 'KEY_INVALID', /exponent/);
  throwsCode(() => new WasmRsaPrivateKey({ ...a, e: Uint8Array.of(3) }), OssCryptoError, 'KEY_INVALID', /inconsistent/);
});

keys('primes in either order (q > p), and a new blinding pair for every operation, give node:crypto\'s results', () => {
  const p = pair(2048);
  const k = readRsaPkcs8(p.pkcs8);
  const big = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).toString('hex'));
  const bytes = (x: bigint) => Buffer.from(x.toString(16).padStart(2 * Math.ceil(x.toString(16).length / 2), '0'), 'hex');
  const inverse = (a: bigint, m: bigint): bigint => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return ((s0 % m) + m) % m;
  };
  // the same key with p and q exchanged: qInv becomes p^-1 mod q
  const swapped = { ...k, p: k.q, q: k.p, dP: k.dQ, dQ: k.dP, qInv: bytes(inverse(big(k.p), big(k.q))) };
  for (const [name, key] of [
    ['swapped primes', new WasmRsaPrivateKey(swapped)],
    ['refreshEvery: 1', new WasmRsaPrivateKey(k, { refreshEvery: 1 })],
  ] as const) {
    for (const x of [0n, 1n, p.n - 1n, ...Array.from({ length: 6 }, () => randomBelow(p.n, p.k))]) {
      const c = bytesOf(x, p.k);
      assert.ok(Buffer.from(key.apply(c)).equals(privateDecrypt({ key: p.privateKey, padding: NO_PADDING }, c)), name);
    }
    key.dispose();
    assert.throws(() => key.apply(bytesOf(2n, p.k)), /disposed/);
  }
  assert.throws(() => new WasmRsaPrivateKey(k, { refreshEvery: 0 }), /refreshEvery/);
});

keys('DER that is not an RSA PKCS#8 or SubjectPublicKeyInfo is refused with KEY_INVALID', () => {
  const p = pair(1024);
  throwsCode(() => wasmRsaEngine.importPrivateKey(p.spki), OssCryptoError, 'KEY_INVALID');
  throwsCode(() => wasmRsaEngine.importPublicKey(p.pkcs8), OssCryptoError, 'KEY_INVALID');
  throwsCode(() => wasmRsaEngine.importPrivateKey(p.pkcs8.subarray(0, p.pkcs8.length - 1)), OssCryptoError, 'KEY_INVALID');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  throwsCode(() => wasmRsaEngine.importPrivateKey(new Uint8Array(ec.privateKey.export({ format: 'der', type: 'pkcs8' }))), OssCryptoError, 'KEY_INVALID');
});

keys('the RSA key wrapped in PKCS#8 by node:crypto reads to the same components as its JWK', () => {
  const p = pair(2048);
  const jwk = createPrivateKey({ key: Buffer.from(p.pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  const c = readRsaPkcs8(p.pkcs8);
  const strip = (b: Uint8Array) => Buffer.from(b[0] === 0 ? b.subarray(1) : b).toString('base64url');
  assert.equal(
    [c.n, c.e, c.p, c.q, c.dP, c.dQ, c.qInv].map(strip),
    [jwk.n, jwk.e, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi],
  );
});

keys('sha1 equals node:crypto for lengths around the block boundaries', () => {
  for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const data = randomBytes(length);
    assert.is(Buffer.from(sha1(data)).toString('hex'), createHash('sha1').update(data).digest('hex'), `length ${length}`);
  }
});

keys('oaepDecode refuses each kind of malformed block with the same verdict and no message', () => {
  const k = 128;
  const msg = randomBytes(32);
  const fixed = (a: Uint8Array) => a.fill(7);
  const good = oaepEncode(msg, k, fixed);
  assert.equal(Buffer.from(oaepDecode(good).message), msg);
  assert.is(oaepDecode(good).valid, 1);
  const variants: Uint8Array[] = [];
  const nonzeroFirst = Uint8Array.from(good);
  nonzeroFirst[0] = 1;
  variants.push(nonzeroFirst);
  const badHash = Uint8Array.from(good);
  badHash[30] ^= 0x80; // inside maskedDB's label hash
  variants.push(badHash);
  variants.push(new Uint8Array(k)); // no separator at all
  variants.push(Uint8Array.from(good).fill(0xff, 21)); // garbage DB
  for (const bad of variants) {
    const out = oaepDecode(bad);
    assert.is(out.valid, 0);
    assert.is(out.message.length, 0);
  }
  assert.throws(() => oaepEncode(new Uint8Array(k - 41), k, fixed), /too long/);
});

raw.run();
wrapper.run();
keys.run();
