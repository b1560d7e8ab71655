/**
 * A loopback OSS-compatible stand-in that the real `ali-oss` client (Node and browser builds) works against,
 * for tests, benchmarks and the demo. Implements what FORMATS.md §5, §6 and §8 say OSS does.
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
 * InitiateMultipartUpload, UploadPart (rejects CSE headers that differ from Initiate's), UploadPartCopy,
 * ListParts (with the CSE fields), ListMultipartUploads, CompleteMultipartUpload (order, ETags, minimum part
 * size), AbortMultipartUpload, PutBucket, DeleteBucket. Anything else answers 501
 * `NotImplemented` naming the sub-resource, so a test notices instead of getting a wrong success.
 *
 * Responses carry what OSS sends: `x-oss-request-id` always; ETag, Last-Modified, Content-Type, user metadata
 * (names lower-case), `x-oss-object-type`, `x-oss-hash-crc64ecma` (CRC-64/XZ over the stored bytes, also the
 * whole-object CRC on ranged GETs) on PUT/GET/HEAD/UploadPart/Complete/Copy; Content-Range on 206; OSS XML
 * errors (on HEAD base64 in `x-oss-err`, as ali-oss reads it); `Content-MD5` is checked when sent
 * (`InvalidDigest`). Signatures are not verified: Authorization headers and signed query strings are accepted.
 * CORS: every response allows origin `*` and exposes ETag, request id, CRC, Content-Range/Length and the
 * metadata headers (the client-side-encryption names explicitly); OPTIONS preflights are answered.
 *
 * Test hooks: `inject()` (see test/support/oss-faults.ts: Nth request of a kind → 5xx, connection reset
 * mid-body, delay), `log` (every request in arrival order), `getObject` / `putObjectRaw` / `uploads()` /
 * `listKeys()` for direct inspection and for serving the interop fixtures as the official SDKs stored them,
 * `stats` (bytes in/out). `storeBodies: false` keeps only sizes, ETags and CRCs (upload benchmarks).
 *
 * As a child process: `node --import tsx test/support/oss-server.ts --port 0 [--region R] [--min-part-size N]
 * [--no-store-bodies] [--no-auto-create] [--addressing auto|path|virtual]` prints one JSON line
 * `{"endpoint":"http://127.0.0.1:PORT","port":PORT,"region":"oss-cn-hangzhou","pid":N}` and serves until
 * SIGTERM / SIGINT.
 *
 * Deliberately not here: signature checks, versioning, ACLs, append/symlink/tagging, server-side encryption.
 * @module
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OSS from 'ali-oss';
import {
  BodyAccumulator,
  compareKeys,
  CSE_LISTPARTS_FIELDS,
  digestOf,
  MAX_PART_NUMBER,
  normalizeEtag,
  OssError,
  OssStore,
  type BodyDigest,
  type ObjectAttributes,
  type StoredObject,
  type Upload,
} from './oss-store.js';
import {
  defaultCodeFor,
  FaultRegistry,
  type FaultEffect,
  type FaultHandle,
  type OssFault,
  type OssLogEntry,
  type OssRequestKind,
} from './oss-faults.js';
import { doc, el, errorXml, isoDate, ownerXml, parseCompleteBody } from './oss-xml.js';

export type { FaultHandle, OssFault, OssLogEntry, OssRequestKind } from './oss-faults.js';
export { OssError } from './oss-store.js';

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
  /** Reject UploadPart requests whose client-side-encryption headers differ from Initiate's. Default true. */
  checkPartCseHeaders?: boolean;
}

/** Options for an ali-oss client, including the few the type definitions omit. */
export type OssClientOptions = OSS.Options & { sldEnable?: boolean; retryMax?: number; [option: string]: unknown };

