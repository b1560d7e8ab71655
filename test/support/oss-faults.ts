/**
 * Fault injection and the request log of the OSS stand-in (test/support/oss-server.ts).
 *
 * A fault names a request kind (and optionally bucket, key, part number) and says which of the matching
 * requests, counted from the moment it is injected, it hits: the `nth` and the `times - 1` after it. What it
 * does to them: answer with an OSS-style XML error of a given status; cut the TCP connection (while the
 * request body is arriving, after K response body bytes of a GET, or right away); and/or delay them. With
 * `afterApply` the operation takes effect first and only the response is lost or replaced, which is what a
 * client sees when a connection drops after the server committed.
 *
 * Deliberately not here: anything about OSS semantics or HTTP parsing.
 * @module
 */

/** What the stand-in calls each operation (one per OSS API it serves, plus CORS preflights). */
export type OssRequestKind =
  | 'put'
  | 'append'
  | 'get'
  | 'head'
  | 'delete'
  | 'copy'
  | 'list'
  | 'initiate'
  | 'uploadPart'
  | 'uploadPartCopy'
  | 'complete'
  | 'abort'
  | 'listParts'
  | 'listUploads'
  | 'createBucket'
  | 'deleteBucket'
  | 'preflight'
  | 'unsupported';

/** A fault to inject. See the module comment for the counting rule. */
export interface OssFault {
  /** The request kind this fault watches; `'*'` for every kind. */
  kind: OssRequestKind | '*';
  /** Only requests for this bucket / key / part number count. */
  bucket?: string;
  key?: string;
  partNumber?: number;
  /** The first matching request (1-based, counted from injection) that the fault hits. Default 1. */
  nth?: number;
  /** How many consecutive matching requests from the nth on it hits. Default 1; `Infinity` for all. */
  times?: number;
  /** Answer with this HTTP status and an OSS XML error (code default: InternalError / ServiceUnavailable / ...). */
  status?: number;
  code?: string;
  message?: string;
  /**
   * Cut the connection. Uploads (put, append, uploadPart, complete): a TCP RST once `afterBytes` request-body bytes
   * have arrived. GET: the response headers and exactly `afterBytes` body bytes are sent, then the connection
   * is closed cleanly (FIN), so the client is sure to hold those bytes before it sees the premature end (an
   * RST could make its kernel drop unread bytes); with `afterBytes` >= the body length the client gets it all
   * and notices nothing. Other kinds: an RST before anything is answered. `afterBytes` defaults to 0.
   */
  reset?: true | { afterBytes?: number };
  /** Wait this long before handling the request (adds up over several faults). */
  delayMs?: number;
  /** Apply the operation first, then fail or reset instead of sending its success response. */
  afterApply?: boolean;
}

/** The live view of an injected fault. */
export interface FaultHandle {
  readonly fault: Readonly<OssFault>;
  /** Matching requests seen since injection. */
  readonly seen: number;
  /** Requests this fault acted on. */
  readonly hits: number;
  /** Stops the fault from acting on further requests. */
  cancel(): void;
}

/** One request as the stand-in saw it. */
export interface OssLogEntry {
  /** 1-based arrival order. */
  seq: number;
  /** Arrival time (Date.now()). */
  time: number;
  method: string;
  kind: OssRequestKind;
  bucket?: string;
  key?: string;
  partNumber?: number;
  uploadId?: string;
  /** The Range request header, verbatim. */
  range?: string;
  /** Decoded query parameters (signed-URL parameters included). */
  query: Record<string, string>;
  /** Request headers, names lower-case. */
  headers: Record<string, string>;
  /** Response status; 0 while in flight and when the connection was reset or dropped. */
  status: number;
  /** OSS error code of an error response. */
  errorCode?: string;
  requestId: string;
  /** Request body bytes received, response body bytes sent. */
  bytesIn: number;
  bytesOut: number;
  /** What an injected fault did to this request. */
  fault?: 'status' | 'reset' | 'delay';
}

/** The effect of all faults that hit one request. */
export interface FaultEffect {
  delayMs: number;
  status?: { status: number; code?: string; message?: string };
  reset?: { afterBytes: number };
  afterApply: boolean;
}

