/**
 * The `oss-crypto` commands: `put`, `get`, `head`, `keygen`, run against a {@link CryptoClient} over `ali-oss`.
 *
 * Everything the process touches comes in through {@link CliIo} (argv, environment, stdin/stdout/stderr), so
 * the same code runs from `main.ts` and in tests. Exit status: 0 on success; 1 with one line
 * `error CODE: message` on stderr for a failure, where CODE is the library's stable code (e.g.
 * `KEY_UNWRAP_FAILED`), ali-oss's OSS code (e.g. `NoSuchKey`) or a system code (e.g. `ENOENT`); 2 with
 * `error USAGE: message` for a usage mistake.
 *
 * What it guarantees: stdout carries only object bytes (`get ... -`) or JSON (`head`); no key material is ever
 * printed (head prints the envelope description, which holds lengths, never the wrapped values); a file target
 * is written through a temporary file and renamed only when complete and verified, so a failed `get` leaves no
 * partial file; keygen writes the private key with mode 0600 and never overwrites an existing file.
 *
 * Not here: argument parsing (args.ts), key loading (keys.ts), the progress bar (progress.ts).
 * @module
 */
import { readFileSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import OSS from 'ali-oss';
import type { AliOssLike } from '../oss/ali-oss.js';
import { CryptoClient } from '../client/crypto-client.js';
import { isEncryptionMeta } from '../transfer/metadata.js';
import { KeyUnwrapError, OssCryptoError } from '../errors.js';
import { generateRsaKeyPair } from '../keys/rsa.js';
import { CliUsageError, commandUsage, parseCliArgs, USAGE, type CliCommand, type Connection, type OssUrl } from './args.js';
import { keyringFromFlags } from './keys.js';
import { progressBar, type ProgressSink } from './progress.js';
import { formatRange } from '../transfer/range.js';

/**
 * What the CLI may touch: its arguments, environment and standard streams.
 * @example
 *   const io: CliIo = { argv: ['--help'], env: {}, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
 */
export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: Writable;
  readonly stderr: Writable & ProgressSink;
  /** Aborts a running transfer (main.ts wires SIGINT/SIGTERM to it). */
  readonly signal?: AbortSignal;
}

/**
 * Runs one `oss-crypto` invocation.
 * @param io argv (without the program name), environment and standard streams
 * @returns the exit status: 0 success, 1 failure, 2 usage error
 * @example
 *   process.exitCode = await runCli({ argv: process.argv.slice(2), env: process.env,
 *     stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArgs(io.argv, io.env);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr.write(`error USAGE: ${oneLine(err.message)}\n`);
    return 2;
  }
  try {
    switch (command.command) {
      case 'help':
        if (command.noArguments === true) {
          // Called with nothing to do: a script's mistake, so the usage goes to stderr and the status says so.
          io.stderr.write(USAGE);
          return 2;
        }
        io.stdout.write(command.topic === undefined ? USAGE : commandUsage(command.topic));
        return 0;
      case 'version':
        io.stdout.write(`${packageVersion()}\n`);
        return 0;
      case 'serve':
        return await (await import('./serve.js')).serveMain(command.argv);
      case 'keygen':
        await keygen(command, io);
        return 0;
      case 'head':
        await head(command, io);
        return 0;
      case 'put':
        await put(command, io);
        return 0;
      case 'get':
        await get(command, io);
        return 0;
      case 'encrypt-existing':
      case 'decrypt-existing':
      case 'rewrap':
      case 'verify':
        return await (await import('./bulk-run.js')).runBulk(command, io);
    }
  } catch (err) {
    // A mistake only found once running (e.g. `put <directory>`) is still a usage mistake.
    if (err instanceof CliUsageError) {
      io.stderr.write(`error USAGE: ${oneLine(err.message)}\n`);
      return 2;
    }
    // Once interrupted, whatever the operation rejected with (its cancel, an AbortError, a destroyed stream's
    // error) is the interruption: one stable code for it.
    const code = io.signal?.aborted ? 'CANCELLED' : errorCode(err);
    io.stderr.write(`error ${code}: ${cliMessage(code, err)}\n`);
    return 1;
  }
}

/**
 * The message of an `error CODE: message` line, in the CLI's terms: flags where the library names an API option,
 * a system error without its code repeated, a network error as "where, what" on one line, and for KEY_NO_MATCH
 * the flag that would select the object's key.
 * @example
 *   cliMessage('ENOENT', err) // "no such file or directory, open 'a.bin'"
 */
