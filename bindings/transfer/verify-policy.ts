/**
 * What a reader demands of an object's recorded plaintext length and MD5 (issue 12 §4): the `verify` option, and
 * the one parser of a recorded `unencrypted-content-md5` that readers share.
 *
 * By default both checks run when the object records a value and are skipped when it does not (docs/FORMAT.md §2: the
 * fields are optional, and oss2, Go, Java and C++ write them only when their caller asks). `verify: { length:
 * 'require' }` refuses an encrypted object that records neither `unencrypted-content-length` nor `data-size`;
 * `verify: { md5: 'require' }` one without `unencrypted-content-md5`. Both refuse before any key is unwrapped
 * (`META_MISSING`). A recorded MD5 that is neither 32 hex digits nor 24 base64 characters can never be checked,
 * so it is `META_MALFORMED` instead of a silently skipped check. The MD5 is checked on whole-object reads (get
 * without Range, getStream, resumableDownload); a byte range cannot be, whatever the policy.
 * @module
 */
import type { Envelope } from '../envelope/codec.js';
import { MetadataError } from '../errors.js';
import { md5Bytes } from './metadata.js';

/**
 * The `verify` option: `check` (default) checks what is recorded; `require` also refuses objects that record nothing.
 * @example
 *   const client = new CryptoClient(oss, { material, verify: { length: 'require', md5: 'require' } satisfies VerifyPolicy });
 */
export interface VerifyPolicy {
  readonly length: 'check' | 'require';
  readonly md5: 'check' | 'require';
}

const DEFAULT_POLICY: VerifyPolicy = Object.freeze({ length: 'check', md5: 'check' });

/**
 * Checks and defaults the `verify` option.
 * @param value the caller's option
 * @throws {TypeError} when it is not an object; {RangeError} for a field that is not `check` or `require`
 * @example
 *   resolveVerifyPolicy({ md5: 'require' }) // { length: 'check', md5: 'require' }
 */
export function resolveVerifyPolicy(value: unknown): VerifyPolicy {
  if (value === undefined) return DEFAULT_POLICY;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`"verify" expected an object such as { length: 'require', md5: 'require' }, got ${value === null ? 'null' : typeof value}`);
  }
  const out: Record<string, string> = {};
  for (const field of ['length', 'md5'] as const) {
    const v = (value as Record<string, unknown>)[field] ?? 'check';
    if (v !== 'check' && v !== 'require') throw new RangeError(`"verify.${field}" expected 'check' or 'require', got ${JSON.stringify(v)}`);
    out[field] = v;
  }
  for (const k of Object.keys(value)) {
    if (k !== 'length' && k !== 'md5') throw new RangeError(`"verify" has no option ${JSON.stringify(k)} (only length and md5)`);
  }
  return Object.freeze(out) as unknown as VerifyPolicy;
}

/**
 * Refuses an encrypted object that lacks what the policy requires; returns its recorded MD5 as bytes.
 * @param policy the client's policy (undefined: the default)
 * @param name the object key, for messages
 * @param env the decoded envelope
 * @returns the recorded MD5 (16 bytes), or undefined when none is recorded
 * @throws {MetadataError} `META_MISSING` for a required field that is absent; `META_MALFORMED` for a recorded MD5
 *   in neither hex nor base64
 * @example
 *   const md5 = checkRecorded(ctx.verify, name, env); // before unwrapping
 */
export function checkRecorded(policy: VerifyPolicy | undefined, name: string, env: Envelope): Uint8Array | undefined {
  const p = policy ?? DEFAULT_POLICY;
  if (p.length === 'require' && env.unencryptedContentLength === undefined && env.dataSize === undefined) {
    throw new MetadataError(
      'META_MISSING',
      `object ${JSON.stringify(name)} records no plaintext length (unencrypted-content-length or data-size) and the ` +
        "client's verify.length policy is 'require'; its length cannot be checked",
    );
  }
  if (env.unencryptedContentMd5 === undefined) {
    if (p.md5 === 'require') {
      throw new MetadataError(
        'META_MISSING',
        `object ${JSON.stringify(name)} records no unencrypted-content-md5 and the client's verify.md5 policy is ` +
          "'require'; its content cannot be checked",
      );
    }
    return undefined;
  }
  const bytes = md5Bytes(env.unencryptedContentMd5);
  if (bytes === undefined) {
    throw new MetadataError(
      'META_MALFORMED',
      `object ${JSON.stringify(name)}: its unencrypted-content-md5 is neither 32 hex digits nor 24 base64 characters, ` +
        'so the MD5 check cannot run; the metadata was altered or written by a tool that stored something else',
    );
  }
  return bytes;
}
