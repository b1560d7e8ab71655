/**
 * RSA public-key validation (issue 12 §3, bindings/keys/rsa-public-check.ts): keys that no generator produces
 * (e = 1, 2, 3, 17, 65535, an even e, e ≥ n, an even n, n = 2^2047, n with a small factor) are refused with
 * KEY_INVALID on every engine and through the client; keys under 2048 bits read old objects (over real HTTP)
 * but never wrap new ones, and the message says so; `keygen --bits 1024` is refused.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCliArgs } from '../bindings/cli/args.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { encodeEnvelope } from '../bindings/envelope/codec.js';
import { KeyWrapError, OssCryptoError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { checkRsaPublicNumbers } from '../bindings/keys/rsa-public-check.js';
import { forgeRsaEngine, portableRsaEngine, rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import type { OssServer } from './support/oss-server.js';
import { fixturePath, pseudoRandomBytes, rejects, throwsCode } from './_util.js';
import { useStandIns } from './support/stand-ins.js';
import { readFileSync } from 'node:fs';

const real = generateKeyPairSync('rsa', { modulusLength: 2048 });
const realJwk = real.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
const REAL_N = BigInt('0x' + Buffer.from(realJwk.n, 'base64url').toString('hex'));

/** A public-key PEM with the given numbers (node-forge writes whatever it is given). */
function publicPem(n: bigint, e: bigint): string {
  const big = (v: bigint) => new forge.jsbn.BigInteger(v.toString(16), 16);
  return forge.pki.publicKeyToPem(forge.pki.setRsaPublicKey(big(n), big(e)));
}

/** An odd multiple of the prime `p` near `n` with no odd prime factor below `p`. */
function oddMultipleNear(n: bigint, p: bigint): bigint {
  const smaller = (q: bigint) => {
    for (let d = 3n; d < p; d += 2n) if (q % d === 0n) return true;
    return false;
  };
  let m = n - (n % p);
  if (m % 2n === 0n) m += p;
  while (smaller(m)) m += 2n * p;
  return m;
}

const BAD: Array<[string, bigint, bigint, RegExp]> = [
  ['e = 1 (the wrapped key would be the key itself)', REAL_N, 1n, /public exponent is 1;/],
  ['e = 2 (Rabin)', REAL_N, 2n, /public exponent is 2;/],
  ['e = 3', REAL_N, 3n, /public exponent is 3;/],
  ['e = 17', REAL_N, 17n, /public exponent is 17;/],
  ['e = 65535', REAL_N, 65535n, /public exponent is 65535;/],
  ['even e ≥ 65537', REAL_N, 65538n, /exponent is even/],
  ['e ≥ n', REAL_N, REAL_N + 2n, /not smaller than its modulus/],
  ['even n', REAL_N + 1n, 65537n, /modulus is even/],
  ['n = 2^2047', 1n << 2047n, 65537n, /modulus is even/],
  ['n divisible by 3', oddMultipleNear(REAL_N, 3n), 65537n, /divisible by 3;/],
  ['n divisible by 997 (and by no smaller prime)', oddMultipleNear(REAL_N, 997n), 65537n, /divisible by 997;/],
];

const ENGINES = [
  { name: 'portable (default)', options: {} },
  { name: 'node-forge', options: { engine: forgeRsaEngine } },
  { name: 'portable, explicit', options: { engine: portableRsaEngine } },
  { name: 'node:crypto', options: { engine: nodeRsaEngine } },
];

// ---------------------------------------------------------------------------------------------------------------
const numbers = suite('RSA public keys: numbers no generator produces are refused');

numbers('the checks on the numbers', () => {
  checkRsaPublicNumbers(REAL_N, 65537n, 'publicKey');
  for (const [name, n, e, pattern] of BAD) {
    assert.ok(n.toString(2).length >= 2040, name);
    throwsCode(() => checkRsaPublicNumbers(n, e, 'publicKey'), OssCryptoError, 'KEY_INVALID', pattern);
  }
});