/** A stored object as a test sees it. */
export interface OssObjectSnapshot {
  bucket: string;
  key: string;
  /** The stored bytes; undefined when the server runs with `storeBodies: false`. */
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
  type: 'Normal' | 'Multipart';
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
   * headers OSS keeps (Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires).
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

/** Default credentials of {@link OssServer.client} (not checked by the server). */
export const TEST_ACCESS_KEY_ID = 'test-access-key-id';
export const TEST_ACCESS_KEY_SECRET = 'test-access-key-secret';

const DEFAULT_REGION = 'oss-cn-hangzhou';
const DEFAULT_MIN_PART_SIZE = 100 * 1024;

// Standard headers OSS stores with an object and returns on GET/HEAD.
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

// Query parameters that never change what a request does: signed-URL parameters and listing/paging knobs.
const NEUTRAL_QUERY = new Set([
  'OSSAccessKeyId', 'Expires', 'Signature', 'security-token', 'x-oss-signature-version', 'x-oss-credential',
  'x-oss-date', 'x-oss-expires', 'x-oss-signature', 'x-oss-additional-headers', 'x-oss-security-token',
  'versionId', 'encoding-type',
]);
const LIST_QUERY = new Set(['prefix', 'marker', 'max-keys', 'delimiter', 'list-type', 'continuation-token', 'start-after', 'fetch-owner']);
const UPLOADS_QUERY = new Set(['uploads', 'prefix', 'key-marker', 'upload-id-marker', 'max-uploads', 'delimiter']);
const PARTS_QUERY = new Set(['uploadId', 'max-parts', 'part-number-marker']);
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

// Headers a browser page may read. Exposed explicitly because `*` is not honoured in credentialed mode.
const EXPOSED_HEADERS = [
  'ETag', 'x-oss-request-id', 'x-oss-hash-crc64ecma', 'Content-Range', 'Content-Length', 'Content-Type',
  'Content-MD5', 'Last-Modified', 'Date', 'x-oss-object-type', 'x-oss-storage-class', 'x-oss-err',
  'x-oss-next-append-position', 'x-oss-version-id',
  ...[
    'key', 'start', 'cek-alg', 'wrap-alg', 'matdesc', 'unencrypted-content-length', 'unencrypted-content-md5',
    'data-size', 'part-size',
  ].map((n) => `x-oss-meta-client-side-encryption-${n}`),
  ...['oss-crypto-key', 'oss-crypto-start', 'oss-cek-alg', 'oss-wrap-alg', 'unencrypted-content-length', 'unencrypted-content-md5'].map(
    (n) => `x-oss-meta-${n}`,
  ),
];

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
    checkPartCseHeaders: options.checkPartCseHeaders ?? true,
    requestPrefix: randomHex(8),
    started: Date.now(),
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
      return snapshotObject(store.putObject(bucket, key, digest, attributesFrom(lower)));
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
            .map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, crc64: p.crc64, body: joinSegments(p.segments) })),
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

interface ServerState {
  store: OssStore;
  faults: FaultRegistry;
  log: OssLogEntry[];
  stats: { requests: number; bytesIn: number; bytesOut: number };
  region: string;
  addressing: 'auto' | 'path' | 'virtual';
  checkPartCseHeaders: boolean;
  requestPrefix: string;
  started: number;
}

interface Route {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
}

/** Thrown after the connection was reset on purpose: nothing more to send. */
class ConnectionReset extends Error {}

/** Per-request state and the response helpers every operation uses. */
class Exchange {
  bodyConsumed = false;
  exposeExtra: string[] = [];

  constructor(
    readonly state: ServerState,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly entry: OssLogEntry,
    readonly route: Route,
    readonly effect: FaultEffect | undefined,
  ) {}

  get bucket(): string {
    return this.route.bucket as string;
  }

  get key(): string {
    return this.route.key as string;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  get hostId(): string {
    return this.route.bucket ? `${this.route.bucket}.${this.state.region}.aliyuncs.com` : `${this.state.region}.aliyuncs.com`;
  }

  /**
   * Reads the request body into an accumulator (bytes kept when `keep`), honouring an injected mid-upload
   * reset. A body without Content-Length or chunked encoding is empty to Node; OSS wants a length for uploads.
   */
  async receive(keep: boolean): Promise<BodyDigest> {
    const acc = new BodyAccumulator(keep);
    const resetAt = this.effect?.reset && !this.effect.afterApply ? this.effect.reset.afterBytes : undefined;
    if (resetAt === 0) this.resetNow();
    this.bodyConsumed = true;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      this.entry.bytesIn += chunk.length;
      this.state.stats.bytesIn += chunk.length;
      if (resetAt !== undefined && acc.size + chunk.length >= resetAt) {
        acc.add(chunk.subarray(0, resetAt - acc.size));
        this.resetNow();
      }
      acc.add(chunk);
    }
    // An upload reset "after K bytes" where the body was shorter: cut before answering anyway.
    if (resetAt !== undefined) this.resetNow();
    return acc.finish();
  }

  /** Reads a small text body (CompleteMultipartUpload XML). */
  async receiveText(): Promise<string> {
    const digest = await this.receive(true);
    return joinSegments(digest.segments)?.toString('utf8') ?? '';
  }

