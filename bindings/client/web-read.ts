/**
 * Decrypting downloads for the web client (web-client.ts), with Web APIs only: `get` to memory (a Uint8Array)
 * and `getStream` (a WHATWG ReadableStream), whole objects and every byte-range form. What to expect is decided
 * from the headers before a byte is decrypted (read-plan.ts, shared with Node's get.ts), and the body is
 * decrypted, counted and, for whole objects, CRC-64- and MD5-checked as it streams (body-check.ts): a body that
 * broke off is INTEGRITY_TRUNCATED, and the end checks fail the stream instead of ending it
 * (docs/FORMAT.md §1, §4, §6).
 *
 * Retries: the request is retried on transient failures; `get` also restarts a body that broke off (what was
 * read is discarded). `getStream` cannot take back bytes already handed over. A file path target needs a file
 * system: refused with `OPERATION_UNSUPPORTED` naming the runtime.
 * @module
 */
import { UnsupportedOperationError } from '../errors.js';
import type { ClientContext } from '../transfer/context.js';
import { signalOf } from '../transfer/request-options.js';
import { Md5 } from '../util/md5.js';
import { withRetry } from '../util/retry.js';
import { runtimeName } from '../util/runtime.js';
import { BodyCheck } from './body-check.js';
import type { GetResponse } from './get-types.js';
import { KeyCache } from './read-plan.js';
import { requestRead } from './read-request.js';
import { refuseProcessing } from './refused.js';

/**
 * Result of the web `get`: ali-oss's `{ res, content }` plus `encrypted`; `content` is a Uint8Array.
 * @example
 *   const { content, encrypted }: WebGetResult = await client.get('a.bin');
 */
export interface WebGetResult {
  res: GetResponse;
  content: Uint8Array;
  encrypted: boolean;
}

/**
 * Result of the web `getStream`: the plaintext as a WHATWG ReadableStream.
 * @example
 *   const { stream } = await client.getStream('a.bin');
 *   await stream.pipeTo(writable); // rejects on INTEGRITY_* errors
 */
export interface WebGetStreamResult {
  stream: ReadableStream<Uint8Array>;
  res: { status: number; headers: Record<string, any> };
  encrypted: boolean;
}

/**
 * Downloads and decrypts an object or a byte range (`headers: { Range: 'bytes=a-b' | 'bytes=a-' | 'bytes=-n' }`)
 * into memory.
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for a file path target, or `process`
 * @throws {PlaintextObjectError} PLAINTEXT_REJECTED; {@link IntegrityError} INTEGRITY_RANGE / _LENGTH / _TRUNCATED / _CRC64 / _MD5
 * @example
 *   const { content } = await webGet(ctx, 'a.bin', { headers: { Range: 'bytes=-1000' } });
 */
export async function webGet(ctx: ClientContext, name: string, file?: unknown, options?: Record<string, unknown>): Promise<WebGetResult> {
  if (typeof file === 'string' || (file !== null && typeof file === 'object' && typeof (file as { write?: unknown }).write === 'function')) {
    throw new UnsupportedOperationError(
      'OPERATION_UNSUPPORTED',
      `get ${JSON.stringify(name)}: writing to a file or a Node Writable needs Node, not ${runtimeName()}; ` +
        'call get(name, options) for the bytes, or getStream(name, options) and pipe its ReadableStream',
    );
  }
  if (file !== null && typeof file === 'object') options = file as Record<string, unknown>;
  const signal = signalOf(options);
  refuseProcessing('get', options);
  const keys = new KeyCache();
  try {
    return await withRetry(
      async () => {
        const read = await openRead(ctx, name, options, keys, false);
        const chunks: Uint8Array[] = [];
        const reader = read.stream.getReader();
        const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          for (;;) {
            const next = await reader.read();
            if (next.done) break;
            chunks.push(next.value);
          }
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        signal?.throwIfAborted();
        return { res: read.finish(), content: concat(chunks), encrypted: read.encrypted };
      },
      ctx.retry,
      { signal },
    );
  } finally {
    keys.wipe();
  }
}

/**
 * A decrypting ReadableStream over an object or a byte range. Headers are checked before the promise settles;
 * body failures (truncation, CRC-64, MD5) error the stream.
 * @example
 *   const { stream } = await webGetStream(ctx, 'a.bin', { headers: { Range: 'bytes=100-' } });
 */
export async function webGetStream(ctx: ClientContext, name: string, options?: Record<string, unknown>): Promise<WebGetStreamResult> {
  refuseProcessing('getStream', options);
  const keys = new KeyCache();
  try {
    const read = await openRead(ctx, name, options, keys, true, () => keys.wipe());
    return { stream: read.stream, res: { status: read.res.status, headers: read.res.headers }, encrypted: read.encrypted };
  } catch (err) {
    keys.wipe();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface OpenedWebRead {
  readonly stream: ReadableStream<Uint8Array>;
  readonly res: GetResponse;
  readonly encrypted: boolean;
  finish(): GetResponse;
}

async function openRead(
  ctx: ClientContext,
  name: string,
  options: Record<string, unknown> | undefined,
  keys: KeyCache,
  retryRequest: boolean,
  onDone?: () => void,
): Promise<OpenedWebRead> {
  const signal = signalOf(options);
  const read = await requestRead(ctx, name, options, keys, retryRequest, webStreamOf, (body, err) => body.cancel(err).catch(() => {}));
  const { body: source, res, started } = read;
  const check = new BodyCheck(read.check.spec, () => new Md5());
  const encrypted = read.check.encrypted;
  const reader = source.getReader();
  const done = () => {
    check.dispose();
    onDone?.();
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        done();
        controller.error(signal?.aborted ? signal.reason : check.truncated(err));
        return;
      }
      try {
        if (next.done) {
          check.finish();
          done();
          controller.close();
          return;
        }
        // The transport's chunk is ours alone: decrypted in place after its CRC is taken.
        controller.enqueue(check.update(next.value));
      } catch (err) {
        done();
        controller.error(err);
        await reader.cancel(err).catch(() => {});
      }
    },
    async cancel(reason) {
      done();
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, res, encrypted, finish: () => ({ ...res, size: check.count, rt: Date.now() - started }) };
}

/** The store's body as a WHATWG stream (the fetch store gives one; any async iterable is wrapped). */
function webStreamOf(body: unknown): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body as ReadableStream<Uint8Array>;
  const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
