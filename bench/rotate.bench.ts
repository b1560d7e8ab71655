/**
 * `encryptExisting` (read, encrypt, conditional rewrite in place) and `rewrap` (the same content key wrapped with a
 * new RSA key, the ciphertext rewritten unchanged) against a plain copy through the client (ali-oss GET then PUT of
 * the same object), same sizes, same number of objects in flight, same run, to the loopback OSS stand-in (`npm run bench:rotate [-- --rounds N] [--parallel N] [--json FILE]`).
 *
 * Sizes: 4 KiB objects (request-bound: what a bucket of small files costs) and 8 MiB objects (byte-bound). Each
 * round seeds fresh plaintext objects (not timed), then times one contender over all of them with `--parallel`
 * objects in flight (default 8); the contenders alternate and each reports its best round in objects/s and MB/s
 * (plaintext bytes over wall time). encryptExisting does more per object than the plain copy: a HEAD (the check
 * before the write), an RSA wrap of a fresh content key, a CRC-64 of what it read, AES-256-CTR (WebAssembly core)
 * and the MD5 it records; for small objects the extra request dominates. rewrap does no AES: per object an RSA
 * unwrap (private key) and wrap (the new public key), a CRC-64 of the bytes, and the same HEAD before the write;
 * its objects are seeded encrypted under the old key (not timed). "rewrap (RSA workers)" is the same with the
 * private-key operations on `availableParallelism() - 1` worker threads (keys/rsa-workers.ts), as the bulk CLI
 * commands run them on a machine with more than one core.
 *
 * Before timing, one encrypted object is read back through the client and compared (cross-validation). The
 * stand-in runs as a child process (its CPU is not this process's). No key material is printed: the RSA key pair
 * is generated in memory for the run.
 * @module
 */
import { generateKeyPairSync, randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import OSS from 'ali-oss';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { nodeRsaWorkerEngine } from '../bindings/keys/rsa-workers.js';
import { BENCH_CREDENTIALS, flagValue, formatSize, formatTable, machine, startStandInChild } from './_util.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const argv = process.argv.slice(2);
const rounds = Number(flagValue(argv, '--rounds') ?? 3);
const parallel = Number(flagValue(argv, '--parallel') ?? 8);
const jsonPath = flagValue(argv, '--json');
const CASES = [
  { size: 4 * KiB, count: 1500 },
  { size: 8 * MiB, count: 12 },
];
const BUCKET = 'bench-rotate';
const CREDENTIALS = BENCH_CREDENTIALS;

const server = await startStandInChild({ keepBodies: true });
try {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // node:crypto RSA, as the CLI uses: wrapping a key per object is part of what is measured.
  const material = rsaKeyWrapper({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), engine: nodeRsaEngine });
  const oss = new OSS({ ...CREDENTIALS, bucket: BUCKET, endpoint: server.endpoint, region: server.region, timeout: 600_000 });
  // The threshold sits above 8 MiB so both sizes are one PUT each, as in the plain copy.
  const client = new CryptoClient(oss as never, { material, multipartThreshold: 64 * MiB });
  // The same key with its private operations on worker threads (what the bulk CLI commands use on >1 core).
  const workerEngine = nodeRsaWorkerEngine();
  const onWorkers = new CryptoClient(oss as never, { material: material.withEngine(workerEngine), multipartThreshold: 64 * MiB });
  const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const to = rsaKeyWrapper({ publicKey: next.publicKey.export({ type: 'spki', format: 'pem' }).toString(), matdesc: { key: 'next' }, engine: nodeRsaEngine });

  // Cross-validation: an object encrypted in place reads back as what was stored.
  const sample = randomFillSync(Buffer.alloc(100_000));
  await oss.put('check/a', sample);
  await client.encryptExisting('check/a');
  if (!(await client.get('check/a')).content!.equals(sample)) throw new Error('cross-validation failed: encryptExisting changed the content');
  if ((await oss.get('check/a')).content.equals(sample)) throw new Error('cross-validation failed: the stored object is not encrypted');
  const ciphertext = (await oss.get('check/a')).content;
  await client.rewrap('check/a', { to });
  const reader = new CryptoClient(oss as never, { material: rsaKeyWrapper({ privateKey: next.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), matdesc: { key: 'next' } }) });
  if (!(await oss.get('check/a')).content.equals(ciphertext)) throw new Error('cross-validation failed: rewrap changed the ciphertext');
  if (!(await reader.get('check/a')).content!.equals(sample)) throw new Error('cross-validation failed: the new key does not read the rewrapped object');

  console.log(`rotate bench: ${machine().cpu}, node ${machine().node}, ${parallel} objects in flight, best of ${rounds} rounds, load ${loadavg()[0].toFixed(2)}`);
  const rows: string[][] = [];
  const json: Record<string, unknown> = {};
  let seedNo = 0;
  for (const { size, count } of CASES) {
    const body = randomFillSync(Buffer.alloc(size));
    const seed = async (encrypted: boolean): Promise<string[]> => {
      const keys = Array.from({ length: count }, (_, i) => `r${seedNo}/${size}/${i}`);
      seedNo++;
      await pool(keys, parallel, (k) => (encrypted ? client.put(k, body) : oss.put(k, body)));
      return keys;
    };
    const contenders: Record<string, { encrypted: boolean; run: (key: string) => Promise<unknown> }> = {
      'plain GET + PUT': {
        encrypted: false,
        run: async (key) => {
          const { content } = await oss.get(key);
          await oss.put(key, content);
        },
      },
      encryptExisting: { encrypted: false, run: (key) => client.encryptExisting(key) },
      rewrap: { encrypted: true, run: (key) => client.rewrap(key, { to }) },
      'rewrap (RSA workers)': { encrypted: true, run: (key) => onWorkers.rewrap(key, { to }) },
    };
    const best: Record<string, number> = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, { encrypted, run }] of Object.entries(contenders)) {
        const keys = await seed(encrypted);
        const started = performance.now();
        await pool(keys, parallel, run);
        const seconds = (performance.now() - started) / 1000;
        best[name] = Math.max(best[name] ?? 0, count / seconds);
      }
    }
    const plain = best['plain GET + PUT'];
    const enc = best.encryptExisting;
    const mbps = (objectsPerSecond: number) => (objectsPerSecond * size) / 1e6;
    const rw = best.rewrap;
    const rww = best['rewrap (RSA workers)'];
    rows.push([formatSize(size), String(count), plain.toFixed(1), mbps(plain).toFixed(1), enc.toFixed(1), mbps(enc).toFixed(1), `${(enc / plain).toFixed(2)}x`, rw.toFixed(1), mbps(rw).toFixed(1), `${(rw / plain).toFixed(2)}x`, rww.toFixed(1), `${(rww / plain).toFixed(2)}x`]);
    json[String(size)] = {
      plain_objects_per_s: plain, encrypt_existing_objects_per_s: enc, rewrap_objects_per_s: rw, rewrap_workers_objects_per_s: rww,
      plain_MBps: mbps(plain), encrypt_existing_MBps: mbps(enc), rewrap_MBps: mbps(rw), ratio: enc / plain, rewrap_ratio: rw / plain, rewrap_workers_ratio: rww / plain,
    };
  }
  console.log(formatTable(['size', 'objects', 'plain obj/s', 'plain MB/s', 'encryptExisting obj/s', 'encryptExisting MB/s', 'ratio', 'rewrap obj/s', 'rewrap MB/s', 'rewrap ratio', `rewrap, ${workerEngine.workers} RSA worker(s) obj/s`, 'ratio'], rows));
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  await workerEngine.close();
} finally {
  server.process.kill('SIGTERM');
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

