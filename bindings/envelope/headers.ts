/**
 * The names and algorithm strings of OSS client-side-encryption metadata (docs/FORMAT.md §2, §3), in one table.
 *
 * Every name is the full, lower-case HTTP header as OSS returns it (`x-oss-meta-…`). ali-oss adds the
 * `x-oss-meta-` prefix itself when it is given a `meta` object, so {@link metaKey} strips it for that case.
 * V2 (`client-side-encryption-*`) is what every current SDK reads and writes; V1 (`oss-crypto-*`, oss2
 * 2.5.0–2.10.0) is only ever read. Nothing here parses or validates values: that is codec.ts.
 * @module
 */

/**
 * Prefix OSS puts before every user-metadata name.
 * @example
 *   const userMeta = Object.keys(res.headers).filter((name) => name.startsWith(META_PREFIX));
 */
export const META_PREFIX = 'x-oss-meta-';

/**
 * Header names of both metadata generations.
 * @example
 *   ENVELOPE_HEADERS.v2.key      // 'x-oss-meta-client-side-encryption-key'
 *   ENVELOPE_HEADERS.v1.wrapAlg  // 'x-oss-meta-oss-wrap-alg'
 */
export const ENVELOPE_HEADERS = {
  v2: {
    key: 'x-oss-meta-client-side-encryption-key',
    start: 'x-oss-meta-client-side-encryption-start',
    cekAlg: 'x-oss-meta-client-side-encryption-cek-alg',
    wrapAlg: 'x-oss-meta-client-side-encryption-wrap-alg',
    matdesc: 'x-oss-meta-client-side-encryption-matdesc',
    unencryptedContentLength: 'x-oss-meta-client-side-encryption-unencrypted-content-length',
    unencryptedContentMd5: 'x-oss-meta-client-side-encryption-unencrypted-content-md5',
    dataSize: 'x-oss-meta-client-side-encryption-data-size',
    partSize: 'x-oss-meta-client-side-encryption-part-size',
  },
  v1: {
    key: 'x-oss-meta-oss-crypto-key',
    start: 'x-oss-meta-oss-crypto-start',
    cekAlg: 'x-oss-meta-oss-cek-alg',
    wrapAlg: 'x-oss-meta-oss-wrap-alg',
    // V1 spells these without the `oss-crypto-` infix (docs/FORMAT.md §3).
    unencryptedContentLength: 'x-oss-meta-unencrypted-content-length',
    unencryptedContentMd5: 'x-oss-meta-unencrypted-content-md5',
  },
} as const;

/**
 * Content (body) cipher labels. V1 objects say `AES/GCM/NoPadding`, but their body is AES-256-CTR without a
 * tag (docs/FORMAT.md §3): that label is read as CTR and never written.
 * @example
 *   if (cekAlg === CEK_ALG.ctr) { ... }
 */
export const CEK_ALG = {
  ctr: 'AES/CTR/NoPadding',
  v1GcmLabel: 'AES/GCM/NoPadding',
} as const;

/**
 * Key-wrap algorithm labels (docs/FORMAT.md §2.1, §2.2, §3).
 * @example
 *   WRAP_ALG.rsaPkcs1 // 'RSA/NONE/PKCS1Padding', what every official SDK writes with an RSA key
 */
export const WRAP_ALG = {
  /** V2 RSA PKCS#1 v1.5 (oss2 RsaProvider, Go, Java, C++). */
  rsaPkcs1: 'RSA/NONE/PKCS1Padding',
  /** V2 RSA-OAEP with SHA-1 and MGF1-SHA-1, empty label (oss2 LocalRsaProvider). */
  rsaOaep: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding',
  /** V2 Alibaba Cloud KMS. */
  kms: 'KMS/ALICLOUD',
  /** V1 RSA-OAEP-SHA1; also what a V1 object with a missing or unknown wrap-alg means. */
  v1Rsa: 'rsa',
  /** V1 Alibaba Cloud KMS. */
  v1Kms: 'kms',
} as const;

/**
 * The V2 wrap algorithms this library reads and writes.
 * @example
 *   V2_WRAP_ALGS.includes(headers['x-oss-meta-client-side-encryption-wrap-alg'])
 */
export const V2_WRAP_ALGS: readonly string[] = [WRAP_ALG.rsaPkcs1, WRAP_ALG.rsaOaep, WRAP_ALG.kms];

/**
 * The ali-oss `meta` key for a full header name: ali-oss prepends `x-oss-meta-` itself on upload and strips
 * it from `head()`'s `meta`.
 * @throws {RangeError} when `header` does not start with `x-oss-meta-`
 * @example
 *   metaKey(ENVELOPE_HEADERS.v2.key) // 'client-side-encryption-key'
 */
export function metaKey(header: string): string {
  const lower = header.toLowerCase();
  if (!lower.startsWith(META_PREFIX)) {
    throw new RangeError(`"header" expected a name starting with ${META_PREFIX}, got ${JSON.stringify(header)}`);
  }
  return lower.slice(META_PREFIX.length);
}
