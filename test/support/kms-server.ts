/**
 * A loopback stand-in for Alibaba Cloud KMS (API version 2016-01-20), for tests, benchmarks and the demo.
 * docs/FORMAT.md §2.2 (what the KMS wrap needs) and §8 (the wire form of `@alicloud/kms20160120`).
 *
 * It speaks the RPC API the way the real Node client sends it: `POST /` (GET works too), every parameter in
 * the query string (a form-encoded body is merged in as well), JSON answers. It checks what real KMS checks
 * before doing any work: the common parameters (`Version=2016-01-20`, `Format`, `Timestamp` within 15 minutes,
 * a fresh `SignatureNonce`), the access key, the STS `SecurityToken` when the key is a temporary one, and the
 * HMAC-SHA1 signature v1 (`POST&%2F&<percent-encoded sorted query>`, key `<secret>&`).
 *
 * Actions: `Encrypt`, `Decrypt`, `GenerateDataKey` (KeySpec `AES_256`/`AES_128`, `NumberOfBytes` 1..1024,
 * which wins when both are given). Each master key is 32 random bytes held in memory; a CiphertextBlob is real
 * AES-256-GCM under it, with the canonical EncryptionContext as additional data, so Decrypt with a different
 * context fails exactly as it does on KMS. The EncryptionContext is accepted in both wire forms the client can
 * produce: one JSON string (`EncryptionContext={"x-passphrase":"p"}`, what oss2 sends and what KMS documents)
 * or the SDK's flattened map (`EncryptionContext.x-passphrase=p`). Absent and `""` both mean `{}`; two
 * contexts are equal when their parsed maps are equal (key order and spacing do not matter).
 *
 * Blob format (ours, opaque to callers): base64 of `"SKB1" | u8 len | key id | u8 len | key version id |
 * 12-byte GCM nonce | 16-byte tag | ciphertext`. The decoded bytes are binary (never base64 text), like real
 * KMS blobs, so the single/double base64 layering of docs/FORMAT.md §2.2 stays unambiguous.
 *
 * A recorded table (test/fixtures/interop/kms-table.json) can be preloaded: Decrypt of a listed blob answers
 * the recorded `Plaintext` after checking the context as the table's README says.
 *
 * Errors are KMS-shaped JSON `{RequestId, HostId, Code, Message, Recommend}` with the HTTP status KMS uses;
 * the real client turns them into errors whose `code` is `Code + "Error"`:
 *
 * | when | status | Code |
 * |---|---|---|
 * | signature parameters missing | 400 | `IncompleteSignature` |
 * | signature wrong | 400 | `SignatureDoesNotMatch` |
 * | access key id unknown | 404 | `InvalidAccessKeyId.NotFound` |
 * | STS token missing or not the one issued with the key | 400 | `InvalidSecurityToken.MismatchWithAccessKey` |
 * | timestamp more than 15 minutes off / missing | 400 | `InvalidTimeStamp.Expired` / `MissingParameter` |
 * | nonce reused | 400 | `SignatureNonceUsed` |
 * | key id unknown (Encrypt, GenerateDataKey, Decrypt of a blob naming it) | 404 | `Forbidden.KeyNotFound` |
 * | blob not ours and not in the table, or malformed; context not JSON; bad KeySpec/NumberOfBytes | 400 | `InvalidParameter` |
 * | blob does not authenticate under the given context (wrong context, tampered blob) | 400 | `InvalidParameter` |
 * | required parameter missing | 400 | `MissingParameter` |
 * | unknown Action | 404 | `InvalidAction.NotFound` |
 * | injected fault ({@link KmsServer.failNext}) | 503 by default | `ServiceUnavailableTemporary` |
 *
 * CORS: every answer carries `Access-Control-Allow-Origin: *` and exposes `x-acs-request-id`; OPTIONS preflights
 * are answered (204, the requested headers allowed) without counting as requests.
 *
 * Deliberately not here: key rotation, aliases, key states, asymmetric keys, any other action. It never logs
 * and never records plaintexts.
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The only API version the stand-in speaks. */
export const KMS_API_VERSION = '2016-01-20';

