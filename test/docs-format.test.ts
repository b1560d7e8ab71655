/**
 * The worked examples of docs/FORMAT.md are right: every key, IV, counter, keystream, ciphertext and checksum the
 * document prints is read out of its text and recomputed here with `node:crypto` (OpenSSL's AES, an oracle
 * independent of our WASM core) and a bit-by-bit CRC-64/XZ, so the document cannot drift from the arithmetic.
 * The key-commitment vectors of §10 are rebuilt from the fields the text prints, by the encoding the text
 * describes, and MACed with node:crypto's HKDF and HMAC.
 *
 * Nothing from bindings/ is imported on purpose: this checks the document, not our implementation (the cipher
 * tests check that against the same kind of vectors).
 * @module
 */
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The document with every run of white space (line breaks included) made one space, so phrases match across lines. */
const DOC = readFileSync(join(ROOT, 'docs/FORMAT.md'), 'utf8').replace(/\s+/g, ' ');

/** The groups of the one place in the document that `pattern` matches (fails when it matches nowhere). */
function find(pattern: RegExp, what: string): string[] {
  const m = pattern.exec(DOC);
  assert.ok(m !== null, `docs/FORMAT.md no longer states ${what} in the form this test reads (${pattern})`);
  return m!.slice(1);
}

const num = (text: string) => Number(text.replace(/,/g, ''));
const hexToBig = (hex: string) => BigInt('0x' + hex);
const bigToHex = (n: bigint) => (n % (1n << 128n)).toString(16).padStart(32, '0');

/** AES-256-CTR with OpenSSL's full 128-bit counter, starting at counter block `counterHex`. */
function ctr(keyHex: string, counterHex: string, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-ctr', Buffer.from(keyHex, 'hex'), Buffer.from(counterHex, 'hex'));
  return Buffer.concat([c.update(data), c.final()]);
}

/** AES-256 of one block. */
function aesBlock(keyHex: string, blockHex: string): string {
  const c = createCipheriv('aes-256-ecb', Buffer.from(keyHex, 'hex'), null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.from(blockHex, 'hex')), c.final()]).toString('hex');
}

/** CRC-64/XZ bit by bit, straight from its definition (reflected ECMA-182, init and xorout all ones). */
function crc64xz(data: Uint8Array): bigint {
  const poly = 0xc96c5795d7870f42n;
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}

