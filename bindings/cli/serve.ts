/**
 * `oss-crypto serve`: runs the loopback OSS and KMS stand-ins of `ali-oss-crypto/testing` in the foreground, prints
 * the endpoint, bucket and credentials to use with `ali-oss`, this package or the other `oss-crypto` commands, and
 * serves until SIGINT or SIGTERM. Everything is in memory and on 127.0.0.1 only; the credentials printed are the
 * stand-ins' fixed test pair (never anything read from the environment), and one pair serves OSS and KMS alike,
 * as the CLI uses the OSS credentials for KMS by default.
 *
 * Output: a human-readable block, or with `--json` one JSON line
 * `{"oss":{endpoint,region,bucket,accessKeyId,accessKeySecret},"kms":{endpoint,protocol,region,keyId,accessKeyId,accessKeySecret},"pid"}`
 * for scripts. Exit status: 0 after a signal, 2 with `error USAGE: ...` for a usage mistake.
 *
 * Not here: the dispatch (main.ts sends `serve` here before the transfer commands' parser sees it).
 * @module
 */
import type { Writable } from 'node:stream';
import { startKmsServer, startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET } from '../testing.js';

export const SERVE_USAGE = `usage: oss-crypto serve [--port N] [--kms-port N] [--bucket NAME] [--region R] [--json]

Runs in-memory stand-ins for OSS and KMS on 127.0.0.1 and prints how to reach them; stop with Ctrl-C.
  --port N          OSS port (default: a free one)
  --kms-port N      KMS port (default: a free one)
  --bucket NAME     the bucket to create (default test-bucket; others are created on first use)
  --region R        the OSS region clients are configured with (default oss-cn-hangzhou)
  --json            print one JSON line instead of the description
`;

/** What `oss-crypto serve` was asked for. */
export interface ServeSettings {
  readonly port: number;
  readonly kmsPort: number;
  readonly bucket: string;
  readonly region: string;
  readonly json: boolean;
}

/** Where the running stand-ins are and how to sign for them. */
export interface ServeDescription {
  oss: { endpoint: string; region: string; bucket: string; accessKeyId: string; accessKeySecret: string };
  kms: { endpoint: string; protocol: 'http'; region: string; keyId: string; accessKeyId: string; accessKeySecret: string };
}

/** A usage mistake in `serve`'s arguments. */
export class ServeUsageError extends Error {
  override readonly name = 'ServeUsageError';
}

/**
 * Parses `serve`'s arguments (those after the word `serve`).
 * @throws {ServeUsageError} for an unknown flag, a missing value, a bad port, region or bucket name
 * @example
 *   parseServeArgs(['--port', '9000', '--json']); // { port: 9000, kmsPort: 0, bucket: 'test-bucket', ... }
 */
export function parseServeArgs(argv: readonly string[]): ServeSettings | 'help' {
  let port = 0;
  let kmsPort = 0;
  let bucket = 'test-bucket';
  let region = 'oss-cn-hangzhou';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ServeUsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--port') port = portOf(arg, value());
    else if (arg === '--kms-port') kmsPort = portOf(arg, value());
    else if (arg === '--bucket') bucket = value();
    else if (arg === '--region') region = value();
    else if (arg === '--json') json = true;
    else throw new ServeUsageError(`unknown argument "${arg}" for serve; see oss-crypto serve --help`);
  }
  // OSS's bucket naming rule; a name it would refuse could not be used against OSS either.
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ServeUsageError(`--bucket expected 3..63 lower-case letters, digits and hyphens, got "${bucket}"`);
  }
  if (!/^[a-z0-9-]+$/.test(region)) throw new ServeUsageError(`--region expected a region id such as oss-cn-hangzhou, got "${region}"`);
  return { port, kmsPort, bucket, region, json };
}

/**
 * Starts both stand-ins with one shared credential pair, the bucket and one KMS master key.
 * @returns their description and a `close()` that stops both
 * @example
 *   const { description, close } = await startServe({ port: 0, kmsPort: 0, bucket: 'b', region: 'oss-cn-hangzhou', json: false });
 *   await close();
 */
