/**
 * Where the fetch transports get their access key: a fixed pair, or an async provider (STS) that is asked
 * again shortly before the key it gave expires, so a long transfer keeps signing with a valid key.
 * @module
 */

/** An access key pair; with `securityToken` it is a temporary (STS) key. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** What a provider answers: a key pair and, for STS, when it stops working (Date, ISO text or epoch ms). */
export interface ProvidedCredentials extends Credentials {
  readonly expiration?: Date | string | number;
}

/** A fixed key pair, or a provider called on first use and again before `expiration`. */
export type CredentialsInput = Credentials | (() => Promise<ProvidedCredentials>);

/** How long before a provided key's expiration the provider is asked again. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Turns a {@link CredentialsInput} into a function that returns a key valid now; concurrent callers share one
 * provider call.
 * @throws {TypeError} when the input is neither a key pair nor a function, or a provider answers without one
 * @example
 *   const current = credentialSource(async () => fetchStsToken());
 *   const { accessKeyId } = await current();
 */
export function credentialSource(input: CredentialsInput, now: () => number = Date.now): () => Promise<Credentials> {
  if (typeof input === 'function') {
    let cached: { credentials: Credentials; refreshAt: number } | undefined;
    let pending: Promise<Credentials> | undefined;
    return () => {
      if (cached !== undefined && now() < cached.refreshAt) return Promise.resolve(cached.credentials);
      pending ??= (async () => {
        try {
          const provided = checkCredentials(await input(), 'the credentials provider answered');
          const expiry = expiryOf(provided.expiration);
          cached = { credentials: provided, refreshAt: expiry === undefined ? Infinity : expiry - REFRESH_MARGIN_MS };
          return provided;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    };
  }
  const fixed = checkCredentials(input, '"credentials"');
  return () => Promise.resolve(fixed);
}

function checkCredentials<T extends Credentials>(value: T, what: string): T {
  if (value === null || typeof value !== 'object') throw new TypeError(`${what}: expected { accessKeyId, accessKeySecret, securityToken? }, got ${value === null ? 'null' : typeof value}`);
  for (const field of ['accessKeyId', 'accessKeySecret'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') throw new TypeError(`${what}: "${field}" expected a non-empty string`);
  }
  if (value.securityToken !== undefined && typeof value.securityToken !== 'string') throw new TypeError(`${what}: "securityToken" expected a string`);
  return value;
}

function expiryOf(expiration: ProvidedCredentials['expiration']): number | undefined {
  if (expiration === undefined) return undefined;
  const ms = expiration instanceof Date ? expiration.getTime() : typeof expiration === 'number' ? expiration : Date.parse(expiration);
  return Number.isFinite(ms) ? ms : undefined;
}
