/**
 * RSA content-key wrapping and unwrapping at 2048, 3072 and 4096 bits on every implementation, in one run:
 * `wasm` (RsaKeyWrapper on wasmRsaEngine), `portable` (RsaKeyWrapper's default engine: the WebAssembly core
 * for private operations, Web Crypto for OAEP), `node` (RsaKeyWrapper on nodeRsaEngine: node:crypto/OpenSSL)
 * and `forge` (node-forge called directly, as a user of node-forge would). Run by `npm run bench:rsa` after its
 * RSA-2048 detail table; `--json FILE` writes
 * `{"results": {"<bits>": {"<operation>": {"<implementation>": ops_per_s}}}}`.
 *
 * One operation = one content key = two RSA operations (the key and the IV are wrapped separately). Timed by
 * CPU time (bench/_util.ts `cpuNow`), because the machines this runs on are shared; each contender is timed in
 * three interleaved rounds and the median is kept. Before timing, every wrapped value is unwrapped by another
 * implementation, so a fast wrong answer cannot be reported.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import forge from 'node-forge';
import { rsaKeyWrapper, type RsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { wasmRsaEngine } from '../bindings/keys/rsa-wasm.js';
import type { ContentKey, WrappedContentKey } from '../bindings/keys/types.js';
import { flagValue, formatTable, machine, timeOne } from './_util.js';

const SIZES = [2048, 3072, 4096] as const;
const OPERATIONS = ['wrap pkcs1', 'unwrap pkcs1', 'wrap oaep', 'unwrap oaep'] as const;
const IMPLEMENTATIONS = ['wasm', 'portable', 'node', 'forge'] as const;
type Operation = (typeof OPERATIONS)[number];
type Implementation = (typeof IMPLEMENTATIONS)[number];
const ROUNDS = 3;

const keyDir = new URL('../test/fixtures/interop/keys/', import.meta.url);
const pemFor = (bits: number): string => {
  if (bits === 2048) return readFileSync(new URL('rsaprovider-main-rsa2048.private.pem', keyDir), 'utf8');
  if (bits === 3072) return readFileSync(new URL('rsaprovider-matdesc-rsa3072.private.pem', keyDir), 'utf8');
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
};

const content: ContentKey = { key: new Uint8Array(32).map((_, i) => i * 7 + 1), iv: new Uint8Array(16).map((_, i) => i + 3) };
const same = (a: ContentKey | null) => a !== null && Buffer.from(a.key).equals(content.key) && Buffer.from(a.iv).equals(content.iv);
const binary = (b: Uint8Array) => Buffer.from(b).toString('binary');
const b64 = (s: string) => Buffer.from(s, 'base64').toString('binary');
const OAEP_FORGE = () => ({ md: forge.md.sha1.create(), mgf1: { md: forge.md.sha1.create() } });

/** The four contenders of one key size, as functions per operation. */
async function contenders(bits: number): Promise<Record<Operation, Record<Implementation, () => unknown>>> {
  const pem = pemFor(bits);
  const make = (engine: 'wasm' | 'portable' | 'node', padding: 'pkcs1' | 'oaep'): RsaKeyWrapper =>
    rsaKeyWrapper({ privateKey: pem, padding, ...(engine === 'wasm' ? { engine: wasmRsaEngine } : engine === 'node' ? { engine: nodeRsaEngine } : {}) });
  const fk = forge.pki.privateKeyFromPem(pem);
  const fpub = forge.pki.setRsaPublicKey(fk.n, fk.e);
  const forgeWrap = (scheme: 'RSAES-PKCS1-V1_5' | 'RSA-OAEP'): WrappedContentKey => ({
    format: 'v2',
    wrapAlg: scheme === 'RSA-OAEP' ? 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding' : 'RSA/NONE/PKCS1Padding',
    wrappedKey: Buffer.from(fpub.encrypt(binary(content.key), scheme, scheme === 'RSA-OAEP' ? OAEP_FORGE() : undefined), 'binary').toString('base64'),
    wrappedStart: Buffer.from(fpub.encrypt(binary(content.iv), scheme, scheme === 'RSA-OAEP' ? OAEP_FORGE() : undefined), 'binary').toString('base64'),
    matdesc: {},
  });
  const forgeUnwrap = (w: WrappedContentKey, scheme: 'RSAES-PKCS1-V1_5' | 'RSA-OAEP'): ContentKey => ({
    key: Buffer.from(fk.decrypt(b64(w.wrappedKey), scheme, scheme === 'RSA-OAEP' ? OAEP_FORGE() : undefined), 'binary'),
    iv: Buffer.from(fk.decrypt(b64(w.wrappedStart), scheme, scheme === 'RSA-OAEP' ? OAEP_FORGE() : undefined), 'binary'),
  });
  const out = {} as Record<Operation, Record<Implementation, () => unknown>>;
  for (const padding of ['pkcs1', 'oaep'] as const) {
    const scheme = padding === 'oaep' ? 'RSA-OAEP' : 'RSAES-PKCS1-V1_5';
    const ours = { wasm: make('wasm', padding), portable: make('portable', padding), node: make('node', padding) };
    // cross-validation: everything each one wraps, node:crypto and node-forge unwrap, and the other way round
    const object = forgeWrap(scheme);
    for (const [name, w] of Object.entries(ours)) {
      if (!same(await w.unwrap(object))) throw new Error(`cross-validation failed: node-forge ${padding} wrap -> ${name} unwrap (RSA-${bits})`);
      const written = await w.wrap(content);
      if (!same(forgeUnwrap(written, scheme))) throw new Error(`cross-validation failed: ${name} ${padding} wrap -> node-forge unwrap (RSA-${bits})`);
      if (!same(await ours.node.unwrap(written))) throw new Error(`cross-validation failed: ${name} ${padding} wrap -> node unwrap (RSA-${bits})`);
    }
    out[`wrap ${padding}`] = {
      wasm: () => ours.wasm.wrap(content),
      portable: () => ours.portable.wrap(content),
      node: () => ours.node.wrap(content),
      forge: () => forgeWrap(scheme),
    };
    out[`unwrap ${padding}`] = {
      wasm: () => ours.wasm.unwrap(object),
      portable: () => ours.portable.unwrap(object),
      node: () => ours.node.unwrap(object),
      forge: () => forgeUnwrap(object, scheme),
    };
  }
  return out;
}

