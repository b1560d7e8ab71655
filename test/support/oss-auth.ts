/**
 * Request authentication of the OSS stand-in (test/support/oss-server.ts), as OSS does it: the server
 * recomputes the signature from the request exactly as it arrived and compares. docs/FORMAT.md §8.
 *
 * Four ways to sign, each found by what the request carries:
 * - V1 header `Authorization: OSS <AccessKeyId>:<Signature>`: base64 HMAC-SHA1 over
 *   `VERB \n Content-MD5 \n Content-Type \n Date \n` + one `x-oss-name:value\n` per `x-oss-*` header (names
 *   lower-case, sorted, values trimmed) + CanonicalizedResource. Date is `x-oss-date` when sent (ali-oss sends
 *   only that one: a browser cannot set Date), else `Date`; more than 15 minutes off is `RequestTimeTooSkewed`.
 * - V1 signed URL `?OSSAccessKeyId=&Expires=&Signature=`: the same string with the Expires seconds in place of
 *   Date; past Expires is 403 `AccessDenied` "Request has expired.".
 * - V4 header `Authorization: OSS4-HMAC-SHA256 Credential=<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request,
 *   [AdditionalHeaders=a;b,]Signature=<hex>`: hex HMAC-SHA256 with the key chain `aliyun_v4<secret>` → date →
 *   region → `oss` → `aliyun_v4_request`, over `OSS4-HMAC-SHA256 \n x-oss-date \n scope \n
 *   hex(SHA-256(canonical request))`; the canonical request is `VERB \n URI-encoded /bucket/key \n` sorted,
 *   encoded query (every parameter; `k` alone when empty) `\n` headers (Content-Type, Content-MD5, every
 *   `x-oss-*`, the additional ones) `\n` additional names `\n` the `x-oss-content-sha256` header.
 * - V4 signed URL `?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=&x-oss-date=&x-oss-expires=
 *   &x-oss-signature=`: the same canonical request over the query minus `x-oss-signature`, payload
 *   `UNSIGNED-PAYLOAD`.
 *
 * CanonicalizedResource (V1) is `/bucket/key` with the key as raw UTF-8 (not percent-encoded), `/bucket/` for a
 * bucket, plus the query parameters OSS counts as sub-resources (the list the official SDKs sign, e.g. oss2's
 * `_subresource_key_set`) sorted by name, `k=v` or `k` when empty. Listing parameters (prefix, marker, max-keys)
 * are not sub-resources; `continuation-token` is.
 *
 * Header values are hashed as the bytes that arrived (Node hands them over as latin1), not as the client's
 * strings: a client that signs a UTF-8 value but puts other bytes on the wire fails here as on OSS.
 *
 * Answers: unknown key → 403 `InvalidAccessKeyId`; wrong signature → 403 `SignatureDoesNotMatch` with
 * `StringToSign` (and for V4 `CanonicalRequest`) and the diagnosis code `EC` 0002-00000040 in the XML, as OSS
 * echoes them; no signature at all → 403
 * `AccessDenied` unless the server runs `anonymous`. STS: a key configured with a security token needs that
 * token (`x-oss-security-token` header, `security-token` in a V1 URL, `x-oss-security-token` in a V4 URL):
 * missing → `InvalidAccessKeyId`, different → 403 `InvalidSecurityToken`; a token with a permanent key →
 * `InvalidAccessKeyId`. OPTIONS preflights are never authenticated (the caller skips them).
 *
 * Deliberately not here: checking a V4 payload hash other than UNSIGNED-PAYLOAD against the body, POST policy
 * forms, bucket ACLs and policies.
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Route } from './oss-routing.js';
import { OssError } from './oss-store.js';

/** A key pair the stand-in accepts; with `securityToken` it is an STS key and requests must carry the token. */
export interface OssCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** What the verifier needs to know about its server. */
export interface OssAuthConfig {
  /** Accepted keys by AccessKeyId. */
  credentials: Map<string, OssCredential>;
  /** Let requests without any signature through (a public-read-write bucket). */
  anonymous: boolean;
  /** The server's region as ali-oss is configured with it (`oss-cn-hangzhou`); V4 scopes name `cn-hangzhou`. */
  region: string;
}

