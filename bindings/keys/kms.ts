/**
 * The Alibaba Cloud KMS key wrapper (`KMS/ALICLOUD`, KMS API 2016-01-20): FORMATS.md §2.2 (V2) and §3 (V1 `kms`).
 *
 * A content key is wrapped as two KMS ciphertexts, one for the 32-byte key and one for the 16-byte IV, each made
 * from the base64 text of the raw bytes. Two layerings of the stored header exist, and this wrapper reads both
 * without being told:
 *
 * - `go` (Go v1/v2, Java, C++, Python v2): the header **is** KMS's `CiphertextBlob` (already base64 text).
 * - `oss2` (Python oss2 `AliKMSProvider`): the header is base64 **of the CiphertextBlob text** (a second layer).
 *
 * Reading rule: base64-decode the header; if the decoded bytes are themselves canonical standard base64 text,
 * they are the blob (oss2); otherwise the header is the blob (go). This is unambiguous in practice: a
 * CiphertextBlob decodes to bytes that are never pure base64 text (real KMS blobs decode to the key's UUID,
 * whose `-` is outside the base64 alphabet, followed by binary; random binary of blob length falls inside the
 * alphabet with probability below 4^-40), while an oss2 header always decodes to the blob, which KMS defines
 * as base64.
 *
 * Writing: `blobLayout` picks the layering. The default is `go` because every current reader (Go, Java, C++,
 * Go-v2, Python-v2, and this library) reads the single layer; only the legacy Python oss2 needs `oss2`, and oss2
 * reads nothing else. `wrap(content)` Encrypts base64(key) and base64(IV) under the CMK (two calls, in
 * parallel). oss2 itself takes its key from GenerateDataKey(AES_256, 32); {@link KmsKeyWrapper.createContentKey}
 * does exactly that (KMS chooses the key) and Encrypts a fresh IV. A reader cannot tell the two apart: either
 * blob decrypts to the base64 text of the same 32 bytes.
 *
 * EncryptionContext: with `passphrase` every call (write and read) sends the one JSON string
 * `{"x-passphrase":"<passphrase>"}`, as oss2 does; without it, no context. KMS binds the context to the blob, so
 * the reader must send the same one. Note: oss2 treats an empty passphrase as none; here `''` is a passphrase
 * (`{"x-passphrase":""}`), so omit the option to read what oss2 wrote with `passphrase=''`.
 *
 * V1 (`x-oss-meta-oss-wrap-alg: kms`, read only): the key header is the blob itself and its Plaintext is base64
 * of the key; the start header is the blob of the decimal initial counter, whose Plaintext is that decimal text
 * (e.g. `8`), turned here into the 16-byte big-endian counter block.
 *
 * Failures: KMS errors (and network errors once retries are spent) surface as {@link KmsError} with KMS's own
 * code (`Forbidden.KeyNotFound`, not the SDK's `Forbidden.KeyNotFoundError`), the HTTP status and the request id.
 * A Plaintext that is not base64 of the right length (or not a decimal counter) is a `KeyUnwrapError`
 * `KEY_UNWRAP_FAILED`. Transient failures (5xx, throttling, connection resets, timeouts) are retried a bounded
 * number of times with exponential backoff and full jitter; each retry is a new, newly signed request.
 * No message, property or `cause` carries a plain key, IV or the request URL (which holds `Plaintext`).
 *
 * Deliberately not here: choosing the wrapper for an object (keyring.ts, by matdesc), the RSA wraps (rsa.ts),
 * KMS features beyond Encrypt/Decrypt/GenerateDataKey.
 * @module
 */
import { KeyUnwrapError, KeyWrapError, KmsError } from '../errors.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';
import { checkDecryptKeyId } from './kms-key-check.js';

/**
 * The V2 wrap algorithm of KMS-wrapped keys.
 * @example
 *   if (envelope.wrapped.wrapAlg === KMS_WRAP_ALG) console.log('needs KMS Decrypt permission');
 */
export const KMS_WRAP_ALG = 'KMS/ALICLOUD';
/**
 * The V1 wrap algorithm of KMS-wrapped keys (`x-oss-meta-oss-wrap-alg`).
 * @example
 *   const isKms = w.format === 'v1' ? w.wrapAlg === KMS_V1_WRAP_ALG : w.wrapAlg === KMS_WRAP_ALG;
 */