/** The credentials used when {@link StartKmsServerOptions.accessKeys} is not given. */
export const DEFAULT_KMS_CREDENTIALS = Object.freeze({
  accessKeyId: 'LTAI-loopback-test-key',
  accessKeySecret: 'loopback-test-secret',
});

/** One recorded Decrypt answer (the shape of an entry of test/fixtures/interop/kms-table.json). */
export interface KmsTableEntry {
  /** The exact `CiphertextBlob` string a reader sends. */
  ciphertext_blob: string;
  /** The exact `Plaintext` string Decrypt answers. */
  plaintext: string;
  /** The context Decrypt requires, as a map; `{}` = none. */
  encryption_context: Record<string, string>;
  key_id: string;
  key_version_id?: string | null;
  [other: string]: unknown;
}

/** A table of recorded Decrypt answers (test/fixtures/interop/kms-table.json). */
export interface KmsTable {
  entries: KmsTableEntry[];
}

/** Options of {@link startKmsServer}. */
export interface StartKmsServerOptions {
  /** TCP port; 0 (default) picks a free one. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Access key id → secret. Default: {@link DEFAULT_KMS_CREDENTIALS}. */
  accessKeys?: Record<string, string>;
  /**
   * Access key id → the STS security token issued with it. A request signed with one of these ids must carry
   * exactly that `SecurityToken`; ids not listed here must carry none. Each id also needs a secret in
   * `accessKeys`.
   */
  securityTokens?: Record<string, string>;
  /** Master key ids to create up front (e.g. a fixed id a test refers to). */
  keys?: string[];
  /** Recorded Decrypt answers to serve (test/fixtures/interop/kms-table.json). */
  table?: KmsTable;
}

/** What the stand-in recorded about one request. Never contains plaintexts. */
export interface KmsRequestRecord {
  /** The `Action` parameter (`Encrypt`, `Decrypt`, `GenerateDataKey`, ...). */
  action: string;
  /** `KeyId` for Encrypt/GenerateDataKey; for Decrypt the key named by the blob or its table entry. */
  keyId?: string;
  /** The parsed EncryptionContext; absent when the request sent none (or `""`). */
  encryptionContext?: Record<string, string>;
  /** How the context arrived: one JSON string (`json`), the SDK's flattened map (`flat`), or `absent`. */
  encryptionContextForm: 'json' | 'flat' | 'absent';
  /** The raw `EncryptionContext` parameter when sent as one string (`""` included). */
  encryptionContextWire?: string;
  accessKeyId?: string;
  /** Whether an STS `SecurityToken` was sent. */
  securityToken: boolean;
  /** HTTP status answered (0 when the connection was reset). */
  status: number;
  /** KMS error code answered, if any. */
  code?: string;
  requestId: string;
  /** Set when the answer was an injected fault. */
  fault?: 'status' | 'reset';
}

/** Options of {@link KmsServer.failNext}. */
export interface KmsFaultOptions {
  /** Only requests with this `Action` count and fail; others pass. Default: every request. */
  action?: string;
  /** `status` answers an HTTP error; `reset` destroys the connection without answering. Default `status`. */
  mode?: 'status' | 'reset';
  /** HTTP status for `mode: 'status'`. Default 503. */
  status?: number;
  /** KMS error code for `mode: 'status'`. Default `ServiceUnavailableTemporary` (`InternalFailure` for 500). */
  code?: string;
}