numbers('every engine refuses each bad public key at construction (KEY_INVALID naming the option)', () => {
  for (const [name, n, e, pattern] of BAD) {
    const pem = publicPem(n, e);
    for (const engine of ENGINES) {
      const message = throwsCode(() => rsaKeyWrapper({ publicKey: pem, ...engine.options }), OssCryptoError, 'KEY_INVALID', pattern);
      assert.match(message, /^"publicKey" is not a usable RSA public key/, `${name} / ${engine.name}`);
    }
  }
  // The real key with e = 65537 loads on every engine.
  for (const engine of ENGINES) rsaKeyWrapper({ publicKey: publicPem(REAL_N, 65537n), ...engine.options });
});

numbers('a private key with e = 3 is refused too (its public half is checked)', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
  const pem = small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  throwsCode(() => rsaKeyWrapper({ privateKey: pem }), OssCryptoError, 'KEY_INVALID', /^"privateKey" is not a usable RSA public key: its public exponent is 3;/);
});

numbers('keygen refuses fewer than 2048 bits', () => {
  assert.throws(() => parseCliArgs(['keygen', '--out', 'x', '--bits', '1024'], {}), /from 2048 to 4096 \(smaller keys may only read old objects\), got 1024/);
  assert.is((parseCliArgs(['keygen', '--out', 'x', '--bits', '2048'], {}) as { bits: number }).bits, 2048);
});

// ---------------------------------------------------------------------------------------------------------------
const small = suite('RSA keys under 2048 bits: read old objects, never wrap new ones');
const env = { oss: undefined as unknown as OssServer, dir: '' };
useStandIns(small, env, { tmpPrefix: 'oss-crypto-rsa-small-' });

const k1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

small('KeyRing.createContentKey refuses an RSA-1024 default material, saying it only reads', async () => {
  await rejects(new KeyRing({ default: rsaKeyWrapper({ privateKey: k1024 }) }).createContentKey(), KeyWrapError, 'KEY_INVALID', /RSA-1024 key only reads objects written with it; new objects need a key of at least 2048 bits/);
  const oss2TestKey = readFileSync(fixturePath('interop', 'keys', 'oss2-tests-compact-rsa1024.public.pem'), 'utf8');
  await rejects(new KeyRing({ default: rsaKeyWrapper({ publicKey: oss2TestKey, padding: 'oaep' }) }).createContentKey(), KeyWrapError, 'KEY_INVALID', /RSA-1024/);
});

small('over HTTP: put and multipartUpload with an RSA-1024 key send nothing; an old RSA-1024 object still reads', async () => {
  const bucket = 'small-bkt';
  const c = new CryptoClient(env.oss.client(bucket) as any, { material: rsaKeyWrapper({ privateKey: k1024 }), retry: false });
  const mark = env.oss.log.length;
  await rejects(c.put('new', Buffer.from('x')), KeyWrapError, 'KEY_INVALID', /only reads/);
  await rejects(c.multipartUpload('new-mp', Buffer.alloc(300_000), { partSize: 102400 }), KeyWrapError, 'KEY_INVALID', /only reads/);
  assert.is(env.oss.log.length, mark, 'no request was sent');

  // An object written before the rule (the low-level wrapper still wraps, for such fixtures).
  const { createCipheriv } = await import('node:crypto');
  const key = Buffer.from(pseudoRandomBytes(32, 1));
  const iv = Buffer.from(pseudoRandomBytes(16, 2));
  iv.fill(0, 8, 12);
  const wrapped = await rsaKeyWrapper({ privateKey: k1024 }).wrap({ key: new Uint8Array(key), iv: new Uint8Array(iv) });
  const plain = Buffer.from('written in 2019 with a 1024-bit key');
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  env.oss.putObjectRaw(bucket, 'old', body, encodeEnvelope({ format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped }));
  assert.equal((await c.get('old')).content, plain);
});

numbers.run();
small.run();
