/**
 * Encrypted `multipartUpload` against plain ali-oss `multipartUpload`, same file, same part size and
 * parallelism, same run, to the loopback OSS stand-in (`npm run bench:upload [-- --json FILE] [--rounds N]
 * [--part-size BYTES] [--parallel N] [--skip-1g]`).
 *
 * The stand-in runs as a child process with `--no-store-bodies` (it keeps sizes, ETags and CRC-64s only), so its
 * memory is not ours and uploads of any size fit. Files are generated in a temporary directory and deleted at the
 * end. Throughput is plaintext bytes over the wall time of the whole call (Initiate, parts, Complete); each
 * contender runs `--rounds` times (default 3), alternating, and reports its best round. The encrypted client uses
 * the WebAssembly core, named explicitly (the portable engine; in Node on x64/arm64 the client's default is node:crypto,
 * transfer/default-backend.ts); the native engine (node:crypto) is shown beside it.
 *
 * Peak RSS: `process.memoryUsage().rss` of this process sampled every 10 ms during an encrypted upload of a
 * 256 MiB and a 1 GiB file, after a forced GC (run with `--expose-gc`, as the npm script does). Measured first,
 * before the throughput rounds, so both sizes start from the same state. With bounded memory (parts read at their
 * offsets into `parallel` buffers) the two peaks are about equal.
 *
 * Before timing, one encrypted upload to an in-process stand-in that keeps bodies is decrypted with node:crypto
 * and compared with the file (cross-validation); that server is closed before anything is measured.
 *
 * `--json FILE` writes `{"plain_MBps", "encrypted_MBps", "ratio", "peak_rss_MiB": {"268435456", "1073741824"}}`.
 * No key material is printed: the RSA key pair is generated in memory for the run.
 * @module
 */
