/**
 * OSS signature V4 (`OSS4-HMAC-SHA256`), for requests in the Authorization header and for signed URLs, over Web
 * Crypto.
 *
 * - Canonical request: `VERB \n URI \n query \n headers \n additional header names \n payload hash`. URI is
 *   `/bucket/key` (`/bucket/` for a bucket, `/` for the service) percent-encoded per RFC 3986 with `/` kept; query
 *   is every parameter, names and values encoded, sorted by name, `name` alone when the value is empty; headers are
 *   `Content-Type`, `Content-MD5`, every `x-oss-*` and the additional ones, lower-case names, trimmed values,
 *   sorted, one `name:value\n` each; payload hash is `UNSIGNED-PAYLOAD` (sent as `x-oss-content-sha256`).
 * - String to sign: `OSS4-HMAC-SHA256 \n <x-oss-date> \n <yyyymmdd>/<region>/oss/aliyun_v4_request \n
 *   hex(SHA-256(canonical request))`.
 * - Signing key: HMAC-SHA256 chain from `aliyun_v4<secret>` over the day, the region, `oss` and
 *   `aliyun_v4_request`; the signature is hex HMAC-SHA256 of the string to sign under it.
 * - Header form: `Authorization: OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=a;b],Signature=<hex>`
 *   with `x-oss-date` (ISO 8601 basic) and, for STS, `x-oss-security-token` among the signed headers.
 * - URL form: `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`, `x-oss-expires` (seconds) and for STS
 *   `x-oss-security-token` join the query and are signed with it; `x-oss-signature` is appended last.
 *
 * The region is the bare one (`cn-hangzhou`); an `oss-` prefix, as ali-oss takes it, is dropped.
 * Deliberately not here: signing a payload hash other than UNSIGNED-PAYLOAD (bodies may be streams), V1.
 * @module
 */
import type { Credentials } from '../../util/credentials.js';
import { hmacSha256, rfc3986, sha256Hex, toHex } from '../../util/web-crypto.js';

/** The V4 algorithm name, as it appears in headers and URLs. */
export const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
/** The payload hash every request of this transport signs. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** One request to sign: what goes on the wire, with bucket and key as text (not encoded). */
export interface V4Request {
  readonly method: string;
  readonly bucket?: string;
  readonly key?: string;
  /** Query parameters in wire order; `''` for a parameter without a value (`?uploads`). */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  /** Headers that will be sent (any case). Signing adds its own; the caller sends the merged set. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Names (any case) of further headers to sign, listed as AdditionalHeaders; each must be in `headers`. */
  readonly additionalHeaders?: readonly string[];
}

/**
 * The headers a request needs to be accepted under V4: `x-oss-date`, `x-oss-content-sha256`, the STS token
 * when the key has one, and `authorization`. Merge them over the request's own headers.
 * @throws {TypeError} when an additional header is not among the request's headers
 * @example
 *   const signed = await signV4Headers({ method: 'GET', bucket: 'b', key: 'a.txt' }, creds, 'cn-hangzhou');
 *   await fetch(url, { headers: { ...signed } });
 */
export async function signV4Headers(request: V4Request, credentials: Credentials, region: string, now: Date = new Date()): Promise<Record<string, string>> {
  const date = isoBasic(now);
  const added: Record<string, string> = { 'x-oss-date': date, 'x-oss-content-sha256': UNSIGNED_PAYLOAD };
  if (credentials.securityToken !== undefined) added['x-oss-security-token'] = credentials.securityToken;
  const headers = lowerCase({ ...(request.headers ?? {}), ...added });
  // Headers signed anyway (Content-Type, Content-MD5, x-oss-*) are not listed again, as the official SDKs do.
  const additional = [...new Set((request.additionalHeaders ?? []).map((h) => h.toLowerCase()))]
    .filter((h) => h !== 'content-type' && h !== 'content-md5' && !h.startsWith('x-oss-'))
    .sort();
  for (const name of additional) {
    if (headers[name] === undefined) throw new TypeError(`"additionalHeaders" names "${name}", but the request has no such header`);
  }
  const scope = scopeOf(date, region);
  const signature = await signature4(request, headers, additional, query(request), UNSIGNED_PAYLOAD, date, scope, credentials.accessKeySecret);
  const credential = `Credential=${credentials.accessKeyId}/${scope}`;
  const additionalField = additional.length > 0 ? `,AdditionalHeaders=${additional.join(';')}` : '';
  return { ...added, authorization: `${V4_ALGORITHM} ${credential}${additionalField},Signature=${signature}` };
}

