/**
 * RSA-2048 content-key wrapping and unwrapping through RsaKeyWrapper on each RSA engine, beside node:crypto and
 * node-forge used directly (docs/FORMAT.md §2.1). `npm run bench:rsa`.
 *
 * One operation = one content key = two RSA operations (the 32-byte key and the 16-byte IV are wrapped
 * separately), for every contender. Engines: `wasm` (wasmRsaEngine: the constant-time WebAssembly core),
 * `portable` (the default: the WebAssembly core for private operations, Web Crypto OAEP, BigInt PKCS#1 v1.5
 * public operation), `forge` (node-forge only) and `node` (node:crypto: raw RSA plus our own PKCS#1 v1.5
 * unpadding, OAEP and public encryption through OpenSSL). `--ct` runs rsa-ct.bench.ts instead; after this
 * RSA-2048 table, rsa-engines.bench.ts times every engine at 2048, 3072 and 4096 bits (`--json FILE`).
 *
 * Baselines per operation: node:crypto called directly, and node-forge (called directly, or through the
 * wrapper where that is what the default engine does). Node 20 refuses PKCS#1 v1.5 private decryption
 * (CVE-2023-46809), so the node:crypto baseline of `unwrap pkcs1` is the raw private operation alone
 * (`RSA_NO_PADDING`, no unpadding at all): the lower bound of what any correct decoder can cost.
 * A last group keeps 16 unwraps in flight, which is how a busy service calls it: Web Crypto runs on libuv's
 * thread pool, node:crypto's synchronous calls on the event loop.
 *
 * Before timing, every contender's output is checked by another one (a wrapped key must unwrap to the same
 * bytes), so a fast wrong answer cannot be reported.
 * @module
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import forge from 'node-forge';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { wasmRsaEngine } from '../bindings/keys/rsa-wasm.js';

// `--ct`: the dudect-style timing comparison instead of the throughput tables.
if (process.argv.includes('--ct')) {
  await import('./rsa-ct.bench.js');
  process.exit(0);
}
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';

const keyDir = new URL('../test/fixtures/interop/keys/', import.meta.url);
const privatePem = readFileSync(new URL('rsaprovider-main-rsa2048.private.pem', keyDir), 'utf8');
const publicPem = readFileSync(new URL('rsaprovider-main-rsa2048.public.pem', keyDir), 'utf8');
const nodePrivate = createPrivateKey(privatePem);
const nodePublic = createPublicKey(publicPem);
const forgePrivate = forge.pki.privateKeyFromPem(privatePem);
const forgePublic = forge.pki.publicKeyFromPem(publicPem);

const content: ContentKey = { key: new Uint8Array(32).map((_, i) => i * 7 + 1), iv: new Uint8Array(16).map((_, i) => (i >= 8 && i < 12 ? 0 : i + 3)) };
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;

const ours = {
  pkcs1: rsaKeyWrapper({ privateKey: privatePem, padding: 'pkcs1' }),
  pkcs1Node: rsaKeyWrapper({ privateKey: privatePem, padding: 'pkcs1', engine: nodeRsaEngine }),
  oaepWebCrypto: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep' }),
  oaepForge: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep', webCrypto: false }),
  oaepNode: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep', engine: nodeRsaEngine }),
  pkcs1Wasm: rsaKeyWrapper({ privateKey: privatePem, padding: 'pkcs1', engine: wasmRsaEngine }),
  oaepWasm: rsaKeyWrapper({ privateKey: privatePem, padding: 'oaep', engine: wasmRsaEngine }),
};

const v2 = (wrapAlg: string, key: Uint8Array, iv: Uint8Array): WrappedContentKey => ({
  format: 'v2',
  wrapAlg,
  wrappedKey: Buffer.from(key).toString('base64'),
  wrappedStart: Buffer.from(iv).toString('base64'),
  matdesc: {},
});
const nodeWrap = (padding: number, extra: object = {}): WrappedContentKey =>
  v2(
    padding === constants.RSA_PKCS1_PADDING ? 'RSA/NONE/PKCS1Padding' : 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding',
    publicEncrypt({ key: nodePublic, padding, ...extra }, content.key),
    publicEncrypt({ key: nodePublic, padding, ...extra }, content.iv),
  );
const nodeUnwrapOaep = (w: WrappedContentKey): ContentKey => ({
  key: privateDecrypt({ key: nodePrivate, ...OAEP }, Buffer.from(w.wrappedKey, 'base64')),
  iv: privateDecrypt({ key: nodePrivate, ...OAEP }, Buffer.from(w.wrappedStart, 'base64')),
});
/** The raw private operation only (what Node still allows), with no unpadding: the floor for `unwrap pkcs1`. */
const nodeRawPkcs1Floor = (w: WrappedContentKey): void => {
  privateDecrypt({ key: nodePrivate, padding: constants.RSA_NO_PADDING }, Buffer.from(w.wrappedKey, 'base64'));
  privateDecrypt({ key: nodePrivate, padding: constants.RSA_NO_PADDING }, Buffer.from(w.wrappedStart, 'base64'));
};
const binary = (b: Uint8Array) => Buffer.from(b).toString('binary');
const forgeWrapPkcs1 = (): WrappedContentKey =>
  v2(
    'RSA/NONE/PKCS1Padding',
    Buffer.from(forgePublic.encrypt(binary(content.key), 'RSAES-PKCS1-V1_5'), 'binary'),
    Buffer.from(forgePublic.encrypt(binary(content.iv), 'RSAES-PKCS1-V1_5'), 'binary'),
  );
