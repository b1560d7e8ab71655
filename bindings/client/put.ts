/**
 * Encrypted single-request uploads: ali-oss `put(name, file, options)` and `putStream(name, stream, options)`
 * (docs/FORMAT.md §1, §2). One fresh content key per object from the key ring; the body is AES-256-CTR from
 * offset 0; the V2 headers go through ali-oss's `meta`, merged with the caller's own (which may not name
 * encryption metadata).
 *
 * Sources and memory: a Buffer/Uint8Array is encrypted in one call (the ciphertext is as large as the input);
 * a file path and a Readable are encrypted as they stream, chunk by chunk, so memory stays bounded whatever the
 * size. `unencrypted-content-length` is recorded whenever the length is known (always for Buffers and paths; for
 * streams when `contentLength` is given). `unencrypted-content-md5` is recorded when asked: `contentMd5: true`
 * computes it (Buffers and paths; a path is read twice), a string (hex or base64) or a `Content-MD5` header is
 * the caller's claim about the plaintext, verified as the bytes pass. Every streamed upload holds back its last
 * chunk until the length and MD5 checks pass, so a failed check leaves the request incomplete and OSS stores
 * nothing.
 *
 * Retries: a transient failure (5xx, 429, reset, timeout) re-sends the whole request. A Buffer is re-sent as
 * is; a path is re-read from offset 0 under a new content key (so no two different plaintexts ever share a
 * keystream, even if the file changed). A caller's Readable cannot be rewound, so it is never retried. With
 * `x-oss-forbid-overwrite: true`, a retry refused with 409 `FileAlreadyExists` because an earlier attempt did
 * store the object (its response was lost) is recognised by the object's wrapped key and reported as success.
 *
 * Deliberately not here: multipart upload (bindings/upload/), append (refused).
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { aesCtr, type CtrStream } from '../cipher/aes-ctr.js';
import { IntegrityError, UnsupportedOperationError } from '../errors.js';
import type { ContentKey } from '../keys/types.js';
import type { ClientContext } from '../transfer/context.js';
import { describe } from '../util/describe.js';
import { envelopeMeta, equalBytes, md5Mismatch, prepare, putEncryptedBytes, retryPut, wipe, type Md5Request, type PutOptions } from './put-common.js';

export type { PutOptions } from './put-common.js';

/**
 * Encrypts and uploads an object in one request (ali-oss `put`).
 * @param ctx the client context
 * @param name the object key
 * @param file a Buffer/Uint8Array, a file path, or a Readable
 * @param options ali-oss options plus `contentMd5` and `signal`
 * @returns ali-oss's result: `{ name, url, res }` (and `data` with a callback)
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when options name encryption metadata, ask for
 *   append, or ask `contentMd5: true` of a stream
 * @throws {IntegrityError} INTEGRITY_MD5 when a claimed MD5 does not match the plaintext; INTEGRITY_LENGTH when
 *   a stream or file does not have the announced length (nothing is stored)
 * @throws {TypeError} when `file` is none of the accepted kinds
 * @example
 *   await put(ctx, 'a.bin', Buffer.from('hello'));
 *   await put(ctx, 'big.iso', '/data/big.iso', { contentMd5: true });
 *   await put(ctx, 'log.txt', fs.createReadStream('log.txt'), { contentLength: 1234 });
 */
export async function put(ctx: ClientContext, name: string, file: unknown, options?: PutOptions): Promise<any> {
  const { opts, md5, signal } = prepare('put', ctx, options);
  if (file instanceof Uint8Array) return putBytes(ctx, name, file, opts, md5, signal);
  if (typeof file === 'string') return putPath(ctx, name, file, opts, md5, signal);
  if (isReadable(file)) return putReadable(ctx, name, file, opts, md5, signal);
  if (typeof Blob !== 'undefined' && file instanceof Blob) {
    // One request holds the whole body anyway; read into memory, it can be re-encrypted on a retry.
    if (opts.mime === undefined && file.type !== '') opts.mime = file.type;
    return putBytes(ctx, name, new Uint8Array(await file.arrayBuffer()), opts, md5, signal);
  }
  if (file instanceof ReadableStream) return putReadable(ctx, name, Readable.fromWeb(file as never), opts, md5, signal);
  throw new TypeError(`"file" expected a Buffer, Uint8Array, Blob, file path, Readable or ReadableStream, got ${describe(file)}`);
}