  /** Discards whatever is left of the request body, so an early error reaches the client cleanly. */
  async drain(): Promise<void> {
    if (this.bodyConsumed || this.req.complete) return;
    this.bodyConsumed = true;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      this.entry.bytesIn += chunk.length;
      this.state.stats.bytesIn += chunk.length;
    }
  }

  /** Cuts the TCP connection with a RST and stops the handler. */
  resetNow(): never {
    this.entry.status = 0;
    this.entry.fault = 'reset';
    resetSocket(this.req.socket);
    throw new ConnectionReset();
  }

  /** Before a success response: an `afterApply` fault replaces it with its error or reset. */
  beforeSuccess(): void {
    const effect = this.effect;
    if (!effect?.afterApply) return;
    if (effect.reset) this.resetNow();
    if (effect.status) throw faultError(effect.status);
  }

  /** Sends a complete response. */
  send(status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
    this.beforeSuccess();
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (payload !== undefined) headers = { 'Content-Type': 'application/xml', ...headers, 'Content-Length': payload.length };
    this.writeHead(status, headers);
    if (payload !== undefined && this.req.method !== 'HEAD') this.countOut(payload.length);
    this.res.end(this.req.method === 'HEAD' ? undefined : payload);
  }

  writeHead(status: number, headers: Record<string, string | number>): void {
    this.entry.status = status;
    if (this.exposeExtra.length > 0) {
      this.res.setHeader('Access-Control-Expose-Headers', [...EXPOSED_HEADERS, ...this.exposeExtra].join(', '));
    }
    this.res.writeHead(status, headers);
  }

  countOut(bytes: number): void {
    this.entry.bytesOut += bytes;
    this.state.stats.bytesOut += bytes;
  }

  /** Sends an OSS error: XML body, or for HEAD the same XML base64 in `x-oss-err` (no body allowed). */
  sendError(err: OssError): void {
    if (this.res.headersSent) {
      // Too late for a status line: all a server can do is drop the connection.
      this.entry.errorCode = err.code;
      resetSocket(this.req.socket);
      return;
    }
    this.entry.errorCode = err.code;
    const xml = errorXml(err.code, err.message, this.entry.requestId, this.hostId, err.extra);
    this.entry.status = err.status;
    if (this.req.method === 'HEAD') {
      this.res.writeHead(err.status, { 'x-oss-err': Buffer.from(xml, 'utf8').toString('base64'), 'Content-Length': 0 });
      this.res.end();
      return;
    }
    const payload = Buffer.from(xml, 'utf8');
    this.countOut(payload.length);
    this.res.writeHead(err.status, { 'Content-Type': 'application/xml', 'Content-Length': payload.length });
    this.res.end(payload);
  }
}

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

  const effect = state.faults.take(entry);
  const ex = new Exchange(state, req, res, entry, route, effect);
  try {
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

// Kinds whose request carries a body (an injected reset cuts them while it arrives).
const BODY_KINDS = new Set<OssRequestKind>(['put', 'uploadPart', 'complete']);

const OPERATIONS: Record<OssRequestKind, (ex: Exchange) => Promise<void>> = {
  preflight: async (ex) => preflight(ex),
  unsupported: async (ex) => {
    await ex.drain();
    const extra = [...ex.route.query.keys()].filter((k) => !NEUTRAL_QUERY.has(k));
    throw new OssError(
      501,
      'NotImplemented',
      `The OSS stand-in does not implement ${ex.req.method} ${ex.route.bucket ? 'on a bucket' : 'without a bucket'}${
        ex.route.key ? ' object' : ''
      }${extra.length ? ` with sub-resource ${extra.join(', ')}` : ''}.`,
    );
  },
  put: putObject,
  get: (ex) => getObject(ex),
  head: (ex) => getObject(ex),
  delete: deleteObject,
  copy: copyObject,
  list: listObjects,
  initiate: initiateUpload,
  uploadPart,
  uploadPartCopy,
  complete: completeUpload,
  abort: abortUpload,
  listParts,
  listUploads,
  createBucket: async (ex) => {
    await ex.drain();
    ex.state.store.createBucket(ex.bucket);
    ex.send(200, { 'Content-Length': 0 });
  },
  deleteBucket: async (ex) => {
    ex.state.store.deleteBucket(ex.bucket);
    ex.send(204, {});
  },
};

function preflight(ex: Exchange): void {
  const requested = ex.header('access-control-request-headers');
  ex.send(200, {
    'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
    'Access-Control-Allow-Headers': requested && requested.trim() !== '' ? requested : '*',
    'Access-Control-Max-Age': 600,
    'Content-Length': 0,
  });
}

async function putObject(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  store.bucket(ex.bucket);
  checkKey(ex.key);
  requireLength(ex);
  if (ex.header('x-oss-forbid-overwrite')?.toLowerCase() === 'true' && store.buckets.get(ex.bucket)?.has(ex.key)) {
    await ex.drain();
    throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten (x-oss-forbid-overwrite: true).');
  }
  const body = await ex.receive(store.options.storeBodies);
  checkContentMd5(ex, body);
  const object = store.putObject(ex.bucket, ex.key, body, attributesFrom(lowerHeaders(ex.req)));
  ex.send(200, {
    ETag: object.etag,
    'x-oss-hash-crc64ecma': object.crc64.toString(),
    'Content-MD5': body.md5.toString('base64'),
    'Content-Length': 0,
  });
}

async function getObject(ex: Exchange): Promise<void> {
  const object = ex.state.store.getObject(ex.bucket, ex.key);
  const conditional = evaluateConditions(ex, object, '');
  const headers = objectHeaders(object);
  ex.exposeExtra = Object.keys(object.meta).map((k) => `x-oss-meta-${k}`);
  if (conditional === 304) {
    ex.send(304, { ETag: headers.ETag, 'Last-Modified': headers['Last-Modified'] });
    return;
  }
  if (ex.req.method === 'HEAD') {
    ex.send(200, { ...headers, 'Content-Length': object.size });
    return;
  }
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ex.route.query.get(param);
    if (value !== null) headers[headerCase(header)] = value;
  }
  if (object.segments === undefined) {
    throw new OssError(501, 'NotImplemented', `The body of "${object.key}" was not kept: this stand-in runs with storeBodies: false.`);
  }
  const standard = ex.header('x-oss-range-behavior')?.toLowerCase() === 'standard';
  const range = resolveRange(ex.header('range'), object.size, standard);
  if (range === 'unsatisfiable') {
    throw new OssError(416, 'InvalidRange', `The requested range cannot be satisfied: ${ex.header('range')} of a ${object.size}-byte object.`, {
      RangeRequested: ex.header('range') ?? '',
      ActualObjectSize: String(object.size),
    });
  }
  ex.beforeSuccess();
  const [start, end] = range === 'whole' ? [0, object.size] : [range.start, range.end + 1];
  const status = range === 'whole' ? 200 : 206;
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${object.size}`;
  ex.writeHead(status, { ...headers, 'Content-Length': end - start });
  const resetAfter = ex.effect?.reset && !ex.effect.afterApply ? ex.effect.reset.afterBytes : undefined;
  await writeSegments(ex, object.segments, start, end, resetAfter);
}

async function deleteObject(ex: Exchange): Promise<void> {
  // OSS answers 204 whether or not the key existed; only a missing bucket is an error.
  ex.state.store.deleteObject(ex.bucket, ex.key);
  ex.send(204, {});
}

async function copyObject(ex: Exchange): Promise<void> {
  await ex.drain();
  const { store } = ex.state;
  checkKey(ex.key);
  const { bucket: sourceBucket, key: sourceKey } = parseCopySource(ex.header('x-oss-copy-source') as string);
  const source = store.getObject(sourceBucket, sourceKey);
  store.bucket(ex.bucket);
  if (evaluateConditions(ex, source, 'x-oss-copy-source-') === 304) {
    ex.send(304, { ETag: source.etag });
    return;
  }
  const directive = (ex.header('x-oss-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new OssError(400, 'InvalidArgument', `x-oss-metadata-directive must be COPY or REPLACE, got "${ex.header('x-oss-metadata-directive')}".`);
  }
  const attributes: ObjectAttributes =
    directive === 'REPLACE'
      ? attributesFrom(lowerHeaders(ex.req))
      : { contentType: source.contentType, meta: { ...source.meta }, headers: { ...source.headers } };
  const copy = store.copyObject(source, ex.bucket, ex.key, attributes);
  ex.send(
    200,
    { ETag: copy.etag, 'x-oss-hash-crc64ecma': copy.crc64.toString() },
    doc('CopyObjectResult', el('ETag', copy.etag), el('LastModified', isoDate(copy.lastModified))),
  );
}

async function listObjects(ex: Exchange): Promise<void> {
  const q = ex.route.query;
  const v2 = q.get('list-type') === '2';
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = intParam(q, 'max-keys', 100, 0, 1000);
  const token = q.get('continuation-token');
  const startAfter = v2 ? (token !== null ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '')) : (q.get('marker') ?? '');
  const urlEncode = q.get('encoding-type') === 'url';
  const enc = (s: string) => (urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const bucket = ex.state.store.bucket(ex.bucket);

  const contents: StoredObject[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of ex.state.store.sortedKeys(ex.bucket)) {
    if (!key.startsWith(prefix) || (startAfter !== '' && compareKeys(key, startAfter) <= 0)) continue;
    let common: string | undefined;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) common = key.slice(0, at + delimiter.length);
    }
    if (common !== undefined && (prefixes[prefixes.length - 1] === common || (startAfter !== '' && compareKeys(common, startAfter) <= 0))) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = common;
    } else {
      contents.push(bucket.get(key) as StoredObject);
      last = key;
    }
  }
  const fetchOwner = !v2 || q.get('fetch-owner') === 'true';
  const children = [
    el('Name', ex.bucket),
    el('Prefix', enc(prefix)),
    v2 ? el('StartAfter', q.get('start-after') ?? undefined) : el('Marker', enc(q.get('marker') ?? '')),
    v2 ? el('ContinuationToken', token ?? undefined) : '',
    el('MaxKeys', maxKeys),
    el('Delimiter', enc(delimiter)),
    urlEncode ? el('EncodingType', 'url') : '',
    el('IsTruncated', truncated),
    truncated ? (v2 ? el('NextContinuationToken', Buffer.from(last, 'utf8').toString('base64url')) : el('NextMarker', enc(last))) : '',
    v2 ? el('KeyCount', contents.length + prefixes.length) : '',
    ...contents.map(
      (o) =>
        `<Contents>${el('Key', enc(o.key))}${el('LastModified', isoDate(o.lastModified))}${el('ETag', o.etag)}${el('Type', o.type)}${el(
          'Size',
          o.size,
        )}${el('StorageClass', 'Standard')}${fetchOwner ? ownerXml() : ''}</Contents>`,
    ),
    ...prefixes.map((p) => `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`),
  ];
  ex.send(200, {}, doc('ListBucketResult', ...children));
}

async function initiateUpload(ex: Exchange): Promise<void> {
  await ex.drain();
  checkKey(ex.key);
  const upload = ex.state.store.initiate(ex.bucket, ex.key, attributesFrom(lowerHeaders(ex.req)));
  ex.send(200, {}, doc('InitiateMultipartUploadResult', el('Bucket', ex.bucket), el('Key', ex.key), el('UploadId', upload.uploadId)));
}

async function uploadPart(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const partNumber = checkPartNumber(ex);
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  requireLength(ex);
  if (ex.state.checkPartCseHeaders) checkPartCse(ex, upload);
  const body = await ex.receive(store.options.storeBodies);
  checkContentMd5(ex, body);
  const part = store.putPart(upload, partNumber, body);
  ex.send(200, {
    ETag: part.etag,
    'x-oss-hash-crc64ecma': part.crc64.toString(),
    'Content-MD5': part.md5.toString('base64'),
    'Content-Length': 0,
  });
}

async function uploadPartCopy(ex: Exchange): Promise<void> {
  await ex.drain();
  const { store } = ex.state;
  const partNumber = checkPartNumber(ex);
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  const { bucket, key } = parseCopySource(ex.header('x-oss-copy-source') as string);
  const source = store.getObject(bucket, key);
  if (evaluateConditions(ex, source, 'x-oss-copy-source-') === 304) {
    throw new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: 'x-oss-copy-source-if-none-match' });
  }
  if (source.segments === undefined) {
    throw new OssError(501, 'NotImplemented', `The body of "${source.key}" was not kept: this stand-in runs with storeBodies: false.`);
  }
  const rangeHeader = ex.header('x-oss-copy-source-range');
  const range = rangeHeader === undefined ? 'whole' : resolveRange(rangeHeader, source.size, true);
  if (range === 'unsatisfiable') {
    throw new OssError(416, 'InvalidRange', `The requested range cannot be satisfied: ${rangeHeader} of a ${source.size}-byte object.`);
  }
  const [start, end] = range === 'whole' ? [0, source.size] : [range.start, range.end + 1];
  const bytes = joinSegments(sliceSegments(source.segments, start, end)) ?? Buffer.alloc(0);
  const part = store.putPart(upload, partNumber, digestOf(bytes, store.options.storeBodies));
  ex.send(
    200,
    { ETag: part.etag, 'x-oss-hash-crc64ecma': part.crc64.toString() },
    doc('CopyPartResult', el('LastModified', isoDate(part.lastModified)), el('ETag', part.etag)),
  );
}

async function completeUpload(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  const text = await ex.receiveText();
  const listed = parseCompleteBody(text);
  if (typeof listed === 'string') {
    throw new OssError(400, 'MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: ${listed}.`);
  }
  const object = store.complete(upload, listed);
  ex.send(
    200,
    { ETag: object.etag, 'x-oss-hash-crc64ecma': object.crc64.toString() },
    doc(
      'CompleteMultipartUploadResult',
      el('Location', `http://${ex.hostId}/${encodeURIComponent(object.key).replace(/%2F/g, '/')}`),
      el('Bucket', object.bucket),
      el('Key', object.key),
      el('ETag', object.etag),
    ),
  );
}

