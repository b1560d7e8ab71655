/**
 * Tests of bindings/keys/rsa.ts (docs/FORMAT.md §2.1, §3).
 *
 * Oracles independent of the wrapper: node:crypto (`publicEncrypt` / `privateDecrypt` with OAEP-SHA1, key
 * generation and export in every PEM form), node-forge used directly for PKCS#1 v1.5 (which Node 20 refuses to
 * decrypt), and the oss2 / C++ key files of the interop fixtures. Both unwrap engines (Web Crypto for OAEP,
 * node-forge) are run on the same inputs.
 *
 * The RSA engines (portable = node-forge + Web Crypto, forge only, node:crypto) are checked against each other
 * and against those oracles on keys of 1024 to 4096 bits; the PKCS#1 v1.5 unpadding (pkcs1.ts) against a
 * plain RFC 8017 decoder on generated blocks; malformed blocks, made with node:crypto's raw public operation,
 * must all fail with one identical error on every engine.
 * @module
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import forge from 'node-forge';
import { KeyInvalidError, KeyUnwrapError, KeyWrapError, MetadataError, OssCryptoError } from '../bindings/errors.js';
import { pkcs1v15Pad, pkcs1v15Unpad } from '../bindings/keys/pkcs1.js';
import {
  forgeRsaEngine,
  generateRsaKeyPair,
  portableRsaEngine,
  rsaKeyWrapper,
  RsaKeyWrapper,
  type RsaEngine,
  type RsaPrivateKeyOps,
} from '../bindings/keys/rsa.js';
import { nodeRsaEngine, preferNodeRsaEngine } from '../bindings/keys/rsa-native.js';
import type { ContentKey, KeyWrapper, WrappedContentKey } from '../bindings/keys/types.js';
import { fixturePath, pseudoRandomBytes, rejects, throwsCode, toHex } from './_util.js';

const PKCS1 = 'RSA/NONE/PKCS1Padding';
const OAEP = 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding';
const STD_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function pair(bits: number): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}
const k1024 = pair(1024);
const k2048 = pair(2048);
const other2048 = pair(2048);

const pkcs1Private = (k: KeyObject) => k.export({ type: 'pkcs1', format: 'pem' }) as string;
const pkcs8Private = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
const spkiPublic = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const pkcs1Public = (k: KeyObject) => k.export({ type: 'pkcs1', format: 'pem' }) as string;

function content(seed = 1): ContentKey {
  const iv = pseudoRandomBytes(16, seed + 100);
  iv.fill(0, 8, 12);
  return { key: pseudoRandomBytes(32, seed), iv };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function oaepEncryptNode(publicKey: KeyObject, data: Uint8Array): string {
  return b64(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, data));
}

function pkcs1EncryptForge(publicKeyPem: string, data: Uint8Array): string {
  const pub = forge.pki.publicKeyFromPem(publicKeyPem);
  return forge.util.encode64(pub.encrypt(Buffer.from(data).toString('binary'), 'RSAES-PKCS1-V1_5'));
}


const throwsOwnCode = (fn: () => unknown, code: string, pattern?: RegExp) => throwsCode(fn, OssCryptoError, code, pattern);

// ---------------------------------------------------------------------------------------------------------------
const formats = suite('RSA key formats');

formats('every PEM form loads, as a string or bytes; a private key alone derives its public half', async () => {
  const c = content(3);
  const { privateKey, publicKey } = k1024;
  const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pässword' }) as string;
  const writers = [
    rsaKeyWrapper({ publicKey: spkiPublic(publicKey) }),
    rsaKeyWrapper({ publicKey: Buffer.from(pkcs1Public(publicKey)) }),
    rsaKeyWrapper({ privateKey: pkcs1Private(privateKey) }),
  ];
  const readers = [
    rsaKeyWrapper({ privateKey: pkcs1Private(privateKey) }),
    rsaKeyWrapper({ privateKey: new Uint8Array(Buffer.from(pkcs8Private(privateKey))) }),
    rsaKeyWrapper({ privateKey: encrypted, passphrase: 'pässword' }),
    rsaKeyWrapper({ privateKey: pkcs8Private(privateKey), publicKey: spkiPublic(publicKey) }),
  ];
  for (const w of writers) {
    assert.is(w.bits, 1024);
    assert.ok(w.canWrap);
    const wrapped = await w.wrap(c);
    for (const r of readers) {
      assert.ok(r.canUnwrap);
      assert.equal(await r.unwrap(wrapped), c);
    }
  }
  assert.not.ok(writers[0].canUnwrap);
});

formats('the fixture keys of oss2, its LocalRsaProvider and the C++ tests load with their sizes', () => {
  const sizes: Record<string, number> = {
    'oss2-tests-compact-rsa1024': 1024,
    'localrsaprovider-oss2-2.10.0': 2048,
    'localrsaprovider-oss2-2.19.1': 2048,
    'rsaprovider-main-rsa2048': 2048,
    'rsaprovider-matdesc-rsa3072': 3072,
  };
  for (const [name, bits] of Object.entries(sizes)) {
    const privateKey = readFileSync(fixturePath('interop', 'keys', `${name}.private.pem`), 'utf8');
    const publicKey = readFileSync(fixturePath('interop', 'keys', `${name}.public.pem`), 'utf8');
    assert.is(rsaKeyWrapper({ privateKey, publicKey }).bits, bits, name);
  }
});

formats('generateRsaKeyPair gives PKCS#8 and SPKI PEM that node:crypto and the wrapper both accept', async () => {
  const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(1024);
  assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\r?\n/);
  assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----\r?\n/);
  const c = content(4);
  const wrapped = await rsaKeyWrapper({ publicKey: publicKeyPem, padding: 'oaep' }).wrap(c);
  const viaNode = privateDecrypt(
    { key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(wrapped.wrappedKey, 'base64'),
  );
  assert.is(toHex(viaNode), toHex(c.key));
  assert.equal(await rsaKeyWrapper({ privateKey: privateKeyPem }).unwrap(wrapped), c);
  for (const bits of [512, 8192, 2048.5]) {
    try {
      await generateRsaKeyPair(bits);
      assert.unreachable(`accepted ${bits}`);
    } catch (err) {
      assert.instance(err, RangeError);
      assert.match((err as Error).message, new RegExp(`"bits".*got ${bits}`));
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
const writes = suite('what RsaKeyWrapper writes (checked by independent code)');

writes('pkcs1 (default): RSA/NONE/PKCS1Padding, standard base64, modulus-length values that node-forge decrypts', async () => {
  const w = rsaKeyWrapper({ publicKey: spkiPublic(k2048.publicKey), matdesc: { owner: 'ops' } });
  assert.is(w.wrapAlg, PKCS1);
  const forgePriv = forge.pki.privateKeyFromPem(pkcs1Private(k2048.privateKey));
  for (let seed = 1; seed <= 3; seed++) {
    const c = content(seed);
    const wrapped = await w.wrap(c);
    assert.equal({ ...wrapped, wrappedKey: '', wrappedStart: '' }, { format: 'v2', wrapAlg: PKCS1, wrappedKey: '', wrappedStart: '', matdesc: { owner: 'ops' } });
    for (const [value, plain] of [[wrapped.wrappedKey, c.key], [wrapped.wrappedStart, c.iv]] as const) {
      assert.match(value, STD_B64);
      const bytes = Buffer.from(value, 'base64');
      assert.is(bytes.length, 256);
      assert.is(toHex(Buffer.from(forgePriv.decrypt(bytes.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary')), toHex(plain));
    }
  }
});

writes('pkcs1 encryption block is exactly 00 02 PS(nonzero, k-3-len bytes) 00 M, read back by node-forge RAW', async () => {
  // Our PKCS#1 v1.5 public operation is native BigInt, not node-forge: check its block byte by byte.
  for (const [k, bits] of [[k1024, 128], [k2048, 256]] as const) {
    const w = rsaKeyWrapper({ publicKey: spkiPublic(k.publicKey) });
    const forgePriv = forge.pki.privateKeyFromPem(pkcs1Private(k.privateKey));
    for (let seed = 1; seed <= 6; seed++) {
      const c = content(seed * 13);
      const wrapped = await w.wrap(c);
      for (const [value, plain] of [[wrapped.wrappedKey, c.key], [wrapped.wrappedStart, c.iv]] as const) {
        const em = Buffer.from(forgePriv.decrypt(Buffer.from(value, 'base64').toString('binary'), 'RAW'), 'binary');
        assert.is(em.length, bits);
        assert.is(em[0], 0x00);
        assert.is(em[1], 0x02);
        const psEnd = bits - plain.length - 1;
        assert.ok(em.subarray(2, psEnd).every((b) => b !== 0), 'zero byte in PS');
        assert.is(em[psEnd], 0x00);
        assert.is(toHex(em.subarray(psEnd + 1)), toHex(plain));
      }
    }
  }
});

writes('pkcs1 without globalThis.crypto (Node 18 without the webcrypto global) falls back to node-forge', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
  const w = rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) });
  const c = content(31);
  let wrapped: WrappedContentKey;
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  try {
    wrapped = await w.wrap(c);
  } finally {
    Object.defineProperty(globalThis, 'crypto', saved);
  }
  assert.ok(globalThis.crypto?.getRandomValues, 'crypto not restored');
  assert.equal(await rsaKeyWrapper({ privateKey: pkcs1Private(k1024.privateKey) }).unwrap(wrapped), c);
});

writes('oaep: RSA/NONE/OAEPWithSHA-1AndMGF1Padding that node:crypto privateDecrypt (OAEP, SHA-1) reads, on both engines', async () => {
  for (const webCrypto of [true, false]) {
    const w = rsaKeyWrapper({ publicKey: spkiPublic(k2048.publicKey), padding: 'oaep', webCrypto });
    assert.is(w.wrapAlg, OAEP);
    const c = content(7);
    const wrapped = await w.wrap(c);
    assert.is(wrapped.wrapAlg, OAEP);
    for (const [value, plain] of [[wrapped.wrappedKey, c.key], [wrapped.wrappedStart, c.iv]] as const) {
      assert.match(value, STD_B64);
      const bytes = Buffer.from(value, 'base64');
      assert.is(bytes.length, 256);
      const out = privateDecrypt({ key: k2048.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, bytes);
      assert.is(toHex(out), toHex(plain), `webCrypto=${webCrypto}`);
    }
  }
});

writes('wrapping is randomised: the same content key wraps to different values each time', async () => {
  const w = rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) });
  const a = await w.wrap(content(1));
  const b = await w.wrap(content(1));
  assert.is.not(a.wrappedKey, b.wrappedKey);
});

// ---------------------------------------------------------------------------------------------------------------
const reads = suite('what RsaKeyWrapper reads');

const v2Wrapped = (wrapAlg: string, wrappedKey: string, wrappedStart: string): WrappedContentKey => ({
  format: 'v2',
  wrapAlg,
  wrappedKey,
  wrappedStart,
  matdesc: {},
});

reads('both V2 paddings are read whatever padding the wrapper writes, on both engines', async () => {
  const c = content(11);
  const pub = spkiPublic(k2048.publicKey);
  const oaepObject = v2Wrapped(OAEP, oaepEncryptNode(k2048.publicKey, c.key), oaepEncryptNode(k2048.publicKey, c.iv));
  const pkcs1Object = v2Wrapped(PKCS1, pkcs1EncryptForge(pub, c.key), pkcs1EncryptForge(pub, c.iv));
  for (const padding of ['pkcs1', 'oaep'] as const) {
    for (const webCrypto of [true, false]) {
      const r = rsaKeyWrapper({ privateKey: pkcs8Private(k2048.privateKey), padding, webCrypto });
      assert.equal(await r.unwrap(oaepObject), c, `${padding} webCrypto=${webCrypto}`);
      assert.equal(await r.unwrap(pkcs1Object), c, `${padding} webCrypto=${webCrypto}`);
    }
  }
});

reads('V1 rsa: OAEP key; the start is an ASCII decimal counter, returned as a 16-byte big-endian IV', async () => {
  const c = content(12);
  const key = oaepEncryptNode(k1024.publicKey, c.key);
  const cases: Array<[string, string]> = [
    ['8', '00000000000000000000000000000008'],
    ['1', '00000000000000000000000000000001'],
    ['256', '00000000000000000000000000000100'],
    ['340282366920938463463374607431768211455', 'ffffffffffffffffffffffffffffffff'], // 2^128 - 1
  ];
  for (const webCrypto of [true, false]) {
    const r = rsaKeyWrapper({ privateKey: pkcs1Private(k1024.privateKey), webCrypto });
    for (const [decimal, ivHex] of cases) {
      const start = oaepEncryptNode(k1024.publicKey, new TextEncoder().encode(decimal));
      for (const wrapAlg of ['rsa', 'anything-but-kms']) {
        const out = await r.unwrap({ format: 'v1', wrapAlg, wrappedKey: key, wrappedStart: start, matdesc: {} });
        assert.is(toHex(out!.key), toHex(c.key));
        assert.is(toHex(out!.iv), ivHex, decimal);
      }
    }
  }
});

reads('"not mine": null for KMS objects (V2 KMS/ALICLOUD and V1 kms), without touching the key', async () => {
  const r = rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) }); // public only: null must come before any key check
  assert.is(await r.unwrap(v2Wrapped('KMS/ALICLOUD', 'AAAA', 'AAAA')), null);
  assert.is(await r.unwrap({ format: 'v1', wrapAlg: 'kms', wrappedKey: 'AAAA', wrappedStart: 'AAAA', matdesc: {} }), null);
});

// ---------------------------------------------------------------------------------------------------------------
const bad = suite('RSA bad input (typed errors, no key material in messages)');

bad('a wrong private key gives KEY_UNWRAP_FAILED, never garbage, for both paddings and both engines', async () => {
  const c = content(21);
  const writer = rsaKeyWrapper({ publicKey: spkiPublic(k2048.publicKey) });
  const oaepWriter = rsaKeyWrapper({ publicKey: spkiPublic(k2048.publicKey), padding: 'oaep' });
  const objects = [await writer.wrap(c), await oaepWriter.wrap(c)];
  for (const webCrypto of [true, false]) {
    const wrong = rsaKeyWrapper({ privateKey: pkcs1Private(other2048.privateKey), webCrypto });
    for (const wrapped of objects) {
      const err = await rejects(wrong.unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /another key pair/);
      for (const secret of [toHex(c.key), b64(c.key), toHex(c.iv)]) assert.not.ok(err.message.includes(secret));
      assert.not.match(err.message, /BEGIN|MII/);
    }
  }
});

bad('a key of another size: KEY_UNWRAP_FAILED naming both sizes', async () => {
  const wrapped = await rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) }).wrap(content(22));
  await rejects(
    rsaKeyWrapper({ privateKey: pkcs1Private(k2048.privateKey) }).unwrap(wrapped),
    KeyUnwrapError,
    'KEY_UNWRAP_FAILED',
    /128 bytes, but this RSA-2048 key expects 256 \(it was written with an RSA-1024 key\?\)/,
  );
});

bad('unwrapped lengths are checked: a 31-byte key, a 15-byte IV, a V1 start that is not decimal digits', async () => {
  const c = content(23);
  const r = rsaKeyWrapper({ privateKey: pkcs1Private(k1024.privateKey) });
  const enc = (data: Uint8Array) => oaepEncryptNode(k1024.publicKey, data);
  const goodKey = enc(c.key);
  await rejects(r.unwrap(v2Wrapped(OAEP, enc(c.key.subarray(0, 31)), enc(c.iv))), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /key is 31 bytes, expected 32/);
  await rejects(r.unwrap(v2Wrapped(OAEP, goodKey, enc(c.iv.subarray(0, 15)))), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /IV is 15 bytes, expected 16/);
  // A PKCS#1 v1.5 block of the wrong length is a padding failure like any other: the generic message, no length
  // (telling it apart would be a Bleichenbacher oracle; OAEP messages above are authenticated, so they may say it).
  const pem = spkiPublic(k1024.publicKey);
  const err = await rejects(
    r.unwrap(v2Wrapped(PKCS1, pkcs1EncryptForge(pem, c.key), pkcs1EncryptForge(pem, new Uint8Array(17)))),
    KeyUnwrapError,
    'KEY_UNWRAP_FAILED',
  );
  assert.is(err.message, 'cannot unwrap this RSA/NONE/PKCS1Padding object with the RSA-1024 private key: the object was written with another key pair, or its metadata was altered');
  for (const start of ['8a', '', ' 8', '-1', '340282366920938463463374607431768211456']) {
    const v1: WrappedContentKey = { format: 'v1', wrapAlg: 'rsa', wrappedKey: goodKey, wrappedStart: enc(new TextEncoder().encode(start)), matdesc: {} };
    await rejects(r.unwrap(v1), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /V1 start/);
  }
});

bad('a public-only wrapper asked to unwrap an RSA object: KeyUnwrapError KEY_INVALID saying it can only write', async () => {
  const w = rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey), matdesc: { who: 'writer' } });
  const wrapped = await w.wrap(content(24));
  await rejects(w.unwrap(wrapped), KeyUnwrapError, 'KEY_INVALID', /only a public key.*give its privateKey/);
});

bad('a wrapped value that is not base64: MetadataError META_MALFORMED', async () => {
  const r = rsaKeyWrapper({ privateKey: pkcs1Private(k1024.privateKey) });
  await rejects(r.unwrap(v2Wrapped(PKCS1, 'not base64!', 'AAAA')), MetadataError, 'META_MALFORMED');
});

bad('unsupported key sizes: KEY_INVALID (512 and 4104 bits)', () => {
  const small = forge.pki.publicKeyToPem(forge.pki.rsa.setPublicKey(new forge.jsbn.BigInteger('f'.repeat(128), 16), new forge.jsbn.BigInteger('65537')));
  throwsOwnCode(() => rsaKeyWrapper({ publicKey: small }), 'KEY_INVALID', /RSA-512 key; supported sizes are 1024 to 4096 bits/);
  const big = forge.pki.publicKeyToPem(forge.pki.rsa.setPublicKey(new forge.jsbn.BigInteger('f'.repeat(1026), 16), new forge.jsbn.BigInteger('65537')));
  throwsOwnCode(() => rsaKeyWrapper({ publicKey: big }), 'KEY_INVALID', /RSA-4104 key/);
  const smallPrivate = pkcs1Private(generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey);
  throwsOwnCode(() => rsaKeyWrapper({ privateKey: smallPrivate }), 'KEY_INVALID', /"privateKey" is an RSA-512 key/);
});

bad('malformed PEM, wrong block type, non-RSA keys, passphrase problems, mismatched halves: KEY_INVALID', () => {
  const body = pkcs8Private(k1024.privateKey);
  const damaged = body.replace(/\n(.{10})/, '\n!!!!!!!!!!');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const encrypted = k1024.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' }) as string;
  const cases: Array<[() => unknown, RegExp]> = [
    [() => rsaKeyWrapper({ privateKey: 'hello' }), /"privateKey" is not valid PEM/],
    [() => rsaKeyWrapper({ privateKey: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), /"privateKey" expected a PEM RSA PRIVATE KEY or PRIVATE KEY or ENCRYPTED PRIVATE KEY block, found PEM blocks of type CERTIFICATE/],
    [() => rsaKeyWrapper({ privateKey: damaged }), /"privateKey"/],
    [() => rsaKeyWrapper({ privateKey: body.slice(0, 200) }), /"privateKey"/],
    [() => rsaKeyWrapper({ privateKey: spkiPublic(k1024.publicKey) }), /found PEM blocks of type PUBLIC KEY/],
    [() => rsaKeyWrapper({ publicKey: body }), /"publicKey" expected a PEM PUBLIC KEY or RSA PUBLIC KEY block, found PEM blocks of type PRIVATE KEY/],
    [() => rsaKeyWrapper({ privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), /not a readable RSA private key/],
    [() => rsaKeyWrapper({ publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }) as string }), /not a readable RSA public key/],
    [() => rsaKeyWrapper({ privateKey: encrypted }), /is encrypted \(ENCRYPTED PRIVATE KEY\): give its "passphrase"/],
    [() => rsaKeyWrapper({ privateKey: encrypted, passphrase: 'wrong' }), /could not be decrypted: wrong passphrase/],
    [() => rsaKeyWrapper({ privateKey: pkcs1Private(k1024.privateKey), publicKey: spkiPublic(k2048.publicKey) }), /not the two halves of one RSA key pair/],
  ];
  for (const [fn, pattern] of cases) {
    try {
      fn();
      assert.unreachable(pattern.source);
    } catch (err) {
      assert.instance(err, OssCryptoError, pattern.source);
      assert.is((err as OssCryptoError).code, 'KEY_INVALID', (err as Error).message);
      assert.match((err as Error).message, pattern);
      assert.not.match((err as Error).message, /MII|right/); // neither key bytes nor the passphrase
    }
  }
});

bad('a wrong passphrase whose garbage passes the CBC padding (about 1 in 256) is still "wrong passphrase", not "not readable"', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' }) as string;
  // Find a wrong passphrase for which node-forge throws while parsing instead of answering null.
  let throwing: string | undefined;
  for (let i = 0; i < 20_000 && throwing === undefined; i++) {
    try {
      forge.pki.decryptRsaPrivateKey(encrypted, `wrong-${i}`);
    } catch {
      throwing = `wrong-${i}`;
    }
  }
  assert.ok(throwing !== undefined, 'no passphrase reached the parse failure');
  throwsCode(() => rsaKeyWrapper({ privateKey: encrypted, passphrase: throwing }), KeyInvalidError, 'KEY_INVALID', /could not be decrypted: wrong passphrase/);
});

bad('programmer mistakes: TypeError/RangeError naming the argument', async () => {
  assert.throws(() => rsaKeyWrapper({}), (e: Error) => e instanceof TypeError && /"publicKey" or "privateKey"/.test(e.message));
  assert.throws(() => rsaKeyWrapper({ publicKey: 42 as never }), (e: Error) => e instanceof TypeError && /"publicKey".*got number/.test(e.message));
  assert.throws(
    () => rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey), padding: 'pss' as never }),
    (e: Error) => e instanceof RangeError && /"padding".*'pss'|"padding".*"pss"/.test(e.message),
  );
  assert.throws(
    () => rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey), matdesc: { a: 1 } as never }),
    (e: Error) => e instanceof TypeError && /"matdesc"/.test(e.message),
  );
  const w = new RsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) });
  for (const [bad, pattern] of [
    [{ key: new Uint8Array(31), iv: new Uint8Array(16) }, /"content.key" expected 32 bytes, got 31/],
    [{ key: new Uint8Array(32), iv: new Uint8Array(12) }, /"content.iv" expected 16 bytes, got 12/],
    [{ key: 'k', iv: new Uint8Array(16) }, /"content.key" expected a Uint8Array, got string/],
  ] as const) {
    try {
      await w.wrap(bad as never);
      assert.unreachable(pattern.source);
    } catch (err) {
      assert.ok(err instanceof RangeError || err instanceof TypeError);
      assert.match((err as Error).message, pattern);
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
const unpad = suite('PKCS#1 v1.5 block unpadding (pkcs1.ts) against a plain RFC 8017 decoder');

/** RFC 8017 §7.2.2 step 3 written the obvious way (branches, early exits): the oracle for the masked one. */
function referenceUnpad(em: Uint8Array, expectedLength: number): Uint8Array | undefined {
  if (em[0] !== 0x00 || em[1] !== 0x02) return undefined;
  const separator = em.indexOf(0, 2);
  if (separator < 0 || separator - 2 < 8) return undefined;
  const message = em.subarray(separator + 1);
  return message.length === expectedLength ? message : undefined;
}