/**
 * The query parameters of a V4 signed URL, in the order to append them (the signature last). The URL's own
 * parameters (`request.query`) are signed too and must stay on the URL.
 * @param expiresSeconds how long the URL works after `now`, in seconds (OSS allows up to 7 days)
 * @throws {RangeError} when `expiresSeconds` is not an integer in 1..604800
 * @example
 *   const params = await presignV4Query({ method: 'GET', bucket: 'b', key: 'a.txt' }, creds, 'cn-hangzhou', 900);
 *   const url = `${base}/b/a.txt?${params.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&')}`;
 */
export async function presignV4Query(request: V4Request, credentials: Credentials, region: string, expiresSeconds: number, now: Date = new Date()): Promise<Array<[string, string]>> {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604800) {
    throw new RangeError(`"expires" expected whole seconds in 1..604800 (7 days), got ${String(expiresSeconds)}`);
  }
  const date = isoBasic(now);
  const scope = scopeOf(date, region);
  const params: Array<[string, string]> = [
    ['x-oss-signature-version', V4_ALGORITHM],
    ['x-oss-credential', `${credentials.accessKeyId}/${scope}`],
    ['x-oss-date', date],
    ['x-oss-expires', String(expiresSeconds)],
  ];
  if (credentials.securityToken !== undefined) params.push(['x-oss-security-token', credentials.securityToken]);
  const all = [...(request.query ?? []), ...params];
  const headers = lowerCase(request.headers ?? {});
  const signature = await signature4(request, headers, [], canonicalQuery(all), UNSIGNED_PAYLOAD, date, scope, credentials.accessKeySecret);
  return [...params, ['x-oss-signature', signature]];
}

/**
 * The canonical URI of V4 and the path of a path-style URL: `/bucket/key` encoded per RFC 3986 with `/` kept.
 * @example
 *   canonicalUri('b', 'dir/a b.txt') // '/b/dir/a%20b.txt'
 */
export function canonicalUri(bucket: string | undefined, key: string | undefined): string {
  return encodePath(`/${bucket !== undefined ? `${bucket}/` : ''}${key ?? ''}`);
}

/** RFC 3986 encoding of a path, `/` kept. */
export function encodePath(path: string): string {
  return rfc3986(path).replace(/%2F/g, '/');
}

/** `yyyymmddTHHMMSSZ`, the date form of V4. */
export function isoBasic(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The bare region of a V4 scope: `oss-cn-hangzhou` → `cn-hangzhou`. */
export function bareRegion(region: string): string {
  return region.replace(/^oss-/, '');
}

// ---------------------------------------------------------------------------------------------------------

async function signature4(
  request: V4Request,
  headers: Record<string, string>,
  additional: readonly string[],
  canonicalQueryText: string,
  payload: string,
  date: string,
  scope: string,
  secret: string,
): Promise<string> {
  const names = new Set(additional);
  for (const name of Object.keys(headers)) if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-')) names.add(name);
  const canonicalHeaders = [...names].sort().map((name) => `${name}:${headers[name].trim()}\n`).join('');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(request.bucket, request.key),
    canonicalQueryText,
    canonicalHeaders,
    additional.join(';'),
    payload,
  ].join('\n');
  const stringToSign = [V4_ALGORITHM, date, scope, await sha256Hex(canonicalRequest)].join('\n');
  const [day, region] = scope.split('/');
  let key = await hmacSha256(`aliyun_v4${secret}`, day);
  for (const part of [region, 'oss', 'aliyun_v4_request']) key = await hmacSha256(key, part);
  return toHex(await hmacSha256(key, stringToSign));
}

function query(request: V4Request): string {
  return canonicalQuery(request.query ?? []);
}

function canonicalQuery(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');
}

function scopeOf(date: string, region: string): string {
  return `${date.slice(0, 8)}/${bareRegion(region)}/oss/aliyun_v4_request`;
}

function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  return out;
}