export const KMS_V1_WRAP_ALG = 'kms';
/**
 * How a V2 header holds the KMS CiphertextBlob: `go` = the blob itself, `oss2` = base64 of the blob text.
 * @example
 *   const blobLayout: KmsBlobLayout = readers.includes('python-oss2') ? 'oss2' : 'go';
 */
export type KmsBlobLayout = 'go' | 'oss2';
/**
 * The layering written when none is chosen (see the module comment for why).
 * @example
 *   kmsKeyWrapper({ ...options, blobLayout: 'oss2' }) // only when legacy Python oss2 must read the objects
 */
export const DEFAULT_KMS_BLOB_LAYOUT: KmsBlobLayout = 'go';

/**
 * The three KMS calls this wrapper makes, in a minimal shape of our own (plain objects, camelCase, the
 * EncryptionContext always as one JSON string or absent). The default implementation drives
 * `@alicloud/kms20160120` ({@link kmsClientFromSdk}); inject your own to use another transport, a mock, or a
 * differently configured SDK client.
 *
 * To report a failure, throw an error with `code` (KMS's code, e.g. `Forbidden.KeyNotFound`; the SDK's
 * `<Code>Error` form is understood too), and where known `statusCode` (or `status`) and `requestId` (or
 * `data.RequestId`). Errors with status >= 500, throttling codes, or network codes (`ECONNRESET`, ...) are
 * retried.
 * @example
 *   const client: KmsClient = {
 *     encrypt: async ({ keyId, plaintext, encryptionContext }) => myKms.encrypt(keyId, plaintext, encryptionContext),
 *     decrypt: async ({ ciphertextBlob, encryptionContext }) => myKms.decrypt(ciphertextBlob, encryptionContext),
 *     generateDataKey: async (r) => myKms.generateDataKey(r.keyId, r.numberOfBytes, r.encryptionContext),
 *   };
 *   const wrapper = kmsKeyWrapper({ keyId: 'cmk-id', client });
 */
export interface KmsClient {
  encrypt(request: { keyId: string; plaintext: string; encryptionContext?: string }): Promise<KmsCiphertext>;
  decrypt(request: { ciphertextBlob: string; encryptionContext?: string }): Promise<KmsPlaintext>;
  generateDataKey(request: {
    keyId: string;
    keySpec: 'AES_256';
    numberOfBytes: number;
    encryptionContext?: string;
  }): Promise<KmsCiphertext & { plaintext: string }>;
}

/**
 * What Encrypt (and GenerateDataKey) answer.
 * @example
 *   const answer: KmsCiphertext = { ciphertextBlob: r.CiphertextBlob, keyId: r.KeyId, requestId: r.RequestId };
 */
export interface KmsCiphertext {
  ciphertextBlob: string;
  keyId?: string;
  requestId?: string;
}

/**
 * What Decrypt answers: `plaintext` is the base64 text KMS returns (of the key or IV; V1 start: decimal text).
 * @example
 *   const answer: KmsPlaintext = { plaintext: r.Plaintext, keyId: r.KeyId, requestId: r.RequestId };
 */
export interface KmsPlaintext {
  plaintext: string;
  keyId?: string;
  requestId?: string;
}

/**
 * Retries of transient KMS failures.
 * @example
 *   kmsKeyWrapper({ ...options, retry: { attempts: 5, baseDelayMs: 200 } })
 */
export interface KmsRetryOptions {
  /** Total attempts per call, the first included. Default 3; 1 disables retrying. */
  attempts?: number;
  /** Upper bound of the first backoff, in ms; doubles per retry (full jitter). Default 100. */
  baseDelayMs?: number;
  /** Upper bound of any backoff, in ms. Default 2000. */
  maxDelayMs?: number;
}

/**
 * Options of {@link kmsKeyWrapper}.
 * @example
 *   const options: KmsKeyWrapperOptions = {
 *     keyId: 'key-id', region: 'cn-hangzhou', accessKeyId, accessKeySecret,
 *     passphrase: 'team-a', blobLayout: 'oss2', matdesc: { kms: 'team-a' },
 *   };
 */
