/**
 * Encrypting single-request uploads for the web client (web-client.ts), with Web APIs only: `put` from a
 * Uint8Array or a Blob/File (encrypted at once; a retry re-sends the same ciphertext under the same wrapped key)
 * and `put` / `putStream` from a WHATWG ReadableStream
 * (encrypted as it streams, the last chunk held back until the announced length and a claimed MD5 check out,
 * so a failed check stores nothing; not retried: a consumed stream cannot be re-sent). Options, envelope and
 * the retry rule are put-common.ts's, shared with Node's put.ts (docs/FORMAT.md §2, §5).
 *
 * A file path needs a file system: refused with `OPERATION_UNSUPPORTED` naming the runtime.
 * @module
 */
import { aesCtr } from '../cipher/aes-ctr.js';
import { IntegrityError, UnsupportedOperationError } from '../errors.js';
import type { ContentKey } from '../keys/types.js';
import type { ClientContext } from '../transfer/context.js';
import { encodeBase64 } from '../util/base64.js';
import { describe } from '../util/describe.js';
import { Md5 } from '../util/md5.js';
import { runtimeName } from '../util/runtime.js';
import { envelopeMeta, equalBytes, md5Mismatch, prepare, putEncryptedBytes, wipe, type Md5Request, type PutOptions } from './put-common.js';

/**
 * Encrypts and uploads an object in one request (ali-oss `put`), from a Uint8Array, a Blob/File or a
 * ReadableStream.
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for a file path, or options naming encryption metadata
 * @throws {IntegrityError} INTEGRITY_MD5 / INTEGRITY_LENGTH when the content is not what was announced
 * @throws {TypeError} when `file` is none of the accepted kinds
 * @example
 *   await webPut(ctx, 'a.txt', new TextEncoder().encode('hi'));
 *   await webPut(ctx, 'photo.jpg', fileInput.files[0]);
 */
export async function webPut(ctx: ClientContext, name: string, file: unknown, options?: PutOptions): Promise<any> {
  if (typeof file === 'string') {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `put ${JSON.stringify(name)}: a file path needs a file system, which ${runtimeName()} does not give this client; ` +
        'pass a Uint8Array, a Blob/File or a ReadableStream',
    );
  }
  const { opts, md5, signal } = prepare('put', ctx, options);
  if (file instanceof Uint8Array) return putBytes(ctx, name, file, opts, md5, signal);
  if (typeof Blob !== 'undefined' && file instanceof Blob) {
    if (opts.mime === undefined && file.type !== '') opts.mime = file.type;
    return putBytes(ctx, name, new Uint8Array(await file.arrayBuffer()), opts, md5, signal);
  }
  if (file instanceof ReadableStream) return putWebStream(ctx, name, file, opts, md5, signal);
  throw new TypeError(`"file" expected a Uint8Array, a Blob/File or a ReadableStream, got ${describe(file)}`);
}

/**
 * Encrypts and uploads a ReadableStream in one request (ali-oss `putStream`); `contentLength`, when given, is
 * recorded and checked. Not retried.
 * @throws {IntegrityError} INTEGRITY_LENGTH / INTEGRITY_MD5 (nothing is stored)
 * @example
 *   await webPutStream(ctx, 'upload.bin', request.body, { contentLength: 1234 });
 */
export async function webPutStream(ctx: ClientContext, name: string, stream: unknown, options?: PutOptions): Promise<any> {
  if (!(stream instanceof ReadableStream)) throw new TypeError(`"stream" expected a ReadableStream, got ${describe(stream)}`);
  const { opts, md5, signal } = prepare('putStream', ctx, options);
  return putWebStream(ctx, name, stream, opts, md5, signal);
}

// ---------------------------------------------------------------------------------------------------------------

async function putBytes(ctx: ClientContext, name: string, data: Uint8Array, opts: Record<string, any>, md5: Md5Request, signal?: AbortSignal) {
  let md5Text: string | undefined;
  if (md5 !== undefined) {
    const actual = new Md5().update(data).digest();
    if (md5 instanceof Uint8Array && !equalBytes(md5, actual)) throw md5Mismatch(name, md5, actual, 'the bytes');
    md5Text = encodeBase64(actual);
  }
  return putEncryptedBytes(ctx, name, data, opts, md5Text, signal, (ct) => ct);
}

