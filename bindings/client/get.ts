/**
 * Decrypting downloads: ali-oss `get(name, [file], options)` (to memory, a file path or a Writable) and
 * `getStream(name, options)` (a decrypting Readable), whole objects and every byte-range form
 * (docs/FORMAT.md §1, §4, §6, §7).
 *
 * One request path serves every target. The response headers are checked before a byte is decrypted: the encryption
 * metadata is decoded (a plain object meets the plaintext policy: `reject` → PlaintextObjectError, `allow` →
 * returned as is with `encrypted: false`); a ranged answer's `Content-Range` must be exactly the range asked for
 * (transfer/range.ts; the request carries `x-oss-range-behavior: standard`, so a start past the end is OSS's 416,
 * passed through as ali-oss's error) and the body is decrypted from the offset it really starts at; the object
 * size must equal any recorded `unencrypted-content-length` / `data-size` (INTEGRITY_LENGTH). While the body
 * streams, bytes are counted (a short body is INTEGRITY_TRUNCATED) and, for whole objects, the CRC-64 of the
 * stored bytes is compared with `x-oss-hash-crc64ecma` (INTEGRITY_CRC64) and the MD5 of the plaintext with a
 * recorded `unencrypted-content-md5` in hex or base64 (INTEGRITY_MD5); these end checks fail the stream instead
 * of ending it. The object's key is unwrapped once per operation, whatever the retries.
 *
 * Retries: the request is retried on transient failures. `get` to memory or to a file path also restarts a
 * body that broke off (memory is discarded, the temporary file rewritten); a file is written to a temporary file
 * beside the target and renamed only when complete and verified, so a failure never leaves a partial or
 * unverified file (and an existing file at the target is left as it was). `get` into a caller's Writable and
 * `getStream` cannot take back bytes already handed over: a body that breaks off fails them, and the end checks
 * come after the data (discard what you received when the stream errors).
 *
 * Two body paths: memory, Writables and `getStream` go through the verifying Transform (verifier.ts); a file path
 * skips it and every stream hop, going from the socket to batched positional writes through the same code as a
 * resumable download's parts (download/part-stream.ts), with the same end checks (body-check.ts checkDigests).
 *
 * Deliberately not here: parallel ranged downloads with checkpoints (bindings/download/), the verifying stream
 * (verifier.ts).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientContext } from '../transfer/context.js';
import { signalOf } from '../transfer/request-options.js';
import { withRetry } from '../util/retry.js';
import { refuseProcessing } from './refused.js';
import { streamPartToFile } from '../download/part-stream.js';
import { checkDigests } from './body-check.js';
import { KeyCache } from './read-plan.js';
import { requestRead, type CheckedRead } from './read-request.js';
import type { GetResponse } from './get-types.js';
import { Verifier, wire } from './verifier.js';

export type { GetResponse } from './get-types.js';


/**
 * Result of {@link get}: ali-oss's `{ res, content }` plus `encrypted`.
 * @example
 *   const { content, encrypted }: GetResult = await client.get('a.bin');
 */
export interface GetResult {
  res: GetResponse;
  /** The plaintext (memory target only; `undefined` when written to a file or Writable). */
  content?: Buffer;
  /** False only for a plain object read under `plaintext: 'allow'`. */
  encrypted: boolean;
}

/**
 * Result of {@link getStream}: ali-oss's `{ stream, res }` plus `encrypted`.
 * @example
 *   const { stream }: GetStreamResult = await client.getStream('a.bin');
 *   await pipeline(stream, createWriteStream('/tmp/a.bin')); // rejects on INTEGRITY_* errors
 */
export interface GetStreamResult {
  /** The plaintext; integrity failures surface as its `error` event. */
  stream: Readable;
  res: { status: number; headers: Record<string, any> };
  encrypted: boolean;
}

/**
 * Downloads and decrypts an object (ali-oss `get`), whole or a byte range (`headers: { Range: 'bytes=a-b' }`,
 * `bytes=a-`, `bytes=-n`).
 * @param ctx the client context
 * @param name the object key
 * @param file a file path, a Writable, or omitted (to memory); ali-oss also accepts the options here
 * @param options ali-oss get options (`headers`, `versionId`, `timeout`...) plus `signal`
 * @returns `{ res, content, encrypted }` (content only for the memory target)
 * @throws {PlaintextObjectError} PLAINTEXT_REJECTED for a plain object under the `reject` policy
 * @throws {IntegrityError} INTEGRITY_RANGE / INTEGRITY_LENGTH / INTEGRITY_TRUNCATED / INTEGRITY_CRC64 / INTEGRITY_MD5
 * @throws {MetadataError} / {KeyUnwrapError} for broken metadata or a key that no material opens
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for `process` / `x-oss-process`
 * @example
 *   const { content } = await get(ctx, 'a.bin');
 *   await get(ctx, 'a.bin', '/tmp/a.bin');
 *   const { content: tail } = await get(ctx, 'a.bin', { headers: { Range: 'bytes=-100' } });
 */
export async function get(ctx: ClientContext, name: string, file?: unknown, options?: Record<string, unknown>): Promise<GetResult> {
  let target: string | Writable | undefined;
  if (typeof file === 'string') target = file;
  else if (isWritable(file)) target = file;
  else if (file !== null && typeof file === 'object') options = file as Record<string, unknown>;
  else if (file !== undefined && file !== null) {
    throw new TypeError(`"file" expected a file path, a Writable or the options object, got ${typeof file}`);
  }
  const signal = signalOf(options);
  refuseProcessing('get', options);
  const keys = new KeyCache();
  try {
    if (target === undefined) {
      return await withRetry(
        async () => {
          const read = await openRead(ctx, name, options, keys, false);
          const chunks: Buffer[] = [];
          await pipeline(read.body, new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }), { signal });
          return { res: read.finish(), content: Buffer.concat(chunks), encrypted: read.encrypted };
        },
        ctx.retry,
        { signal },
      );
    }
    if (typeof target === 'string') return await getToFile(ctx, name, target, options, keys, signal);
    const writable = target;
    const read = await openRead(ctx, name, options, keys, true);
    await pipeline(read.body, writable, { signal });
    return { res: read.finish(), encrypted: read.encrypted };
  } finally {
    keys.wipe();
  }
}

