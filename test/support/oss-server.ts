/**
 * A loopback OSS-compatible stand-in that the real `ali-oss` client (Node and browser builds) works against,
 * for tests, benchmarks and the demo. Implements what docs/FORMAT.md §5, §6 and §8 say OSS does.
 *
 * Start one per test file and close it in `after`:
 *
 *     const oss = await startOssServer();               // 127.0.0.1, free port
 *     const client = oss.client('bucket');               // new OSS({...}) aimed at it
 *     await client.put('a.bin', Buffer.from('hi'));
 *     oss.getObject('bucket', 'a.bin')?.body;            // Buffer 'hi'
 *     oss.inject({ kind: 'uploadPart', nth: 2, status: 503 });
 *     oss.log.filter((e) => e.kind === 'uploadPart');    // method, bucket, key, partNumber, status...
 *     await oss.close();
 *
 * Addressing. ali-oss with `endpoint: 'http://127.0.0.1:PORT'` sends `/<key>` and rewrites Host to
 * `<bucket>.<region>.aliyuncs.com`: a Host with a dot that is not an IP address names the bucket in its first
 * label (virtual-host style). A Host that is an IP address or `localhost` means path style `/<bucket>/<key>`:
 * ali-oss with `sldEnable: true` and `endpoint: 'http://localhost:PORT'` in Node, or from a browser (which
 * cannot rewrite Host) with `sldEnable: true` and either endpoint. (Node + IP endpoint + sldEnable sends both a
 * bucket Host and a bucket path; it is ambiguous, so use `addressing: 'path'` for it.) Buckets are created on
 * first use unless `autoCreateBuckets: false` (then `createBucket()` or ali-oss `putBucket`).
 *
 * Operations: PutObject (Content-Length or chunked), GetObject (Range `a-b`, `a-`, `-n`; OSS's default of
 * ignoring an invalid range, or `x-oss-range-behavior: standard`: 416 `InvalidRange` for a start past the end,
 * end clamped; If-Match / If-None-Match / If-(Un)Modified-Since; `response-*` overrides), HeadObject (and
 * `?objectMeta`), DeleteObject, CopyObject (COPY/REPLACE, `x-oss-copy-source-if-*`), ListObjects v1 and v2,
 * InitiateMultipartUpload, UploadPart, UploadPartCopy, ListParts (with the `ClientEncryption*` fields of a
 * client-side-encrypted upload), ListMultipartUploads, CompleteMultipartUpload (order, ETags, minimum part
 * size), AbortMultipartUpload, AppendObject (`?append&position=N`), PutBucket, DeleteBucket. `x-oss-forbid-overwrite: true` makes PutObject,
 * CopyObject and CompleteMultipartUpload of an existing key 409 `FileAlreadyExists`. PutObject has no
 * conditions, as on OSS: If-Match / If-None-Match / If-(Un)Modified-Since on a PUT are 400 `NotImplemented`.
 * Anything else answers 501 `NotImplemented` naming the sub-resource, so a test notices instead of getting a wrong success.
 *
 * Client-side encryption: every rule OSS enforces on `x-oss-meta-client-side-encryption-*` requests
 * (docs/FORMAT.md §9; test/support/oss-cse-rules.ts) is always on: PutObject, AppendObject,
 * Initiate, UploadPart, Complete, CopyObject and UploadPartCopy that break one answer 400 `InvalidArgument` with
 * the rule's `EC` (ali-oss: `err.ecCode`). HEAD/GET return the metadata as stored.
 *
 * Responses carry what OSS sends: `x-oss-request-id` always; ETag, Last-Modified, Content-Type, user metadata
 * (names lower-case), `x-oss-object-type`, `x-oss-hash-crc64ecma` (CRC-64/XZ over the stored bytes, also the
 * whole-object CRC on ranged GETs) on PUT/GET/HEAD/UploadPart/Complete/Copy; Content-Range on 206; OSS XML
 * errors (on HEAD base64 in `x-oss-err`, as ali-oss reads it); `Content-MD5` is checked when sent
 * (`InvalidDigest`).
 *
 * Authentication (test/support/oss-auth.ts): every request but an OPTIONS preflight must be signed as OSS
 * checks it: V1 `Authorization: OSS id:sig`, V1 signed URLs, V4 `OSS4-HMAC-SHA256` headers and signed URLs,
 * with the STS token when the key is an STS one. Keys: TEST_ACCESS_KEY_ID / TEST_ACCESS_KEY_SECRET plus
 * `credentials`. Unknown key → 403 `InvalidAccessKeyId`; wrong signature → 403 `SignatureDoesNotMatch` with
 * `StringToSign` in the XML; unsigned → 403 `AccessDenied` unless `anonymous: true`.
 * CORS: every response allows origin `*` and exposes ETag, request id, CRC, Content-Range/Length and the
 * metadata headers (the client-side-encryption names explicitly); OPTIONS preflights are answered.
 *
 * Test hooks: `inject()` (see test/support/oss-faults.ts: Nth request of a kind → 5xx, connection reset
 * mid-body, delay), `log` (every request in arrival order), `getObject` / `putObjectRaw` / `uploads()` /
 * `listKeys()` for direct inspection and for serving the interop fixtures as the official SDKs stored them,
 * `stats` (bytes in/out). `storeBodies: false` keeps only sizes, ETags and CRCs (upload benchmarks).
 *
 * Browsers: ali-oss's browser `get()` asks for `response-cache-control=no-cache`, so Chromium keeps the
 * (partial) response and revalidates the next GET of that object with If-None-Match, even with a
 * `Cache-Control: no-store` request header. The server answers 304 as OSS does, and for a ranged request
 * Chromium then answers from its cache by itself: a start past the end becomes a 416 without OSS XML
 * (`err.code` unset). Passing `subres: { 'response-cache-control': 'no-store' }` to `get()` keeps the
 * browser from storing responses at all (verified with Chromium against this server).
 *
 * As a child process: `node --import tsx test/support/oss-server.ts --port 0 [--region R] [--min-part-size N]
 * [--no-store-bodies] [--no-auto-create] [--addressing auto|path|virtual] [--bucket B]... [--anonymous]
 * [--credential ID:SECRET[:STS_TOKEN]]...` prints one JSON line
 * `{"endpoint":"http://127.0.0.1:PORT","port":PORT,"region":"oss-cn-hangzhou","pid":N}` and serves until
 * SIGTERM / SIGINT.
 *
 * Layout: this file (API, dispatch, CLI), oss-routing.ts (bucket/key/kind of a request), oss-exchange.ts
 * (body reading, responses, fault execution), oss-operations.ts (one handler per OSS API), oss-range.ts
 * (Range and conditional headers), oss-store.ts (state and OSS's rules), oss-cse-rules.ts (OSS's
 * client-side-encryption checks), oss-faults.ts, oss-xml.ts.
 *
 * Deliberately not here: versioning, ACLs, symlink/tagging, server-side encryption.
 * @module
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OSS from 'ali-oss';
import { authenticate, type OssCredential } from './oss-auth.js';
import { ConnectionReset, Exchange, EXPOSED_HEADERS, faultError, isClientGone, type ServerState } from './oss-exchange.js';
import { FaultRegistry, type FaultHandle, type OssFault, type OssLogEntry } from './oss-faults.js';
import { attributesFrom, BODY_KINDS, objectHeaders, OPERATIONS } from './oss-operations.js';
import { classify, parseRoute, type Route } from './oss-routing.js';
import { digestOf, OssError, OssStore, type StoredObject } from './oss-store.js';

export type { OssCredential } from './oss-auth.js';
export { signV1 } from './oss-auth.js';
export type { FaultHandle, OssFault, OssLogEntry, OssRequestKind } from './oss-faults.js';
export { OssError } from './oss-store.js';
export { resolveRange } from './oss-range.js';

/** Options of {@link startOssServer}. */
export interface OssServerOptions {
  /** TCP port; 0 (default) picks a free one. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Region ali-oss clients are configured with (it ends up in the Host header). Default `oss-cn-hangzhou`. */
  region?: string;
  /** Minimum size of every part but the last at Complete (`EntityTooSmall`). Default 102400, as OSS. */
  minPartSize?: number;
  /** Keep object bytes (default true). False keeps only size, MD5/ETag and CRC: GETs then answer 501. */
  storeBodies?: boolean;
  /** Create buckets on first use (default true); otherwise requests to unknown buckets get `NoSuchBucket`. */
  autoCreateBuckets?: boolean;
  /** Buckets to create at start. */
  buckets?: string[];
  /** How to find the bucket: from Host or path (`auto`, default; see the module comment), or forced. */
  addressing?: 'auto' | 'path' | 'virtual';
  /**
   * Key pairs accepted besides TEST_ACCESS_KEY_ID / TEST_ACCESS_KEY_SECRET (which always are). One with a
   * `securityToken` is an STS key: its requests must carry exactly that token.
   */
  credentials?: OssCredential[];
  /** Serve requests that carry no signature at all (as a public-read-write bucket). Default false: 403 AccessDenied. */
  anonymous?: boolean;
}