/** A valid type-2 block: 00 02, `ps` nonzero bytes, 00, `message`. */
function block(ps: number, message: Uint8Array, psByte?: number): Uint8Array {
  const em = new Uint8Array(3 + ps + message.length);
  em[1] = 0x02;
  for (let i = 0; i < ps; i++) em[2 + i] = psByte ?? 1 + ((i * 37) % 255);
  em.set(message, 3 + ps);
  return em;
}

unpad('valid blocks of every modulus size give their message; the boundaries PS = 8 and an empty message are valid', () => {
  for (const k of [128, 256, 384, 512]) {
    for (const length of [32, 16]) {
      const m = pseudoRandomBytes(length, k + length);
      const out = pkcs1v15Unpad(block(k - 3 - length, m), length);
      assert.is(out.valid, 1, `k=${k} length=${length}`);
      assert.is(toHex(out.message), toHex(m));
    }
  }
  const eightPs = block(8, pseudoRandomBytes(117, 3));
  assert.is(pkcs1v15Unpad(eightPs, 117).valid, 1, 'PS of exactly 8 bytes');
  const empty = block(125, new Uint8Array(0));
  assert.is(pkcs1v15Unpad(empty, 0).valid, 1, 'empty message');
  assert.is(pkcs1v15Unpad(empty, 0).message.length, 0);
});

