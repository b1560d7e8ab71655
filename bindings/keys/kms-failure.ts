/**
 * What a failed KMS call means: KMS's code, HTTP status and request id read out of whatever the client threw
 * (the SDK's error, or an httpx/Node network error), whether retrying can help (by the one rule of
 * util/retry.ts), and the {@link KmsError} the caller gets, with no key material, `Plaintext` or request URL in
 * its message, properties or `cause`.
 * @module
 */
import { KmsError } from '../errors.js';
import { isTransientError } from '../util/retry.js';

/** A KMS action, as messages name it. */
export type KmsAction = 'Encrypt' | 'Decrypt' | 'GenerateDataKey';

/**
 * True when a KMS call that threw `err` is worth sending again: the shared rule of util/retry.ts, applied to
 * KMS's own code and status (the SDK hides them in `data` and in its message).
 * @example
 *   withRetry(call, { ...policy, isRetryable: isTransientKmsFailure });
 */
export function isTransientKmsFailure(err: unknown): boolean {
  const f = readFailure(err);
  return isTransientError({ status: f.status, code: f.kmsCode, name: f.name, message: f.rawMessage });
}

/**
 * The error a caller gets for a failed KMS call.
 * @param err what the client threw (after any retries)
 * @param action the KMS action
 * @param what which half: `content key`, `IV`, `counter start`
 * @param attempts how many requests were made
 * @param secrets what was sent that must not appear in the error (the base64 plaintexts)
 * @example
 *   throw kmsErrorOf(err, 'Decrypt', 'IV', 3, []);
 */
export function kmsErrorOf(err: unknown, action: KmsAction, what: string, attempts: number, secrets: readonly string[]): KmsError {
  const failure = describeKmsFailure(err, secrets);
  return new KmsError(
    `KMS ${action} of the ${what} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${failure.kmsCode}` +
      `${failure.status === undefined ? '' : ` (HTTP ${failure.status})`}` +
      `${failure.requestId === undefined ? '' : `, request id ${failure.requestId}`}` +
      `${failure.message === '' ? '' : `: ${failure.message}`}`,
    { kmsCode: failure.kmsCode, requestId: failure.requestId, status: failure.status },
    { cause: failure.cause },
  );
}

/** What a failed KMS call said, with secrets removed. */
export interface KmsFailure {
  kmsCode: string;
  status: number | undefined;
  requestId: string | undefined;
  message: string;
  cause: Error;
}

/**
 * Reads KMS's code, status and request id out of whatever the client threw. The SDK throws
 * `{ code: Code + 'Error', data: {Code, Message, RequestId}, message: 'XError: code: 400, ...' }` for KMS answers,
 * and httpx/Node errors (whose messages quote the request URL, Plaintext included) for network failures.
 */
export function describeKmsFailure(err: unknown, secrets: readonly string[]): KmsFailure {
  const { kmsCode, status, requestId, rawMessage: sdkMessage, name, code, kmsMessage } = readFailure(err);
  const rawMessage = separateRequest(sdkMessage);
  const message = redact(kmsMessage ?? (status === undefined ? rawMessage : ''), secrets);
  const cause = new Error(redact(rawMessage, secrets));
  cause.name = name;
  if (code !== undefined) (cause as Error & { code?: string }).code = code;
  return { kmsCode, status, requestId, message, cause };
}

/** The fields of a thrown error, unredacted: for classifying and for {@link describeKmsFailure} only. */
function readFailure(err: unknown) {
  const e = (err !== null && typeof err === 'object' ? err : {}) as Record<string, unknown>;
  const data = (e.data !== null && typeof e.data === 'object' ? e.data : {}) as Record<string, unknown>;
  const rawMessage = typeof e.message === 'string' ? e.message : String(err);
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const kmsCode = text(data.Code) ?? text(data.code) ?? text(e.code) ?? text(e.name) ?? 'UnknownError';
  let status = [e.statusCode, e.status, data.statusCode, data.HttpStatus].map(Number).find((n) => Number.isInteger(n) && n >= 100 && n <= 599);
  if (status === undefined) {
    const m = /\bcode: (\d{3}),/.exec(rawMessage);
    if (m) status = Number(m[1]);
  }
  const requestId = text(data.RequestId) ?? text(data.requestId) ?? text(e.requestId) ?? text(e.RequestId);
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' ? e.code : undefined;
  return { kmsCode, status, requestId, rawMessage, name, code, kmsMessage: text(data.Message) };
}

/**
 * The SDK's network errors glue the request onto the Node error with no space ("connect ECONNREFUSED
 * 127.0.0.1:1POST http://127.0.0.1:1/?..."), which reads as port `1POST`; put a separator back.
 */
function separateRequest(text: string): string {
  return text.replace(/([\w\]])(GET|PUT|POST|HEAD|DELETE) (https?:\/\/)/g, '$1; $2 $3');
}

/** Drops URL query strings (they carry Plaintext and the signature) and any secret we sent. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\?[^\s"']*/g, '?<query redacted>');
  for (const s of secrets) {
    if (s.length === 0) continue;
    out = out.split(s).join('<redacted>').split(encodeURIComponent(s)).join('<redacted>');
  }
  return out;
}
