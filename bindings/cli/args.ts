/**
 * Command-line parsing of `oss-crypto`: turns `argv` and the environment into one validated, typed command.
 *
 * Pure: no I/O, no `process` access (the caller passes `argv` and `env`), so every rule is unit-tested. The
 * grammar (see {@link USAGE}) is small enough that a hand-written scanner beats `node:util` `parseArgs`, which
 * refuses a value that starts with a dash (`--range -500`, the suffix form users type) and cannot express
 * "repeatable" and "only for this command".
 *
 * What it checks: the command and its positionals, `oss://BUCKET/KEY` URLs, byte ranges (`a-b`, `a-`, `-n`,
 * docs/FORMAT.md §4: suffix and open ranges are first-class), sizes (`8MiB`, `1048576`), enumerations, the
 * `--matdesc` / `--material` JSON (a matdesc is a JSON object of string values, docs/FORMAT.md §2.3), and that
 * the command has what it needs (credentials, an endpoint or region, a key able to write for `put`). Every
 * violation is a {@link CliUsageError} (exit status 2, `error USAGE: ...`).
 *
 * Not here: reading key files, building clients, talking to OSS (`cli/main.ts`, `cli/run.ts`).
 * @module
 */
import { parseRange as parseRangeSpec, type RangeSpec } from '../transfer/range.js';
import { closest } from './did-you-mean.js';
import { COMMANDS, FLAGS, SHORT_FLAGS } from './flags.js';
import { resolveKmsPassphrase } from './kms-passphrase.js';
import { parseBulkCommand } from './bulk-args.js';
import { CliUsageError } from './usage-error.js';
import type { CliCommand, Command, Connection, ExtraMaterial, KeySettings, KmsSettings, OssUrl, TransferSettings } from './command.js';

export { commandUsage, USAGE } from './usage.js';
export { CliUsageError } from './usage-error.js';
export type { CliCommand, Command, Connection, ExtraMaterial, KeySettings, KmsSettings, OssUrl, TransferSettings } from './command.js';

/**
 * `put` switches to multipart upload at this size unless `--multipart-threshold` says otherwise (100 MiB).
 * @example
 *   const multipart = size >= (cmd.transfer.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD);
 */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;
/**
 * `keygen` default modulus size.
 * @example
 *   await generateRsaKeyPair(DEFAULT_RSA_BITS);
 */
export const DEFAULT_RSA_BITS = 2048;

