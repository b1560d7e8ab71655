/**
 * The per-call options every transfer handles the same way: a private copy for each request (the object store
 * may change the object it is given, and neither the caller nor a retry may see that), and the caller's
 * `signal`, which is ours and never sent.
 *
 * Deliberately not here: what any option means to a particular operation.
 * @module
 */

/**
 * A copy of caller options one level deep (`headers`, `subres`, `meta` copied too), without our `signal`:
 * the store (ali-oss) mutates the options object it is given, and neither the caller nor a retry may see that.
 * @example
 *   const opts = copyOptions(options);
 *   await withRetry(() => ctx.oss.head(name, copyOptions(opts)), ctx.retry);
 */
export function copyOptions(options: Record<string, unknown> | undefined): Record<string, any> {
  const out: Record<string, any> = { ...(options ?? {}) };
  if (out.headers && typeof out.headers === 'object') out.headers = { ...out.headers };
  if (out.subres && typeof out.subres === 'object') out.subres = { ...out.subres };
  if (out.meta && typeof out.meta === 'object') out.meta = { ...out.meta };
  delete out.signal;
  return out;
}

/**
 * The caller's AbortSignal, if any (`signal` is our addition to ali-oss's options).
 * @example
 *   await withRetry(attempt, ctx.retry, { signal: signalOf(options) });
 */
export function signalOf(options: Record<string, unknown> | undefined): AbortSignal | undefined {
  const s = options?.signal;
  return s instanceof AbortSignal ? s : undefined;
}
