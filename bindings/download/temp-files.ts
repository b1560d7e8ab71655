/**
 * The files of a resumable download besides the target: the temporary file the parts are written into (named
 * beside the target, checked before a resume trusts it, written and read at exact offsets) and the checkpoint
 * file (read and re-validated). The checkpoint file is written by checkpoint/atomic-file.ts.
 *
 * Deliberately not here: what goes into the files (download-run.ts).
 * @module
 */
import { refuseUntrustedCheckpoint } from '../checkpoint/file-trust.js';
import { randomBytes } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import { parseDownloadCheckpoint, type DownloadCheckpoint } from './checkpoint.js';

const TEMP_SUFFIX = /^\.oss-crypto-[0-9a-f]{12}\.tmp$/;

/**
 * The checkpoint in `path`, validated; `undefined` when there is no such file.
 * @example
 *   const saved = await readCheckpointFile('/tmp/a.cp.json');
 */
export async function readCheckpointFile(path: string): Promise<DownloadCheckpoint | undefined> {
  let text: string;
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    // The checkpoint names the temporary file plaintext is written into: another user's must not choose it.
    await refuseUntrustedCheckpoint(file, path);
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  try {
    return parseDownloadCheckpoint(text);
  } catch (err) {
    if (err instanceof CheckpointError) {
      throw new CheckpointError(err.code, `${err.message} (checkpoint file ${path})`, { cause: err });
    }
    throw err;
  }
}

/**
 * A checkpoint handed back by a caller, validated as strictly as one read from a file.
 * @example
 *   const saved = revalidate(err.checkpoint);
 */
export function revalidate(checkpoint: DownloadCheckpoint): DownloadCheckpoint {
  return parseDownloadCheckpoint(JSON.stringify(checkpoint));
}

/**
 * Refuses a checkpoint whose temporary file is not ours for this target, is gone, or has the wrong size.
 * @example
 *   await checkTempFile(saved, '/data/big.iso');
 */
export async function checkTempFile(saved: DownloadCheckpoint, target: string): Promise<void> {
  const temp = resolve(saved.tempPath);
  const base = basename(target);
  const name = basename(temp);
  // Only a file named as we name them, next to this target: a checkpoint never points us at another file.
  if (dirname(temp) !== dirname(target) || !name.startsWith(base) || !TEMP_SUFFIX.test(name.slice(base.length))) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint's temporary file ${saved.tempPath} was not made for ${target}; a checkpoint resumes only the download it was made for`,
    );
  }
  let size: number;
  try {
    size = (await stat(temp)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint lists ${saved.doneParts.length} downloaded parts in ${saved.tempPath}, which no longer exists; delete the checkpoint to start over`,
    );
  }
  if (size !== saved.totalSize) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the temporary file ${saved.tempPath} is ${size} bytes, the checkpoint expects ${saved.totalSize} (the object size); ` +
        `it was modified since. Delete the checkpoint to start over`,
    );
  }
}

/**
 * A fresh temporary file name beside `target`.
 * @example
 *   tempPathFor('/data/big.iso') // '/data/big.iso.oss-crypto-0123456789ab.tmp'
 */
export function tempPathFor(target: string): string {
  return `${target}.oss-crypto-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Fills `into` from `position`, refusing a file that ends first.
 * @example
 *   await readFully(file, view, at);
 */
export async function readFully(file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new CheckpointError('CHECKPOINT_MISMATCH', `the temporary file ended at byte ${position + done}, before the recorded part`);
    done += bytesRead;
  }
}
