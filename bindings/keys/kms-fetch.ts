/**
 * A {@link KmsClient} over the global `fetch` (KMS API 2016-01-20: Encrypt, Decrypt, GenerateDataKey), so
 * `kmsKeyWrapper({ client: fetchKmsClient(...) })` works in every runtime; in Node the official
 * `@alicloud/kms20160120` client stays the default.
 *
 * The wire is the one that SDK sends (it is an RPC-style product over `@alicloud/rpc-client`): `POST /` with every
 * parameter in the query string and no body; common parameters `Action`, `Format=json`, `Timestamp`
 * (`YYYY-MM-DDTHH:mm:ssZ`), `Version=2016-01-20`, `SignatureNonce`, the action's own (`KeyId`, `Plaintext`,
 * `CiphertextBlob`, `KeySpec`, `NumberOfBytes`, `EncryptionContext` as one JSON string), `SecurityToken` for an
 * STS key, `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`, `AccessKeyId`, and `Signature`: base64
 * HMAC-SHA1 under `<secret>&` of `POST&%2F&` + RFC 3986 encoding of the sorted, encoded `name=value` pairs
 * joined by `&`; headers `x-acs-version` and `x-acs-action`.
 *
 * Failures are thrown in the shape the wrapper reads (kms.ts `describeFailure`), so retries and `KmsError` are
 * the wrapper's, exactly as with the SDK: a KMS answer → `code` (KMS's `Code`), `statusCode`, `requestId`,
 * `data: { Code, Message, RequestId }`; no answer → `code` from the runtime when it gives one (`ECONNREFUSED`...)
 * else `ECONNABORTED` (the exchange ended without an answer), or `name: 'RequestTimeoutError'` when the
 * timeout fired. No error carries the request URL or the runtime's message (they hold `Plaintext`).
 *
 * Deliberately not here: retries (the wrapper's), other KMS actions, Node builtins.
 * @module
 */
import { credentialSource, type CredentialsInput } from '../util/credentials.js';
import { hmacSha1Base64, rfc3986 } from '../util/web-crypto.js';
import type { KmsCiphertext, KmsClient, KmsPlaintext } from './kms-client.js';

/** The KMS API version this client speaks. */
export const KMS_FETCH_API_VERSION = '2016-01-20';

/**
 * Options of {@link fetchKmsClient}.
 * @example
 *   const options: FetchKmsOptions = { region: 'cn-hangzhou', credentials: { accessKeyId, accessKeySecret } };
 */
