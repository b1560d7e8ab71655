/**
 * Whether a checkpoint file on disk may be trusted: a checkpoint holds the wrapped key and the upload id the rest of
 * an upload continues with, so whoever can write it chooses the key (docs/ARCHITECTURE.md §7). A file that another
 * user owns, or that its group or everyone may write, is refused before it is read. POSIX only: on Windows, where
 * mode bits and uids do not describe access, nothing is checked. Node-only.
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';

/**
 * Refuses an open checkpoint file that is not the caller's own or that others may write.
 * @param file the opened file (checked through its handle, so a rename between check and read cannot swap it)
 * @param path the path, for the message
 * @throws {CheckpointError} CHECKPOINT_UNSAFE when the file is group- or world-writable or owned by another user
 * @example
 *   const file = await open(path, 'r');
 *   await refuseUntrustedCheckpoint(file, path);
 *   const text = await file.readFile('utf8');
 */
export async function refuseUntrustedCheckpoint(file: FileHandle, path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const stat = await file.stat();
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stat.uid !== uid) {
    throw new CheckpointError(
      'CHECKPOINT_UNSAFE',
      `the checkpoint file ${path} belongs to another user (uid ${stat.uid}, not ${uid}): whoever writes a checkpoint chooses the ` +
        'key an upload continues with, so it is not resumed; remove it and start again',
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    throw new CheckpointError(
      'CHECKPOINT_UNSAFE',
      `the checkpoint file ${path} is writable by its group or by everyone (mode ${(stat.mode & 0o777).toString(8)}): whoever writes a ` +
        'checkpoint chooses the key an upload continues with, so it is not resumed; check it, chmod 600, and retry',
    );
  }
}
