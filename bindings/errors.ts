/**
 * The error hierarchy of ali-oss-crypto.
 *
 * Programmer mistakes (a wrong type, a key of the wrong length, a part size that is not a multiple of 16)
 * throw the built-in `TypeError` / `RangeError`, with a message that names the argument and the value
 * received. Domain failures throw a subclass of {@link OssCryptoError} whose `code` is stable and safe to
 * branch on. Errors from `ali-oss` itself (HTTP status, OSS error codes) pass through untouched; when we add
 * context we do it through `cause`, never by re-typing them.
 *
 * No message or property of these errors ever contains key material.
 * @module
 */

/**
 * Every stable error code this library throws (the README's errors table lists where each one comes from).
 * @example
 *   function retryable(code: OssCryptoErrorCode): boolean {
 *     return code === 'KMS_ERROR' || code === 'INTEGRITY_TRUNCATED';
 *   }
 */
export type OssCryptoErrorCode =
  // metadata (FORMATS.md §2, §3)
  | 'META_MISSING'
  | 'META_MALFORMED'
  | 'META_UNSUPPORTED'
  // key wrapping
  | 'KEY_NO_MATCH'
  | 'KEY_UNWRAP_FAILED'
  | 'KEY_WRAP_FAILED'
  | 'KEY_INVALID'
  | 'KMS_ERROR'
  // integrity of what we read
  | 'INTEGRITY_LENGTH'
  | 'INTEGRITY_MD5'
  | 'INTEGRITY_CRC64'
  | 'INTEGRITY_RANGE'
  | 'INTEGRITY_TRUNCATED'
  // key commitment (issue 12 §5): one code for every failed check; MISSING only under commitment: 'require'
  | 'COMMITMENT_MISMATCH'
  | 'COMMITMENT_MISSING'
  // the object was replaced while we read it in several requests (If-Match answered 412)
  | 'OBJECT_CHANGED'
  // multipart and checkpoints
  | 'PART_INVALID'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_MISMATCH'
  // policy
  | 'PLAINTEXT_REJECTED'
  | 'OPERATION_UNSUPPORTED'
  // the WebAssembly core
  | 'WASM_CORE';

/**
 * Base class of every domain error thrown by ali-oss-crypto.
 * @example
 *   try { await client.get('a.bin') }
 *   catch (err) { if (err instanceof OssCryptoError && err.code === 'KEY_NO_MATCH') { ... } }
 */
export class OssCryptoError extends Error {
  /** Stable, documented code: branch on this, not on the message. */
  readonly code: OssCryptoErrorCode;
  constructor(code: OssCryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The object's encryption metadata is missing, malformed, or names an algorithm we do not support.
 * Codes: `META_MISSING`, `META_MALFORMED`, `META_UNSUPPORTED`.
 * @example
 *   try { decodeEnvelope(headers) }
 *   catch (err) { if (err instanceof MetadataError && err.code === 'META_UNSUPPORTED') skip(name) }
 */
export class MetadataError extends OssCryptoError {}

/**
 * No configured material matches the object, or the matching material failed to unwrap its key.
 * Codes: `KEY_NO_MATCH` (no material for the object's matdesc), `KEY_UNWRAP_FAILED` (wrong key pair or
 * altered metadata), `KEY_INVALID` (the material cannot unwrap at all, e.g. a public key only).
 * @example
 *   catch (err) {
 *     if (err instanceof KeyUnwrapError && err.code === 'KEY_NO_MATCH') console.error(err.message); // names the matdesc
 *   }
 */
export class KeyUnwrapError extends OssCryptoError {}

/**
 * Wrapping a new content key failed (for example: the material has no public key, or KMS refused).
 * Codes: `KEY_WRAP_FAILED`, `KEY_INVALID` (no default material, or one that cannot wrap).
 * @example
 *   catch (err) { if (err instanceof KeyWrapError) console.error('cannot encrypt new objects:', err.message) }
 */
export class KeyWrapError extends OssCryptoError {}

/**
 * Alibaba Cloud KMS answered with an error. `kmsCode` is KMS's own code (e.g. `Forbidden.KeyNotFound`),
 * `requestId` its request id, for support tickets. Code: `KMS_ERROR`.
 * @example
 *   catch (err) {
 *     if (err instanceof KmsError) console.error(`KMS ${err.kmsCode} (HTTP ${err.status}), request ${err.requestId}`);
 *   }
 */
export class KmsError extends OssCryptoError {
  readonly kmsCode: string;
  readonly requestId: string | undefined;
  readonly status: number | undefined;
  constructor(
    message: string,
    details: { kmsCode: string; requestId?: string; status?: number },
    options?: { cause?: unknown },
  ) {
    super('KMS_ERROR', message, options);
    this.kmsCode = details.kmsCode;
    this.requestId = details.requestId;
    this.status = details.status;
  }
}

/**
 * What we read does not match what the object's metadata or the server promised. Codes: `INTEGRITY_LENGTH`,
 * `INTEGRITY_MD5`, `INTEGRITY_CRC64`, `INTEGRITY_RANGE`, `INTEGRITY_TRUNCATED`, `OBJECT_CHANGED`, `COMMITMENT_MISMATCH`,
 * `COMMITMENT_MISSING`.
 * @example
 *   catch (err) {
 *     if (err instanceof IntegrityError && err.code === 'OBJECT_CHANGED') return download(name); // start over
 *   }
 */
export class IntegrityError extends OssCryptoError {}

/**
 * A multipart rule was broken: part size, part number or part length (FORMATS.md §5). Code: `PART_INVALID`.
 * @example
 *   catch (err) { if (err instanceof PartError) console.error(err.message); } // e.g. which part numbers are missing
 */
export class PartError extends OssCryptoError {}

/**
 * A checkpoint is malformed or no longer matches the file, the plan or the upload.
 * Codes: `CHECKPOINT_MALFORMED`, `CHECKPOINT_MISMATCH`.
 * @example
 *   catch (err) {
 *     if (err instanceof CheckpointError) await rm(checkpointPath); // start a fresh upload instead of resuming
 *   }
 */
export class CheckpointError extends OssCryptoError {}

/**
 * The object has no encryption metadata and the plaintext policy is `reject`. Code: `PLAINTEXT_REJECTED`.
 * @example
 *   catch (err) {
 *     if (err instanceof PlaintextObjectError) console.error(`${name} is stored unencrypted; not trusted`);
 *   }
 */
export class PlaintextObjectError extends OssCryptoError {}

/**
 * The operation cannot be combined with client-side encryption (append, select, image processing...).
 * Thrown before any request. Code: `OPERATION_UNSUPPORTED`.
 * @example
 *   await cryptoClient.append('log.txt', chunk); // rejects with UnsupportedOperationError, says why
 */
export class UnsupportedOperationError extends OssCryptoError {}

/**
 * The WebAssembly core trapped or could not be instantiated. Code: `WASM_CORE`.
 * @example
 *   try { await initWasm() }
 *   catch (err) { if (err instanceof WasmCoreError) backend = nativeBackend; } // Node only
 */
export class WasmCoreError extends OssCryptoError {}
