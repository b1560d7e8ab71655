/**
 * The request of a decrypting read, for both read paths (Node's get.ts, the web's web-read.ts): the Range planned
 * (read-plan.ts), the GET sent through the store (retried when the caller can still take it back), the response
 * summarised ali-oss's way, and its headers checked before a byte of the body is read. The body stays in the
 * caller's stream library: `adopt` takes it over, `discard` releases it when the headers fail.
 *
 * Deliberately not here: reading the body (each path's own stream code).
 * @module
 */
import type { ClientContext } from '../transfer/context.js';
import { copyOptions, signalOf } from '../transfer/request-options.js';
import { withRetry } from '../util/retry.js';
import type { GetResponse } from './get-types.js';
import { checkReadResponse, planRead, type KeyCache, type ReadCheck } from './read-plan.js';

/**
 * A response whose headers passed, with its body not yet read.
 * @example
 *   const { body, check }: CheckedRead<Readable> = await requestRead(ctx, name, options, keys, true, toReadable, destroy);
 */
export interface CheckedRead<B> {
  readonly body: B;
  readonly res: GetResponse;
  readonly check: ReadCheck;
  /** When the request was sent (`Date.now()`), for `rt`. */
  readonly started: number;
}

/**
 * Sends a read's GET and checks its headers.
 * @param ctx the client context
 * @param name the object key
 * @param options the caller's ali-oss-style options (`headers: { Range }`, `versionId`, `signal`...)
 * @param keys the operation's key cache (one unwrap per operation)
 * @param retryRequest whether a transient failure of the request is retried here
 * @param adopt turns the store's body into the caller's stream type
 * @param discard releases that body when the headers are refused
 * @returns the body, the response summary and what the body must be
 * @throws what checkReadResponse throws for the headers, and the store's error for the request
 * @example
 *   const read = await requestRead(ctx, 'a.bin', undefined, keys, false, (b) => b as Readable, (b) => b.destroy());
 */
export async function requestRead<B>(
  ctx: ClientContext,
  name: string,
  options: Record<string, unknown> | undefined,
  keys: KeyCache,
  retryRequest: boolean,
  adopt: (body: unknown) => B,
  discard: (body: B, err: unknown) => unknown,
): Promise<CheckedRead<B>> {
  const { base, plan } = planRead(options);
  const started = Date.now();
  // The store streams the body and turns an error answer into its library's own error (ali-oss: from the body).
  const request = () => ctx.store.openObject(name, copyOptions(base));
  const result = retryRequest ? await withRetry(request, ctx.retry, { signal: signalOf(options) }) : await request();
  const body = adopt(result.body);
  const res: GetResponse = { status: result.status, statusCode: result.status, headers: result.headers, size: 0, rt: 0, requestUrls: result.requestUrls };
  try {
    return { body, res, check: await checkReadResponse(ctx, name, plan, res, keys), started };
  } catch (err) {
    await discard(body, err);
    throw err;
  }
}
