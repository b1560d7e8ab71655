/**
 * The name of the JavaScript runtime the library runs in, for the messages of features one runtime lacks
 * ("multipartUpload from a file path needs a file system; Cloudflare Workers has none"). Read from
 * `navigator.userAgent`, which browsers, Workers, Deno, Bun and Node 21+ set; never used to choose behaviour.
 * @module
 */

/**
 * A short name of the current runtime: `Node.js`, `Deno`, `Bun`, `Cloudflare Workers`, `a browser`, or
 * `this runtime` when it does not say.
 * @example
 *   throw new TypeError(`file paths are not supported in ${runtimeName()}`);
 */
export function runtimeName(): string {
  const agent = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  if (typeof agent !== 'string' || agent === '') return 'this runtime';
  if (agent === 'Cloudflare-Workers') return 'Cloudflare Workers';
  for (const name of ['Node.js', 'Deno', 'Bun']) if (agent.startsWith(`${name}/`)) return name;
  return /Mozilla\//.test(agent) ? 'a browser' : agent;
}
