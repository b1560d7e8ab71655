/**
 * Tests of the `oss-crypto` CLI: the pure argument parser (bindings/cli/args.ts), then the CLI run as a child
 * process against the loopback OSS and KMS stand-ins over real HTTP.
 * @module
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pseudoRandomBytes } from './_util.js';
import { formatBytes, formatDuration, progressBar } from '../bindings/cli/progress.js';
import { cliMessage, errorCode } from '../bindings/cli/run.js';
import { KeyUnwrapError } from '../bindings/errors.js';
import { startKmsServer, type KmsServer } from './support/kms-server.js';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import {
  CliUsageError,
  commandUsage,
  USAGE,
  DEFAULT_MULTIPART_THRESHOLD,
  parseCliArgs,
  parseOssUrl,
  parseRange,
  parseSize,
  type CliCommand,
} from '../bindings/cli/args.js';
import { formatRange } from '../bindings/transfer/range.js';

const ENV = { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 'secret', OSS_ENDPOINT: 'http://127.0.0.1:9' };

function usage(argv: string[], pattern: RegExp, env: Record<string, string | undefined> = ENV): void {
  try {
    parseCliArgs(argv, env);
  } catch (err) {
    assert.instance(err, CliUsageError);
    assert.is((err as CliUsageError).code, 'USAGE');
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a usage error for ${JSON.stringify(argv)}`);
}

function parse<C extends CliCommand['command']>(command: C, argv: string[], env: Record<string, string | undefined> = ENV) {
  const parsed = parseCliArgs(argv, env);
  assert.is(parsed.command, command);
  return parsed as Extract<CliCommand, { command: C }>;
}

const args = suite('cli args');

args('help: --help, -h, help; after a command, that command\'s help; no arguments is marked (usage, exit 2)', () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    assert.equal(parseCliArgs(argv, {}), { command: 'help' }, JSON.stringify(argv));
  }
  for (const argv of [['get', '--help'], ['help', 'get'], ['get', 'oss://b/k', '-h']]) {
    assert.equal(parseCliArgs(argv, {}), { command: 'help', topic: 'get' }, JSON.stringify(argv));
  }
  assert.equal(parseCliArgs([], {}), { command: 'help', noArguments: true });
  assert.equal(parseCliArgs(['--version'], {}), { command: 'version' });
  assert.equal(parseCliArgs(['serve', '--port', '0', '--json'], {}), { command: 'serve', argv: ['--port', '0', '--json'] });
});

args('per-command usage lists that command\'s flags only', () => {
  const put = commandUsage('put');
  assert.ok(put.includes('oss-crypto put <file|-> oss://BUCKET/KEY'));
  for (const flag of ['--checkpoint', '--multipart-threshold', '--rsa-public-key', '--part-size', '--quiet']) assert.ok(put.includes(flag), flag);
  for (const flag of ['--range', '--out', '--bits', '--bucket']) assert.not.ok(put.includes(flag), flag);
  const keygen = commandUsage('keygen');
  assert.ok(keygen.includes('--out') && keygen.includes('--bits'));
  assert.not.ok(keygen.includes('--endpoint'));
  assert.ok(commandUsage('serve').includes('--kms-port'));
  // serve is documented in the main usage too.
  assert.ok(USAGE.includes('oss-crypto serve'));
});

args('did you mean: a mistyped flag or command names the nearest one of that command', () => {
  usage(['put', 'f', 'oss://bkt/k', '--partsize', '8MiB'], /unknown option "--partsize"; did you mean "--part-size"\?/);
  usage(['get', 'oss://bkt/k', 'o', '--rnage', '1-2'], /did you mean "--range"\?/);
  usage(['put', 'f', 'oss://bkt/k', '--chekpoint', 'c'], /did you mean "--checkpoint"\?/);
  usage(['get', 'oss://bkt/k', 'o', '-range', '1-2'], /unknown option "-range"; did you mean "--range"\?/);
  usage(['gte', 'oss://bkt/k', 'o'], /unknown command "gte" \(did you mean "get"\?\)/);
  usage(['serve', '--prot', '9000'], /did you mean "--port"\?/);
  // Nothing near: no guess.
  usage(['get', 'oss://bkt/k', 'o', '--zzzzzzzz'], /^unknown option "--zzzzzzzz" \(see --help\)$/);
});

args('oss:// URLs: bucket and key split at the first slash; bad ones rejected', () => {
  assert.equal(parseOssUrl('oss://my-bucket/a/b/c.bin'), { bucket: 'my-bucket', key: 'a/b/c.bin' });
  assert.equal(parseOssUrl('oss://abc/ spaced =key'), { bucket: 'abc', key: ' spaced =key' });
  for (const bad of ['s3://abc/k', 'oss://abc', 'oss://abc/', 'oss:///k', 'oss://AB/k', 'oss://-ab/k', 'abc/k']) {
    assert.throws(() => parseOssUrl(bad), (e: unknown) => e instanceof CliUsageError && e.message.includes(bad), bad);
  }
});

args('ranges: a-b, a-, -n, bytes= prefix; the HTTP header round-trips', () => {
  assert.equal(parseRange('0-0'), { kind: 'bounded', start: 0, end: 0 });
  assert.equal(parseRange('100-199'), { kind: 'bounded', start: 100, end: 199 });
  assert.equal(parseRange('17-'), { kind: 'open', start: 17 });
  assert.equal(parseRange('-500'), { kind: 'suffix', length: 500 });
  assert.equal(parseRange('bytes=5-9'), { kind: 'bounded', start: 5, end: 9 });
  for (const text of ['0-0', '100-199', '17-', '-500']) assert.is(formatRange(parseRange(text)), `bytes=${text}`);
  for (const bad of ['', '-', '5', 'a-b', '9-5', '-0', '1-2-3', '1.5-2']) {
    assert.throws(() => parseRange(bad), (e: unknown) => e instanceof CliUsageError, JSON.stringify(bad));
  }
  assert.throws(() => parseRange('9-5'), /--range .*first byte 9 is after last byte 5/);
});

args('sizes: plain bytes and binary suffixes', () => {
  assert.is(parseSize('--part-size', '1048576'), 1048576);
  assert.is(parseSize('--part-size', '100KiB'), 102400);
  assert.is(parseSize('--part-size', '8MiB'), 8 * 1024 * 1024);
  assert.is(parseSize('--part-size', '2m'), 2 * 1024 * 1024);
  assert.is(parseSize('--part-size', '1G'), 1024 ** 3);
  for (const bad of ['', 'x', '1.5M', '-1', '1T', '99999999999999999999']) {
    assert.throws(() => parseSize('--part-size', bad), (e: unknown) => e instanceof CliUsageError && e.message.startsWith('--part-size'), bad);
  }
});

args('get: positionals, --range in both spellings (suffix included), stdout "-"', () => {
  const key = ['--rsa-private-key', 'k.pem'];
  for (const argv of [
    ['get', 'oss://bkt/o.bin', 'out.bin', '--range', '-500', ...key],
    ['get', 'oss://bkt/o.bin', 'out.bin', '--range=-500', ...key],
    ['get', '--range', '-500', ...key, 'oss://bkt/o.bin', 'out.bin'],
  ]) {
    const cmd = parse('get', argv);
    assert.equal(cmd.source, { bucket: 'bkt', key: 'o.bin' });
    assert.is(cmd.target, 'out.bin');
    assert.equal(cmd.range, { kind: 'suffix', length: 500 });
    assert.is(cmd.keys.rsaPrivateKeyFile, 'k.pem');
  }
  const whole = parse('get', ['get', 'oss://bkt/o.bin', '-', ...key, '-q']);
  assert.is(whole.target, '-');
  assert.is(whole.range, undefined);
  assert.is(whole.quiet, true);
  assert.is(parse('get', ['get', 'oss://bkt/o', 'x', '--range', '3-', ...key]).range?.kind, 'open');
  assert.is(parse('get', ['get', 'oss://bkt/o', 'x', '--range=3-4', ...key]).range?.kind, 'bounded');
  // "--" ends the options: a file literally named "-r" is possible.
  assert.is(parse('get', ['get', ...key, '--', 'oss://bkt/o', '-r']).target, '-r');
});

args('connection: flags win over OSS_* variables; credentials only from the environment', () => {
  const env = { ...ENV, OSS_REGION: 'oss-cn-hangzhou', OSS_SESSION_TOKEN: 'tok' };
  const cmd = parse('head', ['head', 'oss://bkt/k', '--endpoint', 'http://127.0.0.1:1234'], env);
  assert.equal(cmd.connection, {
    endpoint: 'http://127.0.0.1:1234',
    region: 'oss-cn-hangzhou',
    accessKeyId: 'id',
    accessKeySecret: 'secret',
    stsToken: 'tok',
  });
  assert.is(parse('head', ['head', 'oss://bkt/k'], env).connection.endpoint, 'http://127.0.0.1:9');
  usage(['head', 'oss://bkt/k'], /no OSS endpoint/, { OSS_ACCESS_KEY_ID: 'a', OSS_ACCESS_KEY_SECRET: 'b' });
  usage(['head', 'oss://bkt/k'], /no OSS credentials/, { OSS_ENDPOINT: 'http://h' });
  usage(['head', 'oss://bkt/k', '--endpoint', '127.0.0.1:80'], /^--endpoint expected .*scheme is required/);
  // The message names where a bad endpoint came from.
  usage(['head', 'oss://bkt/k'], /^OSS_ENDPOINT expected http\(s\):\/\/HOST\[:PORT\], got "127.0.0.1:80"/, { ...ENV, OSS_ENDPOINT: '127.0.0.1:80' });
});

args('keys: RSA padding, KMS settings and credentials, matdesc and --material', () => {
  const env = { ...ENV, OSS_REGION: 'oss-cn-shanghai' };
  const put = parse('put', [
    'put', 'f', 'oss://bkt/k', '--rsa-public-key', 'pub.pem', '--rsa-padding', 'oaep',
    '--matdesc', '{"owner":"ops","x":"a=b"}',
    '--material', '{"k":"v=1"}=old.pem', '--material', '{"team":"a"}=kms:key-123',
  ], env);
  assert.is(put.keys.rsaPadding, 'oaep');
  assert.equal(put.keys.matdesc, { owner: 'ops', x: 'a=b' });
  assert.equal(put.keys.materials, [
    { matdesc: { k: 'v=1' }, kind: 'rsa', privateKeyFile: 'old.pem' },
    { matdesc: { team: 'a' }, kind: 'kms', keyId: 'key-123' },
  ]);
  // A kms: material brings KMS in; its region derives from the OSS region, its credentials from OSS's.
  assert.equal(put.keys.kms, {
    keyId: undefined, region: 'cn-shanghai', endpoint: undefined, protocol: 'https', passphrase: undefined,
    blobLayout: 'go', accessKeyId: 'id', accessKeySecret: 'secret', stsToken: undefined,
  });
  const kms = parse('get', [
    'get', 'oss://bkt/k', 'out', '--kms-key-id', 'kid', '--kms-endpoint', '127.0.0.1:99', '--kms-protocol', 'HTTP',
    '--kms-passphrase', 'pw', '--kms-blob-layout', 'oss2',
  ], { ...ENV, KMS_ACCESS_KEY_ID: 'kid2', KMS_ACCESS_KEY_SECRET: 'ksec' });
  assert.equal(kms.keys.kms, {
    keyId: 'kid', region: undefined, endpoint: '127.0.0.1:99', protocol: 'http', passphrase: 'pw',
    blobLayout: 'oss2', accessKeyId: 'kid2', accessKeySecret: 'ksec', stsToken: undefined,
  });
  assert.is(parse('get', ['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'p']).keys.rsaPadding, 'pkcs1');
  assert.is(parse('get', ['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'p']).keys.rsaEngine, 'node');
  assert.is(parse('head', ['head', 'oss://bkt/k', '--rsa-engine', 'wasm']).keys.rsaEngine, 'wasm');
  assert.is(parse('get', ['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'p']).keys.plaintext, 'reject');
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--rsa-padding', 'pss'], /--rsa-padding expected pkcs1 or oaep, got "pss"/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--matdesc', '{"a":1}'], /values must be strings; "a" is 1/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--matdesc', '[1]'], /JSON object of string values/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--matdesc', '{oops'], /not JSON/);
  usage(['get', 'oss://bkt/k', 'o', '--material', 'old.pem'], /'JSON=FILE'/);
  usage(['get', 'oss://bkt/k', 'o', '--material', '{"a":"b"}='], /no private key file/);
  usage(['get', 'oss://bkt/k', 'o', '--kms-key-id', 'k'], /KMS needs --kms-region/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--kms-key-id', 'k', '--kms-region', 'r'], /either an RSA key .* or --kms-key-id/);
  usage(['get', 'oss://bkt/k', 'o', '--kms-key-id', 'k', '--kms-endpoint', 'http://h:1'], /without a scheme/);
  usage(['get', 'oss://bkt/k', 'o', '--kms-key-id', 'k', '--kms-region', 'r'], /both KMS_ACCESS_KEY_ID and KMS_ACCESS_KEY_SECRET/, {
    ...ENV, KMS_ACCESS_KEY_ID: 'only-id',
  });
});

args('transfer: sizes, parallelism, threshold default, checkpoint rules', () => {
  const put = parse('put', ['put', 'f', 'oss://bkt/k', '--rsa-private-key', 'p', '--part-size', '256KiB', '--parallel', '3', '--multipart-threshold', '1M', '--checkpoint', 'cp.json']);
  assert.equal(put.transfer, { partSize: 262144, parallel: 3, multipartThreshold: 1048576, checkpoint: 'cp.json' });
  assert.is(put.source, 'f');
  assert.is(parse('put', ['put', '-', 'oss://bkt/k', '--rsa-private-key', 'p', '--part-size', '256KiB']).source, '-');
  // A stream of unknown size has no checkpoint (its plan is not known), so stdin would silently not be resumable.
  usage(['put', '-', 'oss://bkt/k', '--rsa-private-key', 'p', '--checkpoint', 'c'], /--checkpoint needs an input file; stdin \("-"\) cannot be resumed/);
  assert.is(parse('put', ['put', 'f', 'oss://bkt/k', '--kms-key-id', 'k', '--kms-region', 'r']).transfer.multipartThreshold, DEFAULT_MULTIPART_THRESHOLD);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--part-size', '100001'], /multiple of 16.*100001 = 100001 bytes/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--parallel', '0'], /--parallel expected 1\.\.64, got 0/);
  usage(['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'p', '--range', '1-2', '--checkpoint', 'c'], /cannot be combined with --range/);
  usage(['get', 'oss://bkt/k', '-', '--rsa-private-key', 'p', '--checkpoint', 'c'], /stdout/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--checkpoint', 'c'], /put --checkpoint needs a key that can also decrypt/);
});

args('usage errors name what was wrong', () => {
  usage(['frobnicate'], /unknown command "frobnicate"/);
  usage(['get', 'oss://bkt/k'], /get expected oss:\/\/BUCKET\/KEY <file\|->, got "oss:\/\/bkt\/k"/);
  // The arguments are checked before the settings: no endpoint or credentials needed to hear about them.
  usage(['get', 'oss://bkt/k'], /get expected oss:\/\/BUCKET\/KEY/, {});
  usage(['put', 'a', 'b', 'c', '--rsa-public-key', 'p'], /put expected <file\|-> oss:\/\/BUCKET\/KEY, got "a" "b" "c"/);
  usage(['put', 'f', 'oss://bkt/k'], /put needs a key that can encrypt/);
  usage(['get', 'oss://bkt/k', 'o'], /get needs a key that can decrypt/);
  usage(['get', 'oss://bkt/k', 'o', '--bogus'], /unknown option "--bogus"/);
  usage(['get', 'oss://bkt/k', 'o', '-x'], /unknown option "-x"/);
  usage(['get', 'oss://bkt/k', 'o', '--quiet=yes'], /takes no value/);
  usage(['get', 'oss://bkt/k', 'o', '--rsa-private-key'], /--rsa-private-key needs a value/);
  usage(['head', 'oss://bkt/k', '--range', '1-2'], /--range is not an option of "head"/);
  usage(['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'a', '--rsa-private-key', 'b'], /given twice \("a" and "b"\)/);
  usage(['get', 'oss://bkt/k', 'o', '--plaintext', 'maybe'], /--plaintext expected reject or allow, got "maybe"/);
  // --plaintext allow alone is enough to read plain objects.
  assert.is(parse('get', ['get', 'oss://bkt/k', 'o', '--plaintext', 'allow']).keys.plaintext, 'allow');
});

args('keygen: --out required, --bits validated, no connection needed', () => {
  assert.equal(parseCliArgs(['keygen', '--out', 'keys/me'], {}), { command: 'keygen', out: 'keys/me', bits: 2048, quiet: false });
  assert.equal(parseCliArgs(['keygen', '--out=me', '--bits', '3072', '-q'], {}), { command: 'keygen', out: 'me', bits: 3072, quiet: true });
  usage(['keygen'], /keygen needs --out PREFIX/, {});
  usage(['keygen', '--out', 'x', '--bits', '512'], /--bits expected a multiple of 8 from 2048 to 4096 \(smaller keys may only read old objects\), got 512/, {});
  usage(['keygen', '--out', 'x', '--bits', '8192'], /got 8192/, {});
  usage(['keygen', '--out', 'x', 'extra'], /keygen expected no arguments, got "extra"/, {});
  usage(['keygen', '--out', 'x', '--endpoint', 'http://h'], /--endpoint is not an option of "keygen"/, {});
});

args('the progress bar draws on a terminal only, never when quiet, and erases itself', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, isTTY, columns: 80, write: (t: string) => writes.push(t) };
  };
  const tty = sink(true);
  const bar = progressBar(tty, 'get oss://b/k', false);
  bar.update(0);
  bar.update(0.5); // within the redraw interval: skipped
  bar.update(1); // the end is always drawn
  bar.done();
  assert.is(tty.writes.length, 3, JSON.stringify(tty.writes));
  assert.match(tty.writes[0], /^\r\x1b\[2Kget oss:\/\/b\/k \[\.+\]   0%$/);
  assert.match(tty.writes[1], /^\r\x1b\[2Kget oss:\/\/b\/k \[#+\] 100%$/);
  assert.is(tty.writes[2], '\r\x1b[2K');
  for (const [s2, quiet] of [[sink(false), false], [sink(true), true]] as const) {
    const b = progressBar(s2, 'x', quiet);
    b.update(0.3);
    b.update(1);
    b.done();
    assert.equal(s2.writes, []);
  }
});

args('the progress line on a terminal: bytes, rate and ETA once the size is known (from total() or a checkpoint)', () => {
  const writes: string[] = [];
  let clock = 1_000_000;
  const bar = progressBar({ isTTY: true, columns: 120, write: (t: string) => writes.push(t) }, 'put oss://b/k', false, () => clock);
  bar.total(100 * 1024 * 1024);
  bar.update(0);
  clock += 4_000;
  bar.update(0.25); // 25 MiB in 4 s: 6.25 MiB/s, 75 MiB to go: 12 s
  bar.done();
  assert.match(writes[0], /  0%  0 B \/ 100\.0 MiB  -- B\/s  ETA --:--$/);
  assert.match(writes[1], / 25%  25\.0 MiB \/ 100\.0 MiB  6\.3 MiB\/s  ETA 0:12$/);
  // A download learns the size from the checkpoint its progress callback passes.
  const got: string[] = [];
  clock = 0;
  const down = progressBar({ isTTY: true, columns: 120, write: (t: string) => got.push(t) }, 'get', false, () => clock);
  down.update(0, { totalSize: 2048 });
  clock = 1000;
  down.update(0.5, { totalSize: 2048 });
  assert.match(got[1], / 50%  1\.0 KiB \/ 2\.0 KiB  1\.0 KiB\/s  ETA 0:01$/);
  assert.is(formatBytes(512), '512 B');
  assert.is(formatDuration(3725), '1:02:05');
});

args('CLI messages: flags, not API options; system errors without the code twice; a network error in one separated line', () => {
  // The library speaks to API users; the CLI's user gave flags.
  const cancelled = Object.assign(new Error('upload cancelled; resume it with options.checkpoint (upload "u1", 2 parts done)'), { name: 'cancel' });
  assert.is(cliMessage('CANCELLED', cancelled), 'upload cancelled; resume it with --checkpoint (upload "u1", 2 parts done)');
  const plain = new Error("object is stored without encryption; the client's plaintext policy is 'reject'. Use plaintext: 'allow' to read plain objects");
  const text = cliMessage('PLAINTEXT_REJECTED', plain);
  assert.ok(text.includes('--plaintext allow'), text);
  assert.not.ok(text.includes("plaintext: 'allow'"), text);
  const exists = Object.assign(new Error("EEXIST: file already exists, open 'k.private.pem'"), { code: 'EEXIST', syscall: 'open' });
  assert.is(cliMessage('EEXIST', exists), "file already exists, open 'k.private.pem'");
  const refused = Object.assign(
    new Error('connect ECONNREFUSED 127.0.0.1:1, POST http://127.0.0.1:1/k?uploads= -1 (connected: false, keepalive socket: false, agent status: {})\nheaders: {}'),
    { name: 'RequestError', code: 'RequestError', status: -1 },
  );
  assert.is(errorCode(refused), 'ECONNREFUSED');
  assert.is(cliMessage('ECONNREFUSED', refused), 'connect ECONNREFUSED 127.0.0.1:1 (POST http://127.0.0.1:1/k?uploads=)');
});

args('error codes: ours, an OSS code from ali-oss, a system code, cancel, anything else', () => {
  assert.is(errorCode(new KeyUnwrapError('KEY_UNWRAP_FAILED', 'x')), 'KEY_UNWRAP_FAILED');
  assert.is(errorCode(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKeyError', code: 'NoSuchKey', status: 404 })), 'NoSuchKey');
  assert.is(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
  assert.is(errorCode(Object.assign(new Error('x'), { name: 'cancel', status: 0 })), 'CANCELLED');
  assert.is(errorCode(new Error('x')), 'ERROR');
  assert.is(errorCode('a string'), 'ERROR');
  assert.is(errorCode(Object.assign(new Error('x'), { code: 'has space: no' })), 'ERROR');
});

args.run();

// ---------------------------------------------------------------------------------------------------------
// The CLI as a child process, against the OSS and KMS stand-ins over real HTTP.

const MAIN = fileURLToPath(new URL('../bindings/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUCKET = 'cli-bucket';

interface CliRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

let oss: OssServer;
let kms: KmsServer;
let work: string;
let baseEnv: Record<string, string>;

/** Runs `oss-crypto` from source in a child process. */
function cli(argv: string[], opts: { input?: Uint8Array; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...baseEnv, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    // A child that exits before reading its input (a usage error) closes the pipe; that is not a test failure.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolvePromise({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input === undefined ? undefined : Buffer.from(opts.input));
  });
}