/** How far a request's Date may be from the server's clock, as OSS allows. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** Query parameters OSS puts in a V1 CanonicalizedResource. */
export const SUBRESOURCES = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append',
  'tagging', 'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName',
  'replication', 'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live',
  'status', 'vod', 'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type',
  'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'udf', 'udfName', 'udfImage', 'udfId', 'udfImageDesc', 'udfApplication',
  'udfApplicationLog', 'restore', 'callback', 'callback-var', 'qosInfo', 'policy', 'stat', 'encryption',
  'versions', 'versioning', 'versionId', 'requestPayment', 'x-oss-request-payer', 'sequential', 'inventory',
  'inventoryId', 'continuation-token', 'asyncFetch', 'worm', 'wormId', 'wormExtend', 'withHashContext',
  'x-oss-enable-md5', 'x-oss-enable-sha1', 'x-oss-enable-sha256', 'x-oss-hash-ctx', 'x-oss-md5-ctx',
  'transferAcceleration', 'regionList', 'cloudboxes', 'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask',
  'x-oss-ac-vpc-id', 'x-oss-ac-forward-allow', 'metaQuery', 'resourceGroup', 'rtc', 'x-oss-traffic-limit',
  'objectInfo', 'group', 'link',
]);

const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';

/**
 * Checks the signature of a request the way OSS does; returns quietly when it is valid (or absent and the
 * server is anonymous).
 * @throws {OssError} 403 `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied`, `RequestTimeTooSkewed`,
 *   `InvalidSecurityToken`; 400 `InvalidArgument` for an Authorization header or signed URL OSS cannot parse
 * @example
 *   const config = { credentials: new Map([[id, { accessKeyId: id, accessKeySecret: secret }]]),
 *     anonymous: false, region: 'oss-cn-hangzhou' };
 *   try { authenticate(req, parseRoute(req, 'auto'), config); }
 *   catch (err) { ex.sendError(err as OssError); }
 */
export function authenticate(req: IncomingMessage, route: Route, config: OssAuthConfig, now = Date.now()): void {
  const authorization = headerOf(req, 'authorization');
  const q = route.query;
  if (authorization !== undefined) {
    if (authorization.startsWith('OSS ')) return verifyV1Header(req, route, config, authorization, now);
    if (authorization.startsWith(`${V4_ALGORITHM} `)) return verifyV4(req, route, config, parseV4Header(authorization), now);
    throw new OssError(400, 'InvalidArgument', `Authorization header is invalid: expected "OSS <AccessKeyId>:<Signature>" or "${V4_ALGORITHM} Credential=...", got "${authorization.slice(0, 40)}".`);
  }
  if (q.has('OSSAccessKeyId') || q.has('Signature')) return verifyV1Url(req, route, config, now);
  if (q.has('x-oss-signature-version') || q.has('x-oss-signature')) return verifyV4(req, route, config, parseV4Query(q), now);
  if (config.anonymous) return;
  throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl: the request carries no Authorization header and no signed-URL parameters, and the stand-in was not started with anonymous: true.');
}

/** A request to sign with {@link signV1}: what goes on the wire, with bucket and key as text (not encoded). */
export interface V1Request {
  method: string;
  bucket?: string;
  key?: string;
  /** Every query parameter; only sub-resources end up signed. */
  query?: URLSearchParams;
  /** Headers as they will be sent (any case); needs `Date` or `x-oss-date`. */
  headers: Record<string, string>;
}

/**
 * The V1 `Authorization` header value OSS expects for a request (tests sign raw HTTP requests with it).
 * @throws {TypeError} when the headers carry neither Date nor x-oss-date
 * @example
 *   const headers = { date: new Date().toUTCString() };
 *   const auth = signV1({ accessKeyId, accessKeySecret }, { method: 'GET', bucket: 'b', key: 'k', headers });
 *   http.request({ ..., path: '/k', headers: { ...headers, host: 'b.oss-cn-hangzhou.aliyuncs.com', authorization: auth } });
 */
