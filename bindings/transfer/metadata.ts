/**
 * Which metadata belongs to the encryption envelope, and the guards around it that every write shares: refusing
 * caller options that would set or change it, copying it exactly as stored, and reading an MD5 in either text
 * form it is stored in (docs/FORMAT.md §2, §3).
 *
 * Deliberately not here: encoding or decoding the envelope itself (envelope/codec.ts).
 * @module
 */
import { COMMITMENT_HEADER } from '../envelope/commitment.js';
import { ENVELOPE_HEADERS, META_PREFIX } from '../envelope/headers.js';
import { UnsupportedOperationError } from '../errors.js';
import { decodeBase64 } from '../util/base64.js';

/** Every metadata name (without `x-oss-meta-`) that belongs to the encryption envelope, V1 and V2, and the key commitment. */
const CSE_META_NAMES: ReadonlySet<string> = new Set(
  [...Object.values(ENVELOPE_HEADERS.v2), ...Object.values(ENVELOPE_HEADERS.v1), COMMITMENT_HEADER].map((h) => h.slice(META_PREFIX.length)),
);
// Any future V2 field shares this prefix; reserve all of it.
const CSE_META_PREFIX = 'client-side-encryption-';

/**
 * True when `name` (a full header name `x-oss-meta-…`, or an ali-oss `meta` key without the prefix) is part of
 * the encryption metadata.
 * @example
 *   isEncryptionMeta('client-side-encryption-key')          // true
 *   isEncryptionMeta('x-oss-meta-oss-crypto-start')         // true
 *   isEncryptionMeta('x-oss-meta-owner')                    // false
 */
export function isEncryptionMeta(name: string): boolean {
  let n = name.toLowerCase();
  if (n.startsWith(META_PREFIX)) n = n.slice(META_PREFIX.length);
  return CSE_META_NAMES.has(n) || n.startsWith(CSE_META_PREFIX);
}

/**
 * Refuses caller options that would set or change encryption metadata, through `meta` or `headers`.
 * @param operation the method name, for the message
 * @param options the caller's ali-oss options
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED naming the offending key
 * @example
 *   refuseEncryptionMetaOverride('put', { meta: { 'client-side-encryption-key': 'x' } }); // throws
 */
export function refuseEncryptionMetaOverride(operation: string, options: Record<string, any> | undefined): void {
  if (!options) return;
  const check = (where: string, names: string[]) => {
    for (const k of names) {
      const asHeader = where === 'meta' ? META_PREFIX + k : k;
      if (asHeader.toLowerCase().startsWith(META_PREFIX) && isEncryptionMeta(asHeader)) {
        throw new UnsupportedOperationError(
          'OPERATION_UNSUPPORTED',
          `${operation}: ${where} ${JSON.stringify(k)} is encryption metadata, written only by the encryption client ` +
            '(setting or changing it would make the object undecryptable); use another metadata name',
        );
      }
    }
  };
  if (options.meta && typeof options.meta === 'object') check('meta', Object.keys(options.meta));
  if (options.headers && typeof options.headers === 'object') check('headers', Object.keys(options.headers));
}

/**
 * The encryption metadata of a response, as an ali-oss `meta` object (names without `x-oss-meta-`, values
 * exactly as stored).
 * @example
 *   const meta = encryptionMetaOf(headResult.res.headers); // { 'client-side-encryption-key': '…', … }
 */
export function encryptionMetaOf(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const lower = k.toLowerCase();
    if (lower.startsWith(META_PREFIX) && isEncryptionMeta(lower) && v !== undefined) {
      out[lower.slice(META_PREFIX.length)] = Array.isArray(v) ? String(v[0]) : String(v);
    }
  }
  return out;
}

/**
 * An MD5 as stored in `unencrypted-content-md5` (docs/FORMAT.md §2: oss2 copies what the caller gave, often hex;
 * others store base64) or a `Content-MD5` header, as 16 bytes; `undefined` when it is neither form.
 * @example
 *   md5Bytes('900150983cd24fb0d6963f7d28e17f72')  // 16 bytes (hex)
 *   md5Bytes('kAFQmDzST7DWlj99KOF/cg==')          // the same 16 bytes (base64)
 */
export function md5Bytes(text: string): Uint8Array | undefined {
  const t = text.trim();
  // Plain JavaScript (no Buffer): the web read path checks MD5s too.
  if (/^[0-9a-fA-F]{32}$/.test(t)) return Uint8Array.from({ length: 16 }, (_, i) => parseInt(t.slice(i * 2, i * 2 + 2), 16));
  if (/^[A-Za-z0-9+/]{22}==$/.test(t)) {
    const bytes = decodeBase64(t);
    if (bytes?.length === 16) return bytes;
  }
  return undefined;
}

