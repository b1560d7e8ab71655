/**
 * What OSS makes of a GET's Range and conditional headers (docs/FORMAT.md §4, §8), for the stand-in in
 * test/support/oss-server.ts. Pure functions of header values and object facts.
 * @module
 */
import { normalizeEtag, OssError } from './oss-store.js';

/**
 * OSS's reading of a Range header for an object of `size` bytes. Default behaviour: anything invalid or
 * unsatisfiable is ignored ('whole', 200). With `standard`: a start at or past the end (or any range of an
 * empty object) is 'unsatisfiable' (416), an end past the end is clamped. Only the first of several ranges
 * counts, as on OSS.
 */
export function resolveRange(header: string | undefined, size: number, standard: boolean): 'whole' | 'unsatisfiable' | { start: number; end: number } {
  if (header === undefined) return 'whole';
  const m = /^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*(?:,.*)?$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  const unsatisfiable = standard ? 'unsatisfiable' : 'whole';
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return unsatisfiable;
    if (n > size) return standard ? { start: 0, end: size - 1 } : 'whole';
    return { start: size - n, end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start && m[2] !== '') return 'whole';
  if (start >= size) return unsatisfiable;
  if (end >= size) return standard ? { start, end: size - 1 } : 'whole';
  return { start, end };
}

/**
 * If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304), with a name prefix for
 * CopyObject's `x-oss-copy-source-if-*`. Returns 304 when the caller should answer Not Modified.
 */
export function evaluateConditions(
  header: (name: string) => string | undefined,
  object: { etag: string; lastModified: Date },
  prefix: string,
): 304 | undefined {
  const etag = normalizeEtag(object.etag);
  const matches = (list: string) => list.split(',').some((t) => t.trim() === '*' || normalizeEtag(t) === etag);
  const modified = Math.floor(object.lastModified.getTime() / 1000) * 1000;
  const ifMatch = header(`${prefix}if-match`);
  if (ifMatch !== undefined && !matches(ifMatch)) throw preconditionFailed(`${prefix}If-Match`);
  const unmodifiedSince = dateHeader(header(`${prefix}if-unmodified-since`));
  if (ifMatch === undefined && unmodifiedSince !== undefined && modified > unmodifiedSince) {
    throw preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  const ifNoneMatch = header(`${prefix}if-none-match`);
  if (ifNoneMatch !== undefined && matches(ifNoneMatch)) return 304;
  const modifiedSince = dateHeader(header(`${prefix}if-modified-since`));
  if (ifNoneMatch === undefined && modifiedSince !== undefined && modified <= modifiedSince) return 304;
  return undefined;
}

function preconditionFailed(condition: string): OssError {
  return new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: condition });
}

function dateHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
