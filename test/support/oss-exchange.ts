/**
 * One request/response of the OSS stand-in (test/support/oss-server.ts): reading the body while digesting
 * it, sending success and OSS XML error responses (HEAD errors in `x-oss-err`), CORS exposure, and carrying
 * out injected faults (connection cuts, `afterApply`). docs/FORMAT.md §8.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { defaultCodeFor, type FaultEffect, type FaultRegistry, type OssLogEntry } from './oss-faults.js';
import type { OssAuthConfig } from './oss-auth.js';
import type { Route } from './oss-routing.js';
import { BodyAccumulator, OssError, type BodyDigest, type OssStore } from './oss-store.js';
import { errorXml } from './oss-xml.js';

/** What every exchange of one server shares. */
export interface ServerState {
  store: OssStore;
  faults: FaultRegistry;
  log: OssLogEntry[];
  stats: { requests: number; bytesIn: number; bytesOut: number };
  region: string;
  addressing: 'auto' | 'path' | 'virtual';
  requestPrefix: string;
  /** Who may sign requests (test/support/oss-auth.ts). */
  auth: OssAuthConfig;
}

// Headers a browser page may read. Exposed explicitly because `*` is not honoured in credentialed mode.
export const EXPOSED_HEADERS = [
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

/** Thrown after the connection was reset on purpose: nothing more to send. */
export class ConnectionReset extends Error {}

/** Per-request state and the response helpers every operation uses. */
export class Exchange {
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

  /** The bucket (operations are only dispatched when the route has one). */
  get bucket(): string {
    return this.route.bucket as string;
  }

  /** The key (object operations are only dispatched when the route has one). */
  get key(): string {
    return this.route.key as string;
  }

  /** A request header by lower-case name; repeated headers joined with ", ". */
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** The HostId of OSS error documents: the bucket's public host name. */
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

  /** Sends the status line and headers (recording the status and exposing this object's metadata to CORS). */
  writeHead(status: number, headers: Record<string, string | number>): void {
    this.entry.status = status;
    if (this.exposeExtra.length > 0) {
      this.res.setHeader('Access-Control-Expose-Headers', [...EXPOSED_HEADERS, ...this.exposeExtra].join(', '));
    }
    this.res.writeHead(status, headers);
  }

  /** Counts response body bytes in the log entry and the server totals. */
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

/** The OSS error an injected status fault answers with (default code per status, e.g. 503 ServiceUnavailable). */
export function faultError(spec: { status: number; code?: string; message?: string }): OssError {
  return new OssError(spec.status, spec.code ?? defaultCodeFor(spec.status), spec.message ?? `Injected fault: the stand-in answers ${spec.status} as asked.`);
}

/** Writes bytes [start, end) of a segmented body with back-pressure; an injected reset cuts it after K bytes. */
export async function writeSegments(ex: Exchange, segments: Buffer[], start: number, end: number, resetAfter: number | undefined): Promise<void> {
  const res = ex.res;
  let sent = 0;
  const limit = resetAfter === undefined ? Infinity : resetAfter;
  for (const piece of sliceSegments(segments, start, end)) {
    const chunk = piece.subarray(0, Math.max(0, limit - sent));
    if (chunk.length > 0) {
      ex.countOut(chunk.length);
      sent += chunk.length;
      if (!res.write(chunk) && !(await drained(res))) return;
    }
    if (sent >= limit) break;
  }
  if (resetAfter !== undefined) {
    // A clean close (FIN) right after the K bytes rather than an RST: an RST can make the client's kernel drop
    // bytes it has not read yet, and a test that resumes a download needs to know exactly what arrived.
    ex.entry.status = 0;
    ex.entry.fault = 'reset';
    const socket = ex.req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
    throw new ConnectionReset();
  }
  res.end();
}

/** Waits until `res` can take more data (true) or is gone (false), leaving no listener behind. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The pieces of `segments` that cover bytes [start, end). */
export function sliceSegments(segments: Buffer[], start: number, end: number): Buffer[] {
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

/** One Buffer of a segmented body (the segment itself when there is only one: do not mutate). */
export function joinSegments(segments: Buffer[] | undefined): Buffer | undefined {
  if (segments === undefined) return undefined;
  return segments.length === 1 ? segments[0] : Buffer.concat(segments);
}

/** Drops the connection with a TCP RST where Node can (18.3+), else a plain destroy. */
export function resetSocket(socket: Socket): void {
  const s = socket as Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === 'function' && !s.destroyed) s.resetAndDestroy();
  else s.destroy();
}

/** True when an error only means the client went away: there is nobody left to answer. */
export function isClientGone(err: unknown, req: IncomingMessage): boolean {
  const code = (err as { code?: string })?.code;
  return req.socket.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