/** A running stand-in. */
export interface KmsServer {
  /** `127.0.0.1:PORT`: what `@alicloud/kms20160120` takes as `endpoint` (no scheme). */
  readonly endpoint: string;
  readonly port: number;
  /** The first configured access key pair. */
  readonly credentials: { accessKeyId: string; accessKeySecret: string };
  /** Every request received, in arrival order. Tests may clear it (`requests.length = 0`). */
  readonly requests: KmsRequestRecord[];
  /**
   * A ready-to-use config for `new Kms(config)` of `@alicloud/kms20160120`: endpoint, `protocol: 'HTTP'`,
   * `regionId: 'cn-hangzhou'` and the first access key pair; `overrides` win.
   */
  clientConfig(overrides?: Record<string, unknown>): {
    accessKeyId: string;
    accessKeySecret: string;
    endpoint: string;
    protocol: 'HTTP';
    regionId: string;
    [k: string]: unknown;
  };
  /** Creates a master key (random 256-bit material) and returns its id (a random UUID unless given). */
  createKey(keyId?: string): string;
  /** Makes the next `count` matching requests fail (see {@link KmsFaultOptions}). Calls accumulate. */
  failNext(count: number, options?: KmsFaultOptions): void;
  /** Drops the faults not yet used; returns how many there were. */
  clearFaults(): number;
  /** Requests received with this action (a shorthand over `requests`). */
  count(action?: string): number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts a KMS stand-in on 127.0.0.1 (at a free port unless `port` is given).
 * @param options port, access keys, STS tokens, keys to pre-create, a recorded Decrypt table
 * @throws {RangeError} when `port` is not 0..65535
 * @returns the running server; call `close()` when done (e.g. in uvu's `after`)
 * @example
 *   // The real SDK client against the stand-in
 *   const kms = await startKmsServer();
 *   const keyId = kms.createKey();
 *   const client = new Kms(kms.clientConfig()); // Kms = the default export of @alicloud/kms20160120
 *   const { ciphertextBlob } = await client.encrypt(new EncryptRequest({ keyId, plaintext: 'aGVsbG8=' }));
 *   await kms.close();
 * @example
 *   // The library's KMS wrapper against the stand-in
 *   const kms = await startKmsServer();
 *   const wrapper = kmsKeyWrapper({ keyId: kms.createKey(), region: 'cn-hangzhou', ...kms.credentials,
 *     endpoint: kms.endpoint, protocol: 'http' });
 *   kms.failNext(1, { action: 'Decrypt' }); // the next Decrypt answers 503; the wrapper retries
 */
export async function startKmsServer(options: StartKmsServerOptions = {}): Promise<KmsServer> {
  const listenPort = options.port ?? 0;
  if (!(Number.isSafeInteger(listenPort) && listenPort >= 0 && listenPort < 65536)) throw new RangeError(`"port" expected 0..65535, got ${listenPort}`);
  const state = new KmsState(options);
  const server = createServer((req, res) => {
    handle(state, req, res).catch(() => {
      // A handler bug must still answer something KMS-shaped rather than hang the client.
      if (!res.headersSent) sendError(res, 500, 'InternalFailure', 'internal failure of the stand-in', randomUUID());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `127.0.0.1:${port}`;
  const [firstId, firstSecret] = Object.entries(state.accessKeys)[0] ?? ['', ''];
  const credentials = { accessKeyId: firstId, accessKeySecret: firstSecret };
  return {
    endpoint,
    port,
    credentials,
    requests: state.requests,
    clientConfig: (overrides = {}) => ({
      ...credentials,
      endpoint,
      protocol: 'HTTP' as const,
      regionId: 'cn-hangzhou',
      ...overrides,
    }),
    createKey: (keyId) => state.createKey(keyId),
    failNext(count, fault = {}) {
      if (!Number.isInteger(count) || count < 0) {
        throw new RangeError(`"count" expected a non-negative integer, got ${count}`);
      }
      const mode = fault.mode ?? 'status';
      const status = fault.status ?? 503;
      if (mode === 'status' && (!Number.isInteger(status) || status < 400 || status > 599)) {
        throw new RangeError(`"status" expected an HTTP error status 400..599, got ${status}`);
      }
      const code = fault.code ?? (status === 500 ? 'InternalFailure' : 'ServiceUnavailableTemporary');
      for (let i = 0; i < count; i++) state.faults.push({ action: fault.action, mode, status, code });
    },
    clearFaults: () => state.faults.splice(0).length,
    count: (action) => state.requests.filter((r) => action === undefined || r.action === action).length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Reads a KMS Decrypt table such as test/fixtures/interop/kms-table.json.
 * @throws {TypeError} when the file has no `entries` array
 * @example
 *   const kms = await startKmsServer({ table: readKmsTable(fixturePath('interop', 'kms-table.json')) });
 */
export function readKmsTable(path: string): KmsTable {
  const table = JSON.parse(readFileSync(path, 'utf8')) as KmsTable;
  if (!Array.isArray(table?.entries)) throw new TypeError(`"${path}" has no "entries" array: not a KMS table`);
  return table;
}

// ---------------------------------------------------------------------------------------------------------

const MAGIC = Buffer.from('SKB1', 'latin1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
/** KMS caps Encrypt's Plaintext at 6 KiB. */
const MAX_ENCRYPT_PLAINTEXT = 6144;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface MasterKey {
  id: string;
  versionId: string;
  material: Buffer;
}

interface Fault {
  action: string | undefined;
  mode: 'status' | 'reset';
  status: number;
  code: string;
}

class KmsState {
  readonly accessKeys: Record<string, string>;
  readonly securityTokens: Record<string, string>;
  readonly keys = new Map<string, MasterKey>();
  readonly table = new Map<string, KmsTableEntry>();
  readonly requests: KmsRequestRecord[] = [];
  readonly faults: Fault[] = [];
  readonly nonces = new Set<string>();

  constructor(options: StartKmsServerOptions) {
    this.accessKeys = { ...(options.accessKeys ?? { [DEFAULT_KMS_CREDENTIALS.accessKeyId]: DEFAULT_KMS_CREDENTIALS.accessKeySecret }) };
    this.securityTokens = { ...(options.securityTokens ?? {}) };
    for (const id of Object.keys(this.securityTokens)) {
      if (this.accessKeys[id] === undefined) throw new TypeError(`"securityTokens" names access key "${id}", which has no secret in "accessKeys"`);
    }
    for (const id of options.keys ?? []) this.createKey(id);
    for (const entry of options.table?.entries ?? []) this.table.set(entry.ciphertext_blob, entry);
  }

  createKey(keyId: string = randomUUID()): string {
    if (typeof keyId !== 'string' || keyId.length === 0 || Buffer.byteLength(keyId) > 255) {
      throw new TypeError(`"keyId" expected a non-empty string of at most 255 bytes, got ${JSON.stringify(keyId)}`);
    }
    if (!this.keys.has(keyId)) this.keys.set(keyId, { id: keyId, versionId: randomUUID(), material: randomBytes(32) });
    return keyId;
  }

  /** Takes the first pending fault that applies to `action`, if any. */
  takeFault(action: string): Fault | undefined {
    const index = this.faults.findIndex((f) => f.action === undefined || f.action === action);
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }
}

/** A KMS error answer, thrown inside the handler and turned into JSON at the top. */
class KmsFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function handle(state: KmsState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // CORS, so a page on another origin (a browser running fetchKmsClient) can call it: every answer allows any
  // origin and exposes the request id; a preflight is answered here and is not a KMS request (not recorded).
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', 'x-acs-request-id');
  if (req.method === 'OPTIONS') {
    const requested = req.headers['access-control-request-headers'];
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Headers': typeof requested === 'string' && requested.trim() !== '' ? requested : '*',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return;
  }
  const requestId = randomUUID().toUpperCase();
  const body = await readBody(req);
  const params = collectParams(req, body);
  const action = params.Action ?? '';
  const context = readContext(params);
  const record: KmsRequestRecord = {
    action,
    keyId: params.KeyId,
    encryptionContextForm: context.form,
    encryptionContextWire: context.wire,
    accessKeyId: params.AccessKeyId,
    securityToken: params.SecurityToken !== undefined,
    status: 200,
    requestId,
  };
  if (context.map !== undefined && Object.keys(context.map).length > 0) record.encryptionContext = context.map;
  state.requests.push(record);

  const fault = state.takeFault(action);
  if (fault !== undefined) {
    record.fault = fault.mode;
    if (fault.mode === 'reset') {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    record.status = fault.status;
    record.code = fault.code;
    sendError(res, fault.status, fault.code, 'injected fault: the service is temporarily unavailable', requestId);
    return;
  }

  try {
    checkRequest(state, req.method ?? 'GET', params);
    if (context.error !== undefined) throw new KmsFailure(400, 'InvalidParameter', context.error);
    const answer = act(state, action, params, context.map ?? {}, record);
    res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId });
    res.end(JSON.stringify({ ...answer, RequestId: requestId }));
  } catch (err) {
    if (!(err instanceof KmsFailure)) throw err;
    record.status = err.status;
    record.code = err.code;
    sendError(res, err.status, err.code, err.message, requestId);
  }
}

/** Common parameters, credentials, timestamp, nonce and signature: everything KMS checks before acting. */
function checkRequest(state: KmsState, method: string, params: Record<string, string>): void {
  for (const name of ['Signature', 'SignatureMethod', 'SignatureVersion', 'AccessKeyId']) {
    if (params[name] === undefined) throw new KmsFailure(400, 'IncompleteSignature', `The request signature is incomplete: ${name} is missing.`);
  }
  if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') {
    throw new KmsFailure(400, 'IncompleteSignature', `Unsupported signature: ${params.SignatureMethod} ${params.SignatureVersion}; expected HMAC-SHA1 1.0.`);
  }
  const secret = state.accessKeys[params.AccessKeyId];
  if (secret === undefined) throw new KmsFailure(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  const expectedToken = state.securityTokens[params.AccessKeyId];
  if (expectedToken !== params.SecurityToken) {
    throw new KmsFailure(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token does not match the access key.');
  }
  const expected = signatureV1(method, params, secret);
  const given = Buffer.from(params.Signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new KmsFailure(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
  }
  if (params.Version !== KMS_API_VERSION) {
    throw new KmsFailure(400, 'InvalidParameter', `The specified parameter Version "${params.Version}" is not valid; this service speaks ${KMS_API_VERSION}.`);
  }
  if (params.Format !== undefined && params.Format.toLowerCase() !== 'json') {
    throw new KmsFailure(400, 'InvalidParameter', `The specified parameter Format "${params.Format}" is not valid; the stand-in answers JSON only.`);
  }
  if (params.Timestamp === undefined) throw new KmsFailure(400, 'MissingParameter', 'The input parameter "Timestamp" is not supplied.');
  const time = Date.parse(params.Timestamp);
  if (!Number.isFinite(time) || Math.abs(Date.now() - time) > MAX_CLOCK_SKEW_MS) {
    throw new KmsFailure(400, 'InvalidTimeStamp.Expired', `Timestamp "${params.Timestamp}" is missing, malformed or more than 15 minutes from server time.`);
  }
  if (params.SignatureNonce === undefined) throw new KmsFailure(400, 'MissingParameter', 'The input parameter "SignatureNonce" is not supplied.');
  if (state.nonces.has(params.SignatureNonce)) throw new KmsFailure(400, 'SignatureNonceUsed', 'The request signature nonce has been used.');
  state.nonces.add(params.SignatureNonce);
}

function act(
  state: KmsState,
  action: string,
  params: Record<string, string>,
  context: Record<string, string>,
  record: KmsRequestRecord,
): Record<string, unknown> {
  const aad = Buffer.from(canonicalContext(context), 'utf8');
  switch (action) {
    case 'Encrypt': {
      const key = requireKey(state, params);
      const plaintext = requireParam(params, 'Plaintext');
      if (Buffer.byteLength(plaintext) > MAX_ENCRYPT_PLAINTEXT) {
        throw new KmsFailure(400, 'InvalidParameter', `The specified parameter Plaintext is ${Buffer.byteLength(plaintext)} bytes; the limit is ${MAX_ENCRYPT_PLAINTEXT}.`);
      }
      return { KeyId: key.id, KeyVersionId: key.versionId, CiphertextBlob: seal(key, Buffer.from(plaintext, 'utf8'), aad) };
    }
    case 'GenerateDataKey': {
      const key = requireKey(state, params);
      const length = dataKeyLength(params);
      // KMS answers the data key as base64 text, and that same text is what Decrypt later returns.
      const plaintext = randomBytes(length).toString('base64');
      return { KeyId: key.id, KeyVersionId: key.versionId, CiphertextBlob: seal(key, Buffer.from(plaintext, 'utf8'), aad), Plaintext: plaintext };
    }
    case 'Decrypt': {
      const blob = requireParam(params, 'CiphertextBlob');
      const recorded = state.table.get(blob);
      if (recorded !== undefined) {
        record.keyId = recorded.key_id;
        if (canonicalContext(recorded.encryption_context ?? {}) !== canonicalContext(context)) {
          throw new KmsFailure(400, 'InvalidParameter', 'The specified parameter CiphertextBlob cannot be decrypted with this EncryptionContext.');
        }
        const answer: Record<string, unknown> = { KeyId: recorded.key_id, Plaintext: recorded.plaintext };
        if (recorded.key_version_id) answer.KeyVersionId = recorded.key_version_id;
        return answer;
      }
      const parsed = parseBlob(blob);
      record.keyId = parsed.keyId;
      const key = state.keys.get(parsed.keyId);
      if (key === undefined) throw new KmsFailure(404, 'Forbidden.KeyNotFound', `The specified Key "${parsed.keyId}" is not found.`);
      return { KeyId: key.id, KeyVersionId: key.versionId, Plaintext: open(key, parsed, aad).toString('utf8') };
    }
    default:
      throw new KmsFailure(404, 'InvalidAction.NotFound', `Specified api "${action}" is not found; the stand-in implements Encrypt, Decrypt, GenerateDataKey.`);
  }
}

function requireParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new KmsFailure(400, 'MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
  return value;
}

function requireKey(state: KmsState, params: Record<string, string>): MasterKey {
  const keyId = requireParam(params, 'KeyId');
  const key = state.keys.get(keyId);
  if (key === undefined) throw new KmsFailure(404, 'Forbidden.KeyNotFound', `The specified Key "${keyId}" is not found.`);
  return key;
}

function dataKeyLength(params: Record<string, string>): number {
  if (params.NumberOfBytes !== undefined) {
    const n = Number(params.NumberOfBytes);
    if (!/^\d+$/.test(params.NumberOfBytes) || n < 1 || n > 1024) {
      throw new KmsFailure(400, 'InvalidParameter', `The specified parameter NumberOfBytes "${params.NumberOfBytes}" is not valid; expected 1..1024.`);
    }
    return n;
  }
  const spec = params.KeySpec ?? 'AES_256';
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  throw new KmsFailure(400, 'InvalidParameter', `The specified parameter KeySpec "${spec}" is not valid; expected AES_256 or AES_128.`);
}

function seal(key: MasterKey, plaintext: Buffer, aad: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.material, nonce);
  // The key reference is authenticated too, so a blob cannot be re-labelled to another key.
  cipher.setAAD(Buffer.concat([blobHeader(key.id, key.versionId), aad]));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([blobHeader(key.id, key.versionId), nonce, cipher.getAuthTag(), ct]).toString('base64');
}

interface ParsedBlob {
  keyId: string;
  versionId: string;
  header: Buffer;
  nonce: Buffer;
  tag: Buffer;
  ct: Buffer;
}

function parseBlob(blob: string): ParsedBlob {
  const invalid = () => new KmsFailure(400, 'InvalidParameter', 'The specified parameter CiphertextBlob is not valid.');
  if (!STRICT_BASE64.test(blob)) throw invalid();
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw invalid();
  let at = MAGIC.length;
  const idLen = bytes[at++];
  const keyId = bytes.subarray(at, at + idLen).toString('utf8');
  at += idLen;
  const versionLen = bytes[at++];
  if (versionLen === undefined) throw invalid();
  const versionId = bytes.subarray(at, at + versionLen).toString('utf8');
  at += versionLen;
  if (bytes.length < at + NONCE_BYTES + TAG_BYTES) throw invalid();
  const header = bytes.subarray(0, at);
  const nonce = bytes.subarray(at, at + NONCE_BYTES);
  const tag = bytes.subarray(at + NONCE_BYTES, at + NONCE_BYTES + TAG_BYTES);
  const ct = bytes.subarray(at + NONCE_BYTES + TAG_BYTES);
  return { keyId, versionId, header, nonce, tag, ct };
}

function open(key: MasterKey, blob: ParsedBlob, aad: Buffer): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.material, blob.nonce);
    decipher.setAAD(Buffer.concat([blob.header, aad]));
    decipher.setAuthTag(blob.tag);
    return Buffer.concat([decipher.update(blob.ct), decipher.final()]);
  } catch {
    // GCM cannot tell a wrong context from a damaged blob; neither can KMS.
    throw new KmsFailure(400, 'InvalidParameter', 'The specified parameter CiphertextBlob cannot be decrypted with this EncryptionContext.');
  }
}

function blobHeader(keyId: string, versionId: string): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  const version = Buffer.from(versionId, 'utf8');
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, Buffer.from([version.length]), version]);
}

/** The context as compared and authenticated: keys sorted, compact JSON. */
function canonicalContext(context: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(context).sort()) sorted[k] = context[k];
  return JSON.stringify(sorted);
}

interface ContextParam {
  form: 'json' | 'flat' | 'absent';
  wire?: string;
  map?: Record<string, string>;
  /** Why the context is unacceptable (answered as InvalidParameter once the signature is checked). */
  error?: string;
}

function readContext(params: Record<string, string>): ContextParam {
  const flatKeys = Object.keys(params).filter((k) => k.startsWith('EncryptionContext.'));
  if (params.EncryptionContext !== undefined) {
    const wire = params.EncryptionContext;
    if (flatKeys.length > 0) return { form: 'json', wire, error: 'EncryptionContext was sent both as a JSON string and as a flattened map.' };
    if (wire === '') return { form: 'json', wire, map: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(wire);
    } catch {
      return { form: 'json', wire, error: 'The specified parameter EncryptionContext is not valid JSON.' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
      return { form: 'json', wire, error: 'The specified parameter EncryptionContext must be a JSON object of string values.' };
    }
    return { form: 'json', wire, map: parsed as Record<string, string> };
  }
  if (flatKeys.length > 0) {
    const map: Record<string, string> = {};
    for (const k of flatKeys) map[k.slice('EncryptionContext.'.length)] = params[k];
    return { form: 'flat', map };
  }
  return { form: 'absent' };
}

/** Query string plus a form-encoded body; the signature covers both (rpc-client signs body params too). */
function collectParams(req: IncomingMessage, body: string): Record<string, string> {
  const params: Record<string, string> = {};
  const url = new URL(req.url ?? '/', 'http://stand-in');
  for (const [k, v] of url.searchParams) params[k] = v;
  if (body.length > 0 && /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  }
  return params;
}

/** HMAC-SHA1 signature v1 over every parameter but `Signature` itself. */
function signatureV1(method: string, params: Record<string, string>, secret: string): Buffer {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`)
    .join('&');
  const stringToSign = `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return Buffer.from(createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64'));
}

/** RFC 3986 percent-encoding as the RPC signature requires (encodeURIComponent leaves !'()* alone). */
function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string, requestId: string): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId });
  res.end(
    JSON.stringify({
      RequestId: requestId,
      HostId: 'kms.loopback.stand-in',
      Code: code,
      Message: message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}`,
    }),
  );
}