const results: Record<string, Record<string, Record<string, number>>> = {};
for (const bits of SIZES) {
  const table = await contenders(bits);
  const samples = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const op of OPERATIONS) {
      for (const impl of IMPLEMENTATIONS) {
        const slow = impl === 'forge' || (op.startsWith('unwrap') && impl === 'wasm' && bits === 4096);
        const ms = await timeOne(`${bits} ${op} ${impl}`, table[op][impl], { iterations: slow ? 3 : 10, time: slow ? 300 : 250, warmupIterations: 1 }, 'cpu');
        const key = `${op}|${impl}`;
        samples.set(key, [...(samples.get(key) ?? []), 1000 / ms]);
      }
    }
  }
  results[bits] = {};
  for (const op of OPERATIONS) {
    results[bits][op] = {};
    for (const impl of IMPLEMENTATIONS) results[bits][op][impl] = median(samples.get(`${op}|${impl}`)!);
  }
}

const { node, cpu } = machine();
console.log(`\nRSA engines by key size: content keys per CPU-second (median of ${ROUNDS} rounds); Node ${node}, ${cpu}`);
const rows: string[][] = [];
for (const bits of SIZES) {
  for (const op of OPERATIONS) {
    const r = results[bits][op];
    for (const impl of IMPLEMENTATIONS) {
      rows.push([`${bits}`, op, impl === 'wasm' ? 'ours (wasm)' : impl, r[impl].toFixed(1), `${(r[impl] / r.forge).toFixed(2)}×`, `${(r[impl] / r.node).toFixed(3)}×`]);
    }
  }
}
console.log(formatTable(['bits', 'operation', 'implementation', 'ops/s', 'vs node-forge', 'vs node:crypto'], rows));

const jsonFile = flagValue(process.argv, '--json');
if (jsonFile !== undefined) {
  writeFileSync(jsonFile, JSON.stringify({ results }, null, 2) + '\n');
  console.log(`wrote ${jsonFile}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