unpad('each check alone rejects: first byte, second byte, no separator, PS of 7, message one byte short or long', () => {
  const m = pseudoRandomBytes(32, 5);
  const good = block(93, m); // k = 128
  const cases: Array<[string, Uint8Array, number]> = [
    ['first byte 01', Uint8Array.from(good).fill(0x01, 0, 1), 32],
    ['second byte 00', Uint8Array.from(good).fill(0x00, 1, 2), 32],
    ['second byte 01 (a signature block)', Uint8Array.from(good).fill(0x01, 1, 2), 32],
    ['second byte 03', Uint8Array.from(good).fill(0x03, 1, 2), 32],
    ['no separator at all', Uint8Array.from(good).fill(0x5a, 95, 96), 32],
    // A short PS also makes M longer than any accepted length (pkcs1v15Unpad refuses lengths above k - 11).
    ['PS of 7 bytes (a zero at index 9)', Uint8Array.from(good).fill(0x00, 9, 10), 32],
    ['PS of 0 bytes (a zero at index 2)', Uint8Array.from(good).fill(0x00, 2, 3), 32],
    ['message of 31 bytes', block(94, m.subarray(0, 31)), 32],
    ['message of 33 bytes', block(92, pseudoRandomBytes(33, 8)), 32],
    ['a zero inside PS (the separator comes early)', Uint8Array.from(good).fill(0x00, 50, 51), 32],
    ['separator as the last byte', block(125, new Uint8Array(0)), 32],
  ];
  for (const [name, em, length] of cases) {
    assert.is(em.length, 128, name);
    assert.is(referenceUnpad(em, length), undefined, `reference accepts: ${name}`);
    const out = pkcs1v15Unpad(em, length);
    assert.is(out.valid, 0, name);
    assert.is(out.message.length, length, `${name}: the candidate is still copied`);
  }
  assert.is(pkcs1v15Unpad(good, 32).valid, 1, 'the unmodified block');
});