export function cliMessage(code: string, err: unknown): string {
  let message = oneLine(errorMessage(err));
  const e = (err ?? {}) as { code?: unknown; syscall?: unknown; name?: unknown };
  // Node's system errors read "EEXIST: file already exists, open 'x'"; the line already starts with the code.
  if (typeof e.code === 'string' && message.startsWith(`${e.code}: `)) message = message.slice(e.code.length + 2);
  // urllib (ali-oss) glues the method onto the address ("127.0.0.1:1, POST http://...") and appends its socket
  // bookkeeping; keep the cause and the request, separated.
  const network = /^(.*?), (GET|PUT|POST|HEAD|DELETE) (\S+?)(?: -1)? \(connected:/.exec(message);
  if (network !== null) message = `${network[1]} (${network[2]} ${network[3]})`;
  message = message
    .replace(/\boptions\.checkpoint\b/g, '--checkpoint')
    .replace(/Use plaintext: 'allow' to read plain objects/, 'pass --plaintext allow to read plain objects')
    .replace(/plaintext policy is 'reject'/, "--plaintext is 'reject'")
    .replace(/\bplaintext: 'allow'/g, '--plaintext allow');
  if (code === 'KEY_NO_MATCH') message += keyNoMatchHint(message);
  return message;
}

/** Which flags would give the key ring a material for the object's matdesc (as the keyring message reports it). */
function keyNoMatchHint(message: string): string {
  const m = /matdesc (?:is )?(\{.*?\})(?: \(wrap-alg ([^)]+)\))?/.exec(message);
  if (m === null) return '';
  const matdesc = m[1];
  const wrapAlg = m[2] ?? /wrapped with (\S+?),/.exec(message)?.[1] ?? '';
  const kms = /^kms/i.test(wrapAlg);
  const source = kms ? 'kms:KEYID' : 'PRIVATE_KEY.pem';
  if (matdesc === '{}') {
    return `; the object has no matdesc: its key is the main key, ${kms ? '--kms-key-id ID' : '--rsa-private-key FILE'} without --matdesc`;
  }
  return `; to select its key pass --material '${matdesc}=${source}', or make it the main key with ${kms ? '--kms-key-id ID' : '--rsa-private-key FILE'} --matdesc '${matdesc}'`;
}

/** The version in this package's package.json (found from here upwards: dist/bindings/cli or bindings/cli). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const parsed = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'ali-oss-crypto' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // Not here: look one level up.
    }
    if (new URL('..', dir).href === dir.href) return 'unknown';
  }
}

/**
 * The CODE of an `error CODE: message` line: our stable code, an OSS code from ali-oss, a system code, or
 * `CANCELLED` / `ERROR`.
 * @example
 *   errorCode(new KeyUnwrapError('KEY_UNWRAP_FAILED', '...')) // 'KEY_UNWRAP_FAILED'
 */
export function errorCode(err: unknown): string {
  if (err instanceof OssCryptoError) return err.code;
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e !== null && typeof e === 'object') {
    if (e.name === 'cancel') return 'CANCELLED';
    // ali-oss reports a network failure as RequestError (or a timeout name); the system code inside says more.
    const system = /\b(E[A-Z]{3,})\b/.exec(String((e as { message?: unknown }).message ?? ''))?.[1];
    if (system !== undefined && /^(RequestError|ResponseError|ConnectionTimeoutError|ResponseTimeoutError)$/.test(String(e.code ?? e.name))) return system;
    if (typeof e.code === 'string' && /^[A-Za-z][\w.-]*$/.test(e.code)) return e.code;
  }
  return 'ERROR';
}

// ---------------------------------------------------------------------------------------------------------

type Cmd<C extends CliCommand['command']> = Extract<CliCommand, { command: C }>;

