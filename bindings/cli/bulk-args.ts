/**
 * Parses the bulk commands, `oss-crypto encrypt-existing oss://BUCKET/PREFIX`, `oss-crypto decrypt-existing
 * oss://BUCKET/PREFIX --remove-encryption`, `oss-crypto rewrap oss://BUCKET/PREFIX --to-...` and `oss-crypto verify
 * oss://BUCKET/PREFIX`, with their flags: `--parallel N` (objects in flight), `--dry-run`, `--job FILE`, `--report FILE`,
 * `--shard I/N`, and for encrypt-existing and decrypt-existing `--part-size` / `--multipart-threshold`; the connection
 * and key flags are the other commands' (args.ts parses them). The flags themselves are declared in flags.ts's
 * table, which the README check reads; args.ts scans and checks them first.
 *
 * Pure, like args.ts. Deliberately not here: running the job (bulk-run.ts).
 * @module
 */
import { availableParallelism } from 'node:os';
import { parseShard } from '../jobs/shard.js';
import { parseConnection, parseInteger, parseKeys, parseMatdesc, parseSize } from './args.js';
import { CliUsageError } from './usage-error.js';
import type { BulkCommand, KeySettings, RewrapTarget } from './command.js';

/** Objects in flight when `--parallel` is not given. */
export const DEFAULT_BULK_PARALLEL = 8;

/**
 * Parses a bulk command's arguments (after args.ts has scanned them and checked each flag applies).
 * @param command `encrypt-existing`, `decrypt-existing`, `rewrap` or `verify`
 * @param args the positionals after the command
 * @param flags the scanned flags
 * @param env the environment (credentials, endpoint)
 * @returns the validated command
 * @throws {CliUsageError} for any mistake
 * @example
 *   parseCliArgs(['verify', 'oss://b/logs/', '--parallel', '16'], env) // { command: 'verify', parallel: 16, ... }
 */
export function parseBulkCommand(
  command: BulkCommand['command'],
  args: readonly string[],
  flags: ReadonlyMap<string, readonly string[]>,
  env: Readonly<Record<string, string | undefined>>,
): BulkCommand {
  const one = (name: string): string | undefined => flags.get(name)?.at(-1);
  if (args.length !== 1) {
    throw new CliUsageError(`${command} expected oss://BUCKET/PREFIX, got ${args.length === 0 ? 'none' : args.map((a) => `"${a}"`).join(' ')}; usage: oss-crypto ${command} oss://BUCKET/PREFIX`);
  }
  const target = parsePrefixUrl(args[0]);
  const parallelText = one('parallel');
  const parallel = parallelText === undefined ? DEFAULT_BULK_PARALLEL : parseInteger('--parallel', parallelText);
  if (parallel < 1 || parallel > 256) throw new CliUsageError(`--parallel expected 1..256 objects in flight, got ${parallelText}`);
  let shard: BulkCommand['shard'];
  const shardText = one('shard');
  if (shardText !== undefined) {
    try {
      shard = parseShard(shardText);
    } catch (err) {
      throw new CliUsageError(`--shard ${(err as Error).message} (e.g. --shard 0/3 on the first of three machines)`);
    }
  }
  for (const flag of ['job', 'report'] as const) {
    if (one(flag) === '') throw new CliUsageError(`--${flag} expected a file path, got an empty string`);
  }
  const partSizeText = one('part-size');
  const partSize = partSizeText === undefined ? undefined : parseSize('--part-size', partSizeText);
  if (partSize !== undefined && (partSize === 0 || partSize % 16 !== 0)) {
    throw new CliUsageError(`--part-size expected a positive multiple of 16 (the AES block), got ${partSizeText}`);
  }
  const thresholdText = one('multipart-threshold');
  const multipartThreshold = thresholdText === undefined ? undefined : parseSize('--multipart-threshold', thresholdText);
  const connection = parseConnection(one, env);
  // A bulk job unwraps a key per object: with a spare core, the RSA private operations go to worker threads
  // (keys/rsa-workers.ts; bench:rotate, 4 KiB objects on 2 cores: rewrap 985 → 1,049 objects/s).
  const keys = parseKeys(flags as Map<string, string[]>, one, env, connection, availableParallelism() > 1 ? 'workers' : 'node');
  if (command === 'encrypt-existing' && keys.rsaPublicKeyFile === undefined && keys.rsaPrivateKeyFile === undefined && keys.kms?.keyId === undefined) {
    throw new CliUsageError('encrypt-existing needs a key that can encrypt: --rsa-public-key FILE, --rsa-private-key FILE or --kms-key-id ID');
  }
  if (command === 'decrypt-existing' && !flags.has('remove-encryption')) {
    throw new CliUsageError(
      'decrypt-existing stores every encrypted object under the prefix in plaintext, for good; say so with --remove-encryption ' +
        '(try --dry-run first to see which objects it would change)',
    );
  }
  const to = command === 'rewrap' ? parseRewrapTarget(one, keys) : undefined;
  if ((command === 'verify' || command === 'rewrap' || command === 'decrypt-existing') && keys.rsaPrivateKeyFile === undefined && keys.kms === undefined && keys.materials.length === 0) {
    throw new CliUsageError(`${command} needs a key that can decrypt: --rsa-private-key FILE, --kms-key-id ID or --material`);
  }
  return {
    command,
    target,
    ...(to === undefined ? {} : { to }),
    connection,
    keys,
    parallel,
    dryRun: flags.has('dry-run'),
    job: one('job'),
    report: one('report'),
    shard,
    partSize,
    multipartThreshold,
    quiet: flags.has('quiet'),
  };
}