unpad('agrees with the reference decoder on 3,000 generated blocks (random, and valid ones with one byte changed)', () => {
  const byteArb = fc.oneof(fc.constant(0), fc.constant(2), fc.integer({ min: 0, max: 255 }));
  const randomBlock = fc
    .integer({ min: 11, max: 140 })
    .chain((k) => fc.tuple(fc.uint8Array({ minLength: k, maxLength: k }).map((em) => em), fc.array(byteArb, { minLength: k, maxLength: k }), fc.integer({ min: 0, max: k - 11 })))
    .map(([raw, biased, length]) => {
      const em = raw.map((b, i) => (i % 3 === 0 ? biased[i] : b));
      if (biased[0] === 2) em[0] = 0; // many candidates start 00 02
      if (biased[1] !== 255) em[1] = 2;
      return { em, length };
    });
  const mutatedBlock = fc
    .record({ k: fc.integer({ min: 19, max: 140 }), length: fc.constantFrom(0, 1, 8, 16, 32), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), seed: fc.integer({ min: 1, max: 1 << 30 }) })
    .filter(({ k, length }) => length <= k - 11)
    .map(({ k, length, at, value, seed }) => {
      const em = block(k - 3 - length, pseudoRandomBytes(length, seed), 0x11);
      em[at % k] = value;
      return { em, length: seed % 4 === 0 ? Math.max(0, length - 1) : length };
    });
  fc.assert(
    fc.property(fc.oneof(randomBlock, mutatedBlock), ({ em, length }) => {
      const expected = referenceUnpad(em, length);
      const got = pkcs1v15Unpad(em, length);
      assert.is(got.valid, expected === undefined ? 0 : 1);
      if (expected !== undefined) assert.is(toHex(got.message), toHex(expected));
    }),
    { numRuns: 3000, seed: 20240607 },
  );
});

unpad('the message is a copy (zeroing a Buffer block after unpadding leaves it intact); lengths that cannot fit are RangeErrors', () => {
  const m = pseudoRandomBytes(32, 9);
  const em = Buffer.from(block(93, m)); // Buffer#slice would be a view: the unpadding must not use it
  const out = pkcs1v15Unpad(em, 32);
  em.fill(0);
  assert.is(toHex(out.message), toHex(m));
  assert.is(out.message.constructor, Uint8Array);
  for (const bad of [-1, 118, 1.5, NaN]) {
    assert.throws(() => pkcs1v15Unpad(new Uint8Array(128), bad), (e: Error) => e instanceof RangeError && /"expectedLength" expected an integer from 0 to 117 for a 128-byte block/.test(e.message));
  }
});

