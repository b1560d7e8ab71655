/**
 * Tests of bindings/keys/keyring.ts and bindings/keys/random.ts (docs/FORMAT.md §1, §2.3).
 *
 * Selection is observed through spy wrappers that record every unwrap call, so "never try keys blindly" is
 * checked directly; one real RSA pair (node:crypto-generated) checks the whole create → unwrap path.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { KeyUnwrapError, KeyWrapError, OssCryptoError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { generateContentKey, randomBytes } from '../bindings/keys/random.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from '../bindings/keys/types.js';
import { pseudoRandomBytes, rejects, toHex } from './_util.js';

/** A fake material: "unwraps" only objects of its own wrapAlg, returning a fixed content key, and logs calls. */
class Spy implements KeyWrapper {
  readonly calls: WrappedContentKey[] = [];
  readonly canUnwrap = true;
  constructor(
    readonly name: string,
    readonly matdesc: Matdesc,
    readonly wrapAlg = 'RSA/NONE/PKCS1Padding',
    readonly result: ContentKey | (() => never) = spyContent(name),
    readonly canWrap = true,
  ) {}
  async wrap(content: ContentKey): Promise<WrappedContentKey> {
    return { format: 'v2', wrapAlg: this.wrapAlg, wrappedKey: toB64(content.key), wrappedStart: toB64(content.iv), matdesc: this.matdesc };
  }
  async unwrap(wrapped: WrappedContentKey): Promise<ContentKey | null> {
    this.calls.push(wrapped);
    if (wrapped.wrapAlg !== this.wrapAlg) return null;
    return typeof this.result === 'function' ? this.result() : this.result;
  }
}

function spyContent(name: string): ContentKey {
  let seed = 7;
  for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  return { key: pseudoRandomBytes(32, seed), iv: pseudoRandomBytes(16, seed + 1) };
}
const toB64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function object(matdesc: Matdesc, wrapAlg = 'RSA/NONE/PKCS1Padding'): WrappedContentKey {
  return { format: 'v2', wrapAlg, wrappedKey: 'AAAA', wrappedStart: 'AAAA', matdesc };
}


// ---------------------------------------------------------------------------------------------------------------
const random = suite('random content keys');

random('generateContentKey: 32-byte key, 16-byte IV with bytes 8..11 zero, fresh every time', () => {
  const seen = new Set<string>();
  let nonZeroElsewhere = 0;
  for (let i = 0; i < 200; i++) {
    const { key, iv } = generateContentKey();
    assert.is(key.length, 32);
    assert.is(iv.length, 16);
    assert.equal([...iv.subarray(8, 12)], [0, 0, 0, 0]);
    if (iv.subarray(0, 8).some((b) => b !== 0) && iv.subarray(12).some((b) => b !== 0)) nonZeroElsewhere++;
    seen.add(toHex(key));
    seen.add(toHex(iv));
  }
  assert.is(seen.size, 400, 'keys and IVs repeat');
  assert.ok(nonZeroElsewhere > 190, 'the IV bytes outside 8..11 are not random');
});

random('randomBytes fills more than one getRandomValues chunk and checks its argument', () => {
  const big = randomBytes(200_000);
  assert.is(big.length, 200_000);
  // Each 64 KiB chunk was filled: no all-zero 1 KiB window anywhere.
  for (let i = 0; i < big.length; i += 1024) assert.ok(big.subarray(i, i + 1024).some((b) => b !== 0), `zeros at ${i}`);
  assert.throws(() => randomBytes(-1), (e: Error) => e instanceof RangeError && /"length".*-1/.test(e.message));
});

// ---------------------------------------------------------------------------------------------------------------
const create = suite('KeyRing.createContentKey');

create('wraps a fresh key with the default material; the keyring reads it back (real RSA)', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const material = rsaKeyWrapper({ privateKey: pem, matdesc: { key: 'current' } });
  const ring = new KeyRing({ default: material });
  assert.is(ring.defaultMaterial, material);
  const { content, wrapped } = await ring.createContentKey();
  assert.equal([...content.iv.subarray(8, 12)], [0, 0, 0, 0]);
  assert.is(wrapped.format, 'v2');
  assert.is(wrapped.wrapAlg, 'RSA/NONE/PKCS1Padding');
  assert.equal(wrapped.matdesc, { key: 'current' });
  assert.equal(await ring.unwrap(wrapped), content);
  const second = await ring.createContentKey();
  assert.is.not(toHex(second.content.key), toHex(content.key));
});

create('KEY_INVALID without a default material, or when it cannot wrap', async () => {
  await rejects(new KeyRing({ materials: [new Spy('a', {})] }).createContentKey(), KeyWrapError, 'KEY_INVALID', /no "default" material/);
  const cannot = new Spy('b', { k: 'v' }, 'KMS/ALICLOUD', spyContent('b'), false);
  await rejects(new KeyRing({ default: cannot }).createContentKey(), KeyWrapError, 'KEY_INVALID', /KMS\/ALICLOUD, matdesc \{"k":"v"\}\) cannot wrap/);
});