async function abortUpload(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  store.abort(upload);
  ex.send(204, {});
}

async function listParts(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const q = ex.route.query;
  const upload = store.upload(ex.bucket, ex.key, q.get('uploadId') as string);
  const maxParts = intParam(q, 'max-parts', 1000, 1, 1000);
  const marker = intParam(q, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const all = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const shown = all.slice(0, maxParts);
  const truncated = all.length > shown.length;
  const cse = CSE_LISTPARTS_FIELDS.map(([meta, xml]) => el(xml, upload.meta[meta]));
  ex.send(
    200,
    {},
    doc(
      'ListPartsResult',
      el('Bucket', upload.bucket),
      el('Key', upload.key),
      el('UploadId', upload.uploadId),
      ...cse,
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', shown.length ? shown[shown.length - 1].partNumber : marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      ...shown.map(
        (p) =>
          `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', isoDate(p.lastModified))}${el('ETag', p.etag)}${el(
            'HashCrc64ecma',
            p.crc64.toString(),
          )}${el('Size', p.size)}</Part>`,
      ),
    ),
  );
}

async function listUploads(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  store.bucket(ex.bucket);
  const q = ex.route.query;
  const prefix = q.get('prefix') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const idMarker = q.get('upload-id-marker') ?? '';
  const maxUploads = intParam(q, 'max-uploads', 1000, 1, 1000);
  const all = [...store.uploads.values()]
    .filter((u) => u.bucket === ex.bucket && u.key.startsWith(prefix))
    .filter((u) => keyMarker === '' || compareKeys(u.key, keyMarker) > 0 || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker))
    .sort((a, b) => compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : 1));
  const shown = all.slice(0, maxUploads);
  const truncated = all.length > shown.length;
  const lastShown = shown[shown.length - 1];
  ex.send(
    200,
    {},
    doc(
      'ListMultipartUploadsResult',
      el('Bucket', ex.bucket),
      el('KeyMarker', keyMarker),
      el('UploadIdMarker', idMarker),
      el('NextKeyMarker', truncated ? lastShown.key : ''),
      el('NextUploadIdMarker', truncated ? lastShown.uploadId : ''),
      el('Delimiter', q.get('delimiter') ?? ''),
      el('Prefix', prefix),
      el('MaxUploads', maxUploads),
      el('IsTruncated', truncated),
      ...shown.map((u) => `<Upload>${el('Key', u.key)}${el('UploadId', u.uploadId)}${el('Initiated', isoDate(u.initiated))}</Upload>`),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// helpers

/** Finds bucket and key from Host and path (see the module comment on addressing). */
function parseRoute(req: IncomingMessage, addressing: 'auto' | 'path' | 'virtual'): Route {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const host = (req.headers.host ?? '').toLowerCase().replace(/:[0-9]+$/, '');
  const isIp = /^[0-9.]+$/.test(host) || host.startsWith('[');
  const virtual = addressing === 'virtual' || (addressing === 'auto' && host.includes('.') && !isIp);
  const rest = path.startsWith('/') ? path.slice(1) : path;
  if (virtual) {
    const bucket = host.split('.')[0];
    return { bucket: bucket || undefined, key: decodePath(rest) || undefined, query };
  }
  const slash = rest.indexOf('/');
  const bucket = decodePath(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? undefined : decodePath(rest.slice(slash + 1));
  return { bucket: bucket || undefined, key: key || undefined, query };
}

function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OssError(400, 'InvalidURI', `Could not percent-decode the request path "${text}".`);
  }
}

/** Names the operation from method, bucket/key presence, sub-resources and the copy-source header. */
function classify(req: IncomingMessage, route: Route): OssRequestKind {
  const method = req.method ?? '';
  const q = route.query;
  if (method === 'OPTIONS') return 'preflight';
  if (!route.bucket) return 'unsupported';
  const only = (allowed: Set<string>) => [...q.keys()].every((k) => allowed.has(k) || NEUTRAL_QUERY.has(k) || k in RESPONSE_OVERRIDES);
  const none = new Set<string>();
  if (!route.key) {
    if (method === 'GET' && q.has('uploads')) return only(UPLOADS_QUERY) ? 'listUploads' : 'unsupported';
    if (method === 'GET') return only(LIST_QUERY) ? 'list' : 'unsupported';
    if (method === 'PUT') return only(none) ? 'createBucket' : 'unsupported';
    if (method === 'DELETE') return only(none) ? 'deleteBucket' : 'unsupported';
    return 'unsupported';
  }
  const copySource = req.headers['x-oss-copy-source'] !== undefined;
  switch (method) {
    case 'POST':
      if (q.has('uploads')) return only(new Set(['uploads'])) ? 'initiate' : 'unsupported';
      if (q.has('uploadId')) return only(new Set(['uploadId'])) ? 'complete' : 'unsupported';
      return 'unsupported';
    case 'PUT':
      if (q.has('partNumber') && q.has('uploadId')) {
        if (!only(new Set(['partNumber', 'uploadId']))) return 'unsupported';
        return copySource ? 'uploadPartCopy' : 'uploadPart';
      }
      if (!only(none)) return 'unsupported';
      return copySource ? 'copy' : 'put';
    case 'GET':
      if (q.has('uploadId')) return only(PARTS_QUERY) ? 'listParts' : 'unsupported';
      return only(none) ? 'get' : 'unsupported';
    case 'HEAD':
      return only(new Set(['objectMeta'])) ? 'head' : 'unsupported';
    case 'DELETE':
      if (q.has('uploadId')) return only(new Set(['uploadId'])) ? 'abort' : 'unsupported';
      return only(none) ? 'delete' : 'unsupported';
    default:
      return 'unsupported';
  }
}

/**
 * OSS's reading of a Range header for an object of `size` bytes. Default behaviour: anything invalid or
 * unsatisfiable is ignored ('whole', 200). With `standard`: a start at or past the end (or any range of an
 * empty object) is 'unsatisfiable' (416), an end past the end is clamped. Only the first of several ranges
 * counts, as on OSS.
 */
export function resolveRange(header: string | undefined, size: number, standard: boolean): 'whole' | 'unsatisfiable' | { start: number; end: number } {
  if (header === undefined) return 'whole';
  const m = /^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*(?:,.*)?$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  const unsatisfiable = standard ? 'unsatisfiable' : 'whole';
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return unsatisfiable;
    if (n > size) return standard ? { start: 0, end: size - 1 } : 'whole';
    return { start: size - n, end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start && m[2] !== '') return 'whole';
  if (start >= size) return unsatisfiable;
  if (end >= size) return standard ? { start, end: size - 1 } : 'whole';
  return { start, end };
}

/**
 * If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304), with a name prefix for
 * CopyObject's `x-oss-copy-source-if-*`. Returns 304 when the caller should answer Not Modified.
 */
function evaluateConditions(ex: Exchange, object: StoredObject, prefix: string): 304 | undefined {
  const etag = normalizeEtag(object.etag);
  const matches = (list: string) => list.split(',').some((t) => t.trim() === '*' || normalizeEtag(t) === etag);
  const modified = Math.floor(object.lastModified.getTime() / 1000) * 1000;
  const ifMatch = ex.header(`${prefix}if-match`);
  if (ifMatch !== undefined && !matches(ifMatch)) throw preconditionFailed(`${prefix}If-Match`);
  const unmodifiedSince = dateHeader(ex.header(`${prefix}if-unmodified-since`));
  if (ifMatch === undefined && unmodifiedSince !== undefined && modified > unmodifiedSince) {
    throw preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  const ifNoneMatch = ex.header(`${prefix}if-none-match`);
  if (ifNoneMatch !== undefined && matches(ifNoneMatch)) return 304;
  const modifiedSince = dateHeader(ex.header(`${prefix}if-modified-since`));
  if (ifNoneMatch === undefined && modifiedSince !== undefined && modified <= modifiedSince) return 304;
  return undefined;
}

function preconditionFailed(condition: string): OssError {
  return new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: condition });
}

function dateHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The headers GET/HEAD answer with for an object (Content-Length aside). */
function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': object.type,
    'x-oss-storage-class': 'Standard',
    'x-oss-hash-crc64ecma': object.crc64.toString(),
  };
  for (const [name, value] of Object.entries(object.headers)) headers[headerCase(name)] = value;
  for (const [name, value] of Object.entries(object.meta)) headers[`x-oss-meta-${name}`] = value;
  return headers;
}

/** Content-Type, user metadata (lower-cased names) and the standard headers OSS keeps, from request headers. */
function attributesFrom(lower: Record<string, string>): ObjectAttributes {
  const meta: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(lower)) {
    if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
    else if (STORED_HEADERS.includes(name)) headers[name] = value;
  }
  return { contentType: lower['content-type'] || 'application/octet-stream', meta, headers };
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function headerCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** OSS needs a length for uploads: Content-Length or chunked transfer encoding. */
function requireLength(ex: Exchange): void {
  if (ex.header('content-length') === undefined && ex.header('transfer-encoding') === undefined) {
    throw new OssError(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header (or send the body chunked).');
  }
}

function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > 1023) throw new OssError(400, 'InvalidObjectName', `The object name is ${bytes} bytes of UTF-8; OSS allows at most 1023.`);
}

function checkContentMd5(ex: Exchange, body: BodyDigest): void {
  const sent = ex.header('content-md5');
  if (sent !== undefined && sent !== body.md5.toString('base64')) {
    throw new OssError(400, 'InvalidDigest', `The Content-MD5 you specified (${sent}) does not match the MD5 of the ${body.size} bytes received (${body.md5.toString('base64')}).`);
  }
}

