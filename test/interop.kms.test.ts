/**
 * Interop proof on the KMS fixtures (test/fixtures/interop, written by oss2 2.19.1 / 2.10.0 and the oss2 bundled
 * V1 sample): every KMS vector decrypts byte-exact through decodeEnvelope + KeyRing(kmsKeyWrapper over the real
 * `@alicloud/kms20160120` client, against the loopback stand-in preloaded with kms-table.json) + aesCtr, on the
 * default (WASM) backend and on nativeBackend; every ranges.json case of a KMS vector decrypts at the cipher level;
 * a reader that sends another EncryptionContext fails with KmsError. docs/FORMAT.md §1, §2.2, §3, §4, §5.
 * @module
 */
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtr, aesCtrXor, type CtrBackend } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { KmsError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { kmsBlobFromHeader, kmsKeyWrapper } from '../bindings/keys/kms.js';
import { readKmsTable, startKmsServer, type KmsServer } from './support/kms-server.js';
import { toHex } from './_util.js';
import { ciphertextOf, interopPath, interopRanges, interopVectors, plaintextOf, type InteropVector } from './support/interop.js';

const ranges = interopRanges();
const table = readKmsTable(interopPath('kms-table.json'));
const kmsVectors = interopVectors().filter((v) => v.wrap_alg === 'KMS/ALICLOUD' || v.wrap_alg === 'kms');
const kmsRanges = ranges.filter((r) => kmsVectors.some((v) => v.name === r.vector));

const backends: Array<{ name: string; backend: CtrBackend | undefined }> = [
  { name: 'wasm', backend: wasmBackend() },
  { name: 'native', backend: nativeBackend },
];

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const ctx = { kms: undefined as unknown as KmsServer };

/** A reading keyring with one KMS material (no CMK: reading needs none) and the given passphrase. */
function keyring(passphrase: string | undefined): KeyRing {
  const { accessKeyId, accessKeySecret } = ctx.kms.credentials;
  return new KeyRing({
    default: kmsKeyWrapper({
      region: 'cn-hangzhou', accessKeyId, accessKeySecret, endpoint: ctx.kms.endpoint, protocol: 'http', passphrase,
      retry: { attempts: 1 },
    }),
  });
}

const passphraseOf = (v: InteropVector) => v.keys.kms_passphrase ?? undefined;

const s = suite('interop: KMS vectors written by the official SDKs');

s.before(async () => {
  ctx.kms = await startKmsServer({ table });
});

s.after(async () => {
  await ctx.kms.close();
});

s('the fixture set has the KMS vectors this proof is about', () => {
  assert.equal(kmsVectors.map((v) => v.name).sort(), [
    'ext-v1-kms-1mib-a',
    'v1-kms-put-2049',
    'v1-kms-put-passphrase-6000',
    'v2-kms-multipart-passphrase-204805',
    'v2-kms-put-16',
    'v2-kms-put-70001',
    'v2-kms-put-passphrase-20000',
  ]);
  assert.is(kmsRanges.length, 3);
  assert.ok(kmsVectors.every((v) => sha256(ciphertextOf(v)) === v.ciphertext_sha256));
});

for (const v of kmsVectors) {
  s(`${v.name}: decodeEnvelope + KeyRing(KMS) unwrap with 2 Decrypt calls, then AES-CTR byte-exact on every backend`, async () => {
    const env = decodeEnvelope(v.headers);
    assert.ok(env);
    assert.is(env.format, v.format);
    assert.is(env.wrapped.wrapAlg, v.wrap_alg);
    if (v.format === 'v2') {
      // oss2 writes the double layer; the wrapper (default layout go) finds it without being told.
      assert.is(kmsBlobFromHeader(env.wrapped.wrappedKey).layout, 'oss2');
    }
    ctx.kms.requests.length = 0;
    const content = await keyring(passphraseOf(v)).unwrap(env.wrapped);
    assert.equal(ctx.kms.requests.map((r) => [r.action, r.status]), [['Decrypt', 200], ['Decrypt', 200]]);
    const wire = passphraseOf(v) === undefined ? undefined : `{"x-passphrase":"${passphraseOf(v)}"}`;
    assert.ok(ctx.kms.requests.every((r) => r.encryptionContextWire === wire));
    assert.is(toHex(content.key), v.plain_unwrap.data_key_hex);
    assert.is(toHex(content.iv), v.plain_unwrap.initial_counter_block_hex);

    const ciphertext = ciphertextOf(v);
    const expected = plaintextOf(v);
    assert.is(expected.length, v.plaintext_length);
    for (const { name, backend } of backends) {
      const plain = aesCtrXor(content.key, content.iv, ciphertext, 0, { backend });
      assert.is(plain.length, v.plaintext_length, name);
      assert.is(sha256(plain), v.plaintext_sha256, `${v.name} on ${name}`);
      assert.ok(Buffer.from(plain).equals(Buffer.from(expected)), `${v.name} on ${name}: bytes`);
    }
  });
}

s('multipart vector: each part decrypts alone at its offset (counter IV + (n-1)·part_size/16), on every backend', async () => {
  const v = kmsVectors.find((x) => x.multipart !== undefined)!;
  const mp = v.multipart!;
  assert.equal(mp.part_lengths, [102400, 102400, 5]);
  const content = await keyring(passphraseOf(v)).unwrap(decodeEnvelope(v.headers)!.wrapped);
  const ciphertext = ciphertextOf(v);
  const expected = plaintextOf(v);
  for (const { name, backend } of backends) {
    let offset = 0;
    // Parts in reverse order: each is independent of the others.
    const pieces: Array<[number, Uint8Array]> = [];
    for (const length of mp.part_lengths) {
      pieces.push([offset, ciphertext.subarray(offset, offset + length)]);
      offset += length;
    }
    for (const [at, piece] of pieces.reverse()) {
      const plain = aesCtrXor(content.key, content.iv, piece, at, { backend });
      assert.ok(Buffer.from(plain).equals(Buffer.from(expected.subarray(at, at + piece.length))), `${name} part at ${at}`);
    }
  }
});

for (const r of kmsRanges) {
  s(`range ${r.vector} ${r.range}: decrypt at the start offset, and from the widened block start, on every backend`, async () => {
    const v = kmsVectors.find((x) => x.name === r.vector)!;
    const content = await keyring(passphraseOf(v)).unwrap(decodeEnvelope(v.headers)!.wrapped);
    const ciphertext = ciphertextOf(v);
    assert.is(r.end - r.start + 1, r.expected_length);
    for (const { name, backend } of backends) {
      const direct = aesCtrXor(content.key, content.iv, ciphertext.subarray(r.start, r.end + 1), r.start, { backend });
      assert.is(sha256(direct), r.expected_sha256, `${name} direct`);
      // What a ranged GET does (docs/FORMAT.md §4): ask from the block boundary, decrypt from there, drop the lead.
      const widened = r.start - (r.start % 16);
      const stream = aesCtr(content.key, content.iv, widened, { backend });
      const plain = stream.update(ciphertext.subarray(widened, r.end + 1)).subarray(r.start - widened);
      stream.dispose();
      assert.is(sha256(plain), r.expected_sha256, `${name} widened`);
    }
  });
}

s('a reader with another EncryptionContext fails with KmsError (wrong passphrase, "" vs none, none vs a passphrase)', async () => {
  for (const v of kmsVectors) {
    const wrapped = decodeEnvelope(v.headers)!.wrapped;
    const others = passphraseOf(v) === undefined ? [''] : ['wrong passphrase', undefined, ''];
    for (const other of others) {
      const err = await keyring(other).unwrap(wrapped).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.instance(err, KmsError, `${v.name} read with ${JSON.stringify(other)}`);
      assert.is((err as KmsError).kmsCode, 'InvalidParameter');
      assert.is((err as KmsError).status, 400);
      assert.match((err as KmsError).requestId ?? '', /^[0-9A-F-]{36}$/);
    }
  }
});

s.run();