// ---------------------------------------------------------------------------------------------------------------
const select = suite('KeyRing.unwrap selection');

select('matdesc picks the material whose parsed map is equal, whatever the stored spelling; others untouched', async () => {
  const def = new Spy('default', { key: 'new' });
  const old = new Spy('old', { owner: 'Köln', desc: 'golden fixture' });
  const third = new Spy('third', { owner: 'Köln' });
  const ring = new KeyRing({ default: def, materials: [third, old] });
  const stored = decodeEnvelope({
    'x-oss-meta-client-side-encryption-key': 'AAAA',
    'x-oss-meta-client-side-encryption-start': 'AAAA',
    'x-oss-meta-client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
    'x-oss-meta-client-side-encryption-wrap-alg': 'RSA/NONE/PKCS1Padding',
    'x-oss-meta-client-side-encryption-matdesc': '{"desc": "golden fixture", "owner": "K\\u00f6ln"}',
  })!.wrapped;
  assert.equal(await ring.unwrap(stored), spyContent('old'));
  assert.is(old.calls.length, 1);
  assert.is(def.calls.length, 0);
  assert.is(third.calls.length, 0);
  // The default is selected by matdesc too.
  assert.equal(await ring.unwrap(object({ key: 'new' })), spyContent('default'));
});

select('an object without matdesc uses the default material, whatever the default material\'s own matdesc', async () => {
  const def = new Spy('default', { key: 'new' });
  const plain = new Spy('plain', {});
  const ring = new KeyRing({ default: def, materials: [plain] });
  assert.equal(await ring.unwrap(object({})), spyContent('default'));
  assert.is(plain.calls.length, 0);
  // Without a default, a material with an empty matdesc is the match.
  assert.equal(await new KeyRing({ materials: [new Spy('x', { a: 'b' }), plain] }).unwrap(object({})), spyContent('plain'));
});

