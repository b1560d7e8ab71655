/**
 * The one-word code a bulk job reports for a failed object: the library's stable code, an OSS code from the
 * object store's client (`NoSuchKey`, `AccessDenied`), a system code (`ECONNRESET`), or `ERROR`.
 *
 * Deliberately not here: messages (report.ts keeps the error's message beside the code).
 * @module
 */
import { OssCryptoError } from '../errors.js';

/**
 * The code to report for `err`.
 * @example
 *   failureCode(new IntegrityError('INTEGRITY_MD5', '...')) // 'INTEGRITY_MD5'
 */
export function failureCode(err: unknown): string {
  if (err instanceof OssCryptoError) return err.code;
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e !== null && typeof e === 'object') {
    if (e.name === 'cancel' || e.name === 'AbortError') return 'CANCELLED';
    if (typeof e.code === 'string' && /^[A-Za-z][\w.-]*$/.test(e.code)) return e.code;
  }
  return 'ERROR';
}

/**
 * The message to report for `err` (one line).
 * @example
 *   failureMessage(new Error('a\nb')) // 'a b'
 */
export function failureMessage(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String((err as { message?: unknown } | null)?.message ?? err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