function checkPartNumber(ex: Exchange): number {
  const raw = ex.route.query.get('partNumber') ?? '';
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new OssError(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, got "${raw}".`, {
      ArgumentName: 'partNumber',
      ArgumentValue: raw,
    });
  }
  return n;
}

/** OSS refuses an UploadPart whose client-side-encryption headers disagree with the upload's (FORMATS.md §5). */
function checkPartCse(ex: Exchange, upload: Upload): void {
  for (const [meta] of CSE_LISTPARTS_FIELDS) {
    const sent = ex.header(`x-oss-meta-${meta}`);
    const initiated = upload.meta[meta];
    if (sent !== undefined && initiated !== undefined && sent !== initiated) {
      throw new OssError(
        400,
        'InvalidArgument',
        `x-oss-meta-${meta} of this UploadPart differs from the value given at InitiateMultipartUpload; a part must use the upload's client-side-encryption parameters.`,
        { ArgumentName: `x-oss-meta-${meta}` },
      );
    }
  }
}

function parseCopySource(header: string): { bucket: string; key: string } {
  const withoutVersion = header.replace(/\?versionId=.*$/, '');
  const m = /^\/?([^/]+)\/(.+)$/.exec(withoutVersion);
  if (!m) throw new OssError(400, 'InvalidArgument', `x-oss-copy-source must be /<bucket>/<key>, got "${header}".`);
  return { bucket: decodePath(m[1]), key: decodePath(m[2]) };
}