unpad('padding: 00 02, nonzero PS redrawn when the random source gives zeros, 00, the message; too long is a RangeError', () => {
  const m = pseudoRandomBytes(32, 10);
  // A random source that yields zeros half the time: every zero must be redrawn.
  let calls = 0;
  const em = pkcs1v15Pad(m, 128, (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (calls + i) % 2 === 0 ? 0 : (calls * 7 + i) & 0xff || 1;
    calls++;
  });
  assert.ok(calls > 1, 'zeros were not redrawn');
  assert.is(toHex(referenceUnpad(em, 32)!), toHex(m));
  assert.ok(em.subarray(2, 95).every((b) => b !== 0));
  assert.throws(() => pkcs1v15Pad(new Uint8Array(118), 128, () => {}), (e: Error) => e instanceof RangeError && /118-byte message is too long for a 128-byte RSA modulus.*at most 117/.test(e.message));
});

// ---------------------------------------------------------------------------------------------------------------
const engines = suite('RSA engines: node:crypto, portable and node-forge agree, with each other and with independent code');

// A 4096-bit key made once with node:crypto generateKeyPairSync for these tests only (a fresh one takes from
// seconds to a minute on a small machine); the 1024- and 2048-bit keys are generated each run, 3072 is a fixture's.
const TEST_KEY_4096 = `
-----BEGIN PRIVATE KEY-----
MIIJQwIBADANBgkqhkiG9w0BAQEFAASCCS0wggkpAgEAAoICAQCjFASly/BGJ6RZ
5yYNoUlL96wcXqSbR5IhsS8DwCtbL4yZGuOcqjj1Is9o/6nCozT0ENaGy8sImjxI
pJOakn7A4WmI5VPC+nLTeJbJQVxYVEFLZ17DguFTOialnwd8Xmtg50TRGfZ06wg7
OvjP3FhQAPAcxslI1tmynNZNKU7R0sN7n96AliGw4knlMv55EoDRIlTEwduww+O1
D9Dz6+AJq403OxtjqCaXMhkOSIsww0MpSvfplQk8drLtGsxKQVfeqTOqCqTAJZf/
W26nEFDsSni0EhX0XAOP+wuZRtn2KtxQ8PxqLzGl56yG5DaZ0k+dZu7QbtNlxVo+
hJs+t+FIRhlnv3mqE40MmO1tFNEY8cqkdKF3rkGs9QB9Io6swtsWXsBBmJ1kDB29
+lGFSiCM9+/YocEKB54I2FOI80UPH3vsEk6yQkNjjlwiS0bAtFBqeejjDzMjYG9B
ZjyQtzqtwd1Hy79ZCploGNi91P1wkuocyVbtE2mnO4Eke8LYd/l6LsRWNAtGJmIv
uAhbZiovuJR8dNdmdyKRnncfTQqie4bKCq3Y1puyN4u3f7t8IPsKlLNywzk795i/
6u9xw3wnDx95v9fFY3HHRZ+GkeyYEI+Fypa/1khyIAS+BDqe4JVXmitTDzqj0BuO
Le3q85fo+Uh3OhNB2RIWNCmeoK08HQIDAQABAoICABcvOSLuHcSHjcLXTS5qY+6I
MWCeJvZJhFHEbCvzFebimXFJ5JqpC6x0LLsff93DULuzKiCjWAPq04+7UB3NXnZj
BZs4CULC0vDUJ9HIeE25esfy1ALlOE4aChUJSSnqDYeLEZpNv99q67JqBaYdjDOh
koFw1HyFyRDu4bu6F/HWLkME3T/4OCV64mkSqSGC2ywAXr9TVT2p99VNwJXxDpqp
WEwGG/R82zGrJmtErn85/3IfLaQ4c0X0lScG5IzZAdpOwWDXHwmPPq8H63EWbX7O
bp8hJBxnuXzugr1hmIq6GLTsMeKRv5P33iwWRVn0j6uPzvt0ihrhph0VwrF1uHIQ
6mOMacPyruI1SxLyuuKWJ2Lkdkr16Vmhhu3AeAIATfm3l1EjzD11F/WA7TMOAHNI
dubXf+WY6nVPrghuj+2UWtiAQkwL3K4P7CoOvc6Ttgh8EHyZC+UYhPUG5QGHqr1b
CLxZHbshEOn3PbFq66GKYIvbD6HqSQUdg8Z1sBtYzOn6CgIdT+I/8K8Mihs3jvEN
zA/8X7IM03TtvkOqZE3OO6M576Y4tS9tzsP2+tXu7DKD15XrsWxNawQvCUqp+lbk
QVHEMwr4bKuf+5dUEddKwxQsUsy5EZszBjbQmpgQRs7Tscu+xs8A8ubS5SfXiK2J
QmMnRXgMG5hR+dB1EhARAoIBAQDfgmNsRVt/AMNqMeRmqOeRcnu9qA7Jl/XDG2Xb
za0cW3hpOvGJx+/Gq4nQLGRdGZSrgV0t3dJ80sazQKaggxbJQzYW5xu8RDhhXIQZ
QKJa4prsIkrov1Oum1qbh+e1EaJLAYRXrj4tiwYikDN/1AbsjMter6neVELdfcoM
mRCPBUBgEQ/QR6gogzJwHw+6b7nwJkFFk9PEeODNIoy5FR1hQu7g1KK9iySlpilc
4YDbgH94qFXMt1gJmZlKOZlCuY4qLOAedBJFEhF7KNxrBDDvOMEv7dOvzUpKA1mn
T0ESLFdq93jSZsOkVM0+dzIT6NZKGEjQ6Bi2qj5HOfIIUBxtAoIBAQC6yMNWD2BT
AkG3zVouxP0/IHGHtCbltlUvT32Zegy9rpRjhQgYaZcoEd0YugHkp1+VN5HwBGe7
sxgMRG1M/BdrBBdxcJr9oml7Qed2aIdOjWVUSH77OeGcfcGifKcRDwD9Cpz4dtdt
733y6cdHKxb9A6oiJtAyB1WAdstFn+mjo4rCd5DJIva5Hwr8OYEl7hWRxx1oyyXv
E0mSSda/kG48GKpC3KJ1wdnyP9jrOaCplylJjfP+24RU4p8IXSlkO7Guj2XRM+oV
ymeVVTmLXKvGpr7LsP4DZiZXgHc5KzrHLj9buxOuTv6SqZ1k3nGxM3FzU8BS/f7I
97WXqTiNxXBxAoIBAQCTxT/4eE6KxDVug3fvS6J2LguTk4XbUKWCjh2k2fGmuu78
G6VPo6lqX0UpJgBg8SWy0j+JsIuWTUBjiM3hd2ncPJyJPdi/excPf7wyeeIdVo54
qh9+i+hGm52nEI5nzzXOgz09Pw0KzUyME2yJCeReBqP6gQc839apW533AEfLVvx9
xyn+WTHbPwpcyJx8dZuoI5Kp7pdm4Ug3N610PHqFMFyAtvS1fkYHYrkcGFc6SFV+
r0SyqVECX9PSGAy06bsNNUgjujfOBKkcFSLNeiLkNlC7YHDBXWfNUTO4AxURb9GH
/f+ak6irgAmGUAYC1cC/khiqTZjxQ9MTAkN7rYNtAoIBAQCoK6Yj0AhL9JYy5MMz
pMzWj2Foaz0ySa38wLc2/fqGta6Iw/f78uXTf/HvF1opAsE+WiAdV/oFt0QJl3pJ
fBehlLd+vYHuptIN1dKOe6KHiSsYbYVWsFB/U4KJx22sIDQln+6gjm98XcqqcO2p
GBTEjQ4bXZLJ2GyVE2AFOetkGBUQ7hH/5mj5WAfN/ABZpDjrXbkO5wkqbdUpzy14
oJN/rD1vobLsDzMpt26YqvQKfT0BKrvqVL6apsfFAgwIYO6jWhyz9Ofn4qrMe0Uq
Qq+uVecnAh5R9SDEW7f8Uv3C49LLxm373Me8SNabQORgRQ76ZQeeMW26h7yJ5iQz
EPchAoIBAGp3Cm5WzQ5XOX/6yVN+1fymDTo8hgf4QP3vgh6/dV+STLs7CBNLv/qN
PpfrG1jui2JldgcyLUvAD5Vynh99e7hLcaqWeVHKagMTAbSIcpUR/7h1+NLvcZrt
uQOPqQY6e+xr4l2ZRrPU0SGrr6Hl4EiCRl+Xqdqa+jqiWU5Dt+qF5KBleh/1TJCx
CsDbC12Z/XLgdcFfKkkU1edxNZp6pKZFvK9GLrz17/70aE+RHRRACYH+txTYMzs3
2GQ7ell2PpRCZpyTltIU2VXcT8wieE5WplyZG39r834E0smL26mJvD8lqkLbyFpb
9GW/L4GaFFn8dELemMJq9N5v2b74tzg=
-----END PRIVATE KEY-----
`;
const KEYS: Array<{ bits: number; privateKey: KeyObject; publicKey: KeyObject; samples: number }> = [
  { bits: 1024, ...pair(1024), samples: 2 },
  { bits: 1024, ...k1024, samples: 1 },
  { bits: 2048, ...k2048, samples: 1 },
  (() => {
    const privateKey = createPrivateKey(readFileSync(fixturePath('interop', 'keys', 'rsaprovider-matdesc-rsa3072.private.pem'), 'utf8'));
    return { bits: 3072, privateKey, publicKey: createPublicKey(privateKey), samples: 1 };
  })(),
  (() => {
    const privateKey = createPrivateKey(TEST_KEY_4096);
    return { bits: 4096, privateKey, publicKey: createPublicKey(privateKey), samples: 1 };
  })(),
];
const ENGINES: RsaEngine[] = [nodeRsaEngine, portableRsaEngine, forgeRsaEngine];

