/**
 * Request routing of the OSS stand-in (test/support/oss-server.ts): which bucket and key a request names
 * (virtual-host style from the Host header, or path style), and which OSS operation it is (docs/FORMAT.md §8).
 *
 * Query parameters that only sign or page a request are neutral; any other sub-resource on an operation the
 * stand-in does not implement makes the request `unsupported` (answered 501), never silently a plain GET/PUT.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { OssRequestKind } from './oss-faults.js';
import { OssError } from './oss-store.js';

// Query parameters that never change what a request does: signed-URL parameters and encodings.
export const NEUTRAL_QUERY = new Set([
  'OSSAccessKeyId', 'Expires', 'Signature', 'security-token', 'x-oss-signature-version', 'x-oss-credential',
  'x-oss-date', 'x-oss-expires', 'x-oss-signature', 'x-oss-additional-headers', 'x-oss-security-token',
  'versionId', 'encoding-type',
]);
// The parameters each listing accepts.
const LIST_QUERY = new Set(['prefix', 'marker', 'max-keys', 'delimiter', 'list-type', 'continuation-token', 'start-after', 'fetch-owner']);
const UPLOADS_QUERY = new Set(['uploads', 'prefix', 'key-marker', 'upload-id-marker', 'max-uploads', 'delimiter']);
const PARTS_QUERY = new Set(['uploadId', 'max-parts', 'part-number-marker']);

// GET parameters that override response headers (signed download links use them).
export const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** Where a request points. */
export interface Route {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
}

/** Finds bucket and key from Host and path (see the module comment on addressing). */
export function parseRoute(req: IncomingMessage, addressing: 'auto' | 'path' | 'virtual'): Route {
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

/** Percent-decodes a path piece ('+' stays '+', as ali-oss sends it as %2B); bad escapes are InvalidURI. */
export function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OssError(400, 'InvalidURI', `Could not percent-decode the request path "${text}".`);
  }
}

/** Names the operation from method, bucket/key presence, sub-resources and the copy-source header. */
export function classify(req: IncomingMessage, route: Route): OssRequestKind {
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
      if (q.has('append')) return only(new Set(['append', 'position'])) ? 'append' : 'unsupported';
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
