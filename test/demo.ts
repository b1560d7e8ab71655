/**
 * The quickstart demo (`npm run demo`): client-side encryption for OSS end to end, with no account needed.
 *
 * By default it starts the loopback OSS and KMS stand-ins in this process (test/support/), generates an RSA key
 * pair in memory, writes a temporary file large enough to go multipart (24 MiB), and then, with the library's
 * public API only:
 *
 * 1. encrypts and uploads the file with `cryptoClient.multipartUpload` (progress bar on stderr);
 * 2. reads the stored object with plain ali-oss and shows it is ciphertext (same length, no plaintext in it);
 * 3. reads a ranged slice (unaligned, crossing part boundaries) back through the client and checks it, then the
 *    whole object as a decrypting stream and checks its SHA-256;
 * 4. prints the envelope from `head` (algorithms, matdesc, sizes; never key material);
 * 5. does a small round trip with a KMS-wrapped key.
 *
 * It ends with a summary (sizes, parts, throughput, envelope) and `result: OK`, or exits non-zero naming the
 * check that failed. Against a real bucket the same steps run unchanged:
 *
 *     OSS_ACCESS_KEY_ID=… OSS_ACCESS_KEY_SECRET=… [OSS_SESSION_TOKEN=…] npm run demo -- \
 *       --endpoint https://oss-cn-hangzhou.aliyuncs.com --region oss-cn-hangzhou --bucket my-bucket \
 *       --rsa-public-key pub.pem --rsa-private-key key.pem [--kms-key-id KEY --kms-region cn-hangzhou] [--keep]
 *
 * (the demo objects are deleted at the end unless `--keep`). Other flags: `--size` (bytes, or with KiB/MiB/GiB;
 * default 24MiB), `--part-size` (default 1MiB), `--parallel` (default 4), `--quiet` (no progress).
 * Exit codes: 0 success, 1 a check or a request failed, 2 bad arguments.
 *
 * Deliberately not here: anything the library does not offer publicly (this is what a user would write), and
 * printing or writing key material: the generated private key stays in memory, and the temporary file holds
 * only the sample plaintext.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import OSS from 'ali-oss';
import {
  CryptoClient,
  generateRsaKeyPair,
  kmsKeyWrapper,
  rsaKeyWrapper,
  type AliOssLike,
  type KeyWrapper,
} from '../bindings/index.js';
import { startKmsServer } from './support/kms-server.js';
import { startOssServer } from './support/oss-server.js';

const MiB = 1024 * 1024;

/** What the command line asked for. */
interface DemoOptions {
  size: number;
  partSize: number;
  parallel: number;
  quiet: boolean;
  keep: boolean;
  real?: { endpoint: string; region: string; bucket: string; publicKeyPath: string; privateKeyPath: string; kmsKeyId?: string; kmsRegion?: string };
}

/** Where the demo runs: the loopback stand-ins or a real bucket. Everything after this is shared. */
interface Target {
  describe: string;
  oss: OSS;
  rsa: KeyWrapper;
  /** Undefined when no KMS key was given (real mode without --kms-key-id). */
  kms?: KeyWrapper & { kmsCalls?: () => number };
  close(): Promise<void>;
}

class UsageError extends Error {}
class CheckFailed extends Error {}

const summary: [string, string][] = [];
const say = (line: string) => process.stdout.write(line + '\n');

