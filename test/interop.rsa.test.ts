/**
 * Interop proof for RSA-wrapped objects (docs/FORMAT.md §1–§4), at the codec/keyring/cipher level (no client):
 *
 * - Reading: every RSA vector of test/fixtures/interop/manifest.json (written by oss2 2.19.1 RsaProvider and
 *   LocalRsaProvider, oss2 2.10.0 V1, the C++ SDK 1.10.1, and the Go/C++/V1 samples oss2 ships) decrypts
 *   byte-exact through decodeEnvelope → KeyRing → aesCtr, on the WASM core and on node:crypto; the unwrapped key
 *   and IV equal the manifest's `plain_unwrap` (compared in the test, never printed) on every RSA engine (portable
 *   node-forge/Web Crypto, node:crypto and the WebAssembly core); matdesc vectors are read
 *   through a KeyRing whose default is another key; every ranges.json case of those vectors gives the expected
 *   bytes by widening the start to a block boundary.
 * - Writing: what KeyRing + encodeEnvelope + aesCtr write has exactly the V2 headers, and independent code
 *   (node-forge for PKCS#1 v1.5, node:crypto for OAEP and for AES-256-CTR) decrypts it.
 * @module
 */
import { constants, createDecipheriv, createHash, privateDecrypt } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import forge from 'node-forge';
import { aesCtr, aesCtrXor, type AesCtrOptions } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { decodeEnvelope, encodeEnvelope } from '../bindings/envelope/codec.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { portableRsaEngine, rsaKeyWrapper, type RsaEngine, type RsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { wasmRsaEngine } from '../bindings/keys/rsa-wasm.js';
import type { ContentKey } from '../bindings/keys/types.js';
import { pseudoRandomBytes, toHex } from './_util.js';
import { ciphertextOf, fixtureKey, interopRanges, interopVectors, plaintextOf, type InteropVector } from './support/interop.js';

const ranges = interopRanges();
const rsaVectors = interopVectors().filter((v) => v.keys.rsa_private_pem_file !== undefined);

const BACKENDS: Array<{ name: string; options: AesCtrOptions }> = [
  { name: 'wasm (default)', options: {} },
  { name: 'native', options: { backend: nativeBackend } },
];

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const pem = fixtureKey;
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

const RSA_ENGINES: RsaEngine[] = [portableRsaEngine, nodeRsaEngine, wasmRsaEngine];

// One wrapper per key file and engine: parsing (and the Web Crypto import) happens once, as in a long-lived client.
const wrappers = new Map<string, RsaKeyWrapper>();
function reader(file: string, matdesc = {}, engine = portableRsaEngine): RsaKeyWrapper {
  const id = file + JSON.stringify(matdesc) + engine.name;
  let w = wrappers.get(id);
  if (w === undefined) wrappers.set(id, (w = rsaKeyWrapper({ privateKey: pem(file), matdesc, engine })));
  return w;
}
const MAIN = 'keys/rsaprovider-main-rsa2048.private.pem';
const MATDESC_KEY = 'keys/rsaprovider-matdesc-rsa3072.private.pem';
// The matdescs as a user would configure them: other key order and spacing than what the writers stored.
const oss2Material = (e: RsaEngine) => reader(MATDESC_KEY, { owner: 'Köln', desc: 'golden fixture' }, e);
const cppMaterial = (e: RsaEngine) => reader(MATDESC_KEY, { purpose: 'interop', owner: 'cpp-fixture' }, e);
// Same "owner" but not an equal map, and a wrong key: a keyring that tried keys blindly would fail on it.
const decoy = (e: RsaEngine) => reader(MAIN, { owner: 'Köln' }, e);

function keyringFor(v: InteropVector, e: RsaEngine): KeyRing {
  const hasMatdesc = v.headers['x-oss-meta-client-side-encryption-matdesc'] !== undefined;
  return new KeyRing({
    default: hasMatdesc ? reader(MAIN, {}, e) : reader(v.keys.rsa_private_pem_file!, {}, e),
    materials: [decoy(e), oss2Material(e), cppMaterial(e)],
  });
}

// Unwrapped once per vector and reused for the whole object and every range, as the client does.
const contentKeys = new Map<string, ContentKey>();
async function contentKeyOf(v: InteropVector, e = portableRsaEngine): Promise<ContentKey> {
  let ck = contentKeys.get(v.name + e.name);
  if (ck === undefined) {
    const env = decodeEnvelope(v.headers);
    assert.ok(env, `${v.name}: no envelope`);
    contentKeys.set(v.name + e.name, (ck = await keyringFor(v, e).unwrap(env!.wrapped)));
  }
  return ck;
}