function randomContent(): ContentKey {
  return { key: new Uint8Array(globalThis.crypto.getRandomValues(new Uint8Array(32))), iv: new Uint8Array(globalThis.crypto.getRandomValues(new Uint8Array(16))) };
}

engines('every engine reads what every engine writes, both paddings, 1024 to 4096 bits, and gets the original back', async () => {
  for (const k of KEYS) {
    const pem = pkcs8Private(k.privateKey);
    const readers = new Map(ENGINES.map((e) => [e, rsaKeyWrapper({ privateKey: pem, engine: e })]));
    for (const w of readers.values()) assert.is(w.bits, k.bits);
    for (const padding of ['pkcs1', 'oaep'] as const) {
      for (const writer of ENGINES) {
        const w = rsaKeyWrapper({ publicKey: spkiPublic(k.publicKey), padding, engine: writer });
        for (let i = 0; i < k.samples; i++) {
          const c = randomContent();
          const wrapped = await w.wrap(c);
          for (const reader of ENGINES) {
            // node-forge's private operation costs 0.1-0.3 s above 2048 bits. There, forge reads only what the
            // node engine wrote (what forge writes is read by the node engine anyway), and only once per padding
            // (portable = forge RAW for pkcs1; forge's own OAEP decoder is covered at 1024 and 2048 bits).
            const forgeDoes = reader === forgeRsaEngine || (reader === portableRsaEngine && padding === 'pkcs1');
            if (forgeDoes && k.bits > 2048 && !(reader === portableRsaEngine && writer === nodeRsaEngine)) continue;
            const got = await readers.get(reader)!.unwrap(wrapped);
            assert.equal(got, c, `${k.bits} ${padding}: written by ${writer.name}, read by ${reader.name}`);
          }
        }
      }
    }
  }
});