export interface KmsKeyWrapperOptions {
  /** The CMK that wraps new keys. Without it the wrapper only unwraps (`canWrap` is false). */
  keyId?: string;
  /** KMS region, e.g. `cn-hangzhou`; picks the default endpoint. Required unless `endpoint` or `client` is given. */
  region?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** STS security token, when the access key is a temporary one. */
  securityToken?: string;
  /** KMS host (`host` or `host:port`, no scheme). Default `kms.<region>.aliyuncs.com`. */
  endpoint?: string;
  /** Default `https`. `http` only for a loopback stand-in. */
  protocol?: 'https' | 'http';
  /** Sent as EncryptionContext `{"x-passphrase":"<passphrase>"}` on every call; absent = no context. */
  passphrase?: string;
  /** Which layering `wrap()` writes. Default `go`. Reading always accepts both. */
  blobLayout?: KmsBlobLayout;
  /** Material description written with and selecting this wrapper. Default `{}`. */
  matdesc?: Matdesc;
  /** An injected KMS client (replaces `@alicloud/kms20160120`; credentials are then not needed). */
  client?: KmsClient;
  /** Retries of transient failures. */
  retry?: KmsRetryOptions;
  /**
   * Accept blobs of any CMK your credentials can use. Default false: with a `keyId`, a Decrypt that used another
   * key is refused (`KEY_NO_MATCH`, keys/kms-key-check.ts).
   */
  acceptAnyKmsKey?: boolean;
}

/**
 * A KMS key wrapper; see the module comment.
 * @example
 *   const kms: KmsKeyWrapper = kmsKeyWrapper({ keyId, region: 'cn-hangzhou', accessKeyId, accessKeySecret });
 *   kms.blobLayout; // 'go'
 *   const { content, wrapped } = await kms.createContentKey(); // the oss2 way: GenerateDataKey + Encrypt
 */
export interface KmsKeyWrapper extends KeyWrapper {
  readonly wrapAlg: typeof KMS_WRAP_ALG;
  /** The CMK used by `wrap()`, if any. */
  readonly keyId: string | undefined;
  readonly blobLayout: KmsBlobLayout;
  /**
   * Makes a new content key the way oss2 does: the key from GenerateDataKey(AES_256, 32) (KMS's randomness),
   * a random IV (bytes 8..11 zero, FORMATS.md §1) Encrypted under the CMK. Returns the plain key and its wrapped
   * form in this wrapper's layering. Two KMS calls.
   */
  createContentKey(): Promise<{ content: ContentKey; wrapped: WrappedContentKey }>;
}

/**
 * Creates a KMS key wrapper.
 * @param options CMK, region and credentials (or an injected `client`), passphrase, layering, matdesc
 * @returns a {@link KmsKeyWrapper}; no KMS call is made before the first wrap/unwrap
 * @throws {TypeError} when an option has the wrong type, or neither credentials nor a client are given
 * @throws {RangeError} when `blobLayout`, `protocol` or `retry` has an unsupported value
 * @example
 *   const kms = kmsKeyWrapper({
 *     keyId: 'key-id', region: 'cn-hangzhou',
 *     accessKeyId: process.env.AK!, accessKeySecret: process.env.SK!,
 *   });
 *   const wrapped = await kms.wrap({ key, iv }); // two KMS Encrypt calls
 *   const back = await kms.unwrap(wrapped);      // two KMS Decrypt calls
 */
export function kmsKeyWrapper(options: KmsKeyWrapperOptions): KmsKeyWrapper {
  if (options === null || typeof options !== 'object') throw new TypeError(`"options" expected an object, got ${describe(options)}`);
  const keyId = optionalString('keyId', options.keyId);
  if (keyId === '') throw new TypeError('"keyId" expected a non-empty string, got ""');
  const passphrase = optionalString('passphrase', options.passphrase);
  const blobLayout = options.blobLayout ?? DEFAULT_KMS_BLOB_LAYOUT;
  if (blobLayout !== 'go' && blobLayout !== 'oss2') throw new RangeError(`"blobLayout" expected "go" or "oss2", got ${JSON.stringify(blobLayout)}`);
  const matdesc = checkMatdesc(options.matdesc ?? {});
  const retry = checkRetry(options.retry ?? {});
  const client = options.client ?? sdkClientFromOptions(options);
  const context = passphrase === undefined ? undefined : JSON.stringify({ 'x-passphrase': passphrase });
  if (options.acceptAnyKmsKey !== undefined && typeof options.acceptAnyKmsKey !== 'boolean') {
    throw new TypeError(`"acceptAnyKmsKey" expected a boolean, got ${describe(options.acceptAnyKmsKey)}`);
  }
  return new Wrapper(client, keyId, context, blobLayout, matdesc, retry, options.acceptAnyKmsKey === true);
}