/**
 * Opens a decrypting stream over an object or a byte range of it (ali-oss `getStream`). The promise settles once
 * the response headers are checked; the body's failures (truncation, CRC-64, MD5) are the stream's `error`.
 * @param ctx the client context
 * @param name the object key
 * @param options ali-oss options (`headers: { Range }`, `versionId`, `timeout`...) plus `signal`
 * @returns `{ stream, res, encrypted }`
 * @throws as {@link get}, for what the headers reveal
 * @example
 *   const { stream } = await getStream(ctx, 'video.mp4', { headers: { Range: 'bytes=1048576-' } });
 *   await pipeline(stream, fs.createWriteStream('/tmp/tail.mp4'));
 */
export async function getStream(ctx: ClientContext, name: string, options?: Record<string, unknown>): Promise<GetStreamResult> {
  refuseProcessing('getStream', options);
  const keys = new KeyCache();
  try {
    const read = await openRead(ctx, name, options, keys, true);
    read.body.once('close', () => keys.wipe());
    const signal = signalOf(options);
    if (signal) {
      // Aborted while the request waited for its answer: no listener would ever fire, so refuse here.
      if (signal.aborted) {
        read.body.destroy();
        throw signal.reason;
      }
      const onAbort = () => read.body.destroy(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      read.body.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return { stream: read.body, res: { status: read.res.status, headers: read.res.headers }, encrypted: read.encrypted };
  } catch (err) {
    keys.wipe();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface OpenedRead {
  /** Decrypted (or, for an allowed plain object, verified) body. */
  readonly body: Readable;
  readonly res: GetResponse;
  readonly encrypted: boolean;
  /** The response summary with the final size and time (call after the body ended). */
  finish(): GetResponse;
}

async function openRead(
  ctx: ClientContext,
  name: string,
  options: Record<string, unknown> | undefined,
  keys: KeyCache,
  retryRequest: boolean,
): Promise<OpenedRead> {
  const { body: source, res, check, started } = await openChecked(ctx, name, options, keys, retryRequest);
  const body = new Verifier(check.spec);
  if (check.notModified) {
    // Not modified (If-None-Match / If-Modified-Since): no body, nothing to decrypt.
    source.resume();
    body.end();
  } else {
    wire(source, body);
  }
  return { body, res, encrypted: check.encrypted, finish: () => ({ ...res, size: body.count, rt: Date.now() - started }) };
}

/** The response with its headers checked (read-request.ts) and its body, a Node stream, not yet read. */
type CheckedResponse = CheckedRead<Readable>;

function openChecked(
  ctx: ClientContext,
  name: string,
  options: Record<string, unknown> | undefined,
  keys: KeyCache,
  retryRequest: boolean,
): Promise<CheckedResponse> {
  // The fetch store answers with a WHATWG stream; this module's pipeline is Node streams.
  const adopt = (body: unknown): Readable => (body instanceof Readable ? body : Readable.fromWeb(body as never));
  return requestRead(ctx, name, options, keys, retryRequest, adopt, (body) => body.destroy());
}

async function getToFile(
  ctx: ClientContext,
  name: string,
  path: string,
  options: Record<string, unknown> | undefined,
  keys: KeyCache,
  signal: AbortSignal | undefined,
): Promise<GetResult> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.download`);
  try {
    const result = await withRetry(
      async () => {
        const opened = await openChecked(ctx, name, options, keys, false);
        // 'w' truncates what an earlier attempt wrote; 0600 because it holds plaintext before the rename.
        const file = await open(temp, 'w', 0o600);
        try {
          const size = await bodyToFile(opened, file, signal);
          return { res: { ...opened.res, size, rt: Date.now() - opened.started }, encrypted: opened.check.encrypted };
        } finally {
          await file.close();
        }
      },
      ctx.retry,
      { signal },
    );
    await rename(temp, path);
    return result;
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes a checked response's body into `file` and runs the end checks; returns the bytes received. The body goes
 * straight from the socket to batched positional writes (download/part-stream.ts, the path of resumable parts):
 * no Transform and no WriteStream in between, one `writev` per MiB, which is most of what separates this from a
 * plain ali-oss download to a file.
 */
async function bodyToFile({ body: source, check }: CheckedResponse, file: FileHandle, signal: AbortSignal | undefined): Promise<number> {
  const { spec } = check;
  if (check.notModified) {
    source.resume();
    return 0;
  }
  const onAbort = () => source.destroy(signal!.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const md5 = spec.md5 !== undefined ? createHash('md5') : undefined;
  try {
    const label = `get ${JSON.stringify(spec.name)}`;
    const crc = await streamPartToFile(source, { file, offset: 0, length: spec.expected, label, ctr: spec.ctr, md5, checksum: spec.crc !== undefined });
    checkDigests(spec, spec.expected, crc, md5 === undefined ? undefined : new Uint8Array(md5.digest()));
    return spec.expected;
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
    spec.ctr?.dispose();
  }
}

function isWritable(value: unknown): value is Writable {
  return value instanceof Writable || (value !== null && typeof value === 'object' && typeof (value as Writable).write === 'function' && typeof (value as Writable).end === 'function');
}