const forgeUnwrapPkcs1 = (w: WrappedContentKey): ContentKey => ({
  key: Buffer.from(forgePrivate.decrypt(Buffer.from(w.wrappedKey, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary'),
  iv: Buffer.from(forgePrivate.decrypt(Buffer.from(w.wrappedStart, 'base64').toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary'),
});

// ---- cross-validation -----------------------------------------------------------------------------------------
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const expectContent = (got: ContentKey | null, who: string) => {
  if (got === null || hex(got.key) !== hex(content.key) || hex(got.iv) !== hex(content.iv)) throw new Error(`cross-validation failed: ${who}`);
};
for (const [name, w] of [['portable', ours.pkcs1], ['node', ours.pkcs1Node], ['wasm', ours.pkcs1Wasm]] as const) {
  expectContent(forgeUnwrapPkcs1(await w.wrap(content)), `ours pkcs1 wrap (${name}) → node-forge`);
  expectContent(await w.unwrap(nodeWrap(constants.RSA_PKCS1_PADDING)), `node publicEncrypt pkcs1 → ours (${name})`);
  expectContent(await w.unwrap(forgeWrapPkcs1()), `node-forge pkcs1 → ours (${name})`);
}
for (const [name, w] of [['web crypto', ours.oaepWebCrypto], ['node-forge', ours.oaepForge], ['node', ours.oaepNode], ['wasm', ours.oaepWasm]] as const) {
  expectContent(nodeUnwrapOaep(await w.wrap(content)), `ours oaep (${name}) wrap → node privateDecrypt`);
  expectContent(await w.unwrap(nodeWrap(constants.RSA_PKCS1_OAEP_PADDING, { oaepHash: 'sha1' })), `node OAEP → ours (${name})`);
}

// ---- timing --------------------------------------------------------------------------------------------------
const pkcs1Object = await ours.pkcs1.wrap(content);
const oaepObject = await ours.oaepWebCrypto.wrap(content);
const IN_FLIGHT = 16;
const many = async (f: () => Promise<unknown>) => void (await Promise.all(Array.from({ length: IN_FLIGHT }, f)));

type Role = 'node' | 'forge' | undefined;
const roles = new Map<string, Role>();
const bench = new Bench({ time: 1500, warmupTime: 200 });
const add = (name: string, role: Role, fn: () => unknown) => {
  roles.set(name, role);
  bench.add(name, fn);
};
add('wrap pkcs1 | ours (wasm)', undefined, async () => void (await ours.pkcs1Wasm.wrap(content)));
add('wrap pkcs1 | ours (portable: BigInt public op)', undefined, async () => void (await ours.pkcs1.wrap(content)));
add('wrap pkcs1 | ours (node engine)', undefined, async () => void (await ours.pkcs1Node.wrap(content)));
add('wrap pkcs1 | node:crypto publicEncrypt', 'node', () => void nodeWrap(constants.RSA_PKCS1_PADDING));
add('wrap pkcs1 | node-forge encrypt', 'forge', () => void forgeWrapPkcs1());
add('wrap oaep | ours (wasm)', undefined, async () => void (await ours.oaepWasm.wrap(content)));
add('wrap oaep | ours (portable: web crypto)', undefined, async () => void (await ours.oaepWebCrypto.wrap(content)));
add('wrap oaep | ours (node engine)', undefined, async () => void (await ours.oaepNode.wrap(content)));
add('wrap oaep | ours (forge engine)', 'forge', async () => void (await ours.oaepForge.wrap(content)));
add('wrap oaep | node:crypto publicEncrypt', 'node', () => void nodeWrap(constants.RSA_PKCS1_OAEP_PADDING, { oaepHash: 'sha1' }));
add('unwrap pkcs1 | ours (wasm)', undefined, async () => void (await ours.pkcs1Wasm.unwrap(pkcs1Object)));
add('unwrap pkcs1 | ours (portable: wasm RAW)', undefined, async () => void (await ours.pkcs1.unwrap(pkcs1Object)));
add('unwrap pkcs1 | ours (node engine)', undefined, async () => void (await ours.pkcs1Node.unwrap(pkcs1Object)));
add('unwrap pkcs1 | node-forge decrypt', 'forge', () => void forgeUnwrapPkcs1(pkcs1Object));
add('unwrap pkcs1 | node:crypto RSA_NO_PADDING (raw op only)', 'node', () => nodeRawPkcs1Floor(pkcs1Object));
add('unwrap oaep | ours (wasm)', undefined, async () => void (await ours.oaepWasm.unwrap(oaepObject)));
add('unwrap oaep | ours (portable: web crypto)', undefined, async () => void (await ours.oaepWebCrypto.unwrap(oaepObject)));
add('unwrap oaep | ours (node engine)', undefined, async () => void (await ours.oaepNode.unwrap(oaepObject)));
add('unwrap oaep | ours (forge engine)', 'forge', async () => void (await ours.oaepForge.unwrap(oaepObject)));
add('unwrap oaep | node:crypto privateDecrypt', 'node', () => void nodeUnwrapOaep(oaepObject));
add(`unwrap oaep ×${IN_FLIGHT} in flight | ours (portable: web crypto)`, undefined, () => many(() => ours.oaepWebCrypto.unwrap(oaepObject)));
add(`unwrap oaep ×${IN_FLIGHT} in flight | ours (node engine)`, undefined, () => many(() => ours.oaepNode.unwrap(oaepObject)));
add(`unwrap pkcs1 ×${IN_FLIGHT} in flight | ours (node engine)`, undefined, () => many(() => ours.pkcs1Node.unwrap(pkcs1Object)));
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result as { state: string; throughput?: { mean: number; rme: number }; latency?: { mean: number } };
  if (r.state !== 'completed' || r.throughput === undefined) throw new Error(`${t.name}: ${r.state}`);
  const [op, who] = t.name.split(' | ');
  // The in-flight rows time a batch: report content keys per second.
  const batch = op.includes('in flight') ? IN_FLIGHT : 1;
  return { op, who, role: roles.get(t.name), opsPerSec: r.throughput.mean * batch, rme: r.throughput.rme, ms: r.latency!.mean / batch };
});
const ratio = (r: (typeof rows)[number], role: Role) => {
  const base = rows.find((b) => b.op === r.op && b.role === role);
  if (base === undefined) return '';
  return base === r ? '1.00×' : `${(r.opsPerSec / base.opsPerSec).toFixed(2)}×`;
};
console.log(
  `RSA-2048, one op = one content key (2 RSA operations); Node ${process.version}, ${process.platform}/${process.arch}, ` +
    `${cpus().length}× ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}`,
);
console.table(
  rows.map((r) => ({
    operation: r.op,
    implementation: r.who,
    'ops/s': Math.round(r.opsPerSec),
    '± %': r.rme.toFixed(1),
    'ms/op': r.ms.toFixed(3),
    'vs node:crypto': ratio(r, 'node'),
    'vs node-forge': ratio(r, 'forge'),
  })),
);

// Then every engine at 2048, 3072 and 4096 bits (and `--json FILE`).
await import('./rsa-engines.bench.js');