export function signV1(credential: Pick<OssCredential, 'accessKeyId' | 'accessKeySecret'>, request: V1Request): string {
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  const date = lower['x-oss-date'] ?? lower.date;
  if (date === undefined) throw new TypeError('"request.headers" expected a Date or x-oss-date header, got neither');
  // Header values go on the wire as latin1; keys and query values are UTF-8 (see wireHeaders / v1Resource).
  const resource = v1Resource({ bucket: request.bucket, key: request.key, query: request.query ?? new URLSearchParams() });
  const stringToSign = v1StringToSign(request.method, lower, date, resource);
  return `OSS ${credential.accessKeyId}:${hmacSha1(credential.accessKeySecret, stringToSign)}`;
}

// ---------------------------------------------------------------------------------------------------------
// V1

function verifyV1Header(req: IncomingMessage, route: Route, config: OssAuthConfig, authorization: string, now: number): void {
  const match = /^OSS ([^:\s]+):(\S+)$/.exec(authorization.trim());
  if (!match) throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid: expected "OSS <AccessKeyId>:<Signature>".');
  const [, accessKeyId, provided] = match;
  const credential = lookUp(config, accessKeyId, headerOf(req, 'x-oss-security-token'));
  const date = headerOf(req, 'x-oss-date') ?? headerOf(req, 'date');
  if (date === undefined) throw new OssError(403, 'AccessDenied', 'OSS authentication requires a valid Date: the request has neither a Date nor an x-oss-date header.');
  checkSkew(parseRequestDate(date), now);
  const stringToSign = v1StringToSign(req.method ?? '', wireHeaders(req), date, v1Resource(route));
  compare(hmacSha1(credential.accessKeySecret, stringToSign), provided, accessKeyId, stringToSign);
}