/** Options for an ali-oss client, including the few the type definitions omit. */
export type OssClientOptions = OSS.Options & { sldEnable?: boolean; retryMax?: number; [option: string]: unknown };

/** A stored object as a test sees it. */
export interface OssObjectSnapshot {
  bucket: string;
  key: string;
  /** A copy of the stored bytes; undefined when the server runs with `storeBodies: false`. */
  body: Buffer | undefined;
  size: number;
  /** Quoted upper-case, as in the ETag header. */
  etag: string;
  crc64: bigint;
  contentType: string;
  /** User metadata, names without `x-oss-meta-`, lower-case (as ali-oss `head()` returns `meta`). */
  meta: Record<string, string>;
  /** The headers a GET of the whole object answers with (names lower-case), request id and CORS aside. */
  headers: Record<string, string>;
  lastModified: Date;
  type: 'Normal' | 'Multipart' | 'Appendable';
}

/** A multipart upload in progress, as a test sees it. */
export interface OssUploadSnapshot {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  contentType: string;
  meta: Record<string, string>;
  parts: { partNumber: number; size: number; etag: string; crc64: bigint; body: Buffer | undefined }[];
}

/** A running stand-in. */
export interface OssServer {
  /** `http://127.0.0.1:PORT`, what to give ali-oss as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** Every request in arrival order (live array; see {@link OssLogEntry}). */
  readonly log: OssLogEntry[];
  /** Running totals. */
  readonly stats: { requests: number; bytesIn: number; bytesOut: number };
  /** ali-oss options for `bucket` aimed at this server; `extra` overrides (e.g. `{ sldEnable: true }`). */
  clientOptions(bucket: string, extra?: Partial<OssClientOptions>): OssClientOptions;
  /** `new OSS(clientOptions(bucket, extra))`. */
  client(bucket: string, extra?: Partial<OssClientOptions>): OSS;
  /** Arms a fault; see test/support/oss-faults.ts. */
  inject(fault: OssFault): FaultHandle;
  clearFaults(): void;
  clearLog(): void;
  createBucket(name: string): void;
  /** The stored object, or undefined when there is none. */
  getObject(bucket: string, key: string): OssObjectSnapshot | undefined;
  /**
   * Stores bytes as they are, with `headers` (any case): Content-Type, `x-oss-meta-*` and the standard
   * headers OSS keeps (Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires);
   * also `ETag` and `x-oss-object-type`, which replace the computed ones (a multipart fixture keeps its `-N`
   * ETag). The bytes are copied.
   */
  putObjectRaw(bucket: string, key: string, body: Uint8Array, headers?: Record<string, string>): OssObjectSnapshot;
  deleteObjectRaw(bucket: string, key: string): void;
  /** Keys of a bucket in listing order (empty when the bucket does not exist). */
  listKeys(bucket: string): string[];
  /** Multipart uploads in progress (optionally of one bucket), in initiation order. */
  uploads(bucket?: string): OssUploadSnapshot[];
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/** Default credentials of {@link OssServer.client}; the server always accepts them. */
export const TEST_ACCESS_KEY_ID = 'test-access-key-id';
export const TEST_ACCESS_KEY_SECRET = 'test-access-key-secret';

const DEFAULT_REGION = 'oss-cn-hangzhou';
const DEFAULT_MIN_PART_SIZE = 100 * 1024;

/**
 * Starts a stand-in on 127.0.0.1.
 * @throws {RangeError} when an option is out of range (e.g. a negative `minPartSize`)
 * @example
 *   const oss = await startOssServer({ minPartSize: 16 });
 *   const client = oss.client('b');
 *   const { uploadId } = await client.initMultipartUpload('big.bin');
 *   // ...
 *   await oss.close();
 */
export async function startOssServer(options: OssServerOptions = {}): Promise<OssServer> {
  const region = options.region ?? DEFAULT_REGION;
  const minPartSize = options.minPartSize ?? DEFAULT_MIN_PART_SIZE;
  if (!(Number.isSafeInteger(minPartSize) && minPartSize >= 0)) {
    throw new RangeError(`"minPartSize" expected a non-negative integer, got ${minPartSize}`);
  }
  const port = options.port ?? 0;
  if (!(Number.isSafeInteger(port) && port >= 0 && port < 65536)) throw new RangeError(`"port" expected 0..65535, got ${port}`);
  const addressing = options.addressing ?? 'auto';
  if (!['auto', 'path', 'virtual'].includes(addressing)) {
    throw new RangeError(`"addressing" expected 'auto', 'path' or 'virtual', got ${String(addressing)}`);
  }
  const store = new OssStore({
    storeBodies: options.storeBodies ?? true,
    autoCreateBuckets: options.autoCreateBuckets ?? true,
    minPartSize,
  });
  for (const name of options.buckets ?? []) store.createBucket(name);

  const state: ServerState = {
    store,
    faults: new FaultRegistry(),
    log: [],
    stats: { requests: 0, bytesIn: 0, bytesOut: 0 },
    region,
    addressing,
    requestPrefix: randomHex(8),
    auth: { credentials: credentialMap(options.credentials ?? []), anonymous: options.anonymous ?? false, region },
  };

  const server: Server = createServer((req, res) => {
    void handle(state, req, res);
  });
  // Longer than agentkeepalive's free-socket timeout, so the client never reuses a socket we are closing.
  server.keepAliveTimeout = 30_000;
  // Uploads of 1 GiB bodies must not hit Node's default 5-minute request timeout on a slow machine.
  server.requestTimeout = 0;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actualPort = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${actualPort}`;

  const clientOptions = (bucket: string, extra: Partial<OssClientOptions> = {}): OssClientOptions => ({
    region,
    bucket,
    accessKeyId: TEST_ACCESS_KEY_ID,
    accessKeySecret: TEST_ACCESS_KEY_SECRET,
    endpoint,
    ...extra,
  });

  return {
    endpoint,
    port: actualPort,
    region,
    log: state.log,
    stats: state.stats,
    clientOptions,
    client: (bucket, extra) => new OSS(clientOptions(bucket, extra)),
    inject: (fault) => state.faults.add(fault),
    clearFaults: () => state.faults.clear(),
    clearLog: () => {
      state.log.length = 0;
    },
    createBucket: (name) => store.createBucket(name),
    getObject: (bucket, key) => {
      const object = store.buckets.get(bucket)?.get(key);
      return object ? snapshotObject(object) : undefined;
    },
    putObjectRaw: (bucket, key, body, headers = {}) => {
      if (!(body instanceof Uint8Array)) throw new TypeError(`"body" expected a Uint8Array, got ${typeof body}`);
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      // Copy: the caller may reuse its buffer, and stored segments must never change.
      const digest = digestOf(Buffer.from(body), true);
      const object = store.putObject(bucket, key, digest, attributesFrom(lower));
      if (lower.etag !== undefined) object.etag = lower.etag.startsWith('"') ? lower.etag : `"${lower.etag}"`;
      if (['Normal', 'Multipart', 'Appendable'].includes(lower['x-oss-object-type'])) object.type = lower['x-oss-object-type'] as StoredObject['type'];
      return snapshotObject(object);
    },
    deleteObjectRaw: (bucket, key) => {
      store.buckets.get(bucket)?.delete(key);
    },
    listKeys: (bucket) => (store.buckets.has(bucket) ? store.sortedKeys(bucket) : []),
    uploads: (bucket) =>
      [...store.uploads.values()]
        .filter((u) => bucket === undefined || u.bucket === bucket)
        .map((u) => ({
          uploadId: u.uploadId,
          bucket: u.bucket,
          key: u.key,
          initiated: u.initiated,
          contentType: u.contentType,
          meta: { ...u.meta },
          parts: [...u.parts.values()]
            .sort((a, b) => a.partNumber - b.partNumber)
            .map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, crc64: p.crc64, body: copySegments(p.segments) })),
        })),
    close: async () => {
      server.close();
      server.closeAllConnections();
      if (server.listening) await once(server, 'close');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// request handling

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const seq = ++state.stats.requests;
  const requestId = `${state.requestPrefix}${seq.toString(16).toUpperCase().padStart(16, '0')}`;
  res.setHeader('x-oss-request-id', requestId);
  res.setHeader('Server', 'AliyunOSS');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS.join(', '));

  let route: Route;
  let routeError: OssError | undefined;
  try {
    route = parseRoute(req, state.addressing);
  } catch (err) {
    route = { query: new URLSearchParams() };
    routeError = err instanceof OssError ? err : new OssError(400, 'InvalidURI', String(err));
  }
  const kind = routeError ? 'unsupported' : classify(req, route);
  const partNumber = route.query.get('partNumber');
  const entry: OssLogEntry = {
    seq,
    time: Date.now(),
    method: req.method ?? '',
    kind,
    bucket: route.bucket,
    key: route.key,
    partNumber: partNumber !== null && /^[0-9]+$/.test(partNumber) ? Number(partNumber) : undefined,
    uploadId: route.query.get('uploadId') ?? undefined,
    range: headerOf(req, 'range'),
    query: Object.fromEntries(route.query),
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])),
    status: 0,
    requestId,
    bytesIn: 0,
    bytesOut: 0,
  };
  state.log.push(entry);
  res.on('close', () => {
    // A response that never finished (client went away, or we reset it) has no status to report.
    if (!res.writableFinished && entry.fault !== 'reset') entry.status = 0;
  });

  // OSS authenticates before anything else happens; a refused request must not use up an injected fault.
  let authError: OssError | undefined;
  if (!routeError && kind !== 'preflight') {
    try {
      authenticate(req, route, state.auth);
    } catch (err) {
      authError = err as OssError;
    }
  }
  const effect = authError ? undefined : state.faults.take(entry);
  const ex = new Exchange(state, req, res, entry, route, effect);
  try {
    if (authError) throw authError;
    if (effect && effect.delayMs > 0) {
      entry.fault = 'delay';
      await new Promise((r) => setTimeout(r, effect.delayMs));
    }
    if (effect?.status && !effect.afterApply) {
      entry.fault = 'status';
      await ex.drain();
      throw faultError(effect.status);
    }
    if (effect?.reset && !effect.afterApply && !BODY_KINDS.has(kind) && kind !== 'get') ex.resetNow();
    if (effect?.afterApply) entry.fault = effect.reset ? 'reset' : 'status';
    if (routeError) throw routeError;
    await OPERATIONS[kind](ex);
  } catch (err) {
    if (err instanceof ConnectionReset) return;
    if (isClientGone(err, req)) {
      entry.status = 0;
      return;
    }
    const ossError = err instanceof OssError ? err : new OssError(500, 'InternalError', `We encountered an internal error: ${(err as Error)?.stack ?? String(err)}`);
    try {
      await ex.drain();
    } catch {
      return;
    }
    ex.sendError(ossError);
  }
}

function credentialMap(extra: OssCredential[]): Map<string, OssCredential> {
  const map = new Map<string, OssCredential>([[TEST_ACCESS_KEY_ID, { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET }]]);
  for (const c of extra) {
    if (typeof c?.accessKeyId !== 'string' || typeof c.accessKeySecret !== 'string' || c.accessKeyId === '' || c.accessKeySecret === '') {
      throw new TypeError(`"credentials" expected { accessKeyId, accessKeySecret, securityToken? } with non-empty strings, got ${JSON.stringify(c && { accessKeyId: c.accessKeyId })}`);
    }
    map.set(c.accessKeyId, { ...c });
  }
  return map;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function snapshotObject(object: StoredObject): OssObjectSnapshot {
  const headers = Object.fromEntries(Object.entries(objectHeaders(object)).map(([k, v]) => [k.toLowerCase(), v]));
  headers['content-length'] = String(object.size);
  return {
    bucket: object.bucket,
    key: object.key,
    body: copySegments(object.segments),
    size: object.size,
    etag: object.etag,
    crc64: object.crc64,
    contentType: object.contentType,
    meta: { ...object.meta },
    headers,
    lastModified: object.lastModified,
    type: object.type,
  };
}

/** Detached copy, so a test that scribbles on a snapshot cannot change what the server serves. */
function copySegments(segments: Buffer[] | undefined): Buffer | undefined {
  return segments === undefined ? undefined : Buffer.concat(segments);
}

function randomHex(chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(Math.random() * 0x100000000).toString(16).toUpperCase().padStart(8, '0');
  return out.slice(0, chars);
}

// ---------------------------------------------------------------------------------------------------------
// CLI: `node --import tsx test/support/oss-server.ts --port 0`

async function main(argv: string[]): Promise<void> {
  const options: OssServerOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--port') options.port = Number(value());
    else if (arg === '--region') options.region = value();
    else if (arg === '--min-part-size') options.minPartSize = Number(value());
    else if (arg === '--no-store-bodies') options.storeBodies = false;
    else if (arg === '--no-auto-create') options.autoCreateBuckets = false;
    else if (arg === '--addressing') options.addressing = value() as OssServerOptions['addressing'];
    else if (arg === '--bucket') (options.buckets ??= []).push(value());
    else if (arg === '--anonymous') options.anonymous = true;
    else if (arg === '--credential') {
      const [accessKeyId, accessKeySecret, securityToken] = value().split(':');
      (options.credentials ??= []).push({ accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) });
    }
    else throw new Error(`unknown argument ${arg}; see the header of test/support/oss-server.ts`);
  }
  const server = await startOssServer(options);
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, port: server.port, region: server.region, pid: process.pid })}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`oss-server: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(2);
  });
}
