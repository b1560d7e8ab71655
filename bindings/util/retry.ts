/**
 * Bounded retries with exponential backoff and full jitter: the one retry policy of the library, for OSS calls
 * (client, uploads, downloads) and KMS calls (keys/kms.ts) alike. The count means one thing everywhere:
 * `retries` after the first attempt.
 *
 * What counts as transient (and only that is retried): an HTTP 5xx or 429 answer; a service's "busy" code
 * (KMS `Throttling*`, `Rejected.Throttling`, `InternalFailure`, `ServiceUnavailableTemporary`), which KMS may
 * send with a 4xx status; and the network failures ali-oss reports as `status: -1` (network error) or `-2`
 * (timeout) or that urllib/httpx/Node raise directly (`ECONNRESET`, `EPIPE`, `ETIMEDOUT`, `ECONNREFUSED`,
 * "socket hang up", a timeout, `ResponseTimeoutError`, `ConnectionTimeoutError`, `RequestTimeoutError`). Any
 * other 4xx is never retried: the request itself is wrong, sending it again cannot help. The last error is
 * rethrown untouched, so ali-oss's error object reaches the caller as ali-oss made it.
 *
 * Errors of this library (`OssCryptoError`) are never transient, except a body that broke off
 * (`INTEGRITY_TRUNCATED`) because of a transient network failure.
 *
 * Deliberately not here: re-creating the request body. The caller's `attempt` function rebuilds whatever it
 * sends (re-encrypting from offset 0, re-opening a source path); a consumed, non-rewindable stream cannot be
 * re-sent, and callers say so by not retrying (see {@link RetryOptions.retryable}).
 * @module
 */
import { OssCryptoError } from '../errors.js';

/**
 * How many times and how patiently to retry transient failures.
 * @example
 *   const policy: RetryPolicy = { retries: 5, baseDelayMs: 200, maxDelayMs: 5000 };
 *   const client = new CryptoClient(oss, { material, retry: policy });
 */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries: 3` means at most 4 requests). Default 3; 0 disables. */
  readonly retries: number;
  /** Delay before the first retry, in ms; doubles each retry. Default 100. */
  readonly baseDelayMs: number;
  /** Upper bound of one delay, in ms. Default 2000. */
  readonly maxDelayMs: number;
  /**
   * Decides whether an error is transient. Default {@link isTransientError}. A custom rule is consulted only
   * for errors; it can widen or narrow the default.
   */
  readonly isRetryable?: (err: unknown) => boolean;
}

/**
 * The policy used when the client is given none.
 * @example
 *   const patient = resolveRetryPolicy({ ...DEFAULT_RETRY_POLICY, retries: 6 });
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ retries: 3, baseDelayMs: 100, maxDelayMs: 2000 });

/**
 * Per-call options of {@link withRetry}.
 * @example
 *   const options: RetryOptions = { signal, onRetry: (err, n, ms) => log(`retry ${n} in ${ms} ms`) };
 *   await withRetry(() => oss.head(name), DEFAULT_RETRY_POLICY, options);
 */
export interface RetryOptions {
  /** Aborts waiting between attempts (and no new attempt starts); rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * False when the attempt cannot be repeated (e.g. its body is a caller's stream that has been consumed):
   * then the first error is final whatever it is. Default true.
   */
  readonly retryable?: boolean;
  /** Called before each retry with the error that caused it, the retry number (1-based) and the delay. */
  readonly onRetry?: (err: unknown, retry: number, delayMs: number) => void;
  /** Random source in [0, 1) for jitter; tests pass a fixed one. Default `Math.random`. */
  readonly random?: () => number;
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EAI_AGAIN', 'ESOCKETTIMEDOUT']);
const TRANSIENT_NAMES = new Set(['ResponseTimeoutError', 'ConnectionTimeoutError', 'RequestTimeoutError', 'RequestError', 'ResponseError']);
/** Service codes that mean "busy, try again", whatever HTTP status carries them (KMS sends throttling as 4xx). */
const BUSY_CODES = new Set(['InternalFailure', 'ServiceUnavailableTemporary', 'Rejected.Throttling', 'Throttling']);

/**
 * True for errors worth sending the same request again: 5xx, 429, resets and timeouts. Never a 4xx.
 * @param err anything thrown by ali-oss, urllib or Node's networking
 * @returns whether {@link withRetry} would retry it under the default policy
 * @example
 *   isTransientError({ status: 503 })          // true
 *   isTransientError({ status: 404 })          // false
 *   isTransientError({ code: 'ECONNRESET' })   // true
 */
export function isTransientError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  if (err instanceof OssCryptoError) {
    // Our own errors say what is wrong with the data or the keys; sending the request again cannot fix them.
    // The exception is a body that broke off, which is retried when the break itself was transient. A KmsError
    // carries KMS's HTTP status but was already retried by the KMS wrapper: retrying here would multiply it.
    return err.code === 'INTEGRITY_TRUNCATED' && err.cause !== undefined && isTransientError(err.cause);
  }
  const e = err as { status?: unknown; code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (BUSY_CODES.has(e.code) || e.code.startsWith('Throttling'))) return true;
  if (typeof e.status === 'number') {
    if (e.status >= 500 || e.status === 429) return true;
    // ali-oss: -1 network error, -2 timeout (lib/client.js requestError).
    if (e.status === -1 || e.status === -2) return true;
    if (e.status >= 400) return false;
  }
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.message === 'string' && /socket hang up|ECONNRESET|other side closed|timeout/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isTransientError(e.cause);
}

/**
 * Runs `attempt` until it succeeds, a non-transient error occurs, or `policy.retries` retries are spent.
 * Delays are "full jitter": uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))].
 * @param attempt the operation; receives the attempt number (0 for the first). It must rebuild its request.
 * @param policy how many retries and how long to wait
 * @param options abort signal, whether repeating is possible at all, retry hook
 * @returns what `attempt` returned
 * @throws the last error of `attempt`, untouched; or the signal's reason when aborted
 * @example
 *   const res = await withRetry(
 *     () => oss.head(name),
 *     { retries: 3, baseDelayMs: 100, maxDelayMs: 2000 },
 *   );
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  options: RetryOptions = {},
): Promise<T> {
  checkPolicy(policy);
  const isRetryable = policy.isRetryable ?? isTransientError;
  const random = options.random ?? Math.random;
  for (let n = 0; ; n++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      if (options.retryable === false || n >= policy.retries || !isRetryable(err)) throw err;
      if (options.signal?.aborted) throw err;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
      const delay = Math.floor(random() * cap);
      options.onRetry?.(err, n + 1, delay);
      await sleep(delay, options.signal);
    }
  }
}

/**
 * Fills in the defaults of a partial policy and checks its numbers.
 * @throws {RangeError} when a number is negative or not finite
 * @example
 *   resolveRetryPolicy({ retries: 5 }) // { retries: 5, baseDelayMs: 100, maxDelayMs: 2000 }
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...(partial ?? {}) };
  checkPolicy(policy);
  return policy;
}

function checkPolicy(policy: RetryPolicy): void {
  if (!Number.isSafeInteger(policy.retries) || policy.retries < 0) {
    throw new RangeError(`"retry.retries" expected a non-negative integer, got ${String(policy.retries)}`);
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    const v = policy[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`"retry.${key}" expected a non-negative finite number, got ${String(v)}`);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