function ok(run: CliRun, what: string): CliRun {
  assert.is(run.code, 0, `${what}: exit ${run.code}, stderr: ${run.stderr}`);
  return run;
}

/** Exactly one line, `error CODE: message`. */
function failed(run: CliRun, exit: number, code: string, what: string): string {
  assert.is(run.code, exit, `${what}: exit ${run.code}, stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(run.stderr)}`);
  assert.ok(lines[0].startsWith(`error ${code}: `), `${what}: got ${JSON.stringify(lines[0])}`);
  return lines[0];
}

const key = (name: string) => join(work, name);

const child = suite('cli (child process)');

child.before(async () => {
  oss = await startOssServer();
  kms = await startKmsServer();
  work = await mkdtemp(join(tmpdir(), 'oss-crypto-cli-'));
  baseEnv = {
    OSS_ENDPOINT: oss.endpoint,
    OSS_REGION: oss.region,
    OSS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    OSS_ACCESS_KEY_SECRET: TEST_ACCESS_KEY_SECRET,
    KMS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
    KMS_ACCESS_KEY_SECRET: kms.credentials.accessKeySecret,
  };
});

child.after(async () => {
  await oss.close();
  await kms.close();
  await rm(work, { recursive: true, force: true });
});

child('--help prints the usage on stdout; usage errors exit 2 with one "error USAGE:" line', async () => {
  // (Every usage rule is unit-tested above; here: the exit status and the one-line form.)
  const [help, badRange] = await Promise.all([
    cli(['--help']),
    cli(['get', 'oss://cli-bucket/k', 'out', '--range', '9-5', '--rsa-private-key', 'x.pem']),
  ]);
  ok(help, '--help');
  assert.ok(help.stdout.toString().includes('oss-crypto get oss://BUCKET/KEY <file|-> [--range a-b|a-|-n]'));
  assert.match(failed(badRange, 2, 'USAGE', 'bad range'), /--range .*first byte 9 is after last byte 5/);
});