/** Deterministic test bytes (not secret, not random: only positions matter here). */
function patterned(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

const [KEY] = find(/\| key \| `([0-9a-f]{64})`/, 'the §1 key');
const [IV] = find(/\| IV \| `([0-9a-f]{32})`/, 'the §1 IV');

const vectors = suite('docs/FORMAT.md: the worked examples are right');

vectors('§1: the key is bytes 0x00..0x1f, and the 64-byte plaintext encrypts to the printed ciphertext', () => {
  assert.is(KEY, Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'));
  const [count, plaintext] = find(/\| plaintext \| the (\d+) ASCII bytes `([^`]+)`/, 'the §1 plaintext');
  const [ciphertext] = find(/\| ciphertext \| `([0-9a-f]+)`/, 'the §1 ciphertext');
  assert.is(plaintext.length, Number(count));
  assert.is(ctr(KEY, IV, Buffer.from(plaintext, 'ascii')).toString('hex'), ciphertext);
});

vectors('§1: the carry check, the wrap check and the unaligned start', () => {
  const [carryIv, carryCounter, carryKeystream] = find(
    /IV `([0-9a-f]{32})`\. Block 1 uses counter `([0-9a-f]{32})`, and its keystream is `([0-9a-f]{32})`/,
    'the carry check',
  );
  assert.is(bigToHex(hexToBig(carryIv) + 1n), carryCounter, 'IV + 1 carries from byte 12 into byte 11');
  assert.is(carryCounter.slice(16, 24), '00000001');
  assert.is(aesBlock(KEY, carryCounter), carryKeystream);
  assert.is(ctr(KEY, carryIv, Buffer.alloc(32)).subarray(16).toString('hex'), carryKeystream, 'OpenSSL agrees');

  const [wrapIv, wrapKeystream] = find(
    /IV `([0-9a-f]{32})`\. Block 1 uses counter zero, and its keystream is AES-256 of sixteen zero bytes: `([0-9a-f]{32})`/,
    'the wrap check',
  );
  assert.is(wrapIv, 'f'.repeat(32));
  assert.is(bigToHex(hexToBig(wrapIv) + 1n), '0'.repeat(32));
  assert.is(aesBlock(KEY, '0'.repeat(32)), wrapKeystream);
  assert.is(ctr(KEY, wrapIv, Buffer.alloc(32)).subarray(16).toString('hex'), wrapKeystream, 'OpenSSL agrees');

  const [byte, block, counter, skip, from, to, text] = find(
    /byte (\d+) of the ciphertext above lies in block (\d+) \(counter `([0-9a-f]{32})`\) after (\d+) keystream bytes; decrypting ciphertext bytes (\d+)\.\.(\d+) from there gives `([^`]+)`/,
    'the unaligned-start example',
  );
  assert.is(Math.floor(num(byte) / 16), num(block));
  assert.is(num(byte) % 16, num(skip));
  assert.is(bigToHex(hexToBig(IV) + BigInt(block)), counter);
  const [ciphertext] = find(/\| ciphertext \| `([0-9a-f]+)`/, 'the §1 ciphertext');
  const tail = Buffer.from(ciphertext, 'hex').subarray(num(from), num(to) + 1);
  const keystream = ctr(KEY, counter, Buffer.alloc(num(skip) + tail.length)).subarray(num(skip));
  assert.is(Buffer.from(tail.map((b, i) => b ^ keystream[i])).toString('ascii'), text);
});

vectors('§2.1: the sizes of RSA-wrapped values and their base64', () => {
  const [bytes2048, chars2048, bytes1024, chars1024] = find(
    /(\d+) bytes \((\d+) base64 characters\) for RSA-2048, (\d+) bytes \((\d+) characters\) for RSA-1024/,
    'the RSA value sizes',
  );
  for (const [bits, bytes, chars] of [[2048, bytes2048, chars2048], [1024, bytes1024, chars1024]] as const) {
    assert.is(num(bytes), bits / 8);
    assert.is(Buffer.alloc(num(bytes)).toString('base64').length, num(chars));
  }
});

vectors('§3: a V1 decimal start is the whole 128-bit counter block', () => {
  const [start, block0, n, blockN] = find(
    /Start `(\d+)` gives block 0 the counter `([0-9a-f]{32})` and block (\d+) the counter `([0-9a-f]{32})`/,
    'the V1 counter example',
  );
  assert.is(bigToHex(BigInt(start)), block0);
  assert.is(bigToHex(BigInt(start) + BigInt(n)), blockN);
});

vectors('§4 and §5: the ranged-read and part counters decrypt and encrypt the right bytes', () => {
  const [size, first, last, block, counter, skip] = find(
    /a ([\d,]+)-byte object\): a read of `bytes=(\d+)-(\d+)` starts at block (\d+) \(counter `([0-9a-f]{32})`\) and skips (\d+) keystream bytes/,
    'the §4 ranged-read example',
  );
  const plain = patterned(num(size));
  const stored = ctr(KEY, IV, plain);
  assert.is(Math.floor(num(first) / 16), num(block));
  assert.is(num(first) % 16, num(skip));
  assert.is(bigToHex(hexToBig(IV) + BigInt(block)), counter);
  const body = stored.subarray(num(first), num(last) + 1);
  const keystream = ctr(KEY, counter, Buffer.alloc(num(skip) + body.length)).subarray(num(skip));
  assert.ok(Buffer.from(body.map((b, i) => b ^ keystream[i])).equals(plain.subarray(num(first), num(last) + 1)));

  const [partSize, blocks, partNo, partStart, partCounter] = find(
    /part size ([\d,]+) bytes = ([\d,]+) blocks\): part (\d+) starts at byte ([\d,]+), counter `([0-9a-f]{32})`/,
    'the §5 part example',
  );
  assert.is(num(partSize) % 16, 0);
  assert.is(num(partSize) / 16, num(blocks));
  assert.is((num(partNo) - 1) * num(partSize), num(partStart));
  assert.is(bigToHex(hexToBig(IV) + BigInt(num(partStart) / 16)), partCounter);
  const part = ctr(KEY, partCounter, plain.subarray(num(partStart)));
  assert.ok(part.equals(stored.subarray(num(partStart))), 'the part alone equals that stretch of the whole object');
});