import { createDecipheriv, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { startOssServer } from '../test/support/oss-server.js';
import { BENCH_CREDENTIALS, flagValue, formatSize, formatTable, machine, makeRandomFile, sampleRss, startStandInChild } from './_util.js';

const MiB = 1024 * 1024;
const argv = process.argv.slice(2);
const jsonPath = flagValue(argv, '--json');
const rounds = Number(flagValue(argv, '--rounds') ?? 3);
const partSize = Number(flagValue(argv, '--part-size') ?? 4 * MiB);
const parallel = Number(flagValue(argv, '--parallel') ?? 4);
const skip1g = argv.includes('--skip-1g');
const SIZES = [256 * MiB, 1024 * MiB];
const BUCKET = 'bench-bkt';
const CREDENTIALS = BENCH_CREDENTIALS;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.warn('note: run with --expose-gc (npm run bench:upload does) for a clean RSS baseline');

const dir = mkdtempSync(join(tmpdir(), 'oss-crypto-bench-upload-'));
const server = await startStandInChild({ keepBodies: false });
try {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const material = rsaKeyWrapper({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  const ossOptions = { ...CREDENTIALS, bucket: BUCKET, endpoint: server.endpoint, region: server.region, timeout: 600_000 };
  const plain = new OSS(ossOptions);
  const encrypted = new CryptoClient(new OSS(ossOptions) as any, { material, backend: wasmBackend() });
  const encryptedNative = new CryptoClient(new OSS(ossOptions) as any, { material, backend: nativeBackend });

  console.log(`bench:upload  node ${machine().node}  ${machine().cpu}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`part size ${formatSize(partSize)}, parallel ${parallel}, best of ${rounds} rounds\n`);

  await crossValidate(material);

  // Peak RSS first, on a process that has done nothing else yet, so that both sizes see the same starting state.
  // A fresh object per call: ali-oss writes into the options it is given (headers, Content-Length of its last part).
  const options = () => ({ partSize, parallel });
  const file256 = makeRandomFile(join(dir, '256m.bin'), SIZES[0]);
  const peaks: Record<string, number> = {};
  const baselines: Record<string, number> = {};
  for (const size of skip1g ? SIZES.slice(0, 1) : SIZES) {
    const file = size === SIZES[0] ? file256 : makeRandomFile(join(dir, '1g.bin'), size);
    const m = await peakRss(() => encrypted.multipartUpload(`rss/${size}`, file, options()));
    peaks[String(size)] = m.peak;
    baselines[String(size)] = m.baseline;
    if (file !== file256) rmSync(file);
  }
  console.log(
    formatTable(
      ['encrypted upload', 'RSS before MiB', 'peak RSS MiB'],
      Object.keys(peaks).map((size) => [formatSize(Number(size)), baselines[size].toFixed(1), peaks[size].toFixed(1)]),
    ),
  );
  console.log(`(parallel × partSize = ${formatSize(parallel * partSize)})\n`);

  const best = { plain: 0, encrypted: 0, native: 0 };
  for (let r = 0; r < rounds; r++) {
    const round = {
      plain: await rate(SIZES[0], () => plain.multipartUpload(`plain/${r}`, file256, options())),
      encrypted: await rate(SIZES[0], () => encrypted.multipartUpload(`enc/${r}`, file256, options())),
      native: await rate(SIZES[0], () => encryptedNative.multipartUpload(`native/${r}`, file256, options())),
    };
    console.log(`round ${r + 1}: plain ${round.plain.toFixed(1)}, encrypted ${round.encrypted.toFixed(1)}, native ${round.native.toFixed(1)} MB/s`);
    for (const k of ['plain', 'encrypted', 'native'] as const) best[k] = Math.max(best[k], round[k]);
  }
  rmSync(file256);
  const ratio = best.encrypted / best.plain;
  console.log(
    '\n' +
      formatTable(
        ['256 MiB multipartUpload', 'MB/s', 'vs plain'],
        [
          ['ali-oss (plain)', best.plain.toFixed(1), '1.00'],
          ['ali-oss-crypto (wasm)', best.encrypted.toFixed(1), ratio.toFixed(2)],
          ['ali-oss-crypto (native)', best.native.toFixed(1), (best.native / best.plain).toFixed(2)],
        ],
      ),
  );
  console.log(`(load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);

  if (jsonPath !== undefined) {
    const round1 = (n: number) => Math.round(n * 10) / 10;
    writeFileSync(
      jsonPath,
      JSON.stringify(
        {
          plain_MBps: round1(best.plain),
          encrypted_MBps: round1(best.encrypted),
          ratio: Math.round(ratio * 1000) / 1000,
          peak_rss_MiB: Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, round1(v)])),
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

/** Plaintext MB/s (10^6 bytes per second) of one call. */
async function rate(bytes: number, run: () => Promise<unknown>): Promise<number> {
  gc?.();
  const t0 = performance.now();
  await run();
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/** RSS (MiB) of this process before `run` (after a GC) and its peak while `run` is in progress (bench/_util.ts). */
async function peakRss(run: () => Promise<unknown>): Promise<{ baseline: number; peak: number }> {
  const { baseline, peak } = await sampleRss(run);
  return { baseline: baseline / MiB, peak: peak / MiB };
}

/** One encrypted upload to an in-process stand-in that keeps bodies, decrypted with node:crypto. */
async function crossValidate(material: ReturnType<typeof rsaKeyWrapper>): Promise<void> {
  const check = await startOssServer();
  try {
    const client = new CryptoClient(check.client(BUCKET) as any, { material });
    const path = makeRandomFile(join(dir, 'check.bin'), 9 * MiB + 12_345);
    await client.multipartUpload('check', path, { partSize: 2 * MiB, parallel });
    const stored = check.getObject(BUCKET, 'check')!;
    const content = await new KeyRing({ default: material }).unwrap(decodeEnvelope(stored.headers)!.wrapped);
    const d = createDecipheriv('aes-256-ctr', content.key, content.iv);
    const plain = Buffer.concat([d.update(stored.body!), d.final()]);
    if (!plain.equals(readFileSync(path))) throw new Error('cross-validation failed: the uploaded object does not decrypt to the file');
    rmSync(path);
    console.log('cross-validation: a 9 MiB encrypted upload decrypts byte-exact with node:crypto\n');
  } finally {
    await check.close();
  }
}