interface Armed {
  fault: OssFault;
  seen: number;
  hits: number;
  cancelled: boolean;
}

/** The registry the server consults once per request. */
export class FaultRegistry {
  readonly #armed: Armed[] = [];

  add(fault: OssFault): FaultHandle {
    validateFault(fault);
    const armed: Armed = { fault: { ...fault }, seen: 0, hits: 0, cancelled: false };
    this.#armed.push(armed);
    return {
      fault: armed.fault,
      get seen() {
        return armed.seen;
      },
      get hits() {
        return armed.hits;
      },
      cancel: () => {
        armed.cancelled = true;
      },
    };
  }

  clear(): void {
    for (const a of this.#armed) a.cancelled = true;
    this.#armed.length = 0;
  }

  /**
   * Counts the request against every matching fault and returns what should happen to it, or undefined.
   * Delays add up; the earliest-injected fault with a status or reset decides the failure.
   */
  take(entry: Pick<OssLogEntry, 'kind' | 'bucket' | 'key' | 'partNumber'>): FaultEffect | undefined {
    let effect: FaultEffect | undefined;
    for (const a of this.#armed) {
      const f = a.fault;
      if (a.cancelled || (f.kind !== '*' && f.kind !== entry.kind)) continue;
      if (f.bucket !== undefined && f.bucket !== entry.bucket) continue;
      if (f.key !== undefined && f.key !== entry.key) continue;
      if (f.partNumber !== undefined && f.partNumber !== entry.partNumber) continue;
      a.seen++;
      const first = f.nth ?? 1;
      const times = f.times ?? 1;
      if (a.seen < first || a.seen >= first + times) continue;
      a.hits++;
      effect ??= { delayMs: 0, afterApply: false };
      effect.delayMs += f.delayMs ?? 0;
      if (effect.status === undefined && effect.reset === undefined) {
        if (f.reset !== undefined) {
          effect.reset = { afterBytes: f.reset === true ? 0 : (f.reset.afterBytes ?? 0) };
          effect.afterApply = f.afterApply ?? false;
        } else if (f.status !== undefined) {
          effect.status = { status: f.status, code: f.code, message: f.message };
          effect.afterApply = f.afterApply ?? false;
        }
      }
    }
    return effect;
  }
}

function validateFault(f: OssFault): void {
  if (typeof f !== 'object' || f === null) throw new TypeError(`"fault" expected an object, got ${String(f)}`);
  if (typeof f.kind !== 'string') throw new TypeError(`"fault.kind" expected a request kind or '*', got ${String(f.kind)}`);
  if (f.nth !== undefined && !(Number.isSafeInteger(f.nth) && f.nth >= 1)) {
    throw new RangeError(`"fault.nth" expected an integer >= 1, got ${f.nth}`);
  }
  if (f.times !== undefined && !(f.times === Infinity || (Number.isSafeInteger(f.times) && f.times >= 1))) {
    throw new RangeError(`"fault.times" expected an integer >= 1 or Infinity, got ${f.times}`);
  }
  if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 300 && f.status <= 599)) {
    throw new RangeError(`"fault.status" expected an HTTP error status 300..599, got ${f.status}`);
  }
  if (f.delayMs !== undefined && !(f.delayMs >= 0 && Number.isFinite(f.delayMs))) {
    throw new RangeError(`"fault.delayMs" expected a non-negative number, got ${f.delayMs}`);
  }
  const after = f.reset !== undefined && f.reset !== true ? f.reset.afterBytes : undefined;
  if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) {
    throw new RangeError(`"fault.reset.afterBytes" expected a non-negative integer, got ${after}`);
  }
  if (f.status === undefined && f.reset === undefined && f.delayMs === undefined) {
    throw new TypeError('"fault" does nothing: give it a status, a reset or a delayMs');
  }
}

/** Default OSS error code for an injected status. */
export function defaultCodeFor(status: number): string {
  switch (status) {
    case 500:
      return 'InternalError';
    case 502:
      return 'BadGateway';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'GatewayTimeout';
    case 403:
      return 'AccessDenied';
    case 409:
      return 'OperationConflict';
    case 429:
      return 'TooManyRequests';
    default:
      return status >= 500 ? 'InternalError' : 'InvalidRequest';
  }
}