vectors('§6: the CRC-64/XZ check value, in hex and as OSS sends it (decimal)', () => {
  const [hex, decimal] = find(/`123456789` is `0x([0-9A-F]{16})`, which OSS would send as `(\d+)`/, 'the CRC-64 check value');
  const crc = crc64xz(Buffer.from('123456789', 'ascii'));
  assert.is(crc, BigInt('0x' + hex));
  assert.is(crc.toString(10), decimal);
});

vectors('§10: each key-commitment vector: the MAC input rebuilt from its printed fields, and its header value', () => {
  const [label] = find(/the label `([^`]+)`, the format/, 'the commitment label');
  const [salt, info] = find(/salt = "([^"]+)", info = "([^"]+)", L = 32\)/, 'the HKDF salt and info');
  assert.is(salt, label);
  const pattern =
    /\d+\. \*[^*]+\*: content key `([0-9a-f]{64})`, IV `([0-9a-f]{32})`; V2, cek-alg `([^`]+)`, wrap-alg `([^`]+)`, wrapped key `([^`]+)`, wrapped start `([^`]+)`, matdesc `([^`]+)`((?:, [a-zA-Z0-9 ]+ `[^`]+`)*); absent fields are absent\. MAC input \((\d+) bytes\): `([0-9a-f]+)` header value: `(v1:[A-Za-z0-9+/=]+)`/g;
  const found = [...DOC.matchAll(pattern)];
  assert.ok(found.length >= 3, `expected the three §10 vectors, read ${found.length}`);
  for (const [, key, iv, cekAlg, wrapAlg, wrappedKey, wrappedStart, matdesc, rest, size, inputHex, value] of found) {
    const optional = new Map([...rest.matchAll(/, ([a-zA-Z0-9 ]+) `([^`]+)`/g)].map((m) => [m[1], m[2]]));
    const parsed = JSON.parse(matdesc) as Record<string, string>;
    const canonical = JSON.stringify(Object.fromEntries(Object.keys(parsed).sort().map((k) => [k, parsed[k]])));
    const fields = [label, 'v2', cekAlg, wrapAlg, wrappedKey, wrappedStart, canonical].concat(
      ['unencrypted length', 'unencrypted MD5', 'data size', 'part size'].map((name) => optional.get(name) ?? ''),
    );
    const present = (i: number) => i < 7 || optional.has(['unencrypted length', 'unencrypted MD5', 'data size', 'part size'][i - 7]);
    const encoded = Buffer.concat(
      fields.map((field, i) => {
        if (!present(i)) return Buffer.from([0]);
        const bytes = Buffer.from(field, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32BE(bytes.length);
        return Buffer.concat([Buffer.from([1]), length, bytes]);
      }),
    );
    assert.is(encoded.toString('hex'), inputHex, `the MAC input of the vector with key ${key.slice(0, 8)}…`);
    assert.is(encoded.length, num(size));
    const macKey = Buffer.from(hkdfSync('sha256', Buffer.from(key + iv, 'hex'), Buffer.from(salt), Buffer.from(info), 32));
    assert.is(`v1:${createHmac('sha256', macKey).update(encoded).digest('base64')}`, value);
  }
});

vectors.run();
