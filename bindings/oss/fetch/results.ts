/**
 * The plain result shapes of the fetch transport's calls, and reading them off a response: status, headers by
 * lower-case name, OSS's request id, the ETag exactly as OSS sends it (quoted, as ali-oss hands it on), the
 * CRC-64 (`x-oss-hash-crc64ecma`, decimal text) and the length.
 * @module
 */
import type { OssHttpResponse } from './http.js';

/** What every call answers. */
export interface OssResult {
  readonly status: number;
  /** Response headers by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string | undefined;
}

/** An answer about one object (put, head, copy, uploadPart, complete). */
export interface ObjectResult extends OssResult {
  /** As OSS sends it, quotes included. */
  readonly etag: string | undefined;
  /** `x-oss-hash-crc64ecma`: the CRC-64 of the whole stored object, decimal text. */
  readonly crc64: string | undefined;
}

/** A read object: the bytes and what the server said about them. */
export interface ObjectBytes extends ObjectResult {
  readonly body: Uint8Array;
  readonly contentLength: number;
  /** `bytes a-b/total` on a 206. */
  readonly contentRange: string | undefined;
}

/** A read object whose body is still on the wire. */
export interface ObjectStream extends ObjectResult {
  readonly body: ReadableStream<Uint8Array>;
  /** Content-Length when the server sent it. */
  readonly contentLength: number | undefined;
  readonly contentRange: string | undefined;
}

/** HEAD: the object's size and user metadata (`x-oss-meta-*`, names without the prefix). */
export interface ObjectHead extends ObjectResult {
  readonly contentLength: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly lastModified: string | undefined;
}

/** The shared fields of a response. */
export function resultOf(res: OssHttpResponse): OssResult {
  return { status: res.status, headers: res.headers, requestId: res.requestId };
}

/** The shared fields plus ETag and CRC-64. */
export function objectResultOf(res: OssHttpResponse): ObjectResult {
  return { ...resultOf(res), etag: res.headers.etag, crc64: res.headers['x-oss-hash-crc64ecma'] };
}

/** `x-oss-meta-*` headers by the name after the prefix. */
export function userMeta(headers: Readonly<Record<string, string>>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
  return meta;
}

/** A Content-Length header as a number, or undefined. */
export function lengthOf(headers: Readonly<Record<string, string>>): number | undefined {
  const text = headers['content-length'];
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined;
}