/**
 * Parses the command line of `oss-crypto`.
 * @param argv the arguments after the program name (`process.argv.slice(2)`)
 * @param env the environment to read `OSS_*` / `KMS_*` variables from
 * @returns the validated command; `{ command: 'help' }` for `--help`, `-h` or `help` (with `topic` after a command,
 *   `noArguments` when argv is empty), `{ command: 'version' }` for `--version`
 * @throws {CliUsageError} on any mistake, with a message that names the flag or argument and the value received
 * @example
 *   const cmd = parseCliArgs(['get', 'oss://b/k.bin', '-', '--range', '-100'], process.env);
 *   if (cmd.command === 'get') cmd.range; // { kind: 'suffix', length: 100 }
 */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  if (argv.length === 0) return { command: 'help', noArguments: true };
  if (argv[0] === 'serve') {
    // serve.ts parses its own flags; scanning them here first gives them the same "did you mean" treatment.
    scan(argv.slice(1), 'serve');
    return { command: 'serve', argv: argv.slice(1) };
  }
  const { positionals, flags } = scan(argv);
  const first = positionals[0] as Command | undefined;
  const topic = first !== undefined && COMMANDS.includes(first) ? first : undefined;
  if (flags.has('help') || positionals[0] === 'help') {
    // `help put` reads as `put --help`.
    const named = positionals[0] === 'help' ? (positionals[1] as Command | undefined) : topic;
    return named !== undefined && COMMANDS.includes(named) ? { command: 'help', topic: named } : { command: 'help' };
  }
  if (flags.has('version')) return { command: 'version' };
  if (positionals.length === 0) throw new CliUsageError('no command given; expected one of ' + COMMANDS.join(', ') + ' (see --help)');

  const command = positionals[0] as Command;
  if (!COMMANDS.includes(command)) {
    const guess = closest(positionals[0], COMMANDS);
    throw new CliUsageError(
      `unknown command "${positionals[0]}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; expected one of ${COMMANDS.join(', ')} (see --help)`,
    );
  }
  for (const name of flags.keys()) {
    if (!FLAGS[name].commands.includes(command)) {
      throw new CliUsageError(`--${name} is not an option of "${command}" (it applies to: ${FLAGS[name].commands.join(', ')})`);
    }
  }
  if (command === 'serve') throw new CliUsageError('serve must come first, its flags after it: oss-crypto serve [--port N] [--bucket NAME] ...');
  const args = positionals.slice(1);
  const quiet = flags.has('quiet');
  if (command === 'encrypt-existing' || command === 'decrypt-existing' || command === 'rewrap' || command === 'verify') {
    return parseBulkCommand(command, args, flags, env);
  }
  const one = (name: string): string | undefined => flags.get(name)?.at(-1);

  if (command === 'keygen') {
    expectPositionals(command, args, [], 'oss-crypto keygen --out PREFIX [--bits 2048]');
    const out = one('out');
    if (out === undefined || out === '') throw new CliUsageError('keygen needs --out PREFIX (the key files are PREFIX.private.pem and PREFIX.public.pem)');
    const bitsText = one('bits');
    const bits = bitsText === undefined ? DEFAULT_RSA_BITS : parseInteger('--bits', bitsText);
    if (bits < 2048 || bits > 4096 || bits % 8 !== 0) {
      throw new CliUsageError(`--bits expected a multiple of 8 from 2048 to 4096 (smaller keys may only read old objects), got ${bitsText}`);
    }
    return { command, out, bits, quiet };
  }

  // What the command is about comes first: a wrong argument is reported before missing settings.
  if (command === 'head') {
    expectPositionals(command, args, ['oss://BUCKET/KEY'], 'oss-crypto head oss://BUCKET/KEY');
    const target = parseOssUrl(args[0]);
    const connection = parseConnection(one, env);
    return { command, target, connection, keys: parseKeys(flags, one, env, connection), quiet };
  }

  if (command === 'put') {
    expectPositionals(command, args, ['<file|->', 'oss://BUCKET/KEY'], 'oss-crypto put <file|-> oss://BUCKET/KEY');
    if (args[0] === '') throw new CliUsageError('put expected a file path or "-" (stdin), got an empty string');
    const target = parseOssUrl(args[1]);
    const transfer = parseTransfer(one);
    const connection = parseConnection(one, env);
    const keys = parseKeys(flags, one, env, connection);
    if (keys.rsaPublicKeyFile === undefined && keys.rsaPrivateKeyFile === undefined && keys.kms?.keyId === undefined) {
      throw new CliUsageError('put needs a key that can encrypt: --rsa-public-key FILE, --rsa-private-key FILE or --kms-key-id ID');
    }
    if (args[0] === '-' && transfer.checkpoint !== undefined) {
      // The upload of a stream of unknown size writes no checkpoint (its part plan is not known in advance), and
      // stdin could not be read again from the right place anyway: refuse rather than promise a resume.
      throw new CliUsageError('--checkpoint needs an input file; stdin ("-") cannot be resumed');
    }
    if (transfer.checkpoint !== undefined && keys.rsaPrivateKeyFile === undefined && keys.kms?.keyId === undefined) {
      // A resumed upload must encrypt its remaining parts with the same content key, recovered by unwrapping.
      throw new CliUsageError(
        'put --checkpoint needs a key that can also decrypt (--rsa-private-key or --kms-key-id): resuming unwraps the content key stored in the checkpoint',
      );
    }
    return { command, source: args[0], target, connection, keys, transfer, quiet };
  }

  expectPositionals(command, args, ['oss://BUCKET/KEY', '<file|->'], 'oss-crypto get oss://BUCKET/KEY <file|-> [--range a-b|a-|-n]');
  const source = parseOssUrl(args[0]);
  if (args[1] === '') throw new CliUsageError('get expected a file path or "-" (stdout), got an empty string');
  const rangeText = one('range');
  const range = rangeText === undefined ? undefined : parseRange(rangeText);
  const transfer = parseTransfer(one);
  if (range !== undefined && transfer.checkpoint !== undefined) {
    throw new CliUsageError('--checkpoint resumes whole-object downloads only; it cannot be combined with --range');
  }
  if (args[1] === '-' && transfer.checkpoint !== undefined) {
    throw new CliUsageError('--checkpoint needs an output file; stdout ("-") cannot be resumed');
  }
  const connection = parseConnection(one, env);
  const keys = parseKeys(flags, one, env, connection);
  const hasReadKey = keys.rsaPrivateKeyFile !== undefined || keys.kms !== undefined || keys.materials.length > 0;
  if (!hasReadKey && keys.plaintext !== 'allow') {
    throw new CliUsageError(
      'get needs a key that can decrypt: --rsa-private-key FILE, --kms-key-id ID or --material (or --plaintext allow for unencrypted objects)',
    );
  }
  return { command, source, target: args[1], range, connection, keys, transfer, quiet };
}