/** Standard HTTP byte-range semantics (RFC 9110 §14.1.2), clamped to the object. */
function resolveRange(range: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range);
  if (m === null) throw new Error(`unexpected range ${range}`);
  if (m[1] === '') return { start: Math.max(0, size - Number(m[2])), end: size - 1 };
  return { start: Number(m[1]), end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

// ---------------------------------------------------------------------------------------------------------------
const read = suite('interop: RSA objects written by the official SDKs');

read('the fixture set has the RSA vectors this suite is about', () => {
  const names = rsaVectors.map((v) => v.name);
  assert.is(rsaVectors.length, 23);
  for (const expected of [
    'v2-rsa-pkcs1-put-0',
    'v2-rsa-oaep-put-65537',
    'v1-rsa-oaep-put-300001',
    'cpp-rsa-pkcs1-multipart-205799',
    'ext-go-rsa-pkcs1-example-jpg',
    'ext-cpp-rsa-pkcs1-example-jpg',
    'ext-v1-rsa-oaep-1mib-a',
    'v2-rsa-pkcs1-put-matdesc-4097',
    'cpp-rsa-pkcs1-put-matdesc-2048',
  ]) {
    assert.ok(names.includes(expected), expected);
  }
});

for (const v of rsaVectors) {
  read(`${v.name} (${v.format} ${v.wrap_alg}, ${v.plaintext_length} bytes)`, async () => {
    const env = decodeEnvelope(v.headers)!;
    assert.is(env.format, v.format);
    assert.is(env.wrapped.wrapAlg, v.wrap_alg);
    // Known answers, compared without printing them, on every RSA engine.
    for (const e of RSA_ENGINES) {
      const ck = await contentKeyOf(v, e);
      assert.ok(toHex(ck.key) === v.plain_unwrap.data_key_hex, `${e.name}: unwrapped data key differs from plain_unwrap`);
      assert.ok(toHex(ck.iv) === v.plain_unwrap.initial_counter_block_hex, `${e.name}: unwrapped IV / counter block differs from plain_unwrap`);
    }
    const { key, iv } = await contentKeyOf(v);

    const ciphertext = ciphertextOf(v);
    assert.is(sha256(ciphertext), v.ciphertext_sha256);
    const expected = plaintextOf(v);
    assert.is(sha256(expected), v.plaintext_sha256);
    if (env.unencryptedContentLength !== undefined) assert.is(env.unencryptedContentLength, v.plaintext_length);
    if (env.unencryptedContentMd5 !== undefined) {
      assert.is(env.unencryptedContentMd5, createHash('md5').update(expected).digest('base64'));
    }
    for (const b of BACKENDS) {
      const plain = aesCtrXor(key, iv, ciphertext, 0, b.options);
      assert.is(plain.length, v.plaintext_length, b.name);
      assert.ok(same(plain, expected), `${b.name}: plaintext differs`);
      assert.is(sha256(plain), v.plaintext_sha256, b.name);
    }
    // Multipart objects are one CTR stream: part n decrypts on its own from offset (n-1)*part_size.
    if (v.multipart !== undefined) {
      assert.is(env.partSize, v.multipart.part_size);
      assert.is(env.dataSize, v.multipart.data_size);
      for (const b of BACKENDS) {
        let offset = 0;
        for (const length of v.multipart.part_lengths) {
          const part = aesCtr(key, iv, offset, b.options).update(ciphertext.subarray(offset, offset + length));
          assert.ok(same(part, expected.subarray(offset, offset + length)), `${b.name}: part at ${offset} differs`);
          offset += length;
        }
        assert.is(offset, v.plaintext_length);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
const rng = suite('interop: ranged reads of the RSA vectors (widen to a block, decrypt, drop the extra bytes)');

const rsaNames = new Set(rsaVectors.map((v) => v.name));
const rsaRanges = ranges.filter((c) => rsaNames.has(c.vector));

rng('covers suffix, open-ended, one-byte, clamped and part-crossing ranges', () => {
  assert.ok(rsaRanges.length >= 20, `only ${rsaRanges.length} RSA range cases`);
  assert.ok(rsaRanges.some((c) => /^bytes=-\d+$/.test(c.range)));
  assert.ok(rsaRanges.some((c) => /^bytes=\d+-$/.test(c.range)));
  assert.ok(rsaRanges.some((c) => c.vector.startsWith('v1-')));
  assert.ok(rsaRanges.some((c) => c.vector.includes('multipart')));
});

for (const c of rsaRanges) {
  rng(`${c.vector} ${c.range}`, async () => {
    const v = rsaVectors.find((x) => x.name === c.vector)!;
    const ciphertext = ciphertextOf(v);
    const { start, end } = resolveRange(c.range, ciphertext.length);
    assert.equal({ start, end }, { start: c.start, end: c.end });
    const { key, iv } = await contentKeyOf(v);
    const widened = start - (start % 16);
    const fetched = ciphertext.subarray(widened, end + 1); // what OSS would return for bytes=widened-end
    for (const b of BACKENDS) {
      const plain = aesCtr(key, iv, widened, b.options).update(fetched).subarray(start - widened);
      assert.is(plain.length, c.expected_length, b.name);
      assert.is(sha256(plain), c.expected_sha256, b.name);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
const write = suite('interop: objects we write (RSA), decrypted by independent code');

const WRITE_CASES = [
  { name: 'PKCS#1 v1.5, RSA-2048 (oss2 RsaProvider / Go / Java / C++ key pair)', key: 'rsaprovider-main-rsa2048', padding: 'pkcs1' as const, matdesc: {} },
  { name: 'OAEP, RSA-2048 (oss2 LocalRsaProvider key pair)', key: 'localrsaprovider-oss2-2.19.1', padding: 'oaep' as const, matdesc: {} },
  { name: 'PKCS#1 v1.5, RSA-3072 with matdesc', key: 'rsaprovider-matdesc-rsa3072', padding: 'pkcs1' as const, matdesc: { purpose: 'interop', owner: 'Köln' } },
];
// oss2's RSA-1024 test key is read-only here (issue 12 §3): test/rsa-public-check.test.ts proves that writing with it is refused.

for (const wc of WRITE_CASES) {
  write(wc.name, async () => {
    const publicPem = pem(`keys/${wc.key}.public.pem`);
    const privatePem = pem(`keys/${wc.key}.private.pem`);
    // The writer holds only the public key, as a producer service would.
    const ring = new KeyRing({ default: rsaKeyWrapper({ publicKey: publicPem, padding: wc.padding, matdesc: wc.matdesc }) });
    const { content, wrapped } = await ring.createContentKey();
    const plaintext = pseudoRandomBytes(100_003, wc.key.length);
    const bodies = BACKENDS.map((b) => aesCtrXor(content.key, content.iv, plaintext, 0, b.options));
    assert.ok(same(bodies[0], bodies[1]), 'the WASM core and node:crypto encrypt differently');
    const headers = encodeEnvelope({ format: 'v2', cekAlg: 'AES/CTR/NoPadding', wrapped, unencryptedContentLength: plaintext.length });

    // Exactly the V2 names and algorithm strings of docs/FORMAT.md §2.
    const p = 'x-oss-meta-client-side-encryption-';
    const expectedNames = [p + 'key', p + 'start', p + 'cek-alg', p + 'wrap-alg', p + 'unencrypted-content-length'];
    if (Object.keys(wc.matdesc).length > 0) expectedNames.push(p + 'matdesc');
    assert.equal(Object.keys(headers).sort(), expectedNames.sort());
    assert.is(headers[p + 'cek-alg'], 'AES/CTR/NoPadding');
    assert.is(headers[p + 'wrap-alg'], wc.padding === 'pkcs1' ? 'RSA/NONE/PKCS1Padding' : 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding');
    assert.is(headers[p + 'unencrypted-content-length'], '100003');
    // Non-ASCII as JSON \u escapes, as oss2 stored the golden matdesc vector ("K\u00f6ln"): a header must be ASCII.
    if (Object.keys(wc.matdesc).length > 0) assert.is(headers[p + 'matdesc'], '{"owner":"K\\u00f6ln","purpose":"interop"}');

    // Independent unwrapping: node-forge for PKCS#1 v1.5 (Node refuses it), node:crypto for OAEP-SHA1.
    const modulusBytes = forge.pki.privateKeyFromPem(privatePem).n.bitLength() / 8;
    const unwrap = (value: string): Buffer => {
      assert.match(value, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
      const bytes = Buffer.from(value, 'base64');
      assert.is(bytes.length, modulusBytes);
      if (wc.padding === 'pkcs1') {
        return Buffer.from(forge.pki.privateKeyFromPem(privatePem).decrypt(bytes.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
      }
      return privateDecrypt({ key: privatePem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, bytes);
    };
    const key = unwrap(headers[p + 'key']);
    const iv = unwrap(headers[p + 'start']);
    assert.is(key.length, 32);
    assert.is(iv.length, 16);
    assert.equal([...iv.subarray(8, 12)], [0, 0, 0, 0]);
    assert.ok(same(key, content.key) && same(iv, content.iv), 'independent unwrap differs from the content key');
    const decipher = createDecipheriv('aes-256-ctr', key, iv);
    const independent = Buffer.concat([decipher.update(bodies[0]), decipher.final()]);
    assert.ok(same(independent, plaintext), 'node:crypto aes-256-ctr does not decrypt our body');

    // And our own reader, holding only the private key, reads it back on every RSA engine.
    for (const engine of RSA_ENGINES) {
      const own = (matdesc = {}) => rsaKeyWrapper({ privateKey: privatePem, matdesc, engine });
      const readerRing = new KeyRing({ default: own(), materials: [own(wc.matdesc)] });
      const back = await readerRing.unwrap(decodeEnvelope(headers)!.wrapped);
      assert.ok(same(aesCtrXor(back.key, back.iv, bodies[1]), plaintext), engine.name);
    }
  });
}

read.run();
rng.run();
write.run();