export async function startServe(settings: ServeSettings): Promise<{ description: ServeDescription; close(): Promise<void> }> {
  const oss = await startOssServer({ port: settings.port, region: settings.region, buckets: [settings.bucket] });
  let kms;
  try {
    kms = await startKmsServer({ port: settings.kmsPort, accessKeys: { [TEST_ACCESS_KEY_ID]: TEST_ACCESS_KEY_SECRET } });
  } catch (err) {
    await oss.close();
    throw err;
  }
  const credentials = { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET };
  const description: ServeDescription = {
    oss: { endpoint: oss.endpoint, region: oss.region, bucket: settings.bucket, ...credentials },
    // The CLI derives the KMS region from the OSS one; the stand-in accepts any.
    kms: { endpoint: kms.endpoint, protocol: 'http', region: settings.region.replace(/^oss-/, ''), keyId: kms.createKey(), ...credentials },
  };
  const running = kms;
  return { description, close: async () => void (await Promise.all([oss.close(), running.close()])) };
}

/** The human-readable description `serve` prints. */
export function describeServe(d: ServeDescription): string {
  const env = `OSS_ENDPOINT=${d.oss.endpoint} OSS_REGION=${d.oss.region} OSS_ACCESS_KEY_ID=${d.oss.accessKeyId} OSS_ACCESS_KEY_SECRET=${d.oss.accessKeySecret}`;
  const kmsFlags = `--kms-key-id ${d.kms.keyId} --kms-endpoint ${d.kms.endpoint} --kms-protocol ${d.kms.protocol}`;
  return `oss-crypto serve: in-memory OSS and KMS stand-ins on 127.0.0.1 (stop with Ctrl-C)

OSS endpoint:       ${d.oss.endpoint}
OSS region:         ${d.oss.region}
bucket:             ${d.oss.bucket}
access key id:      ${d.oss.accessKeyId}
access key secret:  ${d.oss.accessKeySecret}
KMS endpoint:       ${d.kms.endpoint} (protocol ${d.kms.protocol}, region ${d.kms.region})
KMS key id:         ${d.kms.keyId}
KMS credentials:    the same access key pair

ali-oss:     new OSS({ endpoint: '${d.oss.endpoint}', region: '${d.oss.region}', bucket: '${d.oss.bucket}', accessKeyId: '${d.oss.accessKeyId}', accessKeySecret: '${d.oss.accessKeySecret}' })
oss-crypto:  export ${env}
             oss-crypto put FILE oss://${d.oss.bucket}/KEY ${kmsFlags}
             oss-crypto get oss://${d.oss.bucket}/KEY - ${kmsFlags}
`;
}

/**
 * Runs `oss-crypto serve` in this process: prints the description and serves until SIGINT or SIGTERM, then exits 0.
 * Returns only on a usage mistake or `--help` (with the exit status to use).
 * @param argv the arguments after `serve`
 * @example
 *   if (process.argv[2] === 'serve') process.exitCode = await serveMain(process.argv.slice(3));
 */
export async function serveMain(argv: readonly string[], io: { stdout: Writable; stderr: Writable } = process): Promise<number> {
  let settings: ServeSettings | 'help';
  try {
    settings = parseServeArgs(argv);
  } catch (err) {
    if (!(err instanceof ServeUsageError)) throw err;
    io.stderr.write(`error USAGE: ${err.message}\n`);
    return 2;
  }
  if (settings === 'help') {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  let running;
  try {
    running = await startServe(settings);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.stderr.write(`error ${typeof e?.code === 'string' ? e.code : 'ERROR'}: ${e?.message ?? String(err)}\n`);
    return 1;
  }
  const { description, close } = running;
  io.stdout.write(settings.json ? `${JSON.stringify({ ...description, pid: process.pid })}\n` : describeServe(description));
  return new Promise<number>(() => {
    const stop = () => {
      void close().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function portOf(flag: string, text: string): number {
  const port = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port < 65536)) throw new ServeUsageError(`${flag} expected a port 0..65535, got "${text}"`);
  return port;
}
