/**
 * The error the fetch transport throws for a failed OSS request, with the fields ali-oss errors carry so code
 * written against ali-oss (and this library's retry rule, util/retry.ts) reads it unchanged:
 * - an OSS answer: `name` `<Code>Error`, `code` (OSS's `Code`), `status`, `requestId`, `hostId`, `ec` (OSS's
 *   `EC` diagnosis code; also as `ecCode`, ali-oss's name for it), `message` (OSS's `Message`), and the other
 *   fields of the XML body in `details` (for SignatureDoesNotMatch: `StringToSign`, `CanonicalRequest`...);
 * - no answer: `status` -1 (`code`/`name` `RequestError`, the network failed) or -2 (`ResponseTimeoutError`,
 *   the timeout fired), as ali-oss reports them; the runtime's own error is the `cause`.
 *
 * A HEAD error has no body: OSS sends the XML base64 in `x-oss-err`, read here when present; without it a 404
 * is `NoSuchKey` and a 412 `PreconditionFailed`, as ali-oss says.
 * @module
 */
import { childText, parseXml } from './xml.js';

/** Fields every OSS error XML has; the rest go to `details`. */
const COMMON = new Set(['Code', 'Message', 'RequestId', 'HostId', 'EC']);

/**
 * A failed OSS request; see the module comment.
 * @example
 *   try { await oss.head('missing'); }
 *   catch (err) { if (err instanceof OssRequestError && err.code === 'NoSuchKey') return undefined; throw err; }
 */
export class OssRequestError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly hostId: string | undefined;
  readonly ec: string | undefined;
  /** ali-oss's name for {@link ec}. */
  readonly ecCode: string | undefined;
  /** The error body's other fields (e.g. `StringToSign`), by element name. */
  readonly details: Readonly<Record<string, string>>;
  constructor(
    message: string,
    fields: { code: string; status: number; requestId?: string; hostId?: string; ec?: string; details?: Record<string, string>; name?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = fields.name ?? `${fields.code}Error`;
    this.code = fields.code;
    this.status = fields.status;
    this.requestId = fields.requestId;
    this.hostId = fields.hostId;
    this.ec = fields.ec;
    this.ecCode = fields.ec;
    this.details = printableDetails(fields.details ?? {});
  }
}

/**
 * The `details` record, frozen, with a non-enumerable `split` and `toString` rendering it as `Name: value` lines.
 * Test runners and loggers that read an error's `details` as text (uvu calls `details.split('\n')` on any
 * failing test's error, and crashed on a plain object, hiding every later test) print it; its keys, spread and
 * JSON stay the XML fields alone.
 */
function printableDetails(fields: Record<string, string>): Readonly<Record<string, string>> {
  const details = { ...fields };
  const text = (): string => Object.entries(details).map(([name, value]) => `${name}: ${value}`).join('\n');
  Object.defineProperty(details, 'toString', { value: text, enumerable: false });
  Object.defineProperty(details, 'split', { value: (separator: string | RegExp) => text().split(separator), enumerable: false });
  return Object.freeze(details);
}

/**
 * The error for a non-success OSS answer, from its XML body (or, for HEAD, its `x-oss-err` header).
 * @param status the HTTP status
 * @param headers response headers, lower-case names
 * @param body the response body as text (`''` for HEAD)
 * @example
 *   throw ossErrorFromResponse(res.status, headers, await res.text());
 */
export function ossErrorFromResponse(status: number, headers: Readonly<Record<string, string>>, body: string): OssRequestError {
  const headerRequestId = headers['x-oss-request-id'];
  const xml = body.trim() !== '' ? body : decodeErrHeader(headers['x-oss-err']);
  if (xml !== undefined) {
    try {
      const root = parseXml(xml);
      const code = childText(root, 'Code');
      if (root.name === 'Error' && code !== undefined) {
        const details: Record<string, string> = {};
        for (const c of root.children) if (!COMMON.has(c.name)) details[c.name] = c.text;
        return new OssRequestError(childText(root, 'Message') ?? `OSS answered ${status} ${code}`, {
          code,
          status,
          requestId: childText(root, 'RequestId') ?? headerRequestId,
          hostId: childText(root, 'HostId'),
          ec: childText(root, 'EC') ?? headers['x-oss-ec'],
          details,
        });
      }
    } catch {
      // Not OSS XML (a proxy's HTML page, say): fall through to a status-only error.
    }
  }
  const known = status === 404 ? 'NoSuchKey' : status === 412 ? 'PreconditionFailed' : undefined;
  return new OssRequestError(known ? `${known} (HTTP ${status}, no error body)` : `Unknown error, status: ${status}`, {
    code: known ?? 'Unknown',
    name: known ? `${known}Error` : 'UnknownError',
    status,
    requestId: headerRequestId,
    ec: headers['x-oss-ec'],
  });
}

function decodeErrHeader(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}
