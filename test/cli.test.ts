/**
 * Tests of the `oss-crypto` CLI: the pure argument parser (bindings/cli/args.ts), then the CLI run as a child
 * process against the loopback OSS and KMS stand-ins over real HTTP.
 * @module
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CliUsageError,
  DEFAULT_MULTIPART_THRESHOLD,
  parseCliArgs,
  parseOssUrl,
  parseRange,
  parseSize,
  rangeHeader,
  type CliCommand,
} from '../bindings/cli/args.js';

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

args('help: --help, -h, help, no arguments, and --help after a command', () => {
  for (const argv of [['--help'], ['-h'], ['help'], [], ['get', '--help'], ['put', 'x', '-h']]) {
    assert.equal(parseCliArgs(argv, {}), { command: 'help' }, JSON.stringify(argv));
  }
});

args('oss:// URLs: bucket and key split at the first slash; bad ones rejected', () => {
  assert.equal(parseOssUrl('oss://my-bucket/a/b/c.bin'), { bucket: 'my-bucket', key: 'a/b/c.bin' });
  assert.equal(parseOssUrl('oss://abc/ spaced =key'), { bucket: 'abc', key: ' spaced =key' });
  for (const bad of ['s3://abc/k', 'oss://abc', 'oss://abc/', 'oss:///k', 'oss://AB/k', 'oss://-ab/k', 'abc/k']) {
    assert.throws(() => parseOssUrl(bad), (e: unknown) => e instanceof CliUsageError && e.message.includes(bad), bad);
  }
});

args('ranges: a-b, a-, -n, bytes= prefix; the HTTP header round-trips', () => {
  assert.equal(parseRange('0-0'), { kind: 'closed', start: 0, end: 0 });
  assert.equal(parseRange('100-199'), { kind: 'closed', start: 100, end: 199 });
  assert.equal(parseRange('17-'), { kind: 'open', start: 17 });
  assert.equal(parseRange('-500'), { kind: 'suffix', length: 500 });
  assert.equal(parseRange('bytes=5-9'), { kind: 'closed', start: 5, end: 9 });
  for (const text of ['0-0', '100-199', '17-', '-500']) assert.is(rangeHeader(parseRange(text)), `bytes=${text}`);
  for (const bad of ['', '-', '5', 'a-b', '9-5', '-0', '1-2-3', '1.5-2', ' 1-2']) {
    assert.throws(() => parseRange(bad), (e: unknown) => e instanceof CliUsageError, JSON.stringify(bad));
  }
  assert.throws(() => parseRange('9-5'), /ends \(5\) before it starts \(9\)/);
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
  assert.is(parse('get', ['get', 'oss://bkt/o', 'x', '--range=3-4', ...key]).range?.kind, 'closed');
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
  usage(['head', 'oss://bkt/k', '--endpoint', '127.0.0.1:80'], /scheme is required/);
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
  const put = parse('put', ['put', '-', 'oss://bkt/k', '--rsa-public-key', 'p', '--part-size', '256KiB', '--parallel', '3', '--multipart-threshold', '1M', '--checkpoint', 'cp.json']);
  assert.equal(put.transfer, { partSize: 262144, parallel: 3, multipartThreshold: 1048576, checkpoint: 'cp.json' });
  assert.is(put.source, '-');
  assert.is(parse('put', ['put', 'f', 'oss://bkt/k', '--kms-key-id', 'k', '--kms-region', 'r']).transfer.multipartThreshold, DEFAULT_MULTIPART_THRESHOLD);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--part-size', '100001'], /multiple of 16.*100001 = 100001 bytes/);
  usage(['put', 'f', 'oss://bkt/k', '--rsa-public-key', 'p', '--parallel', '0'], /--parallel expected 1\.\.64, got 0/);
  usage(['get', 'oss://bkt/k', 'o', '--rsa-private-key', 'p', '--range', '1-2', '--checkpoint', 'c'], /cannot be combined with --range/);
  usage(['get', 'oss://bkt/k', '-', '--rsa-private-key', 'p', '--checkpoint', 'c'], /stdout/);
});

args('usage errors name what was wrong', () => {
  usage(['frobnicate'], /unknown command "frobnicate"/);
  usage(['get', 'oss://bkt/k'], /get expected oss:\/\/BUCKET\/KEY <file\|->, got "oss:\/\/bkt\/k"/);
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
  usage(['keygen', '--out', 'x', '--bits', '512'], /--bits expected a multiple of 8 from 1024 to 4096, got 512/, {});
  usage(['keygen', '--out', 'x', '--bits', '8192'], /got 8192/, {});
  usage(['keygen', '--out', 'x', 'extra'], /keygen expected no arguments, got "extra"/, {});
  usage(['keygen', '--out', 'x', '--endpoint', 'http://h'], /--endpoint is not an option of "keygen"/, {});
});

args.run();
