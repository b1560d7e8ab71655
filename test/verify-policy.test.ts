/**
 * The `verify` option and the recorded-MD5 rules (issue 12 §4, bindings/transfer/verify-policy.ts), over real HTTP
 * with the real `ali-oss` client against the loopback stand-in: an unparsable `unencrypted-content-md5` is
 * META_MALFORMED on get, getStream and resumableDownload (it used to skip the check silently); `require` refuses
 * objects without a recorded length or MD5 before any unwrap; and no INTEGRITY_MD5 message carries the MD5 of the
 * decrypted (or uploaded) plaintext, only the recorded or claimed value, which is already public.
 * @module
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { resolveVerifyPolicy } from '../bindings/transfer/verify-policy.js';
import { IntegrityError, MetadataError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, rejects } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'verify-bkt';
const MD5_HEADER = 'x-oss-meta-client-side-encryption-unencrypted-content-md5';
const LENGTH_HEADER = 'x-oss-meta-client-side-encryption-unencrypted-content-length';
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const env = { oss: undefined as unknown as OssServer, dir: '' };

function client(extra: Record<string, unknown> = {}): CryptoClient {
  return new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey }), retry: false, ...extra });
}

function restore(key: string, edit: (h: Record<string, string>) => void, body?: Buffer): void {
  const stored = env.oss.getObject(BUCKET, key)!;
  const headers: Record<string, string> = {};
  for (const [n, v] of Object.entries(stored.headers)) if (n.startsWith('x-oss-meta-')) headers[n] = v;
  edit(headers);
  env.oss.putObjectRaw(BUCKET, key, body ?? stored.body!, headers);
}

const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');

const s = suite('verify policy and recorded MD5 over HTTP');
useStandIns(s, env, { tmpPrefix: 'oss-crypto-verify-' });

s('an unparsable recorded MD5 is META_MALFORMED on every reader, not a silently skipped check', async () => {
  const data = Buffer.from(pseudoRandomBytes(5000, 1));
  const c = client();
  await c.put('m/obj', data, { contentMd5: true });
  for (const bad of ['not-an-md5', 'abc', 'XrY7u+Ae7tCTyyK7j1rN', 'g'.repeat(32)]) {
    restore('m/obj', (h) => (h[MD5_HEADER] = bad));
    await rejects(c.get('m/obj'), MetadataError, 'META_MALFORMED', /unencrypted-content-md5 is neither 32 hex digits nor 24 base64/);
    await rejects(c.getStream('m/obj'), MetadataError, 'META_MALFORMED');
    await rejects(c.resumableDownload('m/obj', join(env.dir, 'm.bin')), MetadataError, 'META_MALFORMED');
  }
  // Hex (what oss2 callers often store) and base64 both still check and pass.
  restore('m/obj', (h) => (h[MD5_HEADER] = md5hex(data)));
  assert.equal((await c.get('m/obj')).content, data);
  restore('m/obj', (h) => (h[MD5_HEADER] = md5b64(data)));
  assert.equal((await c.get('m/obj')).content, data);
});

s("verify: { length: 'require', md5: 'require' } refuses objects without them, before any unwrap", async () => {
  const data = Buffer.from('integrity required');
  await client().put('r/none', Readable.from([data]) as never); // a stream without contentLength: neither recorded
  await client().put('r/length-only', data);
  await client().put('r/both', data, { contentMd5: true });
  const inner = new KeyRing({ default: rsaKeyWrapper({ privateKey }) });
  let unwraps = 0;
  const keyring = { createContentKey: () => inner.createContentKey(), unwrap: (w: never) => (unwraps++, inner.unwrap(w)) };
  const strict = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: false, verify: { length: 'require', md5: 'require' } });
  await rejects(strict.get('r/none'), MetadataError, 'META_MISSING', /no plaintext length/);
  await rejects(strict.get('r/length-only'), MetadataError, 'META_MISSING', /no unencrypted-content-md5/);
  await rejects(strict.resumableDownload('r/length-only', join(env.dir, 'r.bin')), MetadataError, 'META_MISSING');
  assert.is(unwraps, 0);
  assert.equal((await strict.get('r/both')).content, data);
  const lengthOnly = new CryptoClient(env.oss.client(BUCKET) as any, { keyring, retry: false, verify: { length: 'require' } });
  assert.equal((await lengthOnly.get('r/length-only')).content, data);
  // The default reads them all.
  assert.equal((await client().get('r/none')).content, data);
});

s('verify option mistakes are TypeError / RangeError', () => {
  assert.equal(resolveVerifyPolicy(undefined), { length: 'check', md5: 'check' });
  assert.equal(resolveVerifyPolicy({ md5: 'require' }), { length: 'check', md5: 'require' });
  assert.throws(() => resolveVerifyPolicy('require'), TypeError);
  assert.throws(() => resolveVerifyPolicy({ md5: 'yes' }), RangeError);
  assert.throws(() => resolveVerifyPolicy({ crc: 'require' }), RangeError);
  assert.throws(() => client({ verify: { length: 'always' } }), RangeError);
});

s('INTEGRITY_MD5 messages never carry the MD5 of the plaintext that was read or sent', async () => {
  const data = Buffer.from('low-entropy secret: PIN 4821');
  const c = client();
  await c.put('l/obj', data, { contentMd5: true });
  // A flipped body byte: the decrypted plaintext differs, and its digest must not be printed.
  const stored = env.oss.getObject(BUCKET, 'l/obj')!;
  const flipped = Buffer.from(stored.body!);
  flipped[5] ^= 1;
  restore('l/obj', () => undefined, flipped);
  const decrypted = Buffer.from(data);
  decrypted[5] ^= 1;
  const leaks = [md5hex(decrypted), md5b64(decrypted)];
  const errors = [
    await rejects(c.get('l/obj'), IntegrityError, 'INTEGRITY_MD5'),
    await rejects(c.resumableDownload('l/obj', join(env.dir, 'l.bin')), IntegrityError, 'INTEGRITY_MD5'),
    // On upload: the caller's claim is wrong, and the digest of what was sent must not be printed either.
    await rejects(c.put('l/new', data, { contentMd5: md5hex(Buffer.from('other')) }), IntegrityError, 'INTEGRITY_MD5'),
  ];
  for (const err of errors) {
    for (const leak of leaks) assert.not.ok(err.message.includes(leak), `message leaks a computed digest: ${err.message}`);
  }
  // The upload message names the caller's (wrong) claim only.
  assert.match(errors[2].message, new RegExp(md5hex(Buffer.from('other'))));
  assert.not.ok(errors[2].message.includes(md5hex(data)));
});

s.run();