try {
  const options = parseOptions(process.argv.slice(2));
  const target = options.real ? await realTarget(options) : await localTarget();
  try {
    await run(target, options);
  } finally {
    await target.close();
  }
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`demo: ${err.message}\n(see the header of test/demo.ts for the flags)\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`demo FAILED: ${err instanceof CheckFailed ? err.message : (err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

async function run(target: Target, options: DemoOptions): Promise<void> {
  say(`ali-oss-crypto demo: ${target.describe}`);
  const work = await mkdtemp(join(tmpdir(), 'ali-oss-crypto-demo-'));
  const name = `ali-oss-crypto-demo/${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.bin`;
  const kmsName = name.replace(/\.bin$/, '.kms.bin');
  const written: string[] = [];
  try {
    // 0. A sample file of random bytes (random so that "no plaintext in the stored bytes" means something).
    const file = join(work, 'plain.bin');
    const plainSha256 = await writeSampleFile(file, options.size);
    summary.push(['plaintext', `${options.size} bytes (${mib(options.size)}), sha256 ${plainSha256.slice(0, 16)}…`]);

    // 1. Encrypt and upload in parts.
    const client = new CryptoClient(target.oss as unknown as AliOssLike, { material: target.rsa });
    const progress = progressPrinter('encrypt+upload', options.quiet);
    const started = performance.now();
    written.push(name);
    await client.multipartUpload(name, file, { partSize: options.partSize, parallel: options.parallel, progress });
    const seconds = (performance.now() - started) / 1000;
    const head = await client.head(name);
    const env = head.envelope;
    if (env === null) throw new CheckFailed(`${name} has no encryption metadata after the upload`);
    const parts = env.partSize ? Math.ceil(options.size / env.partSize) : 1;
    summary.push(['multipart', `${parts} parts of ${env.partSize} bytes, parallel ${options.parallel}`]);
    summary.push(['upload', `${seconds.toFixed(2)} s, ${(options.size / MiB / seconds).toFixed(1)} MiB/s (encrypt + upload)`]);

    // 2. What OSS holds: ciphertext of the same length.
    const stored: Buffer = (await target.oss.get(name)).content;
    const plain = readFileSync(file);
    if (stored.length !== plain.length) throw new CheckFailed(`stored ${stored.length} bytes, expected ${plain.length}`);
    let same = 0;
    for (let i = 0; i < plain.length; i++) if (stored[i] === plain[i]) same++;
    const sameShare = same / Math.max(1, plain.length);
    // Random plaintext under a keystream matches at about 1 position in 256; much more means it was not encrypted.
    if (plain.length >= 4096 && sameShare > 4 / 256) throw new CheckFailed(`stored bytes equal the plaintext at ${pct(sameShare)} of positions`);
    if (plain.length > 0 && stored.equals(plain)) throw new CheckFailed('OSS holds the plaintext');
    summary.push(['stored', `ciphertext, ${stored.length} bytes read with plain ali-oss; equal to the plaintext at ${pct(sameShare)} of positions (chance: ${pct(1 / 256)})`]);

    // 3. A ranged read through the client (unaligned, across part boundaries), then the whole object as a stream.
    if (options.size > 0) {
      const start = Math.floor(options.size / 3) + 5 > options.size - 1 ? 0 : Math.floor(options.size / 3) + 5;
      const end = Math.max(start, Math.min(options.size - 1, Math.floor((2 * options.size) / 3) + 2));
      const ranged = await client.get(name, undefined, { headers: { Range: `bytes=${start}-${end}` } });
      if (!plain.subarray(start, end + 1).equals(ranged.content!)) throw new CheckFailed(`ranged read bytes=${start}-${end} differs from the plaintext`);
      summary.push(['ranged read', `bytes=${start}-${end} (${end - start + 1} bytes) OK`]);
    }
    const { stream } = await client.getStream(name);
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== plainSha256) throw new CheckFailed('the decrypted object differs from the file');
    summary.push(['full read', `getStream, sha256 OK`]);

    // 4. How the object is encrypted, as head() describes it: algorithms, matdesc, sizes; no key material.
    summary.push(['envelope', JSON.stringify(env)]);

    // 5. The same with a KMS-wrapped content key (a small object, one PUT).
    if (target.kms !== undefined) {
      const kmsClient = new CryptoClient(target.oss as unknown as AliOssLike, { material: target.kms });
      const body = randomBytes(64 * 1024 + 7);
      written.push(kmsName);
      await kmsClient.put(kmsName, body);
      const back = await kmsClient.get(kmsName);
      if (!body.equals(back.content!)) throw new CheckFailed('KMS round trip: the object read back differs');
      const kmsEnv = (await kmsClient.head(kmsName)).envelope;
      const calls = target.kms.kmsCalls ? `, ${target.kms.kmsCalls()} KMS calls` : '';
      summary.push(['kms round trip', `${body.length} bytes OK (${kmsEnv?.wrapAlg}, ${kmsEnv?.kmsBlobLayering ?? 'blob'}${calls})`]);
    } else {
      summary.push(['kms round trip', 'skipped (no --kms-key-id)']);
    }
    summary.push(['result', 'OK']);
  } finally {
    say('');
    say('== summary ==');
    for (const [k, v] of summary) say(`${(k + ':').padEnd(16)} ${v}`);
    if (options.real && !options.keep) {
      for (const n of written) await target.oss.delete(n).catch(() => undefined);
    } else if (options.real) {
      say(`${'kept:'.padEnd(16)} ${written.join(', ')}`);
    }
    await rm(work, { recursive: true, force: true });
  }
}

/** The loopback stand-ins, started in this process; a fresh RSA key pair and KMS key, held in memory only. */
async function localTarget(): Promise<Target> {
  const [oss, kms, pair] = await Promise.all([startOssServer(), startKmsServer(), generateRsaKeyPair(2048)]);
  const keyId = kms.createKey();
  const kmsWrapper = kmsKeyWrapper({ keyId, region: 'cn-hangzhou', ...kms.credentials, endpoint: kms.endpoint, protocol: 'http', matdesc: { demo: 'kms' } });
  return {
    describe: `local stand-ins (OSS ${oss.endpoint}, KMS http://${kms.endpoint}); RSA-2048 key pair generated in memory`,
    oss: oss.client('demo-bucket'),
    rsa: rsaKeyWrapper({ privateKey: pair.privateKeyPem, matdesc: { demo: 'rsa' } }),
    kms: Object.assign(kmsWrapper, { kmsCalls: () => kms.requests.length }),
    close: async () => {
      await Promise.all([oss.close(), kms.close()]);
    },
  };
}

/** A real bucket; credentials from the environment, RSA keys from PEM files, KMS only with --kms-key-id. */
async function realTarget(options: DemoOptions): Promise<Target> {
  const real = options.real!;
  const accessKeyId = process.env.OSS_ACCESS_KEY_ID;
  const accessKeySecret = process.env.OSS_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) throw new UsageError('--endpoint needs OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET in the environment');
  const stsToken = process.env.OSS_SESSION_TOKEN || undefined;
  const rsa = rsaKeyWrapper({
    publicKey: readPem(real.publicKeyPath, '--rsa-public-key'),
    privateKey: readPem(real.privateKeyPath, '--rsa-private-key'),
    matdesc: { demo: 'rsa' },
  });
  const kms = real.kmsKeyId === undefined ? undefined : kmsKeyWrapper({
    keyId: real.kmsKeyId,
    region: real.kmsRegion ?? real.region.replace(/^oss-/, ''),
    accessKeyId,
    accessKeySecret,
    securityToken: stsToken,
    matdesc: { demo: 'kms' },
  });
  return {
    describe: `bucket ${real.bucket} at ${real.endpoint}`,
    oss: new OSS({ endpoint: real.endpoint, region: real.region, bucket: real.bucket, accessKeyId, accessKeySecret, stsToken, secure: real.endpoint.startsWith('https:') }),
    rsa,
    kms,
    close: async () => undefined,
  };
}

function parseOptions(argv: string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        size: { type: 'string' },
        'part-size': { type: 'string' },
        parallel: { type: 'string' },
        quiet: { type: 'boolean' },
        keep: { type: 'boolean' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        bucket: { type: 'string' },
        'rsa-public-key': { type: 'string' },
        'rsa-private-key': { type: 'string' },
        'kms-key-id': { type: 'string' },
        'kms-region': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const size = parseSize('--size', values.size as string | undefined, 24 * MiB);
  const partSize = parseSize('--part-size', values['part-size'] as string | undefined, MiB);
  if (partSize === 0 || partSize % 16 !== 0) throw new UsageError(`--part-size must be a positive multiple of 16 bytes, got ${partSize}`);
  const parallel = Number(values.parallel ?? 4);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel must be an integer from 1 to 64, got ${values.parallel}`);
  const options: DemoOptions = { size, partSize, parallel, quiet: values.quiet === true, keep: values.keep === true };
  const realFlags = ['endpoint', 'region', 'bucket', 'rsa-public-key', 'rsa-private-key', 'kms-key-id', 'kms-region'].filter((f) => values[f] !== undefined);
  if (realFlags.length > 0) {
    const missing = ['endpoint', 'region', 'bucket', 'rsa-public-key', 'rsa-private-key'].filter((f) => values[f] === undefined);
    if (missing.length > 0) throw new UsageError(`a real bucket needs ${missing.map((f) => '--' + f).join(', ')} as well (got ${realFlags.map((f) => '--' + f).join(', ')})`);
    if (!/^https?:\/\//.test(values.endpoint as string)) throw new UsageError(`--endpoint expected a URL such as https://oss-cn-hangzhou.aliyuncs.com, got ${values.endpoint}`);
    options.real = {
      endpoint: values.endpoint as string,
      region: values.region as string,
      bucket: values.bucket as string,
      publicKeyPath: values['rsa-public-key'] as string,
      privateKeyPath: values['rsa-private-key'] as string,
      kmsKeyId: values['kms-key-id'] as string | undefined,
      kmsRegion: values['kms-region'] as string | undefined,
    };
  } else if (values.keep) {
    throw new UsageError('--keep applies to a real bucket only (the stand-ins keep nothing)');
  }
  return options;
}

/** `123`, `256KiB`, `24MiB`, `1GiB` → bytes. */
function parseSize(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+)(B|KiB|MiB|GiB)?$/.exec(text.trim());
  const unit = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[m?.[2] ?? 'B'] ?? 1;
  const value = m ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(value) || value > 5 * 1024 * MiB) throw new UsageError(`${flag} expected bytes, or a number with KiB/MiB/GiB, up to 5GiB; got ${JSON.stringify(text)}`);
  return value;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Writes `size` random bytes to `path` in 1 MiB chunks; returns their SHA-256 (hex). */
async function writeSampleFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let done = 0; done < size; ) {
    const chunk = randomBytes(Math.min(MiB, size - done));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    done += chunk.length;
  }
  out.end();
  await once(out, 'finish');
  // Sanity: the file on disk has the size we meant (a full disk would otherwise show up much later).
  const handle = await open(path);
  try {
    const { size: onDisk } = await handle.stat();
    if (onDisk !== size) throw new CheckFailed(`wrote ${onDisk} bytes of ${size} to ${path}`);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/**
 * An ali-oss `progress(p)` callback that draws a bar on stderr: redrawn in place on a terminal, one line per
 * quarter on a pipe (so logs stay readable).
 */
function progressPrinter(label: string, quiet: boolean): (p: number) => void {
  let quarter = 0;
  return (p) => {
    if (quiet) return;
    const fraction = Math.min(1, Math.max(0, p));
    if (process.stderr.isTTY) {
      const filled = Math.round(fraction * 30);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%${fraction === 1 ? '\n' : ''}`);
    } else if (fraction >= (quarter + 1) / 4) {
      quarter = Math.floor(fraction * 4);
      process.stderr.write(`${label} ${String(quarter * 25).padStart(3)}%\n`);
    }
  };
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}
