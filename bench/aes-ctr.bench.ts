/**
 * AES-256-CTR throughput (`npm run bench:aes [-- --json FILE] [--clock wall|cpu]`): our WebAssembly core
 * through `aesCtrXor` against our native engine, node:crypto called directly, @noble/ciphers (pure JS,
 * T-tables) and node-forge, at 16 KiB, 1 MiB and 64 MiB, all in the same run so the ratios compare like with
 * like.
 *
 * Every contender first encrypts the same input and must match the others byte for byte (bench/_util.ts). The
 * key and IV are fixed pseudo-random bytes; the IV's last 32 bits are 1 so that node-forge, whose CTR mode
 * increments only the last 32 bits of the counter block (not the full 128 as docs/FORMAT.md §1 requires), gives
 * the same bytes: 64 MiB is 2^22 blocks, far from a 32-bit wrap.
 *
 * Each size runs in rounds that visit the engines in turn; each engine reports its best round, so a burst of
 * load on a shared machine costs one round rather than skewing one engine's figure. The load average is
 * printed before and after; `--clock cpu` times process CPU time instead of elapsed time. Budgets keep the
 * whole run near a minute on an idle machine: fewer iterations at 64 MiB, and node-forge (about 10 MB/s) gets
 * a single warm-up-free iteration there. forge is timed on its own input form (a binary string prepared
 * outside the timed region, its output left as a string), which favours it slightly.
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { ctr } from '@noble/ciphers/aes.js';
import forge from 'node-forge';
import { aesCtrXor } from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import {
  crossValidate,
  flagValue,
  formatSize,
  formatTable,
  machine,
  megabytesPerSecond,
  timeOne,
  type Budget,
  type Clock,
  type Contender,
} from './_util.js';

const SIZES = [16 * 1024, 1024 * 1024, 64 * 1024 * 1024];

const key = pseudoRandom(32, 1);
const iv = pseudoRandom(16, 2);
iv.set([0, 0, 0, 1], 12);

const forgeKey = toBinaryString(key);
const forgeIv = toBinaryString(iv);

const contenders: Contender[] = [
  { name: 'wasm', encrypt: (input) => aesCtrXor(key, iv, input) },
  { name: 'native', encrypt: (input) => aesCtrXor(key, iv, input, 0, { backend: nativeBackend }) },
  {
    name: 'node',
    encrypt: (input) => {
      const cipher = createCipheriv('aes-256-ctr', key, iv);
      const out = cipher.update(input);
      cipher.final();
      return out;
    },
  },
  { name: 'noble', encrypt: (input) => ctr(key, iv).encrypt(input) },
  {
    name: 'forge',
    encrypt: (input) => fromBinaryString(forgeCtr(toBinaryString(input))),
    prepare: (input) => {
      const text = toBinaryString(input);
      return () => forgeCtr(text);
    },
  },
];

/**
 * Per-round budgets. Every size runs in rounds that visit the contenders in turn, and each contender keeps its
 * best round: on a shared machine a burst of load then costs one round, not one contender's whole figure.
 */
function plan(name: string, bytes: number): { rounds: number; budget: Budget } {
  if (bytes >= 64 * 1024 * 1024) {
    return name === 'forge'
      ? { rounds: 1, budget: { iterations: 1, time: 0, warmupIterations: 0 } }
      : { rounds: 3, budget: { iterations: 2, time: 0, warmupIterations: 1 } };
  }
  if (bytes >= 1024 * 1024) {
    return name === 'forge'
      ? { rounds: 2, budget: { iterations: 2, time: 300, warmupIterations: 1 } }
      : { rounds: 3, budget: { iterations: 8, time: 400, warmupIterations: 2 } };
  }
  return { rounds: 3, budget: { iterations: 64, time: 250, warmupIterations: 16 } };
}

const argv = process.argv.slice(2);
const clock = parseClock(flagValue(argv, '--clock') ?? 'wall');
const info = machine();
console.log(`AES-256-CTR throughput, MB/s (10^6 bytes per second); Node ${info.node}; ${info.cpu}; clock: ${clock}`);
console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${cpus().length} CPUs)`);

const results: Record<string, Record<string, number>> = {};
for (const bytes of SIZES) {
  const input = pseudoRandom(bytes, 3);
  crossValidate(contenders, input);
  const best: Record<string, number> = {};
  const maxRounds = Math.max(...contenders.map((c) => plan(c.name, bytes).rounds));
  for (let round = 0; round < maxRounds; round++) {
    for (const contender of contenders) {
      const { rounds, budget } = plan(contender.name, bytes);
      if (round >= rounds) continue;
      const work = contender.prepare?.(input) ?? (() => contender.encrypt(input));
      const ms = await timeOne(`${contender.name} ${bytes}`, work, budget, clock);
      best[contender.name] = Math.min(best[contender.name] ?? Infinity, ms);
    }
  }
  const rates: Record<string, number> = {};
  for (const contender of contenders) rates[contender.name] = megabytesPerSecond(bytes, best[contender.name]);
  results[String(bytes)] = rates;
  printSize(bytes, rates);
}
console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const jsonPath = flagValue(argv, '--json');
if (jsonPath !== undefined) {
  writeFileSync(jsonPath, `${JSON.stringify({ node: info.node, cpu: info.cpu, clock, results }, null, 2)}\n`);
  console.log(`\nwrote ${jsonPath}`);
}

function parseClock(value: string): Clock {
  if (value === 'wall' || value === 'cpu') return value;
  throw new RangeError(`"--clock" expected wall or cpu, got ${value}`);
}

function printSize(bytes: number, rates: Record<string, number>): void {
  const rows = contenders.map((c) => [
    c.name,
    rates[c.name].toFixed(1),
    c.name === 'wasm' ? '' : `${(rates.wasm / rates[c.name]).toFixed(2)}x`,
  ]);
  console.log(`\n${formatSize(bytes)} (all outputs cross-validated; best round of each engine)`);
  console.log(formatTable(['engine', 'MB/s', 'wasm / engine'], rows));
}

/** node-forge AES-256-CTR over a binary string; returns the ciphertext as a binary string. */
function forgeCtr(text: string): string {
  const cipher = forge.cipher.createCipher('AES-CTR', forge.util.createBuffer(forgeKey));
  cipher.start({ iv: forgeIv });
  cipher.update(forge.util.createBuffer(text));
  cipher.finish();
  return cipher.output.getBytes();
}

/** Bytes to a binary string (one char per byte), in pieces: forge's own helper overflows the stack on MiBs. */
function toBinaryString(bytes: Uint8Array): string {
  const pieces: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) pieces.push(String.fromCharCode(...bytes.subarray(i, i + 8192)));
  return pieces.join('');
}

function fromBinaryString(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Deterministic filler (xorshift32): benchmark inputs need no real randomness. */
function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