/**
 * Encrypts and uploads a stream in one request (ali-oss `putStream`): chunked transfer when `contentLength`
 * is not given (then no length is recorded). Not retried: a consumed stream cannot be re-sent.
 * @param ctx the client context
 * @param name the object key
 * @param stream the plaintext
 * @param options ali-oss options (`contentLength`, `meta`, `headers`, `mime`...) plus `contentMd5` (a string)
 * @returns ali-oss's result `{ name, url, res }`
 * @throws {IntegrityError} INTEGRITY_LENGTH when the stream's length differs from `contentLength`;
 *   INTEGRITY_MD5 when it differs from a claimed MD5 (nothing is stored)
 * @example
 *   await putStream(ctx, 'upload.bin', req, { contentLength: Number(req.headers['content-length']) });
 */
export async function putStream(ctx: ClientContext, name: string, stream: unknown, options?: PutOptions): Promise<any> {
  if (!isReadable(stream)) throw new TypeError(`"stream" expected a Readable, got ${describe(stream)}`);
  const { opts, md5, signal } = prepare('putStream', ctx, options);
  return putReadable(ctx, name, stream, opts, md5, signal);
}

// ---------------------------------------------------------------------------------------------------------------

async function putBytes(ctx: ClientContext, name: string, data: Uint8Array, opts: Record<string, any>, md5: Md5Request, signal?: AbortSignal) {
  let md5Text: string | undefined;
  if (md5 !== undefined) {
    const actual = new Uint8Array(createHash('md5').update(data).digest());
    if (md5 instanceof Uint8Array && !equalBytes(md5, actual)) throw md5Mismatch(name, md5, actual, 'the Buffer');
    md5Text = Buffer.from(actual).toString('base64');
  }
  // ali-oss adds a Content-MD5 of this (cipher) body itself, so OSS checks the transfer.
  return putEncryptedBytes(ctx, name, data, opts, md5Text, signal, (ct) => Buffer.from(ct.buffer, ct.byteOffset, ct.byteLength));
}

async function putPath(ctx: ClientContext, name: string, path: string, opts: Record<string, any>, md5: Md5Request, signal?: AbortSignal) {
  const info = await stat(path);
  if (!info.isFile()) throw new TypeError(`"file" expected a path to a regular file, got ${JSON.stringify(path)} (not a file)`);
  const size = info.size;
  // A computed MD5 is then checked again while the file streams, so a file changed between the two reads
  // fails the upload instead of storing a wrong MD5.
  const expectedMd5 = md5 === 'compute' ? await hashFile(path, signal) : md5;
  const md5Text = expectedMd5 === undefined ? undefined : Buffer.from(expectedMd5).toString('base64');
  // ali-oss's own put(path) takes the Content-Type from the extension; createRequest looks an extension up.
  const mime = opts.mime ?? (extname(path) || undefined);
  return retryPut(
    ctx,
    name,
    size,
    async (sent) => {
      // A fresh key per attempt: if the file changed between attempts, two plaintexts never share a keystream.
      const created = await ctx.keyring.createContentKey();
      sent.push(created.wrapped.wrappedKey);
      const meta = await envelopeMeta(ctx, opts, created.content, created.wrapped, size, md5Text);
      const encrypt = new EncryptStream(ctx, created.content, size, expectedMd5, name, `file ${JSON.stringify(path)}`);
      const source = createReadStream(path);
      return send(ctx, name, source, encrypt, { ...opts, headers: { ...opts.headers }, meta, mime, contentLength: size }, signal);
    },
    signal,
  );
}

async function putReadable(ctx: ClientContext, name: string, source: Readable, opts: Record<string, any>, md5: Md5Request, signal?: AbortSignal) {
  if (md5 === 'compute') {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `put ${JSON.stringify(name)}: contentMd5: true needs the whole plaintext before the request starts (the MD5 ` +
        'is a header), which a stream cannot give; pass the MD5 you know as contentMd5: "<hex or base64>", or a Buffer or file path',
    );
  }
  let size: number | undefined;
  if (opts.contentLength !== undefined && opts.contentLength !== null && opts.contentLength !== '') {
    size = Number(opts.contentLength);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`"contentLength" expected a non-negative integer, got ${String(opts.contentLength)}`);
    }
  }
  signal?.throwIfAborted();
  const created = await ctx.keyring.createContentKey();
  const meta = await envelopeMeta(ctx, opts, created.content, created.wrapped, size, md5 instanceof Uint8Array ? Buffer.from(md5).toString('base64') : undefined);
  const encrypt = new EncryptStream(ctx, created.content, size, md5 instanceof Uint8Array ? md5 : undefined, name, 'the stream');
  const sendOpts: Record<string, any> = { ...opts, headers: { ...opts.headers }, meta };
  if (size === undefined) delete sendOpts.contentLength;
  else sendOpts.contentLength = size;
  // Not retried: the caller's stream is consumed by the first attempt.
  return send(ctx, name, source, encrypt, sendOpts, signal);
}