/**
 * Parses `oss://BUCKET/PREFIX`; the prefix may be empty (`oss://BUCKET/`: the whole bucket) and is taken literally.
 * @throws {CliUsageError} when the scheme or bucket is missing or the bucket name is not a valid OSS name
 * @example
 *   parsePrefixUrl('oss://logs/2024/') // { bucket: 'logs', prefix: '2024/' }
 */
export function parsePrefixUrl(text: string): { bucket: string; prefix: string } {
  const m = /^oss:\/\/([^/]*)\/?(.*)$/s.exec(text);
  if (m === null) throw new CliUsageError(`expected oss://BUCKET/PREFIX, got "${text}"`);
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(m[1])) {
    throw new CliUsageError(`"${m[1]}" in "${text}" is not a valid OSS bucket name (3-63 lower-case letters, digits or hyphens)`);
  }
  return { bucket: m[1], prefix: m[2] };
}

/** `rewrap`'s `--to-*` flags: exactly one new material, RSA public key or KMS key (which needs the `--kms-*` settings). */
function parseRewrapTarget(one: (name: string) => string | undefined, keys: KeySettings): RewrapTarget {
  const rsaPublicKeyFile = one('to-rsa-public-key');
  const kmsKeyId = one('to-kms-key-id');
  if ((rsaPublicKeyFile === undefined) === (kmsKeyId === undefined)) {
    throw new CliUsageError('rewrap needs exactly one new material: --to-rsa-public-key FILE or --to-kms-key-id ID');
  }
  if (rsaPublicKeyFile === '' || kmsKeyId === '') throw new CliUsageError('--to-rsa-public-key / --to-kms-key-id expected a value, got an empty string');
  if (kmsKeyId !== undefined && keys.kms === undefined) {
    throw new CliUsageError('--to-kms-key-id needs the KMS settings: --kms-region R or --kms-endpoint HOST:PORT (or --region)');
  }
  const padding = one('to-rsa-padding') ?? 'pkcs1';
  if (padding !== 'pkcs1' && padding !== 'oaep') throw new CliUsageError(`--to-rsa-padding expected pkcs1 or oaep, got "${padding}"`);
  if (kmsKeyId !== undefined && one('to-rsa-padding') !== undefined) throw new CliUsageError('--to-rsa-padding applies to --to-rsa-public-key only');
  const matdescText = one('to-matdesc');
  const matdesc = matdescText === undefined ? {} : parseMatdesc('--to-matdesc', matdescText);
  return { ...(rsaPublicKeyFile === undefined ? {} : { rsaPublicKeyFile }), ...(kmsKeyId === undefined ? {} : { kmsKeyId }), rsaPadding: padding, matdesc };
}