/**
 * A {@link KmsClient} over an existing `@alicloud/kms20160120` client instance (for custom timeouts, proxies,
 * credential providers...). The SDK module is loaded on first use.
 * @param sdk an instance of the SDK's default export (`new Kms(config)`)
 * @example
 *   // Kms = the SDK's default export (from ESM: `(await import('@alicloud/kms20160120')).default.default`)
 *   const sdk = new Kms({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou', readTimeout: 5000 });
 *   const wrapper = kmsKeyWrapper({ keyId, client: kmsClientFromSdk(sdk) });
 */
export function kmsClientFromSdk(sdk: KmsSdkClient): KmsClient {
  if (sdk === null || typeof sdk !== 'object' || typeof sdk.encrypt !== 'function' || typeof sdk.decrypt !== 'function') {
    throw new TypeError(`"sdk" expected an @alicloud/kms20160120 client, got ${describe(sdk)}`);
  }
  return adaptSdk(async () => sdk);
}

/**
 * The part of an `@alicloud/kms20160120` client instance that {@link kmsClientFromSdk} uses.
 * @example
 *   const sdk: KmsSdkClient = new Kms({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou', endpoint: 'kms.cn-hangzhou.aliyuncs.com' });
 *   const client = kmsClientFromSdk(sdk);
 */
export interface KmsSdkClient {
  encrypt(request: unknown): Promise<{ ciphertextBlob?: string; keyId?: string; requestId?: string }>;
  decrypt(request: unknown): Promise<{ plaintext?: string; keyId?: string; requestId?: string }>;
  generateDataKey(request: unknown): Promise<{ ciphertextBlob?: string; plaintext?: string; keyId?: string; requestId?: string }>;
}

/**
 * Which blob a V2 `KMS/ALICLOUD` header holds, by the reading rule of the module comment.
 * @param header the stored `x-oss-meta-client-side-encryption-key` or `-start` value
 * @returns the CiphertextBlob to send to Decrypt and the layering it was found in
 * @throws {KeyUnwrapError} `KEY_UNWRAP_FAILED` when the header is not canonical base64 (neither layering)
 * @example
 *   kmsBlobFromHeader(btoa(blob))  // { blob, layout: 'oss2' }
 *   kmsBlobFromHeader(blob)        // { blob, layout: 'go' }
 */
export function kmsBlobFromHeader(header: string): { blob: string; layout: KmsBlobLayout } {
  const outer = header.length === 0 ? undefined : decodeBase64(header);
  if (outer === undefined) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `a KMS/ALICLOUD header must be standard padded base64 in both layerings (the blob itself, or base64 of it); ` +
        `this one (${header.length} characters) is not`,
    );
  }
  const inner = asciiText(outer);
  // Shape only (alphabet, length, padding), not canonical bits: KMS's own encoder is not ours to judge.
  if (inner !== undefined && BASE64_SHAPE.test(inner)) return { blob: inner, layout: 'oss2' };
  return { blob: header, layout: 'go' };
}

// ---------------------------------------------------------------------------------------------------------

const CEK_BYTES = 32;
const IV_BYTES = 16;
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ESOCKETTIMEDOUT']);
const TRANSIENT_KMS = new Set(['InternalFailure', 'ServiceUnavailableTemporary', 'Rejected.Throttling', 'Throttling']);

type Retry = Required<KmsRetryOptions>;
type Call = 'Encrypt' | 'Decrypt' | 'GenerateDataKey';

class Wrapper implements KmsKeyWrapper {
  readonly wrapAlg = KMS_WRAP_ALG;
  readonly canWrap: boolean;
  readonly canUnwrap = true;
  // Private fields, so that logging or serialising a wrapper shows neither the client (credentials) nor the
  // passphrase.
  readonly #client: KmsClient;
  readonly #context: string | undefined;
  readonly #retry: Retry;