/** Pipes `source` through `encrypt` into ali-oss putStream; our own check failures win over ali-oss's report of them. */
async function send(
  ctx: ClientContext,
  name: string,
  source: Readable,
  encrypt: EncryptStream,
  opts: Record<string, any>,
  signal: AbortSignal | undefined,
): Promise<any> {
  const onAbort = () => encrypt.destroy(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  source.on('error', (err) => encrypt.destroy(err));
  source.pipe(encrypt);
  try {
    if (signal?.aborted) throw signal.reason;
    return await ctx.store.putObjectStream(name, encrypt, opts);
  } catch (err) {
    if (encrypt.failure !== undefined && encrypt.failure !== err) {
      if (encrypt.failure instanceof IntegrityError) {
        throw new IntegrityError(encrypt.failure.code, encrypt.failure.message, { cause: err });
      }
      throw encrypt.failure;
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.unpipe(encrypt);
    if (!source.destroyed && typeof source.destroy === 'function' && source.readableEnded === false) source.destroy();
    encrypt.dispose();
  }
}

/**
 * Encrypts chunk by chunk from offset 0, counts, optionally hashes, and holds back the last chunk until the end
 * checks pass (length equal to the announced one, MD5 equal to the claimed one).
 */
class EncryptStream extends Transform {
  failure: unknown;
  readonly #ctr: CtrStream;
  readonly #content: ContentKey;
  readonly #expected: number | undefined;
  readonly #claimed: Uint8Array | undefined;
  readonly #hash;
  readonly #name: string;
  readonly #what: string;
  #count = 0;
  #held: Buffer | undefined;

  constructor(ctx: ClientContext, content: ContentKey, expected: number | undefined, claimed: Uint8Array | undefined, name: string, what: string) {
    super();
    this.#content = content;
    this.#ctr = aesCtr(content.key, content.iv, 0, { backend: ctx.backend });
    this.#expected = expected;
    this.#claimed = claimed;
    this.#hash = claimed ? createHash('md5') : undefined;
    this.#name = name;
    this.#what = what;
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, done: TransformCallback): void {
    try {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
      if (!(bytes instanceof Uint8Array)) throw new TypeError(`"stream" expected chunks of bytes, got ${describe(chunk)}`);
      this.#count += bytes.length;
      if (this.#expected !== undefined && this.#count > this.#expected) {
        throw new IntegrityError(
          'INTEGRITY_LENGTH',
          `put ${JSON.stringify(this.#name)}: ${this.#what} gave more than the ${this.#expected} bytes announced ` +
            `(contentLength or the file size read before sending); nothing was stored`,
        );
      }
      this.#hash?.update(bytes);
      const out = this.#ctr.update(bytes);
      if (this.#held !== undefined) this.push(this.#held);
      this.#held = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      done();
    } catch (err) {
      this.failure = err;
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.#expected !== undefined && this.#count !== this.#expected) {
        throw new IntegrityError(
          'INTEGRITY_LENGTH',
          `put ${JSON.stringify(this.#name)}: ${this.#what} ended after ${this.#count} bytes, but ${this.#expected} ` +
            `were announced (contentLength or the file size read before sending); nothing was stored`,
        );
      }
      if (this.#claimed && this.#hash) {
        const actual = new Uint8Array(this.#hash.digest());
        if (!equalBytes(actual, this.#claimed)) throw md5Mismatch(this.#name, this.#claimed, actual, this.#what);
      }
      if (this.#held !== undefined) this.push(this.#held);
      this.#held = undefined;
      done();
    } catch (err) {
      this.failure = err;
      done(err as Error);
    }
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    if (err && this.failure === undefined) this.failure = err;
    this.dispose();
    done(err);
  }

  dispose(): void {
    this.#ctr.dispose();
    wipe(this.#content);
  }
}

async function hashFile(path: string, signal?: AbortSignal): Promise<Uint8Array> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return new Uint8Array(hash.digest());
}

function isReadable(value: unknown): value is Readable {
  return value instanceof Readable || (value !== null && typeof value === 'object' && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function');
}