/**
 * Parses `oss://BUCKET/KEY`. The key is everything after the first `/` after the bucket, taken literally.
 * @throws {CliUsageError} when the scheme, bucket or key is missing or the bucket name is not a valid OSS name
 * @example
 *   parseOssUrl('oss://photos/2024/a.jpg') // { bucket: 'photos', key: '2024/a.jpg' }
 */
export function parseOssUrl(text: string): OssUrl {
  const m = /^oss:\/\/([^/]*)\/(.*)$/s.exec(text);
  if (m === null) throw new CliUsageError(`expected oss://BUCKET/KEY, got "${text}"`);
  const [, bucket, key] = m;
  // OSS bucket names: 3-63 characters, lower-case letters, digits and hyphens, not starting/ending with a hyphen.
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new CliUsageError(`"${bucket}" in "${text}" is not a valid OSS bucket name (3-63 lower-case letters, digits or hyphens)`);
  }
  if (key === '') throw new CliUsageError(`"${text}" names no object key after the bucket`);
  return { bucket, key };
}

/**
 * Parses a byte range as typed after `--range`: `a-b` (bytes a..b inclusive), `a-` (from a to the end) or
 * `-n` (the last n bytes); a leading `bytes=` is accepted. The grammar is the client's own
 * (transfer/range.ts `parseRange`), so the CLI accepts exactly what the library does; its errors become usage
 * errors.
 * @throws {CliUsageError} on anything else, an end before the start, or `-0`
 * @example
 *   parseRange('100-199') // { kind: 'bounded', start: 100, end: 199 }
 *   parseRange('-500')    // { kind: 'suffix', length: 500 }
 */
export function parseRange(text: string): RangeSpec {
  try {
    return parseRangeSpec(text);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new CliUsageError(`--range ${err.message}`);
    throw err;
  }
}

/**
 * Parses a byte count: a decimal integer with an optional binary suffix (`K`/`KiB`, `M`/`MiB`, `G`/`GiB`,
 * case-insensitive; `KB`/`MB`/`GB` are read as binary too, as most transfer tools do).
 * @throws {CliUsageError} naming `flag` when the text is not such a count or exceeds 2^53 - 1
 * @example
 *   parseSize('--part-size', '8MiB') // 8388608
 */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (m === null) throw new CliUsageError(`${flag} expected a byte count such as 1048576 or 8MiB, got "${text}"`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const value = Number(m[1]) * scale;
  if (!Number.isSafeInteger(value)) throw new CliUsageError(`${flag} value "${text}" is too large`);
  return value;
}

// ---- helpers; parseConnection, parseKeys, parseSize and parseInteger also parse the bulk commands (bulk-args.ts) ----

function scan(argv: readonly string[], command?: Command): { positionals: string[]; flags: Map<string, string[]> } {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const spec = FLAGS[name];
    const list = flags.get(name) ?? [];
    if (list.length > 0 && spec.repeat !== true && list.at(-1) !== value) {
      throw new CliUsageError(`--${name} was given twice ("${list.at(-1)}" and "${value}"); give it once`);
    }
    list.push(value);
    flags.set(name, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (typeof arg !== 'string') throw new TypeError(`"argv" expected strings, got ${typeof arg} at index ${i}`);
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone "-" is stdin/stdout; anything else starting with "-" is a flag.
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      if (arg.length !== 2 || SHORT_FLAGS[arg[1]] === undefined) {
        // "-help", "-range": a long flag typed with one dash.
        const long = FLAGS[arg.slice(1)] === undefined ? '' : `; did you mean "-${arg}"?`;
        throw new CliUsageError(`unknown option "${arg}"${long} (see --help)`);
      }
      name = SHORT_FLAGS[arg[1]];
    }
    const spec = FLAGS[name];
    if (spec === undefined) {
      const known = Object.keys(FLAGS).filter((f) => command === undefined || FLAGS[f].commands.includes(command));
      const guess = closest(name, known);
      throw new CliUsageError(`unknown option "--${name}"${guess === undefined ? '' : `; did you mean "--${guess}"?`} (see --help)`);
    }
    if (!spec.value) {
      if (inline !== undefined) throw new CliUsageError(`--${name} takes no value, got "--${name}=${inline}"`);
      add(name, '');
      continue;
    }
    if (inline === undefined) {
      // The next word is the value even when it starts with "-": `--range -500` is a suffix range.
      if (i + 1 >= argv.length) throw new CliUsageError(`--${name} needs a value`);
      inline = argv[++i];
    }
    add(name, inline);
  }
  return { positionals, flags };
}

