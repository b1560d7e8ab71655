/**
 * Typed facts out of an object store's response record: status, request id, CRC-64, ETag, and a header by name,
 * whatever the header's casing or whether it arrived as a list. One reader, so that no caller re-implements it.
 *
 * Deliberately not here: checking what the facts mean (CRC-64 comparison lives with the transfers that check it).
 * @module
 */
import type { StoreHeaders, StoreResponse } from './object-store.js';

/** The CRC-64 header OSS sends on PUT, GET, HEAD, UploadPart and Complete (the ECMA-182 CRC of the stored bytes). */
export const CRC64_HEADER = 'x-oss-hash-crc64ecma';

/**
 * What a response says, typed.
 * @example
 *   const { requestId, crc64 }: ResponseFacts = responseFacts(result.res);
 */
export interface ResponseFacts {
  readonly status: number;
  readonly headers: StoreHeaders;
  /** `x-oss-request-id`, for support requests. */
  readonly requestId: string | undefined;
  /** `x-oss-hash-crc64ecma` as sent (decimal text). */
  readonly crc64: string | undefined;
  /** `ETag` as sent (with its quotes). */
  readonly etag: string | undefined;
}

/**
 * Reads the typed facts of a response record.
 * @param res a result's `res` (or anything with `status` and `headers`)
 * @returns the facts; absent headers are `undefined`
 * @example
 *   const facts = responseFacts((await store.headObject('a.bin', {})).res);
 *   console.log(facts.status, facts.etag, facts.crc64);
 */
export function responseFacts(res: Partial<StoreResponse> | null | undefined): ResponseFacts {
  const headers = (res?.headers ?? {}) as StoreHeaders;
  return {
    status: typeof res?.status === 'number' ? res.status : 0,
    headers,
    requestId: headerOf(headers, 'x-oss-request-id'),
    crc64: headerOf(headers, CRC64_HEADER),
    etag: headerOf(headers, 'etag'),
  };
}

/**
 * One header's value by case-insensitive name; the first value of a list.
 * @example
 *   headerOf({ 'Content-Length': '5' }, 'content-length') // '5'
 */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() !== wanted) continue;
    if (Array.isArray(v)) return v.length > 0 ? String(v[0]) : undefined;
    return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}