child('no arguments: usage on stderr, exit 2; --version; put --help shows put\'s flags', async () => {
  const [none, version, putHelp] = await Promise.all([cli([]), cli(['--version']), cli(['put', '--help'])]);
  assert.is(none.code, 2);
  assert.is(none.stdout.length, 0);
  assert.ok(none.stderr.includes('oss-crypto put <file|-> oss://BUCKET/KEY'), none.stderr);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(ok(version, '--version').stdout.toString(), `${pkg.version}\n`);
  const text = ok(putHelp, 'put --help').stdout.toString();
  assert.ok(text.includes('--multipart-threshold') && !text.includes('--range'), text);
});

/** A public key of its own, for the tests that run before `keygen` made a.public.pem. */
async function ownPublicKey(name: string): Promise<string> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(key(name), pair.publicKey.export({ format: 'pem', type: 'spki' }));
  return key(name);
}

child('did you mean, from the executable: a put flag and a serve flag (serve parses its own flags after the common scan)', async () => {
  const [put, serve] = await Promise.all([cli(['put', 'f', `oss://${BUCKET}/k`, '--paralel', '2']), cli(['serve', '--prot', '9000'])]);
  assert.match(failed(put, 2, 'USAGE', 'put typo'), /did you mean "--parallel"\?/);
  assert.match(failed(serve, 2, 'USAGE', 'serve typo'), /did you mean "--port"\?/);
});