  constructor(
    client: KmsClient,
    readonly keyId: string | undefined,
    context: string | undefined,
    readonly blobLayout: KmsBlobLayout,
    readonly matdesc: Matdesc,
    retry: Retry,
    private readonly acceptAnyKmsKey: boolean,
  ) {
    this.#client = client;
    this.#context = context;
    this.#retry = retry;
    this.canWrap = keyId !== undefined;
  }

  async wrap(content: ContentKey): Promise<WrappedContentKey> {
    const keyId = this.requireKeyId();
    checkContent(content);
    const [key, start] = await settleBoth([
      this.encrypt(keyId, encodeBase64(content.key), 'content key'),
      this.encrypt(keyId, encodeBase64(content.iv), 'IV'),
    ]);
    return this.wrapped(key, start);
  }

  async createContentKey(): Promise<{ content: ContentKey; wrapped: WrappedContentKey }> {
    const keyId = this.requireKeyId();
    const iv = await randomBytes(IV_BYTES);
    iv.fill(0, 8, 12);
    const [generated, start] = await settleBoth([
      this.call('GenerateDataKey', 'content key', [], () =>
        this.#client.generateDataKey({ keyId, keySpec: 'AES_256', numberOfBytes: CEK_BYTES, ...this.contextParam() }),
      ),
      this.encrypt(keyId, encodeBase64(iv), 'IV'),
    ]);
    const blob = requireBlob(generated, 'GenerateDataKey', 'content key');
    const key = decodeBase64(typeof generated.plaintext === 'string' ? generated.plaintext : '');
    if (key === undefined || key.length !== CEK_BYTES) {
      throw new KeyWrapError(
        'KEY_WRAP_FAILED',
        `KMS GenerateDataKey (KeySpec AES_256, NumberOfBytes ${CEK_BYTES}) answered a Plaintext that is not base64 of ` +
          `${CEK_BYTES} bytes (got ${key === undefined ? 'no canonical base64' : `${key.length} bytes`}; request id ${generated.requestId ?? 'unknown'})`,
      );
    }
    return { content: { key, iv }, wrapped: this.wrapped(blob, start) };
  }

  async unwrap(wrapped: WrappedContentKey): Promise<ContentKey | null> {
    if (wrapped === null || typeof wrapped !== 'object') throw new TypeError(`"wrapped" expected an object, got ${describe(wrapped)}`);
    if (wrapped.format === 'v1') {
      if (wrapped.wrapAlg !== KMS_V1_WRAP_ALG) return null;
      // V1: the headers are the blobs themselves (FORMATS.md §3).
      const [key, start] = await settleBoth([
        this.decrypt(wrapped.wrappedKey, 'content key'),
        this.decrypt(wrapped.wrappedStart, 'counter start'),
      ]);
      return { key: plainBytes(key, CEK_BYTES, 'content key'), iv: counterBlock(start) };
    }
    if (wrapped.wrapAlg !== KMS_WRAP_ALG) return null;
    const keyBlob = kmsBlobFromHeader(wrapped.wrappedKey).blob;
    const startBlob = kmsBlobFromHeader(wrapped.wrappedStart).blob;
    const [key, iv] = await settleBoth([this.decrypt(keyBlob, 'content key'), this.decrypt(startBlob, 'IV')]);
    return { key: plainBytes(key, CEK_BYTES, 'content key'), iv: plainBytes(iv, IV_BYTES, 'IV') };
  }

  private wrapped(keyBlob: string, startBlob: string): WrappedContentKey {
    const layer = (blob: string) => (this.blobLayout === 'oss2' ? encodeBase64(new TextEncoder().encode(blob)) : blob);
    return { format: 'v2', wrapAlg: KMS_WRAP_ALG, wrappedKey: layer(keyBlob), wrappedStart: layer(startBlob), matdesc: this.matdesc };
  }

  private requireKeyId(): string {
    if (this.keyId === undefined) {
      throw new KeyWrapError('KEY_WRAP_FAILED', 'this KMS wrapper was created without "keyId", so it can unwrap but not wrap new keys');
    }
    return this.keyId;
  }