engines('independent oracles: node:crypto publicEncrypt → node engine; node engine → node-forge (PKCS#1 v1.5) and node:crypto (OAEP)', async () => {
  for (const k of KEYS) {
    const reader = rsaKeyWrapper({ privateKey: pkcs1Private(k.privateKey), engine: nodeRsaEngine });
    const c = randomContent();
    const pkcs1 = v2Wrapped(
      PKCS1,
      b64(publicEncrypt({ key: k.publicKey, padding: constants.RSA_PKCS1_PADDING }, c.key)),
      b64(publicEncrypt({ key: k.publicKey, padding: constants.RSA_PKCS1_PADDING }, c.iv)),
    );
    assert.equal(await reader.unwrap(pkcs1), c, `${k.bits} pkcs1`);
    assert.equal(await reader.unwrap(v2Wrapped(OAEP, oaepEncryptNode(k.publicKey, c.key), oaepEncryptNode(k.publicKey, c.iv))), c, `${k.bits} oaep`);

    const oaepWrapped = await rsaKeyWrapper({ publicKey: spkiPublic(k.publicKey), padding: 'oaep', engine: nodeRsaEngine }).wrap(c);
    const viaNode = (v: string) => privateDecrypt({ key: k.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(v, 'base64'));
    assert.is(toHex(viaNode(oaepWrapped.wrappedKey)), toHex(c.key));
    assert.is(toHex(viaNode(oaepWrapped.wrappedStart)), toHex(c.iv));
  }
  // node-forge's own PKCS#1 v1.5 decoder on what the node engine writes (the 1024-bit keys: forge is slow).
  for (const k of KEYS.filter((x) => x.bits === 1024)) {
    const c = randomContent();
    const wrapped = await rsaKeyWrapper({ publicKey: spkiPublic(k.publicKey), engine: nodeRsaEngine }).wrap(c);
    const forgePriv = forge.pki.privateKeyFromPem(pkcs1Private(k.privateKey));
    const viaForge = (v: string) => Buffer.from(forgePriv.decrypt(Buffer.from(v, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
    assert.is(toHex(viaForge(wrapped.wrappedKey)), toHex(c.key));
    assert.is(toHex(viaForge(wrapped.wrappedStart)), toHex(c.iv));
    assert.is(Buffer.from(wrapped.wrappedKey, 'base64').length, 128);
  }
});

engines('property: node engine unwrap == node-forge PKCS#1 v1.5 decrypt == the value, for generated keys and IVs (1024 bits)', async () => {
  const k = KEYS[0];
  const writer = rsaKeyWrapper({ publicKey: spkiPublic(k.publicKey), engine: nodeRsaEngine });
  const reader = rsaKeyWrapper({ privateKey: pkcs8Private(k.privateKey), engine: nodeRsaEngine });
  const forgePriv = forge.pki.privateKeyFromPem(pkcs1Private(k.privateKey));
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (key, iv) => {
      const wrapped = await writer.wrap({ key, iv });
      const got = await reader.unwrap(wrapped);
      assert.is(toHex(got!.key), toHex(key));
      assert.is(toHex(got!.iv), toHex(iv));
      const forgeKey = forgePriv.decrypt(Buffer.from(wrapped.wrappedKey, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5');
      assert.is(Buffer.from(forgeKey, 'binary').toString('hex'), toHex(key));
    }),
    { numRuns: 25 },
  );
  // And the node engine reads many values written by node:crypto (cheap: no forge).
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (key, iv) => {
      const enc = (d: Uint8Array) => b64(publicEncrypt({ key: k.publicKey, padding: constants.RSA_PKCS1_PADDING }, d));
      const got = await reader.unwrap(v2Wrapped(PKCS1, enc(key), enc(iv)));
      assert.is(toHex(got!.key) + toHex(got!.iv), toHex(key) + toHex(iv));
    }),
    { numRuns: 200 },
  );
});

engines('the node engine reads V1 rsa objects (OAEP key, decimal counter start) like the others', async () => {
  const k = KEYS[0];
  const c = randomContent();
  const v1: WrappedContentKey = {
    format: 'v1',
    wrapAlg: 'rsa',
    wrappedKey: oaepEncryptNode(k.publicKey, c.key),
    wrappedStart: oaepEncryptNode(k.publicKey, new TextEncoder().encode('340282366920938463463374607431768211455')),
    matdesc: {},
  };
  for (const engine of ENGINES) {
    const out = await rsaKeyWrapper({ privateKey: pkcs8Private(k.privateKey), engine }).unwrap(v1);
    assert.is(toHex(out!.key), toHex(c.key), engine.name);
    assert.is(toHex(out!.iv), 'ff'.repeat(16), engine.name);
  }
});

engines('engine choice: default portable, webCrypto:false is forge, withEngine/preferEngine/preferNodeRsaEngine', async () => {
  const pem = pkcs1Private(k1024.privateKey);
  const def = rsaKeyWrapper({ privateKey: pem, matdesc: { a: 'b' }, padding: 'oaep' });
  assert.is(def.engine, portableRsaEngine);
  assert.is(rsaKeyWrapper({ privateKey: pem, webCrypto: false }).engine, forgeRsaEngine);
  assert.is(rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine }).engine, nodeRsaEngine);

  const moved = def.withEngine(nodeRsaEngine);
  assert.is(moved.engine, nodeRsaEngine);
  assert.is(def.engine, portableRsaEngine, 'withEngine changed the original');
  assert.equal([moved.bits, moved.wrapAlg, moved.matdesc, moved.canUnwrap], [def.bits, def.wrapAlg, def.matdesc, def.canUnwrap]);
  const c = content(41);
  assert.equal(await moved.unwrap(await def.wrap(c)), c);
  assert.equal(await def.unwrap(await moved.wrap(c)), c);
  const publicOnly = rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey) }).withEngine(nodeRsaEngine);
  assert.not.ok(publicOnly.canUnwrap);
  await rejects(publicOnly.unwrap(await publicOnly.wrap(c)), KeyUnwrapError, 'KEY_INVALID');

  // preferEngine keeps an explicit choice; preferNodeRsaEngine only touches RSA wrappers with no choice made.
  assert.is(def.preferEngine(nodeRsaEngine).engine, nodeRsaEngine);
  const explicit = [
    rsaKeyWrapper({ privateKey: pem, engine: portableRsaEngine }),
    rsaKeyWrapper({ privateKey: pem, webCrypto: true }),
    rsaKeyWrapper({ privateKey: pem, webCrypto: false }),
  ];
  for (const w of explicit) {
    assert.is(w.preferEngine(nodeRsaEngine), w);
    assert.is(preferNodeRsaEngine(w), w);
  }
  assert.is(preferNodeRsaEngine(def).engine, nodeRsaEngine);
  assert.is(preferNodeRsaEngine(undefined), undefined);
  const notRsa: KeyWrapper = { wrapAlg: 'KMS/ALICLOUD', matdesc: {}, canWrap: true, canUnwrap: true, wrap: async () => ({}) as never, unwrap: async () => null };
  assert.is(preferNodeRsaEngine(notRsa), notRsa);
  assert.equal([rsaKeyWrapper({ privateKey: pem }), notRsa].map(preferNodeRsaEngine).map((w) => (w as RsaKeyWrapper).engine?.name), ['node', undefined]);
});

engines('engine option mistakes are TypeErrors; an engine refusing the key is KEY_INVALID; a bad engine output is KEY_WRAP_FAILED', async () => {
  const pem = pkcs1Private(k1024.privateKey);
  assert.throws(() => rsaKeyWrapper({ privateKey: pem, engine: {} as never }), (e: Error) => e instanceof TypeError && /"engine" expected an RsaEngine.*got Object/.test(e.message));
  assert.throws(() => rsaKeyWrapper({ privateKey: pem, engine: nodeRsaEngine, webCrypto: false }), (e: Error) => e instanceof TypeError && /"webCrypto".*cannot be combined with "engine" \(node\)/.test(e.message));
  assert.throws(() => rsaKeyWrapper({ privateKey: pem, webCrypto: 'no' as never }), (e: Error) => e instanceof TypeError && /"webCrypto" expected a boolean, got string/.test(e.message));
  for (const [bad, got] of [[null, 'null'], [undefined, 'undefined']] as const) {
    assert.throws(() => rsaKeyWrapper({ privateKey: pem }).withEngine(bad as never), (e: Error) => e instanceof TypeError && new RegExp(`"engine".*got ${got}`).test(e.message));
  }

  let seenDer: Uint8Array | undefined;
  const refusing: RsaEngine = {
    name: 'refusing',
    importPublicKey: (spki) => nodeRsaEngine.importPublicKey(spki),
    importPrivateKey: (der) => {
      seenDer = der;
      throw new Error(`no thanks ${Buffer.from(der).toString('base64').slice(0, 40)}`);
    },
  };
  const err = (() => {
    try {
      rsaKeyWrapper({ privateKey: pem, engine: refusing });
    } catch (e) {
      return e as OssCryptoError;
    }
    assert.unreachable('accepted');
  })()!;
  assert.is(err.code, 'KEY_INVALID');
  assert.is(err.message, '"privateKey" was not accepted by the refusing RSA engine');
  assert.ok(seenDer!.every((b) => b === 0), 'the PKCS#8 DER handed to the engine was not zeroed');

  const short: RsaEngine = { ...nodeRsaEngine, name: 'short', importPublicKey: () => ({ encryptPkcs1: () => new Uint8Array(127), encryptOaep: () => new Uint8Array(128) }) };
  await rejects(rsaKeyWrapper({ publicKey: spkiPublic(k1024.publicKey), engine: short }).wrap(content(42)), KeyWrapError, 'KEY_WRAP_FAILED', /RSA-1024 pkcs1 encryption of the content key failed/);
});

// ---------------------------------------------------------------------------------------------------------------
const oracle = suite('no padding oracle: every malformed block, on every engine, gives one identical error');

const k1024Jwk = k1024.publicKey.export({ format: 'jwk' }) as { n: string };
const modulus1024 = new Uint8Array(Buffer.from(k1024Jwk.n, 'base64url'));

/** Raw RSA public operation (node:crypto, RSA_NO_PADDING): turns any block below n into a wrapped value. */
const rawEncrypt = (em: Uint8Array) => b64(publicEncrypt({ key: k1024.publicKey, padding: constants.RSA_NO_PADDING }, em));

