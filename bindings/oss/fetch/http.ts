/**
 * One OSS request over the global `fetch`: the URL (virtual-host or path style), the V4 signature with a key
 * valid now, a per-attempt timeout, bounded retries of transient failures (util/retry.ts: 5xx, 429, network
 * failure, timeout; never a 4xx), and OSS's XML error turned into an {@link OssRequestError}.
 *
 * Each attempt rebuilds its body (`body()` is called again) and is signed afresh. A body that cannot be rebuilt
 * (a caller's ReadableStream) makes the request non-repeatable: its first failure is final.
 *
 * The timeout covers an attempt up to the response headers and, when the body is read here (`read: 'bytes'` or
 * `'text'`), the whole body; a streamed body (`'stream'`) is the caller's to read and is then bounded only by the
 * caller's AbortSignal, which aborts the request at any point.
 * @module
 */
import { resolveRetryPolicy, withRetry, type RetryPolicy } from '../../util/retry.js';
import { credentialSource, type Credentials, type CredentialsInput } from '../../util/credentials.js';
import { OssRequestError, ossErrorFromResponse } from './errors.js';
import { bareRegion, encodePath, signV4Headers } from './signer-v4.js';
import { rfc3986 } from '../../util/web-crypto.js';

/** Default time one attempt may take, in ms. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Where and how to reach one bucket.
 * @example
 *   const options: FetchOssOptions = {
 *     endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', bucket: 'my-bucket', region: 'cn-hangzhou',
 *     credentials: { accessKeyId, accessKeySecret },
 *   };
 */
export interface FetchOssOptions {
  /** Endpoint with scheme: `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`. */
  readonly endpoint: string;
  readonly bucket: string;
  /** Region for the V4 scope: `cn-hangzhou` (`oss-cn-hangzhou` is accepted). */
  readonly region: string;
  /** A key pair, or an async provider (STS) asked again before the key it gave expires. */
  readonly credentials: CredentialsInput;
  /**
   * Send `/<bucket>/<key>` to the endpoint instead of `/<key>` to `<bucket>.<endpoint host>`. Default: true when
   * the endpoint host is an IP address or `localhost` (no bucket subdomain can exist there), else false.
   */
  readonly pathStyle?: boolean;
  /** Retries of transient failures (util/retry.ts semantics: retries after the first attempt). */
  readonly retry?: Partial<RetryPolicy>;
  /** Time one attempt may take, in ms. Default {@link DEFAULT_TIMEOUT_MS}. */
  readonly timeout?: number;
  /** The fetch to use. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
}

/** A body kind the transport sends; a ReadableStream can be sent once only. */
export type OssBody = Uint8Array | Blob | ReadableStream<Uint8Array>;

/** One request to send. */
export interface OssHttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Object key; absent for bucket-level requests (ListObjects). */
  readonly key?: string;
  /** Another bucket than the transport's (same endpoint and credentials): a HEAD across buckets. */
  readonly bucket?: string;
  /** Statuses outside 2xx handed back instead of thrown (a conditional GET's 304). */
  readonly accept?: readonly number[];
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Headers to sign besides Content-Type, Content-MD5 and `x-oss-*` (V4 AdditionalHeaders). */
  readonly additionalHeaders?: readonly string[];
  readonly body?: OssBody | string;
  /** How to hand back the response body. */
  readonly read: 'bytes' | 'text' | 'stream' | 'none';
  readonly signal?: AbortSignal;
}

/** The answer: status, headers by lower-case name, OSS's request id, and the body as asked. */
export interface OssHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string | undefined;
  readonly bytes?: Uint8Array;
  readonly text?: string;
  readonly stream?: ReadableStream<Uint8Array>;
}

/** A configured transport for one bucket. */
export interface OssHttp {
  readonly bucket: string;
  readonly region: string;
  readonly pathStyle: boolean;
  /** The URL of `key` (no query), as requests are sent. */
  objectUrl(key: string | undefined): string;
  /** A key pair valid now (for signing URLs). */
  credentials(): Promise<Credentials>;
  send(request: OssHttpRequest): Promise<OssHttpResponse>;
}

/**
 * Checks the options and returns the transport.
 * @throws {TypeError} when the endpoint has no http(s) scheme, or bucket/region are not non-empty strings
 * @throws {RangeError} when `timeout` or `retry` hold unusable numbers
 * @example
 *   const http = createOssHttp({ endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'cn-hangzhou', credentials });
 *   const res = await http.send({ method: 'GET', key: 'a.txt', read: 'bytes' });
 */