  private contextParam(): { encryptionContext?: string } {
    return this.#context === undefined ? {} : { encryptionContext: this.#context };
  }

  private async encrypt(keyId: string, plaintext: string, what: string): Promise<string> {
    const answer = await this.call('Encrypt', what, [plaintext], () => this.#client.encrypt({ keyId, plaintext, ...this.contextParam() }));
    return requireBlob(answer, 'Encrypt', what);
  }

  private async decrypt(ciphertextBlob: string, what: string): Promise<KmsPlaintext> {
    const answer = await this.call('Decrypt', what, [], () => this.#client.decrypt({ ciphertextBlob, ...this.contextParam() }));
    if (answer === null || typeof answer !== 'object' || typeof answer.plaintext !== 'string') {
      throw new KeyUnwrapError('KEY_UNWRAP_FAILED', `KMS Decrypt of the ${what} answered without a Plaintext (request id ${requestIdOf(answer)})`);
    }
    checkDecryptKeyId(this.keyId, answer.keyId, this.acceptAnyKmsKey, what);
    return answer;
  }

  /** One KMS call with bounded retries of transient failures; failures become KmsError. */
  private async call<T>(action: Call, what: string, secrets: string[], attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const failure = describeFailure(err, secrets);
        if (!failure.transient || n >= this.#retry.attempts) {
          throw new KmsError(
            `KMS ${action} of the ${what} failed${n > 1 ? ` after ${n} attempts` : ''}: ${failure.kmsCode}` +
              `${failure.status === undefined ? '' : ` (HTTP ${failure.status})`}` +
              `${failure.requestId === undefined ? '' : `, request id ${failure.requestId}`}` +
              `${failure.message === '' ? '' : `: ${failure.message}`}`,
            { kmsCode: failure.kmsCode, requestId: failure.requestId, status: failure.status },
            { cause: failure.cause },
          );
        }
        const cap = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (n - 1));
        await sleep(Math.random() * cap);
      }
    }
  }
}

interface Failure {
  kmsCode: string;
  status: number | undefined;
  requestId: string | undefined;
  message: string;
  transient: boolean;
  cause: Error;
}

/**
 * Reads KMS's code, status and request id out of whatever the client threw. The SDK throws
 * `{ code: Code + 'Error', data: {Code, Message, RequestId}, message: 'XError: code: 400, ...' }` for KMS answers,
 * and httpx/Node errors (whose messages quote the request URL, Plaintext included) for network failures.
 */
function describeFailure(err: unknown, secrets: string[]): Failure {
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
  const network = typeof e.code === 'string' && TRANSIENT_NETWORK.has(e.code);
  const timeout = e.name === 'RequestTimeoutError' || /socket hang up|timeout/i.test(rawMessage);
  const transient =
    (status !== undefined && status >= 500) ||
    status === 429 ||
    TRANSIENT_KMS.has(kmsCode) ||
    /^Throttling/.test(kmsCode) ||
    ((network || timeout) && status === undefined);
  const message = redact(text(data.Message) ?? (status === undefined ? rawMessage : ''), secrets);
  const cause = new Error(redact(rawMessage, secrets));
  cause.name = typeof e.name === 'string' ? e.name : 'Error';
  if (typeof e.code === 'string') (cause as Error & { code?: string }).code = e.code;
  return { kmsCode, status, requestId, message, transient, cause };
}

/** Drops URL query strings (they carry Plaintext and the signature) and any secret we sent. */
function redact(text: string, secrets: string[]): string {
  let out = text.replace(/\?[^\s"']*/g, '?<query redacted>');
  for (const s of secrets) {
    if (s.length === 0) continue;
    out = out.split(s).join('<redacted>').split(encodeURIComponent(s)).join('<redacted>');
  }
  return out;
}

function requireBlob(answer: KmsCiphertext, action: Call, what: string): string {
  const blob = answer !== null && typeof answer === 'object' ? answer.ciphertextBlob : undefined;
  if (typeof blob !== 'string' || blob.length === 0) {
    throw new KeyWrapError('KEY_WRAP_FAILED', `KMS ${action} of the ${what} answered without a CiphertextBlob (request id ${requestIdOf(answer)})`);
  }
  return blob;
}

function plainBytes(answer: KmsPlaintext, length: number, what: string): Uint8Array {
  const bytes = decodeBase64(answer.plaintext);
  if (bytes === undefined || bytes.length !== length) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `KMS Decrypt of the ${what} returned a Plaintext that is not base64 of ${length} bytes ` +
        `(${bytes === undefined ? `not canonical base64, ${answer.plaintext.length} characters` : `${bytes.length} bytes`}; ` +
        `request id ${answer.requestId ?? 'unknown'}); was the object written with another key or format?`,
    );
  }
  return bytes;
}

