/**
 * Encrypted downloads against plain ali-oss `get(name, file)`, same object size, same run, from the loopback OSS
 * stand-in (`npm run bench:download [-- --json FILE] [--rounds N] [--part-size BYTES] [--with-1g] [--only a,b]`).
 *
 * Contenders, each writing a file: plain ali-oss `get(name, file)` (the reference), `CryptoClient.get(name, file)`,
 * `CryptoClient.getStream(name)` piped into `fs.createWriteStream`, and `CryptoClient.resumableDownload` with
 * `parallel` 1 and 4 (and, with the default engine, parallel 4 decrypting on one worker thread, `workers: 1`, and
 * parallel 4 with a checkpoint file); the encrypted ones with the client's default engine (no `backend` option:
 * node:crypto in Node on x64/arm64, transfer/default-backend.ts; the label names the engine it resolved to) and with
 * the WebAssembly core named explicitly (`wasmBackend()`, the default everywhere else). The stand-in runs as a child process and keeps the bodies, so its CPU and memory are not
 * ours. Two objects are uploaded once before timing: the plain file with plain ali-oss and the same file encrypted
 * with `CryptoClient.multipartUpload` (no recorded MD5, as multipart uploads store none).
 *
 * Per contender and size, the best of `--rounds` rounds (default 3; contenders alternate within a round):
 *   MB/s           plaintext bytes (10^6) over the wall time of the whole call;
 *   CPU ms/MB      `process.cpuUsage()` (user + system, all threads of this process) over the call, per 10^6 bytes;
 *                  the lowest of the rounds;
 *   peak RSS       the highest `process.memoryUsage().rss` sampled every 10 ms during the call, and its rise over
 *                  the RSS just before the call (after a forced GC: run with `--expose-gc`, as the npm script does);
 *   vs plain       MB/s divided by plain get's best MB/s at the same size in this run;
 *   median         the median round's MB/s, and its ratio to plain get's median round (steadier than the best
 *                  when the machine is shared).
 *
 * Cross-validation: before timing, every contender downloads once and its file's SHA-256 must equal the source
 * file's; a wrong decryption fails the bench before a figure is printed.
 *
 * 256 MiB always; `--with-1g` adds 1 GiB (plain get, `get` and `resumableDownload` parallel 4 with the default
 * engine), which shows whether peak RSS depends on the object size. `--only` keeps contenders whose label contains
 * one of the comma-separated words (for profiling one path under `node --cpu-prof`).
 *
 * `--json FILE` writes `{"results": {"plain", "get", "stream", "resumable"}}` (MB/s, default engine, 256 MiB,
 * `resumable` = parallel 4) plus `ratios`, `median_ratios`, `cpu_ms_per_MB`, `peak_rss_MiB` and every contender's row under `rows`.
 * No key material is printed: the RSA key pair is generated in memory for the run.
 * @module
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import OSS from 'ali-oss';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { DEFAULT_DOWNLOAD_PART_SIZE } from '../bindings/download/download-options.js';
import { BENCH_CREDENTIALS, flagValue, formatSize, formatTable, machine, makeRandomFile, sampleRss, startStandInChild } from './_util.js';

const MiB = 1024 * 1024;
const argv = process.argv.slice(2);
const jsonPath = flagValue(argv, '--json');
const rounds = Number(flagValue(argv, '--rounds') ?? 3);
const partSizeFlag = flagValue(argv, '--part-size');
/** Without `--part-size`, resumableDownload gets no `partSize` and so runs with the library's default. */
const partSize = partSizeFlag === undefined ? DEFAULT_DOWNLOAD_PART_SIZE : Number(partSizeFlag);
const sized = partSizeFlag === undefined ? {} : { partSize };
const with1g = argv.includes('--with-1g');
const only = flagValue(argv, '--only')?.split(',').filter((w) => w !== '');
const BUCKET = 'bench-bkt';
const CREDENTIALS = BENCH_CREDENTIALS;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.warn('note: run with --expose-gc (npm run bench:download does) for a clean RSS baseline');

/** One way of downloading an object to a file. */
interface Contender {
  readonly label: string;
  /** Key under `results` in the JSON, for the four headline contenders. */
  readonly key?: 'plain' | 'get' | 'stream' | 'resumable';
  /** Also run at 1 GiB (with `--with-1g`). */
  readonly large?: boolean;
  run(object: string, file: string): Promise<unknown>;
}

