/**
 * Writing a small file (a checkpoint) so that a reader sees either the previous version or the new one, never a
 * torn or empty file, even after a crash or power loss: write a sibling temporary file, flush it to disk, then
 * rename it over the target (atomic on POSIX file systems). The file is created with mode 0600. Node-only.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Replaces `path` with `text` atomically (temporary sibling, fsync, rename).
 * @example
 *   await writeFileAtomically('upload.cp.json', serializeUploadCheckpoint(cp));
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    // 0600: a checkpoint names the key an upload continues with; only its owner may read or write it.
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(text, 'utf8');
      // Without this a crash soon after the rename can leave an empty file under the final name.
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}