function expectPositionals(command: string, args: readonly string[], names: readonly string[], synopsis: string): void {
  if (args.length !== names.length) {
    const got = args.length === 0 ? 'none' : args.map((a) => `"${a}"`).join(' ');
    throw new CliUsageError(
      `${command} expected ${names.length === 0 ? 'no arguments' : names.join(' ')}, got ${got}; usage: ${synopsis}`,
    );
  }
}

export function parseConnection(one: (n: string) => string | undefined, env: Readonly<Record<string, string | undefined>>): Connection {
  const flagEndpoint = nonEmpty(one('endpoint'));
  const endpoint = flagEndpoint ?? nonEmpty(env.OSS_ENDPOINT);
  const endpointSource = flagEndpoint !== undefined ? '--endpoint' : 'OSS_ENDPOINT';
  const region = nonEmpty(one('region')) ?? nonEmpty(env.OSS_REGION);
  if (endpoint === undefined && region === undefined) {
    throw new CliUsageError('no OSS endpoint: give --endpoint URL or --region R (or set OSS_ENDPOINT / OSS_REGION)');
  }
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/i.test(endpoint)) {
    throw new CliUsageError(`${endpointSource} expected http(s)://HOST[:PORT], got "${endpoint}" (the scheme is required)`);
  }
  const accessKeyId = nonEmpty(env.OSS_ACCESS_KEY_ID);
  const accessKeySecret = nonEmpty(env.OSS_ACCESS_KEY_SECRET);
  if (accessKeyId === undefined || accessKeySecret === undefined) {
    throw new CliUsageError('no OSS credentials: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN for STS)');
  }
  return { endpoint, region, accessKeyId, accessKeySecret, stsToken: nonEmpty(env.OSS_SESSION_TOKEN) };
}

export function parseKeys(
  flags: Map<string, string[]>,
  one: (n: string) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  connection: Connection,
  defaultRsaEngine: KeySettings['rsaEngine'] = 'node',
): KeySettings {
  const materials = (flags.get('material') ?? []).map(parseMaterial);
  const matdescText = one('matdesc');
  const matdesc = matdescText === undefined ? undefined : parseMatdesc('--matdesc', matdescText);
  const rsaPadding = oneOf('--rsa-padding', one('rsa-padding') ?? 'pkcs1', ['pkcs1', 'oaep'] as const);
  const rsaEngine = oneOf('--rsa-engine', one('rsa-engine') ?? defaultRsaEngine, ['node', 'workers', 'wasm', 'forge'] as const);
  const plaintext = oneOf('--plaintext', one('plaintext') ?? 'reject', ['reject', 'allow'] as const);

  const kmsFlagGiven = [...flags.keys()].some((n) => n.startsWith('kms-'));
  let kms: KmsSettings | undefined;
  if (kmsFlagGiven || materials.some((m) => m.kind === 'kms')) {
    // KMS has its own credentials when the operator separates duties; otherwise the OSS ones serve both.
    const ownId = nonEmpty(env.KMS_ACCESS_KEY_ID);
    const ownSecret = nonEmpty(env.KMS_ACCESS_KEY_SECRET);
    if ((ownId === undefined) !== (ownSecret === undefined)) {
      throw new CliUsageError('set both KMS_ACCESS_KEY_ID and KMS_ACCESS_KEY_SECRET, or neither (then the OSS credentials are used)');
    }
    const region = nonEmpty(one('kms-region')) ?? connection.region?.replace(/^oss-/, '');
    const endpoint = nonEmpty(one('kms-endpoint'));
    if (region === undefined && endpoint === undefined) {
      throw new CliUsageError('KMS needs --kms-region R or --kms-endpoint HOST:PORT (or --region, from which the KMS region is derived)');
    }
    if (endpoint !== undefined && /^[a-z]+:\/\//i.test(endpoint)) {
      throw new CliUsageError(`--kms-endpoint expected HOST[:PORT] without a scheme (use --kms-protocol), got "${endpoint}"`);
    }
    kms = {
      keyId: nonEmpty(one('kms-key-id')),
      region,
      endpoint,
      protocol: oneOf('--kms-protocol', (one('kms-protocol') ?? 'https').toLowerCase(), ['http', 'https'] as const),
      passphrase: resolveKmsPassphrase(one('kms-passphrase'), one('kms-passphrase-file'), env),
      blobLayout: oneOf('--kms-blob-layout', one('kms-blob-layout') ?? 'go', ['go', 'oss2'] as const),
      accessKeyId: ownId ?? connection.accessKeyId,
      accessKeySecret: ownSecret ?? connection.accessKeySecret,
      stsToken: ownId === undefined ? connection.stsToken : undefined,
    };
  }
  const rsaPublicKeyFile = nonEmpty(one('rsa-public-key'));
  const rsaPrivateKeyFile = nonEmpty(one('rsa-private-key'));
  // One main material: it writes new objects and reads those without matdesc. Others come with --material.
  if ((rsaPublicKeyFile !== undefined || rsaPrivateKeyFile !== undefined) && kms?.keyId !== undefined) {
    throw new CliUsageError(
      'give either an RSA key (--rsa-public-key / --rsa-private-key) or --kms-key-id as the main key, not both; add more read keys with --material',
    );
  }
  return {
    rsaPublicKeyFile,
    rsaPrivateKeyFile,
    rsaPadding,
    rsaEngine,
    kms,
    matdesc,
    materials,
    plaintext,
  };
}