select('an object without matdesc that the default calls "not mine" goes to a material configured with matdesc {}', async () => {
  // E.g. old oss2 KMS objects (no matdesc) read by a client whose default is now RSA, with the KMS key configured
  // for exactly that empty matdesc (the CLI's --material '{}=kms:KEYID').
  const rsa = new Spy('rsa', { key: 'new' });
  const kms = new Spy('kms', {}, 'KMS/ALICLOUD');
  const other = new Spy('other', { key: 'x' }, 'KMS/ALICLOUD');
  const ring = new KeyRing({ default: rsa, materials: [other, kms] });
  assert.equal(await ring.unwrap(object({}, 'KMS/ALICLOUD')), spyContent('kms'));
  assert.is(rsa.calls.length, 1, 'the default is asked first');
  assert.is(other.calls.length, 0, 'a material of another matdesc is never tried');
  // The default still wins when it is the object's kind; the {} material is then not asked.
  assert.equal(await ring.unwrap(object({})), spyContent('rsa'));
  assert.is(kms.calls.length, 1);
  // Without a {} material of the object's kind: still KEY_NO_MATCH, naming both matching materials.
  await rejects(
    new KeyRing({ default: rsa, materials: [new Spy('oaep', {}, 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding')] }).unwrap(object({}, 'KMS/ALICLOUD')),
    KeyUnwrapError,
    'KEY_NO_MATCH',
    /matching materials are RSA\/NONE\/PKCS1Padding, RSA\/NONE\/OAEPWithSHA-1AndMGF1Padding/,
  );
});

select('no match: KEY_NO_MATCH naming the object matdesc and every configured one; no key is tried', async () => {
  const def = new Spy('default', { key: 'new' });
  const old = new Spy('old', { key: 'old' });
  const ring = new KeyRing({ default: def, materials: [old] });
  const err = await rejects(ring.unwrap(object({ key: 'older', team: 'x' })), KeyUnwrapError, 'KEY_NO_MATCH');
  assert.match(err.message, /its matdesc is \{"key":"older","team":"x"\}/);
  assert.match(err.message, /configured: default \{"key":"new"\} \(RSA\/NONE\/PKCS1Padding\), \{"key":"old"\}/);
  assert.is(def.calls.length + old.calls.length, 0);
  // No default and an object without matdesc: no match either.
  await rejects(new KeyRing({ materials: [old] }).unwrap(object({})), KeyUnwrapError, 'KEY_NO_MATCH', /its matdesc is \{\}/);
});

select('the async resolver is asked only when nothing configured matches, with the matdesc and the object', async () => {
  const def = new Spy('default', {});
  const fromVault = new Spy('vault', { owner: 'ops' });
  const asked: Array<[Matdesc, WrappedContentKey]> = [];
  const ring = new KeyRing({
    default: def,
    resolve: async (matdesc, wrapped) => {
      asked.push([matdesc, wrapped]);
      await new Promise((r) => setTimeout(r, 1));
      return matdesc.owner === 'ops' ? fromVault : undefined;
    },
  });
  const target = object({ owner: 'ops' });
  assert.equal(await ring.unwrap(target), spyContent('vault'));
  assert.equal(asked, [[{ owner: 'ops' }, target]]);
  assert.equal(await ring.unwrap(object({})), spyContent('default'));
  assert.is(asked.length, 1, 'resolver asked although the default matched');
  await rejects(ring.unwrap(object({ owner: 'dev' })), KeyUnwrapError, 'KEY_NO_MATCH', /\{"owner":"dev"\}.*the resolver returned none/);
  // A resolver-only keyring works too.
  assert.equal(await new KeyRing({ resolve: () => fromVault }).unwrap(object({ owner: 'ops' })), spyContent('vault'));
});

select('a matching material of another kind ("not mine"): KEY_NO_MATCH saying so', async () => {
  const rsa = new Spy('rsa', { key: 'k1' });
  const ring = new KeyRing({ default: rsa });
  await rejects(
    ring.unwrap(object({ key: 'k1' }, 'KMS/ALICLOUD')),
    KeyUnwrapError,
    'KEY_NO_MATCH',
    /selected by matdesc \{"key":"k1"\} cannot read this object: it is wrapped with KMS\/ALICLOUD, but the matching material is RSA\/NONE\/PKCS1Padding/,
  );
  // Two materials may share a matdesc: the one of the object's kind is used.
  const kms = new Spy('kms', { key: 'k1' }, 'KMS/ALICLOUD');
  assert.equal(await new KeyRing({ default: rsa, materials: [kms] }).unwrap(object({ key: 'k1' }, 'KMS/ALICLOUD')), spyContent('kms'));
});

select('a failing material stops the search: its KEY_UNWRAP_FAILED propagates, the next one is not tried', async () => {
  const failing = new Spy('f', { key: 'k' }, 'RSA/NONE/PKCS1Padding', () => {
    throw new KeyUnwrapError('KEY_UNWRAP_FAILED', 'broken');
  });
  const next = new Spy('n', { key: 'k' });
  const ring = new KeyRing({ materials: [failing, next] });
  await rejects(ring.unwrap(object({ key: 'k' })), KeyUnwrapError, 'KEY_UNWRAP_FAILED', /broken/);
  assert.is(next.calls.length, 0);
});

select('the caller owns what unwrap returns: zeroing it (as the client does after each read) never reaches the material', async () => {
  // A material that caches its unwrapped keys (a vault client would) and returns the same arrays every time.
  const cached = spyContent('cached');
  const expected = { key: Uint8Array.from(cached.key), iv: Uint8Array.from(cached.iv) };
  const ring = new KeyRing({ default: new Spy('cache', {}, 'RSA/NONE/PKCS1Padding', cached) });
  for (let read = 0; read < 3; read++) {
    const content = await ring.unwrap(object({}));
    assert.equal(content, expected, `read ${read}`);
    assert.ok(content.key !== cached.key && content.iv !== cached.iv, 'a copy, not the material\'s own arrays');
    content.key.fill(0);
    content.iv.fill(0);
  }
  assert.equal(cached, expected, "the material's cached key is intact");
});

select('unwrapped lengths are validated: KEY_UNWRAP_FAILED for a key that is not 32 bytes or an IV that is not 16', async () => {
  const cases: Array<[ContentKey, RegExp]> = [
    [{ key: new Uint8Array(31), iv: new Uint8Array(16) }, /unwrapped a 31-byte key \(expected 32\)/],
    [{ key: new Uint8Array(33), iv: new Uint8Array(16) }, /33-byte key/],
    [{ key: new Uint8Array(32), iv: new Uint8Array(15) }, /unwrapped a 15-byte IV \(expected 16\)/],
    [{ key: new Uint8Array(32), iv: 'x' as never }, /no IV bytes/],
    [{ key: [1, 2] as never, iv: new Uint8Array(16) }, /no key bytes/],
  ];
  for (const [result, pattern] of cases) {
    const ring = new KeyRing({ default: new Spy('odd', {}, 'RSA/NONE/PKCS1Padding', result) });
    await rejects(ring.unwrap(object({})), KeyUnwrapError, 'KEY_UNWRAP_FAILED', pattern);
  }
});

select('constructor and argument mistakes are TypeErrors naming the option', async () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => new KeyRing({}), /needs a "default" material, "materials" or a "resolve"/],
    [() => new KeyRing({ default: {} as never }), /"default" expected a KeyWrapper/],
    [() => new KeyRing({ materials: [new Spy('a', {}), { wrap() {} } as never] }), /"materials\[1\]" expected a KeyWrapper/],
    [() => new KeyRing({ materials: 'x' as never }), /"materials" expected an array/],
    [() => new KeyRing({ resolve: 5 as never }), /"resolve" expected a function/],
  ];
  for (const [fn, pattern] of cases) assert.throws(fn, (e: Error) => e instanceof TypeError && pattern.test(e.message), pattern.source);
  const ring = new KeyRing({ resolve: () => ({ nope: true }) as never });
  try {
    await ring.unwrap(object({ a: 'b' }));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TypeError);
    assert.match((err as Error).message, /"resolve\(\) result" expected a KeyWrapper/);
  }
});

random.run();
create.run();
select.run();