function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) {
    throw new OssError(400, 'InvalidArgument', `${name} must be an integer between ${min} and ${max}, got "${raw}".`, { ArgumentName: name, ArgumentValue: raw });
  }
  return n;
}

function faultError(spec: { status: number; code?: string; message?: string }): OssError {
  return new OssError(spec.status, spec.code ?? defaultCodeFor(spec.status), spec.message ?? `Injected fault: the stand-in answers ${spec.status} as asked.`);
}

/** Writes bytes [start, end) of a segmented body with back-pressure; an injected reset cuts it after K bytes. */
async function writeSegments(ex: Exchange, segments: Buffer[], start: number, end: number, resetAfter: number | undefined): Promise<void> {
  const res = ex.res;
  let sent = 0;
  const limit = resetAfter === undefined ? Infinity : resetAfter;
  for (const piece of sliceSegments(segments, start, end)) {
    const chunk = piece.subarray(0, Math.max(0, limit - sent));
    if (chunk.length > 0) {
      ex.countOut(chunk.length);
      sent += chunk.length;
      if (!res.write(chunk)) {
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
        if (res.destroyed) return;
      }
    }
    if (sent >= limit) break;
  }
  if (resetAfter !== undefined) {
    // Let the bytes already written reach the client before the RST, so it really sees a body cut at K.
    await new Promise<void>((r) => res.write('', () => r()));
    await new Promise((r) => setTimeout(r, 20));
    ex.resetNow();
  }
  res.end();
}

/** The pieces of `segments` that cover bytes [start, end). */
function sliceSegments(segments: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const seg of segments) {
    const segEnd = offset + seg.length;
    if (segEnd > start && offset < end) out.push(seg.subarray(Math.max(0, start - offset), Math.min(seg.length, end - offset)));
    offset = segEnd;
    if (offset >= end) break;
  }
  return out;
}

function joinSegments(segments: Buffer[] | undefined): Buffer | undefined {
  if (segments === undefined) return undefined;
  return segments.length === 1 ? segments[0] : Buffer.concat(segments);
}

function snapshotObject(object: StoredObject): OssObjectSnapshot {
  const headers = Object.fromEntries(Object.entries(objectHeaders(object)).map(([k, v]) => [k.toLowerCase(), v]));
  headers['content-length'] = String(object.size);
  return {
    bucket: object.bucket,
    key: object.key,
    body: joinSegments(object.segments),
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

function resetSocket(socket: Socket): void {
  const s = socket as Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === 'function' && !s.destroyed) s.resetAndDestroy();
  else s.destroy();
}

function isClientGone(err: unknown, req: IncomingMessage): boolean {
  const code = (err as { code?: string })?.code;
  return req.socket.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
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