function malformedBlocks(length: number): Array<[string, Uint8Array]> {
  const m = pseudoRandomBytes(length, 77 + length).map((b) => b || 1);
  const good = block(125 - length, m);
  const withByte = (i: number, v: number) => {
    const em = Uint8Array.from(good);
    em[i] = v;
    return em;
  };
  return [
    ['first byte 01', withByte(0, 0x01)],
    ['second byte 00', withByte(1, 0x00)],
    ['second byte 01', withByte(1, 0x01)],
    ['second byte 03', withByte(1, 0x03)],
    ['no separator', withByte(125 - length + 2, 0x33)],
    ['PS of 7 bytes', block(7, pseudoRandomBytes(118, 5).map((b) => b || 1))],
    ['zero at PS byte 3', withByte(5, 0x00)],
    ['message one byte short', block(126 - length, m.subarray(1))],
    ['message one byte long', block(124 - length, Uint8Array.of(9, ...m))],
    ['empty message', block(125, new Uint8Array(0))],
  ];
}

oracle('PKCS#1 v1.5: wrong prefix, no separator, short PS, wrong lengths, c >= n, in the key or the IV: the same error', async () => {
  const c = content(51);
  const goodKey = rawEncrypt(block(93, c.key));
  const goodIv = rawEncrypt(block(109, c.iv));
  const expected = 'cannot unwrap this RSA/NONE/PKCS1Padding object with the RSA-1024 private key: the object was written with another key pair, or its metadata was altered';
  // node-forge's raw operation is the same in both forge-based engines: running it once keeps the test fast.
  for (const engine of [nodeRsaEngine, portableRsaEngine]) {
    const r = rsaKeyWrapper({ privateKey: pkcs8Private(k1024.privateKey), engine });
    assert.equal(await r.unwrap(v2Wrapped(PKCS1, goodKey, goodIv)), c, `${engine.name}: the well-formed control`);
    const objects: Array<[string, WrappedContentKey]> = [
      ...malformedBlocks(32).map(([name, em]): [string, WrappedContentKey] => [`key: ${name}`, v2Wrapped(PKCS1, rawEncrypt(em), goodIv)]),
      ...malformedBlocks(16)
        .filter((_, i) => engine === nodeRsaEngine || i % 3 === 0)
        .map(([name, em]): [string, WrappedContentKey] => [`iv: ${name}`, v2Wrapped(PKCS1, goodKey, rawEncrypt(em))]),
      ['key: c = n', v2Wrapped(PKCS1, b64(modulus1024), goodIv)],
      ['iv: c = 2^1024 - 1', v2Wrapped(PKCS1, goodKey, b64(new Uint8Array(128).fill(0xff)))],
      ['both: key and IV swapped', v2Wrapped(PKCS1, goodIv, goodKey)],
    ];
    for (const [name, wrapped] of objects) {
      const err = await rejects(r.unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
      assert.is(err.message, expected, `${engine.name} ${name}`);
      assert.is(err.cause, undefined, `${engine.name} ${name}: a cause could differ between failures`);
    }
  }
});

oracle('OAEP: a changed byte, a value for another key, a PKCS#1 value under the OAEP label: the same error on every engine', async () => {
  const c = content(52);
  const key = Buffer.from(oaepEncryptNode(k1024.publicKey, c.key), 'base64');
  const iv = oaepEncryptNode(k1024.publicKey, c.iv);
  const flipped = Uint8Array.from(key);
  flipped[100] ^= 0x40;
  const cases: WrappedContentKey[] = [
    v2Wrapped(OAEP, b64(flipped), iv),
    v2Wrapped(OAEP, oaepEncryptNode(k1024.publicKey, c.key), rawEncrypt(block(109, c.iv))),
    v2Wrapped(OAEP, b64(modulus1024), iv),
  ];
  const expected = 'cannot unwrap this RSA/NONE/OAEPWithSHA-1AndMGF1Padding object with the RSA-1024 private key: the object was written with another key pair, or its metadata was altered';
  for (const engine of ENGINES) {
    const r = rsaKeyWrapper({ privateKey: pkcs8Private(k1024.privateKey), engine });
    assert.equal(await r.unwrap(v2Wrapped(OAEP, b64(key), iv)), c, `${engine.name}: control`);
    for (const wrapped of cases) {
      const err = await rejects(r.unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
      assert.is(err.message, expected, engine.name);
    }
  }
});

oracle('a wrong private key: the same generic error on every engine, both paddings, no key material in it', async () => {
  const c = content(53);
  const objects = await Promise.all(
    (['pkcs1', 'oaep'] as const).map((padding) => rsaKeyWrapper({ publicKey: spkiPublic(k2048.publicKey), padding, engine: nodeRsaEngine }).wrap(c)),
  );
  for (const engine of ENGINES) {
    const wrong = rsaKeyWrapper({ privateKey: pkcs1Private(other2048.privateKey), engine, matdesc: { k: 'other' } });
    for (const wrapped of objects) {
      const err = await rejects(wrong.unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
      assert.is(
        err.message,
        `cannot unwrap this ${wrapped.wrapAlg} object with the RSA-2048 private key (matdesc {"k":"other"}): the object was written with another key pair, or its metadata was altered`,
        engine.name,
      );
      for (const secret of [toHex(c.key), b64(c.key), toHex(c.iv), b64(c.iv)]) assert.not.ok(err.message.includes(secret));
    }
  }
});

oracle('both halves are always decrypted and checked, and every raw block the engine returned is zeroed afterwards', async () => {
  const returned: Uint8Array[] = [];
  let rawCalls = 0;
  const spy: RsaEngine = {
    name: 'spy',
    importPublicKey: (spki) => nodeRsaEngine.importPublicKey(spki),
    importPrivateKey(der) {
      const inner = nodeRsaEngine.importPrivateKey(der);
      const ops: RsaPrivateKeyOps = {
        decryptRaw(data) {
          rawCalls++;
          const out = inner.decryptRaw(data) as Uint8Array;
          returned.push(out);
          return out;
        },
        decryptOaep(data) {
          const out = inner.decryptOaep(data) as Uint8Array;
          returned.push(out);
          return out;
        },
      };
      return ops;
    },
  };
  const r = rsaKeyWrapper({ privateKey: pkcs8Private(k1024.privateKey), engine: spy });
  const c = content(54);
  const goodKey = rawEncrypt(block(93, c.key));
  const goodIv = rawEncrypt(block(109, c.iv));
  const badKey = rawEncrypt(malformedBlocks(32)[0][1]);
  assert.equal(await r.unwrap(v2Wrapped(PKCS1, goodKey, goodIv)), c);
  assert.is(rawCalls, 2);
  await rejects(r.unwrap(v2Wrapped(PKCS1, badKey, goodIv)), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
  assert.is(rawCalls, 4, 'a bad key block must not skip the IV');
  assert.equal(await r.unwrap(v2Wrapped(OAEP, oaepEncryptNode(k1024.publicKey, c.key), oaepEncryptNode(k1024.publicKey, c.iv))), c);
  assert.is(returned.length, 6);
  returned.forEach((out, i) => assert.ok(out.every((b) => b === 0), `engine output ${i} still holds plaintext`));
});

formats.run();
writes.run();
reads.run();
bad.run();
unpad.run();
engines.run();
oracle.run();
