/**
 * The Alibaba Cloud KMS key wrapper (`KMS/ALICLOUD`, KMS API 2016-01-20): docs/FORMAT.md §2.2 (V2) and §3 (V1 `kms`).
 *
 * A content key is wrapped as two KMS ciphertexts, one for the 32-byte key and one for the 16-byte IV, each made
 * from the base64 text of the raw bytes. Two layerings of the stored header exist, and this wrapper reads both
 * without being told:
 *
 * - `go` (Go v1/v2, Java, C++, Python v2): the header **is** KMS's `CiphertextBlob` (already base64 text).
 * - `oss2` (Python oss2 `AliKMSProvider`): the header is base64 **of the CiphertextBlob text** (a second layer).
 *
 * The reading rule that tells them apart is in kms-blob.ts.
 *
 * Writing: `blobLayout` picks the layering (default `go`, see kms-blob.ts). `wrap(content)` Encrypts base64(key) and base64(IV) under the CMK (two calls, in
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
 * code (`Forbidden.KeyNotFound`, not the SDK's `Forbidden.KeyNotFoundError`), the HTTP status and the request id
 * (kms-failure.ts). A Plaintext that is not base64 of the right length (or not a decimal counter) is a
 * `KeyUnwrapError` `KEY_UNWRAP_FAILED`. Transient failures are retried by the library's one retry policy
 * (util/retry.ts: same count, same transient list as OSS calls); each retry is a new, newly signed request.
 * No message, property or `cause` carries a plain key, IV or the request URL (which holds `Plaintext`).
 *
 * This file is the wrapper itself: the wrap format and its options, over whichever KMS client the entry makes
 * by default (kms.ts: the official SDK, Node; kms-web.ts: fetchKmsClient, every runtime). Deliberately not
 * here: the KMS client contract and the SDK loader (kms-client.ts), failure reading (kms-failure.ts), the blob layerings
 * (kms-blob.ts), choosing the wrapper for an object (keyring.ts, by matdesc), the RSA wraps (rsa.ts).
 * @module
 */
