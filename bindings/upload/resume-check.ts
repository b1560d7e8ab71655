/**
 * Whether a checkpoint may be resumed against the upload it names: its envelope (wrap-alg, wrapped key, wrapped
 * start, cek-alg, data size, part size) must be the one OSS holds for that upload, as ListParts reports it in the
 * `ClientEncryption*` fields of a client-side-encrypted upload (docs/ARCHITECTURE.md §7). Without this, whoever can
 * edit a checkpoint chooses the key the rest of the upload is encrypted under (a planted wrapped key, a planted
 * upload initiated under the attacker's key, an upload id of a plain upload); with it, a checkpoint can only
 * continue the upload it was written for.
 *
 * When ListParts reports none of the fields, the upload is not known to be client-side encrypted (a plain upload,
 * or a server that does not report them): resuming is refused, fail closed, and a new upload must be started. A
 * field that is missing while others are present is refused the same way.
 *
 * Deliberately not here: the checks against the source file (run-rules.ts), the unwrap (upload-run.ts).
 * @module
 */
import { ENVELOPE_HEADERS } from '../envelope/headers.js';
import { CheckpointError } from '../errors.js';
import type { ListPartsEncryption } from '../oss/object-store.js';
import { wrappedKeyOf, type UploadCheckpoint } from './checkpoint.js';
import { uploadEnvelopeHeaders } from './part-requests.js';

/** ListParts field → the header it reports, and the name a message gives it. */
const COMPARED: ReadonlyArray<readonly [keyof ListPartsEncryption, string, string]> = [
  ['wrapAlg', ENVELOPE_HEADERS.v2.wrapAlg, 'wrap-alg'],
  ['key', ENVELOPE_HEADERS.v2.key, 'wrapped key'],
  ['start', ENVELOPE_HEADERS.v2.start, 'wrapped start'],
  ['cekAlg', ENVELOPE_HEADERS.v2.cekAlg, 'cek-alg'],
  ['dataSize', ENVELOPE_HEADERS.v2.dataSize, 'data size'],
  ['partSize', ENVELOPE_HEADERS.v2.partSize, 'part size'],
];

/**
 * Refuses a checkpoint whose envelope is not the one ListParts reports for its upload.
 * @param cp the checkpoint to resume
 * @param reported the `clientEncryption` of the upload's ListParts (first page), or undefined when it had none
 * @throws {CheckpointError} CHECKPOINT_MISMATCH naming the first field that differs or is not reported
 * @example
 *   checkUploadEnvelope(cp, firstPage.clientEncryption);
 */
export function checkUploadEnvelope(cp: UploadCheckpoint, reported: ListPartsEncryption | undefined): void {
  const upload = `upload ${JSON.stringify(cp.uploadId)} of ${JSON.stringify(cp.name)}`;
  if (reported === undefined) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `ListParts reports no client-side encryption for the checkpoint's ${upload}: it is not an encrypted upload (or the ` +
        'server does not say), so nothing ties the checkpoint\'s key to it; refusing to resume: start a new upload without the checkpoint',
    );
  }
  const expected = uploadEnvelopeHeaders(wrappedKeyOf(cp), cp);
  for (const [field, header, label] of COMPARED) {
    const value = reported[field];
    if (value === undefined) {
      throw new CheckpointError('CHECKPOINT_MISMATCH', `ListParts does not report the ${label} of the checkpoint's ${upload}; refusing to resume an upload whose ${label} cannot be checked`);
    }
    if (value !== expected[header]) {
      // Values are not quoted: a wrapped key is not secret, but the message needs only which field differs.
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint's ${label} differs from the one OSS holds for its ${upload} (ListParts): the checkpoint was not written ` +
          'for this upload, or was edited; refusing to resume (whoever edits a checkpoint would choose the key)',
      );
    }
  }
}