export function createOssHttp(options: FetchOssOptions): OssHttp {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" expected an object');
  let endpoint: URL;
  try {
    endpoint = new URL(String(options.endpoint));
  } catch {
    throw new TypeError(`"endpoint" expected a URL with scheme (https://oss-cn-hangzhou.aliyuncs.com), got ${JSON.stringify(options.endpoint)}`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new TypeError(`"endpoint" expected http: or https:, got ${endpoint.protocol}`);
  for (const field of ['bucket', 'region'] as const) {
    if (typeof options[field] !== 'string' || options[field] === '') throw new TypeError(`"${field}" expected a non-empty string`);
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError(`"timeout" expected a positive number of ms, got ${String(timeout)}`);
  const policy = resolveRetryPolicy(options.retry);
  const pathStyle = options.pathStyle ?? isIpOrLocalhost(endpoint.hostname);
  const base = pathStyle ? `${endpoint.protocol}//${endpoint.host}` : `${endpoint.protocol}//${options.bucket}.${endpoint.host}`;
  const region = bareRegion(options.region);
  const bucket = options.bucket;
  const current = credentialSource(options.credentials);
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  const urlOf = (key: string | undefined, target: string) => {
    const root = target === bucket ? base : pathStyle ? base : `${endpoint.protocol}//${target}.${endpoint.host}`;
    return `${root}${encodePath(pathStyle ? `/${target}/${key ?? ''}` : `/${key ?? ''}`)}`;
  };
  const objectUrl = (key: string | undefined) => urlOf(key, bucket);

  async function attempt(request: OssHttpRequest): Promise<OssHttpResponse> {
    const credentials = await current();
    const contentHeaders: Record<string, string> = {};
    if (request.body instanceof Blob && !hasHeader(request.headers, 'content-type')) {
      // fetch would send the Blob's own type (or none) unsigned; say it explicitly so it is signed.
      contentHeaders['content-type'] = request.body.type || 'application/octet-stream';
    }
    const headers = { ...contentHeaders, ...(request.headers ?? {}) };
    const signed = await signV4Headers(
      { method: request.method, bucket: request.bucket ?? bucket, key: request.key, query: request.query, headers, additionalHeaders: request.additionalHeaders },
      credentials,
      region,
    );
    const url = urlOf(request.key, request.bucket ?? bucket) + queryString(request.query ?? []);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`OSS ${request.method} did not answer within ${timeout} ms`));
    }, timeout);
    const onAbort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    };
    let streaming = false;
    try {
      const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: { ...headers, ...signed }, signal: controller.signal };
      if (request.body !== undefined) {
        init.body = request.body as BodyInit;
        if (request.body instanceof ReadableStream) init.duplex = 'half';
      }
      const response = await fetchImpl(url, init);
      const responseHeaders = headersOf(response.headers);
      if ((response.status < 200 || response.status > 299) && !(request.accept ?? []).includes(response.status)) {
        const text = request.method === 'HEAD' ? '' : await response.text();
        throw ossErrorFromResponse(response.status, responseHeaders, text);
      }
      const common = { status: response.status, headers: responseHeaders, requestId: responseHeaders['x-oss-request-id'] };
      if (request.read === 'stream' && response.body !== null) {
        // The caller reads the body: the timeout stops here, the caller's signal keeps aborting it.
        clearTimeout(timer);
        streaming = true;
        return { ...common, stream: response.body };
      }
      if (request.read === 'bytes' || request.read === 'stream') return { ...common, bytes: new Uint8Array(await response.arrayBuffer()) };
      if (request.read === 'text') return { ...common, text: await response.text() };
      await response.body?.cancel();
      return common;
    } catch (err) {
      if (request.signal?.aborted) throw request.signal.reason;
      if (err instanceof OssRequestError) throw err;
      if (timedOut) {
        throw new OssRequestError(`OSS ${request.method} timed out after ${timeout} ms`, { code: 'ResponseTimeoutError', name: 'ResponseTimeoutError', status: -2 }, { cause: err });
      }
      throw new OssRequestError(`OSS ${request.method} failed on the network: ${(err as Error)?.message ?? String(err)}`, { code: 'RequestError', name: 'RequestError', status: -1 }, { cause: err });
    } finally {
      if (!streaming) release();
      else clearTimeout(timer);
    }
  }

  return {
    bucket,
    region,
    pathStyle,
    objectUrl,
    credentials: current,
    send(request) {
      const repeatable = !(request.body instanceof ReadableStream);
      return withRetry(() => attempt(request), policy, { signal: request.signal, retryable: repeatable });
    },
  };
}

/** `?a=1&b` with names and values RFC 3986-encoded; `''` when there are none. */
export function queryString(params: ReadonlyArray<readonly [string, string]>): string {
  if (params.length === 0) return '';
  return `?${params.map(([k, v]) => (v === '' ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(v)}`)).join('&')}`;
}

function headersOf(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

function hasHeader(headers: Readonly<Record<string, string>> | undefined, name: string): boolean {
  return headers !== undefined && Object.keys(headers).some((h) => h.toLowerCase() === name);
}

function isIpOrLocalhost(hostname: string): boolean {
  return hostname === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith('[');
}