function verifyV1Url(req: IncomingMessage, route: Route, config: OssAuthConfig, now: number): void {
  const q = route.query;
  const accessKeyId = q.get('OSSAccessKeyId');
  const expires = q.get('Expires');
  const provided = q.get('Signature');
  if (accessKeyId === null || expires === null || provided === null) {
    throw new OssError(403, 'AccessDenied', 'A signed URL needs all of OSSAccessKeyId, Expires and Signature; this one lacks some.');
  }
  if (!/^[0-9]+$/.test(expires)) throw new OssError(403, 'AccessDenied', `Expires "${expires}" is not a number of seconds since the epoch.`);
  const credential = lookUp(config, accessKeyId, q.get('security-token') ?? undefined);
  if (Number(expires) * 1000 < now) {
    throw new OssError(403, 'AccessDenied', 'Request has expired.', {
      Expires: new Date(Number(expires) * 1000).toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  }
  const stringToSign = v1StringToSign(req.method ?? '', wireHeaders(req), expires, v1Resource(route));
  compare(hmacSha1(credential.accessKeySecret, stringToSign), provided, accessKeyId, stringToSign);
}

/** The V1 string to sign as a binary string (one char per byte); `headers` lower-case names. */
function v1StringToSign(method: string, headers: Record<string, string>, date: string, resource: string): string {
  const ossHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${headers[name].trim()}`);
  return [method.toUpperCase(), headers['content-md5'] ?? '', headers['content-type'] ?? '', date, ...ossHeaders, resource].join('\n');
}

/** `/bucket/key?subresources` with the key and values as UTF-8 bytes (binary string). */
function v1Resource(route: Route): string {
  let resource = '/';
  if (route.bucket !== undefined) resource += `${route.bucket}/`;
  if (route.key !== undefined) resource += route.key;
  const subresources = [...route.query.entries()]
    .filter(([name]) => SUBRESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  if (subresources.length > 0) resource += `?${subresources.join('&')}`;
  return utf8Binary(resource);
}

function hmacSha1(secret: string, binary: string): string {
  return createHmac('sha1', secret).update(Buffer.from(binary, 'latin1')).digest('base64');
}

// ---------------------------------------------------------------------------------------------------------
// V4

interface V4Fields {
  /** Where the fields came from, for messages. */
  from: 'header' | 'query';
  accessKeyId: string;
  scopeDate: string;
  scopeRegion: string;
  scopeProduct: string;
  scopeTerminator: string;
  additionalHeaders: string[];
  signature: string;
  /** The query-signed URL's own date and lifetime; the header form uses `x-oss-date`. */
  date?: string;
  expires?: string;
  securityToken?: string;
}

function parseV4Header(authorization: string): V4Fields {
  const fields = new Map<string, string>();
  for (const piece of authorization.slice(V4_ALGORITHM.length + 1).split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) fields.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signature = fields.get('Signature');
  if (credential === undefined || signature === undefined) {
    throw new OssError(400, 'InvalidArgument', `Authorization header is invalid: ${V4_ALGORITHM} needs Credential=... and Signature=....`);
  }
  return { from: 'header', ...parseCredential(credential), additionalHeaders: splitAdditional(fields.get('AdditionalHeaders')), signature };
}

function parseV4Query(q: URLSearchParams): V4Fields {
  const version = q.get('x-oss-signature-version');
  if (version !== V4_ALGORITHM) throw new OssError(400, 'InvalidArgument', `x-oss-signature-version must be ${V4_ALGORITHM}, got "${version ?? ''}".`);
  const credential = q.get('x-oss-credential');
  const signature = q.get('x-oss-signature');
  const date = q.get('x-oss-date');
  const expires = q.get('x-oss-expires');
  if (credential === null || signature === null || date === null || expires === null) {
    throw new OssError(400, 'InvalidArgument', 'A V4 signed URL needs x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature; this one lacks some.');
  }
  return {
    from: 'query',
    ...parseCredential(credential),
    additionalHeaders: splitAdditional(q.get('x-oss-additional-headers') ?? undefined),
    signature,
    date,
    expires,
    securityToken: q.get('x-oss-security-token') ?? undefined,
  };
}

function parseCredential(credential: string): Pick<V4Fields, 'accessKeyId' | 'scopeDate' | 'scopeRegion' | 'scopeProduct' | 'scopeTerminator'> {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw new OssError(400, 'InvalidArgument', `Credential "${credential}" is not <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.`);
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeProduct, scopeTerminator] = parts;
  return { accessKeyId, scopeDate, scopeRegion, scopeProduct, scopeTerminator };
}

function splitAdditional(list: string | undefined): string[] {
  return list ? list.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h !== '') : [];
}

function verifyV4(req: IncomingMessage, route: Route, config: OssAuthConfig, v4: V4Fields, now: number): void {
  const token = v4.from === 'query' ? v4.securityToken : headerOf(req, 'x-oss-security-token');
  const credential = lookUp(config, v4.accessKeyId, token);
  const region = config.region.replace(/^oss-/, '');
  if (v4.scopeRegion !== region || v4.scopeProduct !== 'oss' || v4.scopeTerminator !== 'aliyun_v4_request' || !/^[0-9]{8}$/.test(v4.scopeDate)) {
    throw new OssError(400, 'InvalidArgument', `The credential scope ${v4.scopeDate}/${v4.scopeRegion}/${v4.scopeProduct}/${v4.scopeTerminator} does not match this endpoint: expected <yyyymmdd>/${region}/oss/aliyun_v4_request (region from the server's ${config.region}).`);
  }
  const date = v4.from === 'query' ? v4.date : headerOf(req, 'x-oss-date');
  if (date === undefined || !/^[0-9]{8}T[0-9]{6}Z$/.test(date)) {
    throw new OssError(403, 'AccessDenied', `${V4_ALGORITHM} needs x-oss-date as yyyymmddTHHMMSSZ (ISO 8601 basic), got "${date ?? ''}".`);
  }
  if (date.slice(0, 8) !== v4.scopeDate) {
    throw new OssError(403, 'SignatureDoesNotMatch', `The date ${v4.scopeDate} in the credential scope differs from the day of x-oss-date ${date}.`);
  }
  const signedAt = Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8), +date.slice(9, 11), +date.slice(11, 13), +date.slice(13, 15));
  if (v4.from === 'query') {
    const expires = v4.expires as string;
    if (!/^[0-9]+$/.test(expires)) throw new OssError(400, 'InvalidArgument', `x-oss-expires "${expires}" is not a number of seconds.`);
    if (signedAt + Number(expires) * 1000 < now) {
      throw new OssError(403, 'AccessDenied', 'Request has expired.', {
        Expires: new Date(signedAt + Number(expires) * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    }
  } else {
    checkSkew(signedAt, now);
  }
  const headers = wireHeaders(req);
  let payload = 'UNSIGNED-PAYLOAD';
  if (v4.from === 'header') {
    const sha = headers['x-oss-content-sha256'];
    if (sha === undefined) throw new OssError(400, 'InvalidArgument', `${V4_ALGORITHM} in the Authorization header needs an x-oss-content-sha256 header.`);
    payload = sha;
  }
  for (const name of v4.additionalHeaders) {
    if (headers[name] === undefined) throw new OssError(400, 'InvalidArgument', `AdditionalHeaders lists "${name}", but the request has no such header.`);
  }
  const names = new Set(v4.additionalHeaders);
  for (const name of Object.keys(headers)) if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-')) names.add(name);
  const canonicalHeaders = [...names].sort().map((name) => `${name}:${headers[name].trim()}\n`).join('');
  const query = [...route.query.entries()]
    .filter(([name]) => !(v4.from === 'query' && name === 'x-oss-signature'))
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');
  const uri = rfc3986(`/${route.bucket !== undefined ? `${route.bucket}/` : ''}${route.key ?? ''}`).replace(/%2F/g, '/');
  const canonicalRequest = [(req.method ?? '').toUpperCase(), uri, query, canonicalHeaders, v4.additionalHeaders.join(';'), payload].join('\n');
  const scope = `${v4.scopeDate}/${region}/oss/aliyun_v4_request`;
  const stringToSign = [V4_ALGORITHM, date, scope, createHash('sha256').update(Buffer.from(canonicalRequest, 'latin1')).digest('hex')].join('\n');
  let key = createHmac('sha256', `aliyun_v4${credential.accessKeySecret}`).update(v4.scopeDate).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  compare(expected, v4.signature, v4.accessKeyId, stringToSign, { CanonicalRequest: Buffer.from(canonicalRequest, 'latin1').toString('utf8') });
}

/** encodeURIComponent plus `!'()*`, over the UTF-8 of the text (what OSS and ali-oss's encodeString do). */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---------------------------------------------------------------------------------------------------------
// shared

/** The key for `accessKeyId`, after the STS rules (see the module comment). */
function lookUp(config: OssAuthConfig, accessKeyId: string, token: string | undefined): OssCredential {
  const credential = config.credentials.get(accessKeyId);
  if (credential === undefined || (credential.securityToken === undefined && token !== undefined) || (credential.securityToken !== undefined && token === undefined)) {
    throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: accessKeyId });
  }
  if (credential.securityToken !== undefined && !sameText(credential.securityToken, token as string)) {
    throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.', { OSSAccessKeyId: accessKeyId });
  }
  return credential;
}

function compare(expected: string, provided: string, accessKeyId: string, stringToSign: string, extra: Record<string, string> = {}): void {
  if (sameText(expected, provided)) return;
  const bytes = Buffer.from(stringToSign, 'latin1');
  throw new OssError(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH, {
    StringToSign: bytes.toString('utf8'),
    SignatureProvided: provided,
    StringToSignBytes: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    ...extra,
    OSSAccessKeyId: accessKeyId,
    // OSS's diagnosis code for a signature mismatch (its documented value), last in the XML as OSS puts it.
    EC: '0002-00000040',
  });
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkSkew(time: number, now: number): void {
  if (Math.abs(now - time) <= MAX_SKEW_MS) return;
  throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
    RequestTime: new Date(time).toISOString(),
    ServerTime: new Date(now).toISOString(),
    MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
  });
}

/** A V1 Date / x-oss-date: RFC 1123 GMT (what ali-oss V1 and browsers send) or ISO 8601 basic. */
function parseRequestDate(text: string): number {
  const iso = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$/.exec(text);
  const time = iso ? Date.UTC(+iso[1], +iso[2] - 1, +iso[3], +iso[4], +iso[5], +iso[6]) : Date.parse(text);
  if (Number.isNaN(time)) throw new OssError(403, 'AccessDenied', `OSS authentication requires a valid Date; "${text}" is not an HTTP date.`);
  return time;
}

/** Request headers by lower-case name, values as the bytes that arrived (binary strings); repeats joined by ",". */
function wireHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1].trim();
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A JS string's UTF-8 bytes as a binary string (one char per byte), to sit next to wire header bytes. */
function utf8Binary(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