function parseTransfer(one: (n: string) => string | undefined): TransferSettings {
  const partSizeText = one('part-size');
  const partSize = partSizeText === undefined ? undefined : parseSize('--part-size', partSizeText);
  if (partSize !== undefined && (partSize === 0 || partSize % 16 !== 0)) {
    throw new CliUsageError(`--part-size expected a positive multiple of 16 (the AES block), got ${partSizeText} = ${partSize} bytes`);
  }
  const parallelText = one('parallel');
  const parallel = parallelText === undefined ? undefined : parseInteger('--parallel', parallelText);
  if (parallel !== undefined && (parallel < 1 || parallel > 64)) {
    throw new CliUsageError(`--parallel expected 1..64, got ${parallelText}`);
  }
  const thresholdText = one('multipart-threshold');
  const multipartThreshold = thresholdText === undefined ? DEFAULT_MULTIPART_THRESHOLD : parseSize('--multipart-threshold', thresholdText);
  const checkpoint = one('checkpoint');
  if (checkpoint === '') throw new CliUsageError('--checkpoint expected a file path, got an empty string');
  return { partSize, parallel, multipartThreshold, checkpoint };
}

function parseMaterial(text: string): ExtraMaterial {
  // JSON may itself contain "=", so split at a "}=" whose left side parses as the matdesc object.
  for (let i = text.indexOf('}='); i !== -1; i = text.indexOf('}=', i + 1)) {
    const json = text.slice(0, i + 1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      continue;
    }
    const matdesc = checkMatdesc('--material', json, parsed);
    const source = text.slice(i + 2);
    if (source.startsWith('kms:')) {
      const keyId = source.slice(4);
      if (keyId === '') throw new CliUsageError(`--material "${text}" names kms: without a key id`);
      return { matdesc, kind: 'kms', keyId };
    }
    if (source === '') throw new CliUsageError(`--material "${text}" names no private key file after "="`);
    return { matdesc, kind: 'rsa', privateKeyFile: source };
  }
  throw new CliUsageError(`--material expected 'JSON=FILE' or 'JSON=kms:KEYID' with JSON a matdesc object, got "${text}"`);
}

export function parseMatdesc(flag: string, text: string): Readonly<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliUsageError(`${flag} expected a JSON object such as '{"owner":"ops"}', got "${text}" (not JSON)`);
  }
  return checkMatdesc(flag, text, parsed);
}

function checkMatdesc(flag: string, text: string, parsed: unknown): Readonly<Record<string, string>> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliUsageError(`${flag} expected a JSON object of string values, got "${text}"`);
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new CliUsageError(`${flag}: matdesc values must be strings; "${k}" is ${JSON.stringify(v)} in "${text}"`);
  }
  return Object.freeze({ ...(parsed as Record<string, string>) });
}

export function parseInteger(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new CliUsageError(`${flag} expected a non-negative integer, got "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new CliUsageError(`${flag} value "${text}" is too large`);
  return value;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliUsageError(`${flag} expected ${allowed.join(' or ')}, got "${value}"`);
  }
  return value as T;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);