/** What one call measured. */
interface Sample {
  MBps: number;
  /** Every round's MB/s (the table also shows their median). */
  rounds?: number[];
  cpuMsPerMB: number;
  peakRssMiB: number;
  rssRiseMiB: number;
}

const dir = mkdtempSync(join(tmpdir(), 'oss-crypto-bench-download-'));
const server = await startStandInChild({ keepBodies: true });
try {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const material = rsaKeyWrapper({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  const ossOptions = { ...CREDENTIALS, bucket: BUCKET, endpoint: server.endpoint, region: server.region, timeout: 600_000 };
  const plain = new OSS(ossOptions);
  const byDefault = new CryptoClient(new OSS(ossOptions) as any, { material });
  const wasm = new CryptoClient(new OSS(ossOptions) as any, { material, backend: wasmBackend() });
  const defaultName = `default: ${byDefault.context.backend?.name ?? 'wasm'}`;

  const contenders: Contender[] = [{ label: 'ali-oss get (plain)', key: 'plain', large: true, run: (o, f) => plain.get(`plain/${o}`, f) }];
  for (const [engine, client] of [[defaultName, byDefault], ['wasm', wasm]] as const) {
    const dflt = client === byDefault;
    const enc = (o: string) => `enc/${o}`;
    contenders.push(
      { label: `get (${engine})`, ...(dflt ? { key: 'get' as const, large: true } : {}), run: (o, f) => client.get(enc(o), f) },
      {
        label: `getStream→file (${engine})`,
        ...(dflt ? { key: 'stream' as const } : {}),
        run: async (o, f) => pipeline((await client.getStream(enc(o))).stream, createWriteStream(f)),
      },
      { label: `resumable p1 (${engine})`, run: (o, f) => client.resumableDownload(enc(o), f, { ...sized, parallel: 1 }) },
      {
        label: `resumable p4 (${engine})`,
        ...(dflt ? { key: 'resumable' as const, large: true } : {}),
        run: (o, f) => client.resumableDownload(enc(o), f, { ...sized, parallel: 4 }),
      },
    );
    if (dflt) {
      // The default above decrypts on the main thread; this one on a worker (download/part-workers.ts), to show
      // what a worker brings on this machine.
      contenders.push({
        label: `resumable p4 workers:1 (${engine})`,
        run: (o, f) => client.resumableDownload(enc(o), f, { ...sized, parallel: 4, workers: 1 }),
      });
      // The resumable form users pick it for: a checkpoint file, written (and synced) after every part.
      contenders.push({
        label: `resumable p4 +checkpoint (${engine})`,
        run: (o, f) => client.resumableDownload(enc(o), f, { ...sized, parallel: 4, checkpoint: `${f}.checkpoint.json` }),
      });
    }
  }
  const chosen = contenders.filter((c) => c.key === 'plain' || only === undefined || only.some((w) => c.label.includes(w)));

  console.log(`bench:download  node ${machine().node}  ${machine().cpu}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`resumable part size ${formatSize(partSize)}${partSizeFlag === undefined ? ' (the default)' : ''}, best of ${rounds} rounds, stand-in in a child process\n`);

  const sizes = with1g ? [256 * MiB, 1024 * MiB] : [256 * MiB];
  const tables: Record<number, Map<string, Sample>> = {};
  for (const size of sizes) {
    const source = makeRandomFile(join(dir, `source-${size}.bin`), size);
    const sourceHash = await sha256(source);
    const object = String(size);
    await plain.multipartUpload(`plain/${object}`, source, { partSize: 8 * MiB, parallel: 4 });
    await byDefault.multipartUpload(`enc/${object}`, source, { partSize: 8 * MiB, parallel: 4 });
    rmSync(source);
    const here = chosen.filter((c) => size === sizes[0] || c.large);
    const out = join(dir, 'out.bin');

    for (const c of here) {
      await c.run(object, out);
      if ((await sha256(out)) !== sourceHash) throw new Error(`cross-validation failed: ${c.label} wrote a file that differs from the source`);
      rmSync(out);
    }
    console.log(`cross-validation (${formatSize(size)}): every contender's file has the source's SHA-256`);

    const best = new Map<string, Sample>();
    for (let r = 0; r < rounds; r++) {
      const line: string[] = [];
      for (const c of here) {
        const s = await measure(size, () => c.run(object, out));
        rmSync(out, { force: true });
        line.push(`${c.label} ${s.MBps.toFixed(0)}`);
        const b = best.get(c.label);
        best.set(c.label, {
          MBps: Math.max(b?.MBps ?? 0, s.MBps),
          rounds: [...(b?.rounds ?? []), s.MBps],
          cpuMsPerMB: Math.min(b?.cpuMsPerMB ?? Infinity, s.cpuMsPerMB),
          peakRssMiB: Math.max(b?.peakRssMiB ?? 0, s.peakRssMiB),
          rssRiseMiB: Math.max(b?.rssRiseMiB ?? 0, s.rssRiseMiB),
        });
      }
      console.log(`${formatSize(size)} round ${r + 1}: ${line.join(', ')} MB/s`);
    }
    tables[size] = best;
    const ref = best.get(contenders[0].label)!;
    console.log(
      '\n' +
        formatTable(
          [`${formatSize(size)} to a file`, 'MB/s', 'vs plain', 'median MB/s', 'median vs plain', 'CPU ms/MB', 'CPU vs plain', 'peak RSS MiB', 'RSS rise MiB'],
          here.map((c) => {
            const s = best.get(c.label)!;
            return [
              c.label,
              s.MBps.toFixed(1),
              (s.MBps / ref.MBps).toFixed(2),
              median(s.rounds!).toFixed(1),
              (median(s.rounds!) / median(ref.rounds!)).toFixed(2),
              s.cpuMsPerMB.toFixed(2),
              (s.cpuMsPerMB / ref.cpuMsPerMB).toFixed(2),
              s.peakRssMiB.toFixed(0),
              s.rssRiseMiB.toFixed(0),
            ];
          }),
        ) +
        '\n',
    );
    await plain.delete(`plain/${object}`);
    await plain.delete(`enc/${object}`);
  }
  console.log(`(load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);

  if (jsonPath !== undefined) {
    const main = tables[256 * MiB];
    const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
    const headline = chosen.filter((c) => c.key !== undefined);
    const plainRate = main.get(contenders[0].label)!.MBps;
    const pick = (f: (s: Sample) => number, digits = 1) =>
      Object.fromEntries(headline.map((c) => [c.key!, round(f(main.get(c.label)!), digits)]));
    writeFileSync(
      jsonPath,
      JSON.stringify(
        {
          results: pick((s) => s.MBps),
          ratios: pick((s) => s.MBps / plainRate, 3),
          median_ratios: pick((s) => median(s.rounds!) / median(main.get(contenders[0].label)!.rounds!), 3),
          cpu_ms_per_MB: pick((s) => s.cpuMsPerMB, 2),
          peak_rss_MiB: pick((s) => s.peakRssMiB),
          rows: Object.fromEntries(
            Object.entries(tables).map(([size, rows]) => [
              size,
              Object.fromEntries([...rows].map(([label, s]) => [label, { MBps: round(s.MBps), cpuMsPerMB: round(s.cpuMsPerMB, 2), peakRssMiB: round(s.peakRssMiB), rssRiseMiB: round(s.rssRiseMiB) }])),
            ]),
          ),
          machine: { ...machine(), partSize, rounds },
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${jsonPath}`);
  }
} finally {
  server.process.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

/** Wall rate, CPU per MB and RSS of one call that moves `bytes` plaintext bytes. */
async function measure(bytes: number, run: () => Promise<unknown>): Promise<Sample> {
  let seconds = 0;
  let cpu = { user: 0, system: 0 };
  const { baseline, peak } = await sampleRss(async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    seconds = (performance.now() - t0) / 1000;
    cpu = process.cpuUsage(cpu0);
  });
  const MB = bytes / 1e6;
  return { MBps: MB / seconds, cpuMsPerMB: (cpu.user + cpu.system) / 1000 / MB, peakRssMiB: peak / MiB, rssRiseMiB: (peak - baseline) / MiB };
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