/** V1 start: the decimal initial counter as the 16-byte big-endian counter block (FORMATS.md §3). */
function counterBlock(answer: KmsPlaintext): Uint8Array {
  const text = answer.plaintext;
  let value: bigint | undefined;
  if (/^[0-9]{1,39}$/.test(text)) value = BigInt(text);
  if (value === undefined || value >= 1n << 128n) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `KMS Decrypt of the V1 counter start returned a Plaintext that is not a decimal counter below 2^128 ` +
        `(${text.length} characters; request id ${answer.requestId ?? 'unknown'})`,
    );
  }
  const out = new Uint8Array(IV_BYTES);
  for (let i = IV_BYTES - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function checkContent(content: ContentKey): void {
  if (content === null || typeof content !== 'object') throw new TypeError(`"content" expected { key, iv }, got ${describe(content)}`);
  if (!(content.key instanceof Uint8Array)) throw new TypeError(`"content.key" expected a Uint8Array, got ${describe(content.key)}`);
  if (content.key.length !== CEK_BYTES) throw new RangeError(`"content.key" expected ${CEK_BYTES} bytes, got ${content.key.length}`);
  if (!(content.iv instanceof Uint8Array)) throw new TypeError(`"content.iv" expected a Uint8Array, got ${describe(content.iv)}`);
  if (content.iv.length !== IV_BYTES) throw new RangeError(`"content.iv" expected ${IV_BYTES} bytes, got ${content.iv.length}`);
}

function checkMatdesc(matdesc: unknown): Matdesc {
  if (matdesc === null || typeof matdesc !== 'object' || Array.isArray(matdesc)) {
    throw new TypeError(`"matdesc" expected an object of string values, got ${describe(matdesc)}`);
  }
  for (const [k, v] of Object.entries(matdesc)) {
    if (typeof v !== 'string') throw new TypeError(`"matdesc.${k}" expected a string, got ${describe(v)}`);
  }
  return Object.freeze({ ...(matdesc as Record<string, string>) });
}

function checkRetry(retry: KmsRetryOptions): Retry {
  const out: Retry = { attempts: retry.attempts ?? 3, baseDelayMs: retry.baseDelayMs ?? 100, maxDelayMs: retry.maxDelayMs ?? 2000 };
  if (!Number.isInteger(out.attempts) || out.attempts < 1 || out.attempts > 10) {
    throw new RangeError(`"retry.attempts" expected an integer 1..10, got ${out.attempts}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (typeof out[name] !== 'number' || !(out[name] >= 0) || !Number.isFinite(out[name])) {
      throw new RangeError(`"retry.${name}" expected a non-negative number of milliseconds, got ${out[name]}`);
    }
  }
  return out;
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string, got ${describe(value)}`);
  return value;
}

/** The default client: `@alicloud/kms20160120`, created on first use so that an injected client needs no SDK. */
function sdkClientFromOptions(options: KmsKeyWrapperOptions): KmsClient {
  const accessKeyId = optionalString('accessKeyId', options.accessKeyId);
  const accessKeySecret = optionalString('accessKeySecret', options.accessKeySecret);
  const securityToken = optionalString('securityToken', options.securityToken);
  const region = optionalString('region', options.region);
  const endpoint = optionalString('endpoint', options.endpoint);
  const protocol = options.protocol ?? 'https';
  if (!accessKeyId || !accessKeySecret) {
    throw new TypeError('kmsKeyWrapper needs "accessKeyId" and "accessKeySecret" (plus "securityToken" for STS), or an injected "client"');
  }
  if (!region && !endpoint) throw new TypeError('kmsKeyWrapper needs "region" (e.g. "cn-hangzhou") or "endpoint"');
  if (protocol !== 'https' && protocol !== 'http') throw new RangeError(`"protocol" expected "https" or "http", got ${JSON.stringify(protocol)}`);
  if (endpoint !== undefined && /^[a-z]+:\/\//i.test(endpoint)) {
    throw new TypeError(`"endpoint" expected a host or host:port without a scheme (use "protocol"), got ${JSON.stringify(endpoint)}`);
  }
  const config = {
    accessKeyId,
    accessKeySecret,
    ...(securityToken ? { securityToken } : {}),
    regionId: region ?? '',
    endpoint: endpoint ?? `kms.${region}.aliyuncs.com`,
    protocol: protocol.toUpperCase(),
  };
  let client: Promise<KmsSdkClient> | undefined;
  return adaptSdk(() => {
    client ??= loadSdk().then((sdk) => new sdk.Client(config) as unknown as KmsSdkClient);
    return client;
  });
}

interface SdkModule {
  Client: new (config: Record<string, unknown>) => unknown;
  EncryptRequest: new (map: Record<string, unknown>) => unknown;
  DecryptRequest: new (map: Record<string, unknown>) => unknown;
  GenerateDataKeyRequest: new (map: Record<string, unknown>) => unknown;
}

let sdkModule: Promise<SdkModule> | undefined;

function loadSdk(): Promise<SdkModule> {
  sdkModule ??= import('@alicloud/kms20160120').then((mod) => {
    // A CommonJS module: from ESM its `exports` object is the default import, the class is `exports.default`.
    const m = mod as unknown as Record<string, unknown> & { default?: Record<string, unknown> };
    const exportsObject = (m.default ?? m) as Record<string, unknown>;
    const pick = (name: string) => (m[name] ?? exportsObject[name]) as new (x: Record<string, unknown>) => unknown;
    return {
      Client: (exportsObject.default ?? m.default) as unknown as SdkModule['Client'],
      EncryptRequest: pick('EncryptRequest'),
      DecryptRequest: pick('DecryptRequest'),
      GenerateDataKeyRequest: pick('GenerateDataKeyRequest'),
    };
  });
  return sdkModule;
}

function adaptSdk(getClient: () => Promise<KmsSdkClient>): KmsClient {
  return {
    async encrypt(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      // The context goes as one JSON string (EncryptionContext={...}), the documented wire form oss2 uses;
      // a map would be flattened into EncryptionContext.<k>=<v> parameters.
      const r = await client.encrypt(new sdk.EncryptRequest({ ...request }));
      return { ciphertextBlob: r.ciphertextBlob ?? '', keyId: r.keyId, requestId: r.requestId };
    },
    async decrypt(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      const r = await client.decrypt(new sdk.DecryptRequest({ ...request }));
      return { plaintext: r.plaintext as string, keyId: r.keyId, requestId: r.requestId };
    },
    async generateDataKey(request) {
      const [sdk, client] = await Promise.all([loadSdk(), getClient()]);
      const r = await client.generateDataKey(new sdk.GenerateDataKeyRequest({ ...request }));
      return { ciphertextBlob: r.ciphertextBlob ?? '', plaintext: r.plaintext as string, keyId: r.keyId, requestId: r.requestId };
    },
  };
}

/**
 * Both halves (key and IV) run in parallel, but a failure of one is reported only once the other has settled:
 * no KMS call or retry of ours outlives the wrap/unwrap that started it. The key's failure wins if both fail.
 */
async function settleBoth<A, B>([a, b]: [Promise<A>, Promise<B>]): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function requestIdOf(answer: unknown): string {
  const id = answer !== null && typeof answer === 'object' ? (answer as { requestId?: unknown }).requestId : undefined;
  return typeof id === 'string' ? id : 'unknown';
}

async function randomBytes(length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const webcrypto = (globalThis as { crypto?: Crypto }).crypto ?? (await import('node:crypto')).webcrypto;
  (webcrypto as Crypto).getRandomValues(out);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bytes as text when they are all printable ASCII, else undefined. */
function asciiText(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) return undefined;
    out += String.fromCharCode(b);
  }
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : '=';
  }
  return out;
}

/** Canonical standard padded base64 only (no whitespace, no URL alphabet, zero unused bits); else undefined. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (!CANONICAL_BASE64.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
