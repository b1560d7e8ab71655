/**
 * Tests of bindings/keys/rsa.ts (FORMATS.md §2.1, §3).
 *
 * Oracles independent of the wrapper: node:crypto (`publicEncrypt` / `privateDecrypt` with OAEP-SHA1, key
 * generation and export in every PEM form), node-forge used directly for PKCS#1 v1.5 (which Node 20 refuses to
 * decrypt), and the oss2 / C++ key files of the interop fixtures. Both unwrap engines (Web Crypto for OAEP,
 * node-forge) are run on the same inputs.
 * @module
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import forge from 'node-forge';
import { KeyUnwrapError, MetadataError, OssCryptoError } from '../bindings/errors.js';
import { generateRsaKeyPair, rsaKeyWrapper, RsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';
import { fixturePath, pseudoRandomBytes, toHex } from './_util.js';

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

async function rejects(promise: Promise<unknown>, cls: Function, code: string, pattern?: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, cls);
    assert.is((err as OssCryptoError).code, code, (err as Error).message);
    if (pattern) assert.match((err as Error).message, pattern);
    return err as Error;
  }
  assert.unreachable(`expected ${cls.name} ${code}`);
  throw new Error('unreachable');
}

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, OssCryptoError);
    assert.is((err as OssCryptoError).code, code, (err as Error).message);
    if (pattern) assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

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
  throwsCode(() => rsaKeyWrapper({ publicKey: small }), 'KEY_INVALID', /RSA-512 key; supported sizes are 1024 to 4096 bits/);
  const big = forge.pki.publicKeyToPem(forge.pki.rsa.setPublicKey(new forge.jsbn.BigInteger('f'.repeat(1026), 16), new forge.jsbn.BigInteger('65537')));
  throwsCode(() => rsaKeyWrapper({ publicKey: big }), 'KEY_INVALID', /RSA-4104 key/);
  const smallPrivate = pkcs1Private(generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey);
  throwsCode(() => rsaKeyWrapper({ privateKey: smallPrivate }), 'KEY_INVALID', /"privateKey" is an RSA-512 key/);
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

formats.run();
writes.run();
reads.run();
bad.run();
