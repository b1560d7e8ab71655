/**
 * The ali-oss operations that cannot work on client-side-encrypted objects, refused with
 * `UnsupportedOperationError` (OPERATION_UNSUPPORTED) before any request is made.
 *
 * Each reason is about the format (docs/FORMAT.md §1, §2): the server only ever sees ciphertext, and the
 * encryption metadata lives in the object's user metadata. So anything that makes the server read the
 * content (image/video processing, SelectObject, processObjectSave) would work on ciphertext; anything that
 * writes content the client did not encrypt (append, a signed PUT URL) stores plaintext or a body whose
 * metadata cannot be kept consistent; UploadPartCopy from an encrypted source splices ciphertext of another
 * key into an upload whose own key and counters differ.
 *
 * Deliberately not here: the checks that need the object (UploadPartCopy's source HEAD lives in the facade).
 * @module
 */
import { UnsupportedOperationError } from '../errors.js';

/**
 * Why each refused operation cannot be combined with client-side encryption.
 * @example
 *   console.log(REFUSED_REASONS.append); // the message cryptoClient.append() rejects with
 */
export const REFUSED_REASONS = Object.freeze({
  append:
    'append() cannot be used with client-side encryption: an appendable object has no place for the key metadata ' +
    'of later chunks, and appending re-keyed ciphertext would corrupt it; write the whole object with put(), ' +
    'putStream() or multipartUpload()',
  signatureUrlPut:
    'a signed URL for PUT/POST would let a client upload without encrypting (no key, no metadata); upload through ' +
    'CryptoClient.put() instead. GET/HEAD URLs are allowed, and serve ciphertext',
  process:
    'image/video processing (the "process" option or x-oss-process) runs on the server, which only has ciphertext; ' +
    'download with get() and process locally',
  processObjectSave:
    'processObjectSave() makes the server process and re-save the object, but the server only has ciphertext',
  selectObject: 'selectObject() makes the server scan the content (SQL), but the server only has ciphertext',
  uploadPartCopy:
    'uploadPartCopy() from an encrypted source would splice ciphertext made with another key and counter into ' +
    'this upload; download and re-upload the range instead',
  selectObjectMeta: 'createSelectObjectMeta() makes the server scan the content, but the server only has ciphertext',
  changeMetaInPlace:
    'OSS forbids changing the metadata of a client-side-encrypted object in place (CopyObject onto itself with new ' +
    'metadata is refused with error 0005-00000421); pass { rewrite: true } to write the object again from its own ' +
    'ciphertext (no decryption; same wrapped key, new metadata)',
} as const);

/**
 * Throws the typed refusal for `operation`.
 * @param operation the ali-oss method name, for the message
 * @param reason one of {@link REFUSED_REASONS} (or a specific explanation)
 * @throws {UnsupportedOperationError} always (code OPERATION_UNSUPPORTED)
 * @example
 *   append() { return Promise.reject(refusal('append', REFUSED_REASONS.append)); }
 */
export function refuse(operation: string, reason: string): never {
  throw refusal(operation, reason);
}

/**
 * The typed refusal for `operation`, for promise-returning methods that must reject rather than throw.
 * @example
 *   return Promise.reject(refusal('selectObject', REFUSED_REASONS.selectObject));
 */
export function refusal(operation: string, reason: string): UnsupportedOperationError {
  return new UnsupportedOperationError('OPERATION_UNSUPPORTED', `${operation}: ${reason}`);
}

/**
 * Refuses server-side processing requested through ali-oss options: `process`, a `subres`/query
 * `x-oss-process`, or an `x-oss-process` header.
 * @param operation the method name, for the message
 * @param options the caller's ali-oss options (may be undefined)
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when processing is asked for
 * @example
 *   refuseProcessing('get', options); // before any request
 */
export function refuseProcessing(operation: string, options: Record<string, unknown> | undefined): void {
  if (!options) return;
  const ask = (value: unknown) => value !== undefined && value !== null && value !== '';
  if (ask(options.process)) refuse(operation, REFUSED_REASONS.process);
  for (const bag of [options.subres, options.query, options.headers]) {
    if (bag && typeof bag === 'object') {
      for (const key of Object.keys(bag)) {
        if (key.toLowerCase() === 'x-oss-process') refuse(operation, REFUSED_REASONS.process);
      }
    }
  }
}

/**
 * Refuses signed URLs that would upload (`method` other than GET/HEAD) or process (`process`).
 * @param operation the method name (`signatureUrl`, `asyncSignatureUrl`, `signatureUrlV4`)
 * @param method the HTTP method asked for (ali-oss default: GET)
 * @param options the caller's options, checked for `process` / `x-oss-process`
 * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED for PUT, POST, or processing
 * @example
 *   refuseSignedUpload('signatureUrl', options?.method, options);
 */
export function refuseSignedUpload(operation: string, method: unknown, options: Record<string, unknown> | undefined): void {
  const m = method === undefined || method === null ? 'GET' : String(method).toUpperCase();
  if (m !== 'GET' && m !== 'HEAD') refuse(operation, `method ${m}: ${REFUSED_REASONS.signatureUrlPut}`);
  refuseProcessing(operation, options);
  const response = options?.response;
  if (response && typeof response === 'object') refuseProcessing(operation, response as Record<string, unknown>);
}
