/**
 * The cancel error of a managed upload, in ali-oss's vocabulary (`name: 'cancel'`, `status: 0`) as a real Error
 * carrying the checkpoint to resume from, and the test for it.
 * @module
 */
import type { UploadCheckpoint } from './checkpoint.js';
import type { MultipartCancelError } from './managed-options.js';

/**
 * The rejection of a cancelled upload, carrying its checkpoint.
 * @example
 *   throw makeCancelError(name, checkpoint, signal.reason);
 */
export function makeCancelError(name: string, checkpoint: UploadCheckpoint | null, reason: unknown): MultipartCancelError {
  const err = new Error(
    `multipartUpload of ${JSON.stringify(name)} was cancelled; ` +
      (checkpoint === null ? 'no upload had been initiated yet' : `resume it with options.checkpoint (upload ${JSON.stringify(checkpoint.uploadId)}, ${checkpoint.doneParts.length} parts done)`),
    reason === undefined ? undefined : { cause: reason },
  ) as MultipartCancelError;
  err.name = 'cancel';
  err.status = 0;
  err.checkpoint = checkpoint;
  return err;
}

/**
 * True for the rejection of a cancelled upload.
 * @example
 *   catch (err) { if (isCancelError(err)) resumeLater(err.checkpoint); else throw err; }
 */
export function isCancelError(err: unknown): err is MultipartCancelError {
  return err instanceof Error && err.name === 'cancel' && (err as { status?: unknown }).status === 0;
}
