/**
 * The error hierarchy of ali-oss-crypto.
 *
 * Programmer mistakes (a wrong type, a key of the wrong length, a part size that is not a multiple of 16)
 * throw the built-in `TypeError` / `RangeError`, with a message that names the argument and the value
 * received. Domain failures throw a subclass of {@link OssCryptoError} whose `code` is stable and safe to
 * branch on. Errors from `ali-oss` itself (HTTP status, OSS error codes) pass through untouched; when we add
 * context we do it through `cause`, never by re-typing them.
 *
 * Each code belongs to exactly one class ({@link ERROR_CLASS_OF_CODE}); the constructors refuse any other
 * pairing, so `instanceof` and `code` never disagree. An error that wraps another keeps it as `cause`
 * ({@link withMessage}).
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
  // metadata (docs/FORMAT.md §2, §3)
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
  // key commitment (issue 12 §5, docs/FORMAT.md §10): one code for every failed check, MISSING only under commitment: 'require'
  | 'COMMITMENT_MISMATCH'
  | 'COMMITMENT_MISSING'
  // the object was replaced while we read it in several requests (If-Match answered 412)
  | 'OBJECT_CHANGED'
  // a rewrite in place of an object that is already in the target state
  | 'OBJECT_ENCRYPTED'
  | 'OBJECT_NOT_ENCRYPTED'
  // multipart and checkpoints
  | 'PART_INVALID'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_UNSAFE'
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
  /**
   * @throws {TypeError} when `code` belongs to another class than the one constructed (see {@link ERROR_CLASS_OF_CODE})
   */
  constructor(code: OssCryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    const owner = ERROR_CLASS_OF_CODE[code];
    // The prototype chain, not instanceof: KeyWrapError/KeyUnwrapError widen instanceof (see KeyInvalidError).
    if (owner === undefined || !Object.prototype.isPrototypeOf.call(owner.prototype, this)) {
      throw new TypeError(
        `error code ${JSON.stringify(code)} belongs to ${owner === undefined ? 'no class (unknown code)' : owner.name}, not ${new.target.name}`,
      );
    }
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
 * altered metadata). A {@link KeyInvalidError} (`KEY_INVALID`: the material cannot unwrap at all, e.g. a public
 * key only) is also `instanceof KeyUnwrapError`.
 * @example
 *   catch (err) {
 *     if (err instanceof KeyUnwrapError && err.code === 'KEY_NO_MATCH') console.error(err.message); // names the matdesc
 *   }
 */
export class KeyUnwrapError extends OssCryptoError {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value) || (this === KeyUnwrapError && isInstance(KeyInvalidError, value));
  }
}

/**
 * Wrapping a new content key failed (for example: KMS refused). Code: `KEY_WRAP_FAILED`. A
 * {@link KeyInvalidError} (`KEY_INVALID`: no default material, or one that cannot wrap) is also
 * `instanceof KeyWrapError`.
 * @example
 *   catch (err) { if (err instanceof KeyWrapError) console.error('cannot encrypt new objects:', err.message) }
 */
export class KeyWrapError extends OssCryptoError {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value) || (this === KeyWrapError && isInstance(KeyInvalidError, value));
  }
}

/**
 * The key material itself is unusable: a malformed or non-RSA PEM, a wrong passphrase, an unsupported key size,
 * halves of different key pairs, no CSPRNG, a material that cannot do what was asked (a public key asked to
 * unwrap, no default material to wrap). Code: `KEY_INVALID`.
 *
 * An unusable key makes wrapping and unwrapping fail alike, so a `KeyInvalidError` is also
 * `instanceof KeyWrapError` and `instanceof KeyUnwrapError`: a handler written for either sees it.
 * @example
 *   try { rsaKeyWrapper({ privateKey: pem }) }
 *   catch (err) { if (err instanceof KeyInvalidError) console.error('check the key file:', err.message) }
 */