async function keygen(cmd: Cmd<'keygen'>, io: CliIo): Promise<void> {
  const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(cmd.bits);
  const privatePath = `${cmd.out}.private.pem`;
  const publicPath = `${cmd.out}.public.pem`;
  // 'wx': an existing key is never overwritten; 0600 is applied at creation, before any byte is written.
  await writeNew(privatePath, privateKeyPem, 0o600);
  try {
    await writeNew(publicPath, publicKeyPem, 0o644);
  } catch (err) {
    await rm(privatePath, { force: true });
    throw err;
  }
  if (!cmd.quiet) io.stderr.write(`wrote ${privatePath} (mode 0600) and ${publicPath}\n`);
}

async function head(cmd: Cmd<'head'>, io: CliIo): Promise<void> {
  const client = await clientFor(cmd.connection, cmd.target, cmd.keys, { readOnly: true, plaintext: 'allow' });
  const result = await client.head(cmd.target.key, { signal: io.signal });
  const headers: Record<string, unknown> = result.res?.headers ?? {};
  const meta: Record<string, string> = {};
  // User metadata only: the encryption metadata (wrapped key included) is summarised by `envelope`.
  for (const [k, v] of Object.entries(result.meta ?? {})) if (!isEncryptionMeta(k)) meta[k] = String(v);
  const out = {
    bucket: cmd.target.bucket,
    key: cmd.target.key,
    size: numberOrNull(headers['content-length']),
    etag: headers.etag ?? null,
    lastModified: headers['last-modified'] ?? null,
    contentType: headers['content-type'] ?? null,
    crc64ecma: headers['x-oss-hash-crc64ecma'] ?? null,
    encrypted: result.encrypted,
    envelope: cliEnvelope(result.envelope),
    meta,
  };
  io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** The envelope description with the KMS layering named as `--kms-blob-layout` names it (`go` / `oss2`). */
function cliEnvelope(envelope: unknown): unknown {
  if (envelope === null || typeof envelope !== 'object' || !('kmsBlobLayering' in envelope)) return envelope;
  const { kmsBlobLayering, ...rest } = envelope as Record<string, unknown>;
  return { ...rest, kmsBlobLayout: kmsBlobLayering === 'base64-of-blob' ? 'oss2' : 'go' };
}

async function put(cmd: Cmd<'put'>, io: CliIo): Promise<void> {
  if (cmd.source !== '-' && (await stat(cmd.source)).isDirectory()) {
    // Checked before the keys are read: the command line itself is wrong.
    throw new CliUsageError(`put uploads one file; "${cmd.source}" is a directory (upload its files one by one)`);
  }
  const client = await clientFor(cmd.connection, cmd.target, cmd.keys, {});
  const { transfer } = cmd;
  const label = `put oss://${cmd.target.bucket}/${cmd.target.key}`;
  let source: string | Buffer | Readable;
  let size: number | undefined;
  const bar = progressBar(io.stderr, label, cmd.quiet);
  if (cmd.source === '-') {
    // Read up to the threshold: a short input is one PUT; a longer one continues as a multipart stream.
    const head = await readUpTo(io.stdin, transfer.multipartThreshold, io.signal);
    if (head.ended) {
      source = head.bytes;
      size = head.bytes.length;
    } else {
      source = Readable.from(prepend(head.bytes, head.rest));
    }
  } else {
    size = (await stat(cmd.source)).size;
    source = cmd.source;
    bar.total(size);
  }
  try {
    let result: any;
    if (size !== undefined && size < transfer.multipartThreshold) {
      result = await client.put(cmd.target.key, source, { signal: io.signal });
    } else {
      // A checkpoint path makes the upload resumable: read when present, rewritten per part, removed at the end.
      result = await client.multipartUpload(cmd.target.key, source, {
        partSize: transfer.partSize,
        parallel: transfer.parallel,
        checkpoint: transfer.checkpoint,
        signal: io.signal,
        progress: (p: number, checkpoint: unknown) => bar.update(p, checkpoint),
      });
    }
    bar.done();
    if (!cmd.quiet) {
      const etag = result?.etag ?? result?.res?.headers?.etag ?? '';
      io.stderr.write(`${label}${size === undefined ? '' : ` (${size} bytes)`} ${etag}\n`.replace(/ \n$/, '\n'));
    }
  } finally {
    bar.done();
    // A cancelled or failed upload leaves stdin open, and an open stdin keeps the process alive until the
    // writer closes it (maybe never): release it.
    if (cmd.source === '-') (io.stdin as { destroy?: () => void }).destroy?.();
  }
}

async function get(cmd: Cmd<'get'>, io: CliIo): Promise<void> {
  const client = await clientFor(cmd.connection, cmd.source, cmd.keys, { readOnly: true });
  const name = cmd.source.key;
  // Every operation gets the signal: SIGINT/SIGTERM must stop a read to stdout as much as a resumable one.
  const signal = io.signal;
  const options = cmd.range === undefined ? { signal } : { headers: { Range: formatRange(cmd.range) }, signal };
  if (cmd.target === '-') {
    // Streamed, ranged or not, so memory stays bounded whatever the size (`--range 0-` of a huge object too); the
    // client checks a range's Content-Range before the first byte flows.
    const { stream } = await client.getStream(name, options);
    await pipeline(stream, io.stdout, { end: false, signal });
    return;
  }
  if (cmd.range !== undefined) {
    // get() to a path writes a temporary file and renames it once verified.
    await client.get(name, cmd.target, options);
    return;
  }
  const bar = progressBar(io.stderr, `get oss://${cmd.source.bucket}/${name}`, cmd.quiet);
  try {
    await client.resumableDownload(name, cmd.target, {
      partSize: cmd.transfer.partSize,
      parallel: cmd.transfer.parallel,
      checkpoint: cmd.transfer.checkpoint,
      signal: io.signal,
      progress: (p: number, checkpoint: unknown) => bar.update(p, checkpoint),
    });
  } finally {
    bar.done();
  }
}

export async function clientFor(
  connection: Connection,
  url: OssUrl,
  keys: Cmd<'get'>['keys'],
  opts: { readOnly?: boolean; plaintext?: 'allow' },
): Promise<CryptoClient> {
  const oss = new OSS({
    bucket: url.bucket,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    ...(connection.region === undefined ? {} : { region: connection.region }),
    accessKeyId: connection.accessKeyId,
    accessKeySecret: connection.accessKeySecret,
    ...(connection.stsToken === undefined ? {} : { stsToken: connection.stsToken }),
  } as OSS.Options);
  const keyring = await keyringFromFlags(keys);
  if (keyring === undefined && !opts.readOnly) {
    throw new CliUsageError('this command needs a key: --rsa-public-key, --rsa-private-key or --kms-key-id');
  }
  // head describes any object and needs no key; a read-only key ring stands in when none was given.
  const ring = keyring ?? noKeys();
  return new CryptoClient(oss as unknown as AliOssLike, {
    keyring: ring,
    plaintext: opts.plaintext ?? keys.plaintext,
  });
}

function noKeys() {
  const none = (): never => {
    throw new KeyUnwrapError('KEY_NO_MATCH', 'no key was given (--rsa-private-key, --kms-key-id or --material)');
  };
  return { createContentKey: async () => none(), unwrap: async () => none() };
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const file = await open(path, 'wx', mode);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}

async function readUpTo(
  input: NodeJS.ReadableStream,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Buffer; ended: boolean; rest: AsyncIterator<Buffer | string> }> {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  // An interrupt must not wait for the writer at the other end of stdin (it may never close it): stop reading,
  // and release stdin so that it does not keep the process alive.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      (input as { destroy?: () => void }).destroy?.();
      reject(signal!.reason);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    while (length < limit) {
      const { value, done } = await Promise.race([iterator.next(), aborted]);
      if (done) return { bytes: Buffer.concat(chunks, length), ended: true, rest: iterator };
      const chunk = typeof value === 'string' ? Buffer.from(value) : value;
      chunks.push(chunk);
      length += chunk.length;
    }
    return { bytes: Buffer.concat(chunks, length), ended: false, rest: iterator };
  } finally {
    signal?.removeEventListener('abort', onAbort!);
  }
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer> {
  if (first.length > 0) yield first;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    yield typeof value === 'string' ? Buffer.from(value) : value;
  }
}


function numberOrNull(value: unknown): number | null {
  const n = Number(value);
  return value === undefined || !Number.isSafeInteger(n) ? null : n;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  const e = err as { message?: unknown; name?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.message === 'string') return e.message;
  return String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