child('put <directory> is a usage error (exit 2), before any request', async () => {
  const before = oss.log.length;
  const run = await cli(['put', work, `oss://${BUCKET}/dir`, '--rsa-public-key', 'no-such-key.pem']);
  assert.match(failed(run, 2, 'USAGE', 'put a directory'), /is a directory/);
  assert.is(oss.log.length, before, 'no request sent');
});

child('system errors read once: keygen onto an existing key says "file already exists", not "EEXIST: EEXIST"', async () => {
  await writeFile(key('exists.private.pem'), 'x');
  const line = failed(await cli(['keygen', '--out', key('exists')]), 1, 'EEXIST', 'keygen over a file');
  assert.match(line, /^error EEXIST: file already exists, open '.*exists\.private\.pem'$/);
});

child('an unreachable endpoint: the system code, the address and the request, separated (single PUT and multipart)', async () => {
  await writeFile(key('net.bin'), pseudoRandomBytes(200_000, 8));
  const env = { OSS_ENDPOINT: 'http://127.0.0.1:1' };
  const pub = await ownPublicKey('net.public.pem');
  const [single, multi] = await Promise.all([
    cli(['put', key('net.bin'), `oss://${BUCKET}/net.bin`, '--rsa-public-key', pub], { env }),
    cli(['put', key('net.bin'), `oss://${BUCKET}/net.bin`, '--rsa-public-key', pub, '--multipart-threshold', '100KiB'], { env }),
  ]);
  // KMS unreachable: the library's KmsError (keys/kms-failure.ts) separates the address from the request.
  const viaKms = await cli(['put', key('net.bin'), `oss://${BUCKET}/net-kms.bin`, '--kms-key-id', 'k1', '--kms-endpoint', '127.0.0.1:1', '--kms-protocol', 'http', '--kms-region', 'cn-hangzhou']);
  assert.match(failed(viaKms, 1, 'KMS_ERROR', 'KMS unreachable'), /ECONNREFUSED 127\.0\.0\.1:1; POST http:\/\/127\.0\.0\.1:1\//);
  for (const [run, method] of [[single, 'PUT'], [multi, 'POST']] as const) {
    // One line: urllib's own "callback twice" warnings are not printed.
    const last = failed(run, 1, 'ECONNREFUSED', `${method} to a closed port`);
    assert.match(last, new RegExp(`^error ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:1 \\(${method} http://127\\.0\\.0\\.1:1/net\\.bin`));
    assert.not.match(last, /agent status|1POST|1PUT/);
  }
});

child('keygen writes PREFIX.private.pem (0600) and PREFIX.public.pem, and never overwrites', async () => {
  // A second pair (b), made here, plays "another key" in the tests below.
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(key('b.private.pem'), other.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const a = ok(await cli(['keygen', '--out', key('a'), '--bits', '2048']), 'keygen');
  assert.is(a.stdout.length, 0, 'nothing on stdout');
  assert.match(a.stderr, /wrote .*a\.private\.pem \(mode 0600\)/);
  assert.not.ok(a.stderr.includes('PRIVATE KEY'), 'the key never appears on the console');
  const st = await stat(key('a.private.pem'));
  assert.is(st.mode & 0o777, 0o600, 'private key mode');
  const priv = createPrivateKey(await readFile(key('a.private.pem'), 'utf8'));
  const pub = createPublicKey(await readFile(key('a.public.pem'), 'utf8'));
  assert.is(priv.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(pub.export({ format: 'der', type: 'spki' })), 'one pair');
  const before = await readFile(key('a.private.pem'), 'utf8');
  const again = await cli(['keygen', '--out', key('a'), '-q']);
  assert.match(failed(again, 1, 'EEXIST', 'keygen over an existing key'), /a\.private\.pem/);
  assert.is(await readFile(key('a.private.pem'), 'utf8'), before, 'the existing key is untouched');
});

child('put (single and multipart, file and stdin), head without key material, get whole and every range form', async () => {
  const small = pseudoRandomBytes(70_001, 1);
  const large = pseudoRandomBytes(330_000, 2);
  await writeFile(key('small.bin'), small);
  await writeFile(key('large.bin'), large);
  const pub = ['--rsa-public-key', key('a.public.pem')];
  const priv = ['--rsa-private-key', key('a.private.pem')];
  const multipart = ['--multipart-threshold', '200KiB', '--part-size', '100KiB', '--parallel', '2'];
  oss.clearLog();
  const puts = await Promise.all([
    cli(['put', key('small.bin'), `oss://${BUCKET}/small.bin`, ...pub, ...multipart]),
    cli(['put', key('large.bin'), `oss://${BUCKET}/large.bin`, ...pub, ...multipart]),
    cli(['put', '-', `oss://${BUCKET}/stdin-small.bin`, ...pub, ...multipart, '-q'], { input: small }),
    cli(['put', '-', `oss://${BUCKET}/stdin-large.bin`, ...pub, ...multipart, '-q'], { input: large }),
  ]);
  puts.forEach((r, i) => ok(r, `put ${i}`));
  const kinds = (k: string) => oss.log.filter((e) => e.key === k).map((e) => e.kind);
  assert.equal(kinds('small.bin'), ['put'], 'small file: one PUT');
  assert.equal(kinds('stdin-small.bin'), ['put'], 'small stdin: one PUT');
  for (const k of ['large.bin', 'stdin-large.bin']) {
    const ks = kinds(k);
    assert.is(ks.filter((x) => x === 'uploadPart').length, 4, `${k}: 330000 bytes in 100 KiB parts`);
    assert.is(ks.at(-1), 'complete', k);
    assert.is(oss.getObject(BUCKET, k)!.type, 'Multipart');
  }
  for (const k of ['small.bin', 'large.bin', 'stdin-small.bin', 'stdin-large.bin']) {
    const stored = oss.getObject(BUCKET, k)!;
    const plain = k.includes('small') ? small : large;
    assert.is(stored.size, plain.length, k);
    assert.not.ok(stored.body!.equals(Buffer.from(plain)), `${k} is stored encrypted`);
  }

  // head: the envelope as JSON; the wrapped key and IV values never appear.
  const head = ok(await cli(['head', `oss://${BUCKET}/large.bin`]), 'head');
  const json = JSON.parse(head.stdout.toString());
  assert.is(json.size, 330_000);
  assert.is(json.encrypted, true);
  assert.is(json.envelope.wrapAlg, 'RSA/NONE/PKCS1Padding');
  assert.is(json.envelope.dataSize, 330_000);
  assert.is(json.envelope.partSize, 102_400);
  const stored = oss.getObject(BUCKET, 'large.bin')!;
  for (const name of ['client-side-encryption-key', 'client-side-encryption-start']) {
    const value = stored.meta[name];
    assert.ok(value !== undefined && value.length > 100, name);
    assert.not.ok(head.stdout.toString().includes(value), `${name} not printed`);
    assert.not.ok(head.stdout.toString().includes(value.slice(0, 40)), `${name} not even in part`);
  }

  // get: whole to a file and to stdout; every range form, both spellings, to stdout and to files.
  const ranges: Array<[string[], string, number, number]> = [
    [['--range', '1000-1999'], '-', 1000, 2000],
    [['--range=102395-102420'], key('r2.bin'), 102395, 102421],
    [['--range', '329990-'], '-', 329990, 330000],
    [['--range=-17'], '-', 330000 - 17, 330000],
    [['--range', '-102401'], key('r5.bin'), 330000 - 102401, 330000],
  ];
  const [whole, stdinWhole, ...ranged] = await Promise.all([
    cli(['get', `oss://${BUCKET}/large.bin`, key('large.out'), ...priv]),
    cli(['get', `oss://${BUCKET}/stdin-large.bin`, '-', ...priv]),
    ...ranges.map(([flags, target]) => cli(['get', `oss://${BUCKET}/large.bin`, target, ...flags, ...priv])),
  ]);
  ok(whole, 'get to file');
  assert.ok((await readFile(key('large.out'))).equals(Buffer.from(large)), 'whole file');
  assert.ok(ok(stdinWhole, 'get -').stdout.equals(Buffer.from(large)), 'the object put from stdin, whole to stdout');
  ranges.forEach(([flags, target, start, end], i) => {
    ok(ranged[i], flags.join(' '));
    const bytes = target === '-' ? ranged[i].stdout : readFileSync(target);
    assert.ok(bytes.equals(Buffer.from(large.subarray(start, end))), `${flags.join(' ')}: ${bytes.length} bytes`);
  });
});

child('--part-size 5GiB (OSS\'s limit) does not crash: a 3 MB file and 3 MB on stdin go as one part each, byte-exact', async () => {
  const data = pseudoRandomBytes(3 * 1024 * 1024 + 5, 8);
  await writeFile(key('five-gib.bin'), data);
  const flags = ['--rsa-public-key', key('a.public.pem'), '--multipart-threshold', '1MiB', '--part-size', '5GiB', '-q'];
  oss.clearLog();
  ok(await cli(['put', key('five-gib.bin'), `oss://${BUCKET}/five-gib.bin`, ...flags]), 'put file');
  ok(await cli(['put', '-', `oss://${BUCKET}/five-gib-stdin.bin`, ...flags], { input: data }), 'put stdin');
  for (const name of ['five-gib.bin', 'five-gib-stdin.bin']) {
    const parts = oss.log.filter((e) => e.key === name && e.kind === 'uploadPart');
    assert.is(parts.length, 1, `${name}: one part`);
    assert.is(oss.getObject(BUCKET, name)!.meta['client-side-encryption-part-size'], String(5 * 1024 ** 3));
    const got = ok(await cli(['get', `oss://${BUCKET}/${name}`, '-', '--rsa-private-key', key('a.private.pem'), '-q']), `get ${name}`);
    assert.ok(got.stdout.equals(Buffer.from(data)), `${name}: byte-exact`);
  }
});

child('KMS flags: put and get through the KMS stand-in (go and oss2 layering, passphrase)', async () => {
  const keyId = kms.createKey();
  const plain = pseudoRandomBytes(20_000, 3);
  await writeFile(key('kms.bin'), plain);
  const conn = ['--kms-endpoint', kms.endpoint, '--kms-protocol', 'http', '--kms-region', 'cn-hangzhou'];
  const [go, oss2] = await Promise.all([
    cli(['put', key('kms.bin'), `oss://${BUCKET}/kms-go.bin`, '--kms-key-id', keyId, ...conn]),
    cli(['put', key('kms.bin'), `oss://${BUCKET}/kms-oss2.bin`, '--kms-key-id', keyId, '--kms-blob-layout', 'oss2', '--kms-passphrase', 'pw', ...conn]),
  ]);
  ok(go, 'put kms go');
  ok(oss2, 'put kms oss2');
  assert.ok(kms.count('Encrypt') >= 2);
  // Reading needs no key id (the blob names it); the passphrase must match.
  const [getGo, getOss2, wrongPass] = await Promise.all([
    cli(['get', `oss://${BUCKET}/kms-go.bin`, '-', ...conn]),
    cli(['get', `oss://${BUCKET}/kms-oss2.bin`, '-', '--kms-passphrase', 'pw', ...conn]),
    cli(['get', `oss://${BUCKET}/kms-oss2.bin`, key('kms-wrong.out'), '--kms-passphrase', 'nope', ...conn]),
  ]);
  assert.ok(ok(getGo, 'get kms go').stdout.equals(Buffer.from(plain)));
  assert.ok(ok(getOss2, 'get kms oss2').stdout.equals(Buffer.from(plain)));
  failed(wrongPass, 1, 'KMS_ERROR', 'wrong passphrase');
  assert.not.ok(existsSync(key('kms-wrong.out')), 'no output file');
  // What was written: one layer (go) and two (oss2).
  assert.ok(/^[A-Za-z0-9+/=]+$/.test(oss.getObject(BUCKET, 'kms-go.bin')!.meta['client-side-encryption-key']));
  const doubled = Buffer.from(oss.getObject(BUCKET, 'kms-oss2.bin')!.meta['client-side-encryption-key'], 'base64').toString('latin1');
  assert.ok(/^[A-Za-z0-9+/=]+$/.test(doubled), 'oss2: base64 of the blob text');
  // head names the layering as --kms-blob-layout does.
  const [headGo, headOss2] = await Promise.all([cli(['head', `oss://${BUCKET}/kms-go.bin`]), cli(['head', `oss://${BUCKET}/kms-oss2.bin`])]);
  assert.is(JSON.parse(ok(headGo, 'head kms go').stdout.toString()).envelope.kmsBlobLayout, 'go');
  const oss2Envelope = JSON.parse(ok(headOss2, 'head kms oss2').stdout.toString()).envelope;
  assert.is(oss2Envelope.kmsBlobLayout, 'oss2');
  assert.is(oss2Envelope.kmsBlobLayering, undefined, 'one name for one thing');
});

child('--matdesc on write, --material selects the key by matdesc on read; wrong key and missing object fail with their codes', async () => {
  const plain = pseudoRandomBytes(5000, 4);
  await writeFile(key('md.bin'), plain);
  ok(
    await cli(['put', key('md.bin'), `oss://${BUCKET}/md.bin`, '--rsa-public-key', key('a.public.pem'), '--matdesc', '{"owner":"team-a","x":"1"}']),
    'put with matdesc',
  );
  assert.equal(JSON.parse(oss.getObject(BUCKET, 'md.bin')!.meta['client-side-encryption-matdesc']), { owner: 'team-a', x: '1' });
  const [viaMaterial, noMatch, wrongKey, missing] = await Promise.all([
    // Main key b (another pair); a's key is picked by the object's matdesc (compared as a map: other order).
    cli(['get', `oss://${BUCKET}/md.bin`, '-', '--rsa-private-key', key('b.private.pem'), '--material', `{"x":"1","owner":"team-a"}=${key('a.private.pem')}`]),
    cli(['get', `oss://${BUCKET}/md.bin`, '-', '--rsa-private-key', key('a.private.pem')]),
    cli(['get', `oss://${BUCKET}/small.bin`, key('wrong.out'), '--rsa-private-key', key('b.private.pem')]),
    cli(['get', `oss://${BUCKET}/no-such-object`, key('missing.out'), '--rsa-private-key', key('a.private.pem')]),
  ]);
  assert.ok(ok(viaMaterial, 'get via --material').stdout.equals(Buffer.from(plain)));
  // The message says which flag would select the object's key.
  assert.match(failed(noMatch, 1, 'KEY_NO_MATCH', 'no material for the matdesc'), /pass --material '\{[^']*"owner":"team-a"[^']*\}=PRIVATE_KEY\.pem'/);
  failed(wrongKey, 1, 'KEY_UNWRAP_FAILED', 'wrong key');
  failed(missing, 1, 'NoSuchKey', 'missing object');
  assert.not.ok(existsSync(key('wrong.out')));
  assert.not.ok(existsSync(key('missing.out')));
  for (const r of [noMatch, wrongKey, missing]) assert.not.ok(/PRIVATE KEY|[0-9a-f]{64}/.test(r.stderr), 'no key material in errors');
});

child('--rsa-engine node|wasm|forge: each engine writes what the others read (pkcs1 and oaep); a bad name is a usage error', async () => {
  const plain = pseudoRandomBytes(3000, 9);
  await writeFile(key('engine.bin'), plain);
  for (const [writer, reader, padding] of [['wasm', 'node', 'pkcs1'], ['node', 'wasm', 'pkcs1'], ['forge', 'wasm', 'oaep'], ['wasm', 'forge', 'oaep']]) {
    const name = `engine-${writer}-${reader}-${padding}.bin`;
    ok(
      await cli(['put', key('engine.bin'), `oss://${BUCKET}/${name}`, '--rsa-public-key', key('a.public.pem'), '--rsa-padding', padding, '--rsa-engine', writer]),
      `put --rsa-engine ${writer}`,
    );
    const got = ok(await cli(['get', `oss://${BUCKET}/${name}`, '-', '--rsa-private-key', key('a.private.pem'), '--rsa-engine', reader]), `get --rsa-engine ${reader}`);
    assert.ok(got.stdout.equals(Buffer.from(plain)), `${writer} -> ${reader} (${padding})`);
  }
  ok(await cli(['head', `oss://${BUCKET}/engine-wasm-node-pkcs1.bin`, '--rsa-engine', 'wasm']), 'head --rsa-engine wasm');
  assert.match(failed(await cli(['get', `oss://${BUCKET}/engine.bin`, '-', '--rsa-private-key', key('a.private.pem'), '--rsa-engine', 'openssl']), 2, 'USAGE', 'bad engine'), /--rsa-engine/);
});

child('a plain (unencrypted) object: refused with PLAINTEXT_REJECTED naming the CLI flag; read with --plaintext allow', async () => {
  const plain = Buffer.from('not encrypted at all');
  oss.putObjectRaw(BUCKET, 'plain.txt', plain, {});
  const [refused, allowed] = await Promise.all([
    cli(['get', `oss://${BUCKET}/plain.txt`, '-', '--rsa-private-key', key('a.private.pem')]),
    cli(['get', `oss://${BUCKET}/plain.txt`, '-', '--rsa-private-key', key('a.private.pem'), '--plaintext', 'allow']),
  ]);
  const refusedLine = failed(refused, 1, 'PLAINTEXT_REJECTED', 'plain object');
  assert.match(refusedLine, /--plaintext allow/);
  assert.not.match(refusedLine, /plaintext: 'allow'/, 'the CLI flag only, not the API option as well');
  assert.ok(ok(allowed, 'plain object with --plaintext allow').stdout.equals(plain));
});

child('get --checkpoint: a failed download keeps its checkpoint and no output; the rerun fetches only the missing parts', async () => {
  const priv = ['--rsa-private-key', key('a.private.pem')];
  const cp = key('large.cp.json');
  const out = key('resumed.out');
  oss.inject({ kind: 'get', key: 'large.bin', nth: 3, times: Infinity, status: 503 });
  const first = await cli(['get', `oss://${BUCKET}/large.bin`, out, '--part-size', '64KiB', '--parallel', '1', '--checkpoint', cp, ...priv]);
  failed(first, 1, 'ServiceUnavailable', 'persistent 503');
  assert.not.ok(existsSync(out), 'no partial output');
  const saved = JSON.parse(await readFile(cp, 'utf8'));
  assert.equal(saved.doneParts.map((p: { number: number }) => p.number), [1, 2]);
  oss.clearFaults();
  oss.clearLog();
  ok(await cli(['get', `oss://${BUCKET}/large.bin`, out, '--checkpoint', cp, ...priv]), 'resume');
  assert.ok((await readFile(out)).equals(Buffer.from(pseudoRandomBytes(330_000, 2))));
  const ranges = oss.log.filter((e) => e.kind === 'get').map((e) => e.range);
  assert.equal(ranges, ['bytes=131072-196607', 'bytes=196608-262143', 'bytes=262144-327679', 'bytes=327680-329999']);
  assert.not.ok(existsSync(cp), 'checkpoint removed');
});

child('put --checkpoint: a failed multipart upload resumes, sending only the missing parts', async () => {
  const plain = pseudoRandomBytes(450_000, 6);
  await writeFile(key('resume-put.bin'), plain);
  const cp = key('put.cp.json');
  const flags = ['--rsa-private-key', key('a.private.pem'), '--multipart-threshold', '200KiB', '--part-size', '100KiB', '--parallel', '1', '--checkpoint', cp];
  oss.inject({ kind: 'uploadPart', key: 'resumed-put.bin', nth: 3, times: Infinity, status: 503 });
  failed(await cli(['put', key('resume-put.bin'), `oss://${BUCKET}/resumed-put.bin`, ...flags]), 1, 'ServiceUnavailable', 'persistent 503');
  assert.ok(existsSync(cp), 'checkpoint kept');
  assert.is(oss.getObject(BUCKET, 'resumed-put.bin'), undefined, 'no object yet');
  oss.clearFaults();
  oss.clearLog();
  ok(await cli(['put', key('resume-put.bin'), `oss://${BUCKET}/resumed-put.bin`, ...flags]), 'resume');
  const parts = oss.log.filter((e) => e.kind === 'uploadPart' && e.status === 200).map((e) => e.partNumber);
  assert.equal(parts, [3, 4, 5], 'parts 1 and 2 were not sent again');
  assert.not.ok(existsSync(cp), 'checkpoint removed');
  const back = ok(await cli(['get', `oss://${BUCKET}/resumed-put.bin`, '-', '--rsa-private-key', key('a.private.pem')]), 'get');
  assert.ok(back.stdout.equals(Buffer.from(plain)));
});

child('SIGINT during get --checkpoint: error CANCELLED, the checkpoint keeps the finished parts, no output', async () => {
  const cp = key('interrupted.cp.json');
  const out = key('interrupted.out');
  // Parts 2.. are slow, so the signal arrives while part 2 is in flight (3 s: room for a loaded machine to see
  // the second GET and deliver the signal before part 2 is answered and part 3 starts).
  oss.inject({ kind: 'get', key: 'large.bin', nth: 2, times: Infinity, delayMs: 3000 });
  oss.clearLog();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'get', `oss://${BUCKET}/large.bin`, out, '--part-size', '64KiB', '--parallel', '1', '--checkpoint', cp, '--rsa-private-key', key('a.private.pem')],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...baseEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on('close', r));
  const deadline = Date.now() + 20_000;
  while (oss.log.filter((e) => e.kind === 'get').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  proc.kill('SIGINT');
  const code = await exited;
  oss.clearFaults();
  failed({ code, stdout: Buffer.alloc(0), stderr }, 1, 'CANCELLED', 'interrupted get');
  assert.not.ok(existsSync(out), 'no output');
  const saved = JSON.parse(await readFile(cp, 'utf8'));
  assert.equal(saved.doneParts.map((p: { number: number }) => p.number), [1, 2], 'the part in flight finished and was recorded');
  assert.ok(existsSync(saved.tempPath), 'the temporary file stays for the resume');
  assert.is(oss.log.filter((e) => e.kind === 'get').length, 2, 'no part started after the signal');
});

/** Spawns the CLI with piped stdio, for tests that signal it mid-run; `done` settles when it exits. */
function spawnCli(argv: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...argv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...baseEnv },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => out.push(c));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdin.on('error', () => undefined);
  const done = new Promise<CliRun>((r) => proc.on('close', (code) => r({ code, stdout: Buffer.concat(out), stderr })));
  // A CLI that ignores the signal would run on (or wait on stdin forever): kill it after a while, and say so.
  const settled = (ms: number): Promise<CliRun & { hung: boolean }> => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    return done.then((r) => (clearTimeout(timer), { ...r, hung: r.code === null }));
  };
  return { proc, settled };
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