export class KeyInvalidError extends OssCryptoError {}

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
 * A multipart rule was broken: part size, part number or part length (docs/FORMAT.md §5). Code: `PART_INVALID`.
 * @example
 *   catch (err) { if (err instanceof PartError) console.error(err.message); } // e.g. which part numbers are missing
 */
export class PartError extends OssCryptoError {}

/**
 * A checkpoint is malformed or no longer matches the file, the plan or the upload.
 * Codes: `CHECKPOINT_MALFORMED`, `CHECKPOINT_MISMATCH`, `CHECKPOINT_UNSAFE` (a checkpoint file others could have
 * written: whoever can edit a checkpoint chooses the key the rest of the upload is encrypted under).
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
 * Thrown before any request. Code: `OPERATION_UNSUPPORTED`; and for a rewrite in place of an object already in the
 * target state, `OBJECT_ENCRYPTED` (encryptExisting) / `OBJECT_NOT_ENCRYPTED` (decryptExisting).
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

/**
 * The one class of each code. The constructors enforce it, and test/errors.test.ts checks every throw site in
 * bindings/ against it.
 * @example
 *   ERROR_CLASS_OF_CODE.KEY_INVALID === KeyInvalidError // true
 *   err instanceof ERROR_CLASS_OF_CODE[err.code]        // true for every OssCryptoError
 */
export const ERROR_CLASS_OF_CODE: Readonly<Record<OssCryptoErrorCode, abstract new (...args: never[]) => OssCryptoError>> = Object.freeze({
  META_MISSING: MetadataError,
  META_MALFORMED: MetadataError,
  META_UNSUPPORTED: MetadataError,
  KEY_NO_MATCH: KeyUnwrapError,
  KEY_UNWRAP_FAILED: KeyUnwrapError,
  KEY_WRAP_FAILED: KeyWrapError,
  KEY_INVALID: KeyInvalidError,
  KMS_ERROR: KmsError,
  INTEGRITY_LENGTH: IntegrityError,
  INTEGRITY_MD5: IntegrityError,
  INTEGRITY_CRC64: IntegrityError,
  INTEGRITY_RANGE: IntegrityError,
  INTEGRITY_TRUNCATED: IntegrityError,
  OBJECT_CHANGED: IntegrityError,
  COMMITMENT_MISMATCH: IntegrityError,
  COMMITMENT_MISSING: IntegrityError,
  PART_INVALID: PartError,
  CHECKPOINT_MALFORMED: CheckpointError,
  CHECKPOINT_MISMATCH: CheckpointError,
  CHECKPOINT_UNSAFE: CheckpointError,
  PLAINTEXT_REJECTED: PlaintextObjectError,
  OPERATION_UNSUPPORTED: UnsupportedOperationError,
  OBJECT_ENCRYPTED: UnsupportedOperationError,
  OBJECT_NOT_ENCRYPTED: UnsupportedOperationError,
  WASM_CORE: WasmCoreError,
});

/**
 * The same failure told with more context: an error of the same class and code whose message is `message` and
 * whose `cause` is `err`, so nothing of the original is lost.
 * @param err the error to wrap
 * @param message the new message (typically where it happened, then `err.message`)
 * @returns a new error of `err`'s class
 * @example
 *   catch (err) {
 *     if (err instanceof OssCryptoError) throw withMessage(err, `--rsa-private-key "k.pem": ${err.message}`);
 *   }
 */
export function withMessage(err: OssCryptoError, message: string): OssCryptoError {
  if (err instanceof KmsError) {
    return new KmsError(message, { kmsCode: err.kmsCode, requestId: err.requestId, status: err.status }, { cause: err });
  }
  const Class = ERROR_CLASS_OF_CODE[err.code] as unknown as new (code: OssCryptoErrorCode, message: string, options?: { cause?: unknown }) => OssCryptoError;
  return new Class(err.code, message, { cause: err });
}

/** `instanceof` by the prototype chain alone, for the widened `Symbol.hasInstance` checks above. */
function isInstance(Class: abstract new (...args: never[]) => unknown, value: unknown): boolean {
  return Object.prototype.isPrototypeOf.call(Class.prototype, value as object);
}