async function putWebStream(
  ctx: ClientContext,
  name: string,
  source: ReadableStream<Uint8Array>,
  opts: Record<string, any>,
  md5: Md5Request,
  signal?: AbortSignal,
) {
  if (md5 === 'compute') {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `put ${JSON.stringify(name)}: contentMd5: true needs the whole plaintext before the request starts (the MD5 ` +
        'is a header), which a stream cannot give; pass the MD5 you know as contentMd5: "<hex or base64>", or a Uint8Array or Blob',
    );
  }
  let size: number | undefined;
  if (opts.contentLength !== undefined && opts.contentLength !== null && opts.contentLength !== '') {
    size = Number(opts.contentLength);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`"contentLength" expected a non-negative integer, got ${String(opts.contentLength)}`);
  }
  signal?.throwIfAborted();
  const created = await ctx.keyring.createContentKey();
  const claimed = md5 instanceof Uint8Array ? md5 : undefined;
  const meta = await envelopeMeta(ctx, opts, created.content, created.wrapped, size, claimed ? encodeBase64(claimed) : undefined);
  const sendOpts: Record<string, any> = { ...opts, headers: { ...opts.headers }, meta };
  delete sendOpts.contentLength;
  const encrypting = encryptingStream(ctx, created.content, size, claimed, name);
  const reader = source.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await ctx.store.putObjectStream(name, pull(reader, encrypting), sendOpts);
  } catch (err) {
    // Our own check failures win over the transport's report of the body it could not finish.
    if (encrypting.failure !== undefined && encrypting.failure !== err) throw encrypting.failure;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    encrypting.dispose();
  }
}

interface Encrypting {
  failure: unknown;
  update(chunk: Uint8Array): Uint8Array | undefined;
  finish(): Uint8Array | undefined;
  dispose(): void;
}

/** Encrypts from offset 0, counts, hashes a claimed MD5's plaintext, and holds back the last chunk. */
function encryptingStream(ctx: ClientContext, content: ContentKey, expected: number | undefined, claimed: Uint8Array | undefined, name: string): Encrypting {
  const ctr = aesCtr(content.key, content.iv, 0, { backend: ctx.backend });
  const hash = claimed ? new Md5() : undefined;
  let count = 0;
  let held: Uint8Array | undefined;
  const state: Encrypting = {
    failure: undefined,
    update(chunk) {
      count += chunk.length;
      if (expected !== undefined && count > expected) {
        throw new IntegrityError('INTEGRITY_LENGTH', `put ${JSON.stringify(name)}: the stream gave more than the ${expected} bytes announced (contentLength); nothing was stored`);
      }
      hash?.update(chunk);
      const out = held;
      held = ctr.update(chunk);
      return out;
    },
    finish() {
      if (expected !== undefined && count !== expected) {
        throw new IntegrityError('INTEGRITY_LENGTH', `put ${JSON.stringify(name)}: the stream ended after ${count} bytes, but ${expected} were announced (contentLength); nothing was stored`);
      }
      if (claimed && hash) {
        const actual = hash.digest();
        if (!equalBytes(actual, claimed)) throw md5Mismatch(name, claimed, actual, 'the stream');
      }
      const out = held;
      held = undefined;
      return out;
    },
    dispose() {
      ctr.dispose();
      wipe(content);
    },
  };
  return state;
}

/** The ciphertext as a ReadableStream pulled from the caller's stream; a failed check errors it. */
function pull(reader: ReadableStreamDefaultReader<Uint8Array>, encrypting: Encrypting): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const next = await reader.read();
          if (next.done) {
            const last = encrypting.finish();
            if (last !== undefined && last.length > 0) controller.enqueue(last);
            controller.close();
            return;
          }
          if (!(next.value instanceof Uint8Array)) throw new TypeError(`"stream" expected chunks of bytes, got ${describe(next.value)}`);
          const out = encrypting.update(next.value);
          if (out !== undefined && out.length > 0) {
            controller.enqueue(out);
            return;
          }
        }
      } catch (err) {
        encrypting.failure = err;
        controller.error(err);
        await reader.cancel(err).catch(() => {});
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  });
}