child('SIGTERM while put reads stdin (single PUT or multipart): error CANCELLED at once, nothing stored (it used to wait for the end of stdin)', async () => {
  const multipart = ['--multipart-threshold', '256KiB', '--part-size', '128KiB', '--rsa-private-key', key('a.private.pem')];
  for (const [name, extra] of [['interrupted-stdin.bin', []], ['interrupted-stdin-mp.bin', multipart]] as const) {
    const { proc, settled } = spawnCli(['put', '-', `oss://${BUCKET}/${name}`, '--rsa-public-key', key('a.public.pem'), ...extra, '-q']);
    // 1 MiB is more than a pipe holds: the write completes only once the CLI is reading, signal handlers in place.
    await new Promise<void>((r) => proc.stdin.write(Buffer.from(pseudoRandomBytes(1 << 20, 7)), () => r()));
    proc.kill('SIGTERM');
    const run = await settled(15_000); // stdin is never closed; a CLI that handles the signal exits long before
    assert.not.ok(run.hung, `${name}: the CLI did not exit; stderr: ${run.stderr}`);
    failed(run, 1, 'CANCELLED', `${name}: interrupted put from stdin`);
    assert.is(oss.getObject(BUCKET, name), undefined, `${name}: nothing stored`);
  }
});

child('SIGTERM during get to stdout (whole and --range): error CANCELLED, no bytes written (it used to ignore the signal)', async () => {
  const priv = ['--rsa-private-key', key('a.private.pem')];
  for (const extra of [[], ['--range', '10-99']]) {
    oss.clearLog();
    // The answer is slow, so the signal arrives while the GET is in flight (the CLI exits at the signal, so the
    // long delay costs nothing when it works).
    const fault = oss.inject({ kind: 'get', key: 'large.bin', delayMs: 8000 });
    const { proc, settled } = spawnCli(['get', `oss://${BUCKET}/large.bin`, '-', ...extra, ...priv]);
    await waitFor('the GET', () => oss.log.some((e) => e.kind === 'get' && e.key === 'large.bin'));
    proc.kill('SIGTERM');
    const run = await settled(15_000);
    fault.cancel();
    assert.not.ok(run.hung, `${extra.join(' ')}: the CLI did not exit; stderr: ${run.stderr}`);
    failed(run, 1, 'CANCELLED', `interrupted get - ${extra.join(' ')}`);
    assert.is(run.stdout.length, 0, `${extra.join(' ')}: nothing on stdout`);
  }
});

child.run();
