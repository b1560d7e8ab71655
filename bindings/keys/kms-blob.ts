/**
 * The two layerings of a KMS CiphertextBlob in a V2 `KMS/ALICLOUD` header (docs/FORMAT.md §2.2): `go` (Go v1/v2,
 * Java, C++, Python v2) stores the blob itself, `oss2` (Python oss2 `AliKMSProvider`) stores base64 of the blob
 * text. Reads either without being told, and writes the chosen one.
 *
 * Reading rule: base64-decode the header; if the decoded bytes are themselves canonical standard base64 text,
 * they are the blob (oss2); otherwise the header is the blob (go). This is unambiguous in practice: a
 * CiphertextBlob decodes to bytes that are never pure base64 text (real KMS blobs decode to the key's UUID,
 * whose `-` is outside the base64 alphabet, followed by binary; random binary of blob length falls inside the
 * alphabet with probability below 4^-40), while an oss2 header always decodes to the blob, which KMS defines
 * as base64.
 *
 * Writing defaults to `go` because every current reader (Go, Java, C++, Go-v2, Python-v2, and this library) reads
 * the single layer; only the legacy Python oss2 needs `oss2`, and oss2 reads nothing else.
 *
 * Deliberately not here: KMS calls (kms.ts), base64 itself (util/base64.ts).
 * @module
 */
import { KeyUnwrapError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../util/base64.js';

/**
 * How a V2 header holds the KMS CiphertextBlob: `go` = the blob itself, `oss2` = base64 of the blob text.
 * @example
 *   const blobLayout: KmsBlobLayout = readers.includes('python-oss2') ? 'oss2' : 'go';
 */
export type KmsBlobLayout = 'go' | 'oss2';
/**
 * The layering written when none is chosen (the module comment says why).
 * @example
 *   kmsKeyWrapper({ ...options, blobLayout: 'oss2' }) // only when legacy Python oss2 must read the objects
 */
export const DEFAULT_KMS_BLOB_LAYOUT: KmsBlobLayout = 'go';

/**
 * Which blob a V2 `KMS/ALICLOUD` header holds, by the reading rule of the module comment.
 * @param header the stored `x-oss-meta-client-side-encryption-key` or `-start` value
 * @returns the CiphertextBlob to send to Decrypt and the layering it was found in
 * @throws {KeyUnwrapError} `KEY_UNWRAP_FAILED` when the header is not canonical base64 (neither layering)
 * @example
 *   kmsBlobFromHeader(btoa(blob))  // { blob, layout: 'oss2' }
 *   kmsBlobFromHeader(blob)        // { blob, layout: 'go' }
 */
export function kmsBlobFromHeader(header: string): { blob: string; layout: KmsBlobLayout } {
  const outer = header.length === 0 ? undefined : decodeBase64(header);
  if (outer === undefined) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `a KMS/ALICLOUD header must be standard padded base64 in both layerings (the blob itself, or base64 of it); ` +
        `this one (${header.length} characters) is not`,
    );
  }
  const inner = asciiText(outer);
  // Shape only (alphabet, length, padding), not canonical bits: KMS's own encoder is not ours to judge.
  if (inner !== undefined && BASE64_SHAPE.test(inner)) return { blob: inner, layout: 'oss2' };
  return { blob: header, layout: 'go' };
}

/**
 * The header value that stores `blob` in `layout`.
 * @example
 *   kmsHeaderFromBlob(blob, 'oss2') // base64 of the blob text
 */
export function kmsHeaderFromBlob(blob: string, layout: KmsBlobLayout): string {
  return layout === 'oss2' ? encodeBase64(new TextEncoder().encode(blob)) : blob;
}

const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;

/** The bytes as text when they are all printable ASCII, else undefined. */
function asciiText(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) return undefined;
    out += String.fromCharCode(b);
  }
  return out;
}