export interface FetchKmsOptions {
  /** KMS host (`kms.cn-hangzhou.aliyuncs.com`, `127.0.0.1:8080`) or URL with scheme. Default `kms.<region>.aliyuncs.com`. */
  readonly endpoint?: string;
  /** Region, e.g. `cn-hangzhou`; needed when `endpoint` is not given. */
  readonly region?: string;
  /** When the endpoint has no scheme. Default `https`. */
  readonly protocol?: 'https' | 'http';
  /** A key pair (with `securityToken` for STS) or an async provider asked again before the key expires. */
  readonly credentials: CredentialsInput;
  /** Time one call may take, in ms. Default 30000. */
  readonly timeout?: number;
  /** The fetch to use. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * Creates the fetch-based KMS client.
 * @throws {TypeError} when neither `endpoint` nor `region` is given, or the credentials are malformed
 * @example
 *   const kms = kmsKeyWrapper({ keyId, client: fetchKmsClient({ region: 'cn-hangzhou', credentials }) });
 *   const { content, wrapped } = await kms.createContentKey();
 */
export function fetchKmsClient(options: FetchKmsOptions): KmsClient {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" expected an object');
  const base = baseUrl(options);
  const current = credentialSource(options.credentials);
  const timeout = options.timeout ?? 30_000;
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError(`"timeout" expected a positive number of ms, got ${String(timeout)}`);
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function call(action: string, params: Record<string, string | undefined>): Promise<Record<string, unknown>> {
    const credentials = await current();
    const query: Record<string, string> = {
      Action: action,
      Format: 'json',
      Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: KMS_FETCH_API_VERSION,
      SignatureNonce: nonce(),
    };
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query[name] = value;
    if (credentials.securityToken !== undefined && credentials.securityToken !== '') query.SecurityToken = credentials.securityToken;
    query.SignatureMethod = 'HMAC-SHA1';
    query.SignatureVersion = '1.0';
    query.AccessKeyId = credentials.accessKeyId;
    query.Signature = await rpcSignature('POST', query, credentials.accessKeySecret);
    const url = `${base}/?${Object.entries(query).map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&')}`;

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'x-acs-version': KMS_FETCH_API_VERSION, 'x-acs-action': action, accept: 'application/json' },
        signal: controller.signal,
      });
      text = await response.text();
    } catch (err) {
      throw networkError(action, err, timedOut);
    } finally {
      clearTimeout(timer);
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's page): the status alone describes the failure below.
    }
    if (response.status >= 400) {
      const code = typeof body.Code === 'string' ? body.Code : `HTTP${response.status}`;
      const requestId = typeof body.RequestId === 'string' ? body.RequestId : (response.headers.get('x-acs-request-id') ?? undefined);
      const message = typeof body.Message === 'string' ? body.Message : '';
      throw Object.assign(new Error(`KMS ${action}: ${code} (HTTP ${response.status})${message ? `: ${message}` : ''}`), {
        name: `${code}Error`,
        code,
        statusCode: response.status,
        requestId,
        data: { Code: code, Message: message, RequestId: requestId },
      });
    }
    return body;
  }

  return {
    async encrypt(request): Promise<KmsCiphertext> {
      const r = await call('Encrypt', { KeyId: request.keyId, Plaintext: request.plaintext, EncryptionContext: request.encryptionContext });
      return { ciphertextBlob: text(r.CiphertextBlob) ?? '', keyId: text(r.KeyId), requestId: text(r.RequestId) };
    },
    async decrypt(request): Promise<KmsPlaintext> {
      const r = await call('Decrypt', { CiphertextBlob: request.ciphertextBlob, EncryptionContext: request.encryptionContext });
      return { plaintext: text(r.Plaintext) as string, keyId: text(r.KeyId), requestId: text(r.RequestId) };
    },
    async generateDataKey(request) {
      const r = await call('GenerateDataKey', {
        KeyId: request.keyId,
        KeySpec: request.keySpec,
        NumberOfBytes: String(request.numberOfBytes),
        EncryptionContext: request.encryptionContext,
      });
      return { ciphertextBlob: text(r.CiphertextBlob) ?? '', plaintext: text(r.Plaintext) as string, keyId: text(r.KeyId), requestId: text(r.RequestId) };
    },
  };
}

/**
 * The RPC signature (HMAC-SHA1, version 1.0) of a parameter set, as `@alicloud/rpc-util` computes it.
 * @example
 *   query.Signature = await rpcSignature('POST', query, secret);
 */
export async function rpcSignature(method: string, params: Readonly<Record<string, string>>, secret: string): Promise<string> {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k])}`)
    .join('&');
  return hmacSha1Base64(`${secret}&`, `${method.toUpperCase()}&${rfc3986('/')}&${rfc3986(canonical)}`);
}

function baseUrl(options: FetchKmsOptions): string {
  const protocol = options.protocol ?? 'https';
  if (protocol !== 'https' && protocol !== 'http') throw new RangeError(`"protocol" expected "https" or "http", got ${JSON.stringify(protocol)}`);
  if (typeof options.endpoint === 'string' && options.endpoint !== '') {
    const withScheme = /^https?:\/\//.test(options.endpoint) ? options.endpoint : `${protocol}://${options.endpoint}`;
    return withScheme.replace(/\/+$/, '');
  }
  if (typeof options.region === 'string' && options.region !== '') return `${protocol}://kms.${options.region}.aliyuncs.com`;
  throw new TypeError('fetchKmsClient needs "endpoint" or "region"');
}

function nonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function networkError(action: string, err: unknown, timedOut: boolean): Error {
  if (timedOut) return Object.assign(new Error(`KMS ${action}: no answer before the timeout`), { name: 'RequestTimeoutError' });
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  const runtimeCode = typeof cause?.code === 'string' ? cause.code : typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  const code = runtimeCode !== undefined && /^E[A-Z]+$/.test(runtimeCode) ? runtimeCode : 'ECONNABORTED';
  return Object.assign(new Error(`KMS ${action}: the request got no answer (${code})`), { name: 'RequestError', code });
}
