/**
 * The client's key-commitment policy (issue 12 §5): when writers add the commitment header, and what readers do
 * with it. The construction itself is envelope/commitment.ts.
 *
 * - `verify` (default): writers add nothing; readers check a commitment whenever an object carries one.
 * - `write`: writers add it to every new object (put, putStream, multipart); readers as `verify`.
 * - `require`: as `write`, and readers refuse an encrypted object without one, before any key is unwrapped.
 *
 * Every failed check is one error, `COMMITMENT_MISMATCH`, whatever the cause (an edited field, a swapped or
 * pasted wrapped key, a wrong key, a malformed or duplicated header, and, for a committed object, an RSA unwrap
 * that fails): a reader learns nothing more from it than "this envelope is not what its writer committed to".
 * @module
 */
import { commitmentFromHeaders, commitmentMatches, computeCommitment, COMMITMENT_HEADER } from '../envelope/commitment.js';
import type { Envelope, HeadersInput } from '../envelope/codec.js';
import { metaKey } from '../envelope/headers.js';
import { WRAP_ALG } from '../envelope/headers.js';
import { IntegrityError, KeyUnwrapError } from '../errors.js';
import { randomBytes } from '../keys/random.js';
import type { ContentKey } from '../envelope/types.js';

/**
 * What the client does with key commitments; see the module comment.
 * @example
 *   const client = new CryptoClient(oss, { material, commitment: 'write' satisfies CommitmentPolicy });
 */
export type CommitmentPolicy = 'verify' | 'write' | 'require';

const POLICIES: readonly CommitmentPolicy[] = ['verify', 'write', 'require'];
const RSA_WRAP_ALGS: readonly string[] = [WRAP_ALG.rsaPkcs1, WRAP_ALG.rsaOaep, WRAP_ALG.v1Rsa];

/**
 * Checks and defaults the `commitment` option.
 * @param value the caller's option (undefined → `verify`)
 * @throws {RangeError} for anything but the three policies
 * @example
 *   resolveCommitmentPolicy(undefined) // 'verify'
 */
export function resolveCommitmentPolicy(value: unknown): CommitmentPolicy {
  if (value === undefined) return 'verify';
  if (!POLICIES.includes(value as CommitmentPolicy)) {
    throw new RangeError(`"commitment" expected one of ${POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as CommitmentPolicy;
}

/**
 * The ali-oss `meta` entry a writer adds for `env` (empty under `verify`).
 * @param policy the client's policy (`ctx.commitment`; undefined means `verify`)
 * @param content the new object's content key and IV
 * @param env the envelope the object will carry, exactly as written
 * @example
 *   const meta = { ...userMeta, ...metaFromEnvelope(env), ...(await commitmentMeta(ctx.commitment, content, env)) };
 */
export async function commitmentMeta(
  policy: CommitmentPolicy | undefined,
  content: ContentKey,
  env: Envelope,
): Promise<Record<string, string>> {
  if (policy !== 'write' && policy !== 'require') return {};
  return { [metaKey(COMMITMENT_HEADER)]: await computeCommitment(content, env) };
}

/**
 * Unwraps an object's content key under the policy: refuses an uncommitted object under `require` before
 * `unwrap` runs, and checks a present commitment after it. On a mismatch the unwrapped key is wiped when
 * `wipeOnMismatch` (callers that cache it wipe their own).
 * @param policy the client's policy
 * @param name the object key, for messages
 * @param headers the object's response headers
 * @param env the decoded envelope
 * @param unwrap the caller's unwrap (a cache, the key ring)
 * @returns the content key
 * @throws {IntegrityError} `COMMITMENT_MISSING` under `require` for an object without one; `COMMITMENT_MISMATCH`
 *   when the commitment does not match, or (object committed) the RSA unwrap failed with `KEY_UNWRAP_FAILED`
 * @throws whatever `unwrap` throws otherwise (e.g. `KEY_NO_MATCH`, `KmsError`)
 * @example
 *   const content = await unwrapCommitted(ctx.commitment, name, res.headers, env, () => ctx.keyring.unwrap(env.wrapped));
 */
export async function unwrapCommitted(
  policy: CommitmentPolicy | undefined,
  name: string,
  headers: HeadersInput,
  env: Envelope,
  unwrap: () => Promise<ContentKey>,
  wipeOnMismatch = true,
): Promise<ContentKey> {
  const value = commitmentFromHeaders(headers);
  if (value === undefined) {
    if (policy === 'require') {
      throw new IntegrityError(
        'COMMITMENT_MISSING',
        `object ${JSON.stringify(name)} carries no key commitment (${COMMITMENT_HEADER}) and the client's commitment ` +
          "policy is 'require'; it was written without commitment: 'write', or the header was removed",
      );
    }
    return unwrap();
  }
  // A committed object whose RSA unwrap fails is reported exactly like one whose commitment fails, after the same
  // commitment computation (under a random key): neither the error nor the work tells a padding failure from any
  // other edit of the envelope (issue 12 §2, implicit rejection at the client for committed objects).
  let content: ContentKey;
  let unwrapFailed = false;
  try {
    content = await unwrap();
  } catch (err) {
    if (!(err instanceof KeyUnwrapError && err.code === 'KEY_UNWRAP_FAILED' && RSA_WRAP_ALGS.includes(env.wrapped.wrapAlg))) throw err;
    unwrapFailed = true;
    content = { key: randomBytes(32), iv: randomBytes(16) };
  }
  const matches = value !== null && (await commitmentMatches(content, env, value));
  if (unwrapFailed || !matches) {
    if (wipeOnMismatch || unwrapFailed) {
      content.key.fill(0);
      content.iv.fill(0);
    }
    throw new IntegrityError(
      'COMMITMENT_MISMATCH',
      `object ${JSON.stringify(name)}: its key commitment does not match its encryption metadata and content key; ` +
        'the metadata was altered, the wrapped key belongs to another object, or the key is wrong. Nothing was decrypted',
    );
  }
  return content;
}