import { IV_BYTES, KEY_BYTES } from '../cipher/sizes.js';
import { checkContentKey, checkMatdesc } from '../envelope/checks.js';
import { WRAP_ALG } from '../envelope/headers.js';
import { KeyUnwrapError, KeyWrapError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../util/base64.js';
import { describe } from '../util/describe.js';
import { resolveRetryPolicy, withRetry, type RetryPolicy } from '../util/retry.js';
import { DEFAULT_KMS_BLOB_LAYOUT, kmsBlobFromHeader, kmsHeaderFromBlob, type KmsBlobLayout } from './kms-blob.js';
import type { KmsCiphertext, KmsClient, KmsPlaintext, KmsSdkSettings } from './kms-client.js';
import { isTransientKmsFailure, kmsErrorOf, type KmsAction } from './kms-failure.js';
import { generateContentIv } from './random.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';
import { checkDecryptKeyId } from './kms-key-check.js';
import { counterFromDecimal } from './v1-counter.js';

export { DEFAULT_KMS_BLOB_LAYOUT, kmsBlobFromHeader, type KmsBlobLayout } from './kms-blob.js';
export type { KmsCiphertext, KmsClient, KmsPlaintext, KmsSdkClient } from './kms-client.js';

/**
 * The V2 wrap algorithm of KMS-wrapped keys.
 * @example
 *   if (envelope.wrapped.wrapAlg === KMS_WRAP_ALG) console.log('needs KMS Decrypt permission');
 */
export const KMS_WRAP_ALG = WRAP_ALG.kms;
/**
 * The V1 wrap algorithm of KMS-wrapped keys (`x-oss-meta-oss-wrap-alg`).
 * @example
 *   const isKms = w.format === 'v1' ? w.wrapAlg === KMS_V1_WRAP_ALG : w.wrapAlg === KMS_WRAP_ALG;
 */
export const KMS_V1_WRAP_ALG = WRAP_ALG.v1Kms;
/**
 * Retries of transient KMS failures: the library's one retry policy (util/retry.ts), with the same meaning of
 * the count as the client's `retry` option.
 * @example
 *   kmsKeyWrapper({ ...options, retry: { retries: 4, baseDelayMs: 200 } })
 */
export interface KmsRetryOptions {
  /** Retries after the first attempt, as in {@link RetryPolicy}. Default 2 (three requests per call); 0 disables. */
  retries?: number;
  /**
   * The same bound counted as total requests, the first included (`attempts` = `retries` + 1), kept for callers
   * written before `retries`. 1..10; give one of the two, or both agreeing.
   */
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
export interface KmsKeyWrapperOptions extends KmsSdkSettings {
  /** The CMK that wraps new keys. Without it the wrapper only unwraps (`canWrap` is false). */
  keyId?: string;
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
   * a random IV (bytes 8..11 zero, docs/FORMAT.md §1) Encrypted under the CMK. Returns the plain key and its wrapped
   * form in this wrapper's layering. Two KMS calls.
   */
  createContentKey(): Promise<{ content: ContentKey; wrapped: WrappedContentKey }>;
}

/**
 * Creates a KMS key wrapper whose client, unless `options.client` is given, is `defaultClient(options)`.
 * @param options CMK, region and credentials (or an injected `client`), passphrase, layering, matdesc
 * @param defaultClient makes the KMS client from the options' region, endpoint and credentials
 * @returns a {@link KmsKeyWrapper}; no KMS call is made before the first wrap/unwrap
 * @throws {TypeError} when an option has the wrong type, or neither credentials nor a client are given
 * @throws {RangeError} when `blobLayout`, `protocol` or `retry` has an unsupported value
 * @example
 *   const kms = kmsKeyWrapperWith({
 *     keyId: 'key-id', region: 'cn-hangzhou',
 *     accessKeyId: process.env.AK!, accessKeySecret: process.env.SK!,
 *   });
 *   const wrapped = await kms.wrap({ key, iv }); // two KMS Encrypt calls
 *   const back = await kms.unwrap(wrapped);      // two KMS Decrypt calls
 */
export function kmsKeyWrapperWith(options: KmsKeyWrapperOptions, defaultClient: (options: KmsKeyWrapperOptions) => KmsClient): KmsKeyWrapper {
  if (options === null || typeof options !== 'object') throw new TypeError(`"options" expected an object, got ${describe(options)}`);
  const keyId = optionalString('keyId', options.keyId);
  if (keyId === '') throw new TypeError('"keyId" expected a non-empty string, got ""');
  const passphrase = optionalString('passphrase', options.passphrase);
  const blobLayout = options.blobLayout ?? DEFAULT_KMS_BLOB_LAYOUT;
  if (blobLayout !== 'go' && blobLayout !== 'oss2') throw new RangeError(`"blobLayout" expected "go" or "oss2", got ${JSON.stringify(blobLayout)}`);
  const matdesc = checkMatdesc(options.matdesc ?? {});
  const retry = checkRetry(options.retry ?? {});
  const client = options.client ?? defaultClient(options);
  const context = passphrase === undefined ? undefined : JSON.stringify({ 'x-passphrase': passphrase });
  if (options.acceptAnyKmsKey !== undefined && typeof options.acceptAnyKmsKey !== 'boolean') {
    throw new TypeError(`"acceptAnyKmsKey" expected a boolean, got ${describe(options.acceptAnyKmsKey)}`);
  }
  return new Wrapper(client, keyId, context, blobLayout, matdesc, retry, options.acceptAnyKmsKey === true);
}

// ---------------------------------------------------------------------------------------------------------

/** Most requests one KMS call may make, the first included. */
const MAX_ATTEMPTS = 10;
/** Retries per KMS call when none are configured (three requests in all). */
const DEFAULT_KMS_RETRIES = 2;

class Wrapper implements KmsKeyWrapper {
  readonly wrapAlg = KMS_WRAP_ALG;
  readonly canWrap: boolean;
  readonly canUnwrap = true;
  // Private fields, so that logging or serialising a wrapper shows neither the client (credentials) nor the
  // passphrase.
  readonly #client: KmsClient;
  readonly #context: string | undefined;
  readonly #retry: RetryPolicy;

  constructor(
    client: KmsClient,
    readonly keyId: string | undefined,
    context: string | undefined,
    readonly blobLayout: KmsBlobLayout,
    readonly matdesc: Matdesc,
    retry: RetryPolicy,
    private readonly acceptAnyKmsKey: boolean,
  ) {
    this.#client = client;
    this.#context = context;
    this.#retry = retry;
    this.canWrap = keyId !== undefined;
  }

  async wrap(content: ContentKey): Promise<WrappedContentKey> {
    const keyId = this.requireKeyId();
    checkContentKey(content);
    const [key, start] = await settleBoth([
      this.encrypt(keyId, encodeBase64(content.key), 'content key'),
      this.encrypt(keyId, encodeBase64(content.iv), 'IV'),
    ]);
    return this.wrapped(key, start);
  }

  async createContentKey(): Promise<{ content: ContentKey; wrapped: WrappedContentKey }> {
    const keyId = this.requireKeyId();
    const iv = generateContentIv();
    const [generated, start] = await settleBoth([
      this.call('GenerateDataKey', 'content key', [], () =>
        this.#client.generateDataKey({ keyId, keySpec: 'AES_256', numberOfBytes: KEY_BYTES, ...this.contextParam() }),
      ),
      this.encrypt(keyId, encodeBase64(iv), 'IV'),
    ]);
    const blob = requireBlob(generated, 'GenerateDataKey', 'content key');
    const key = decodeBase64(typeof generated.plaintext === 'string' ? generated.plaintext : '');
    if (key === undefined || key.length !== KEY_BYTES) {
      throw new KeyWrapError(
        'KEY_WRAP_FAILED',
        `KMS GenerateDataKey (KeySpec AES_256, NumberOfBytes ${KEY_BYTES}) answered a Plaintext that is not base64 of ` +
          `${KEY_BYTES} bytes (got ${key === undefined ? 'no canonical base64' : `${key.length} bytes`}; request id ${generated.requestId ?? 'unknown'})`,
      );
    }
    return { content: { key, iv }, wrapped: this.wrapped(blob, start) };
  }

  async unwrap(wrapped: WrappedContentKey): Promise<ContentKey | null> {
    if (wrapped === null || typeof wrapped !== 'object') throw new TypeError(`"wrapped" expected an object, got ${describe(wrapped)}`);
    if (wrapped.format === 'v1') {
      if (wrapped.wrapAlg !== KMS_V1_WRAP_ALG) return null;
      // V1: the headers are the blobs themselves (docs/FORMAT.md §3).
      const [key, start] = await settleBoth([
        this.decrypt(wrapped.wrappedKey, 'content key'),
        this.decrypt(wrapped.wrappedStart, 'counter start'),
      ]);
      return { key: plainBytes(key, KEY_BYTES, 'content key'), iv: counterBlock(start) };
    }
    if (wrapped.wrapAlg !== KMS_WRAP_ALG) return null;
    const keyBlob = kmsBlobFromHeader(wrapped.wrappedKey).blob;
    const startBlob = kmsBlobFromHeader(wrapped.wrappedStart).blob;
    const [key, iv] = await settleBoth([this.decrypt(keyBlob, 'content key'), this.decrypt(startBlob, 'IV')]);
    return { key: plainBytes(key, KEY_BYTES, 'content key'), iv: plainBytes(iv, IV_BYTES, 'IV') };
  }

  private wrapped(keyBlob: string, startBlob: string): WrappedContentKey {
    const wrappedKey = kmsHeaderFromBlob(keyBlob, this.blobLayout);
    const wrappedStart = kmsHeaderFromBlob(startBlob, this.blobLayout);
    return { format: 'v2', wrapAlg: KMS_WRAP_ALG, wrappedKey, wrappedStart, matdesc: this.matdesc };
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

  /** One KMS call under the retry policy; its final failure becomes a KmsError. */
  private async call<T>(action: KmsAction, what: string, secrets: string[], attempt: () => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await withRetry(() => {
        attempts++;
        return attempt();
      }, this.#retry);
    } catch (err) {
      throw kmsErrorOf(err, action, what, attempts, secrets);
    }
  }
}

function requireBlob(answer: KmsCiphertext, action: KmsAction, what: string): string {
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

/** V1 start: the decimal initial counter as the 16-byte big-endian counter block (docs/FORMAT.md §3). */
function counterBlock(answer: KmsPlaintext): Uint8Array {
  const text = answer.plaintext;
  const iv = counterFromDecimal(new TextEncoder().encode(text));
  if (iv === undefined) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `KMS Decrypt of the V1 counter start returned a Plaintext that is not a decimal counter below 2^128 ` +
        `(${text.length} characters; request id ${answer.requestId ?? 'unknown'})`,
    );
  }
  return iv;
}

/** The policy of this wrapper: util/retry.ts's, with `attempts` (total) read as `retries` + 1. */
function checkRetry(retry: KmsRetryOptions): RetryPolicy {
  if (retry === null || typeof retry !== 'object') throw new TypeError(`"retry" expected an object, got ${describe(retry)}`);
  let retries = retry.retries;
  if (retry.attempts !== undefined) {
    if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > MAX_ATTEMPTS) {
      throw new RangeError(`"retry.attempts" expected an integer 1..${MAX_ATTEMPTS}, got ${retry.attempts}`);
    }
    if (retries !== undefined && retries !== retry.attempts - 1) {
      throw new RangeError(`"retry.attempts" (${retry.attempts}) and "retry.retries" (${retries}) disagree: attempts counts the first request, retries does not`);
    }
    retries = retry.attempts - 1;
  }
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > MAX_ATTEMPTS - 1)) {
    throw new RangeError(`"retry.retries" expected an integer 0..${MAX_ATTEMPTS - 1}, got ${retries}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    const v = retry[name];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
      throw new RangeError(`"retry.${name}" expected a non-negative number of milliseconds, got ${v}`);
    }
  }
  return resolveRetryPolicy({
    retries: retries ?? DEFAULT_KMS_RETRIES,
    ...(retry.baseDelayMs === undefined ? {} : { baseDelayMs: retry.baseDelayMs }),
    ...(retry.maxDelayMs === undefined ? {} : { maxDelayMs: retry.maxDelayMs }),
    isRetryable: isTransientKmsFailure,
  });
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string, got ${describe(value)}`);
  return value;
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
