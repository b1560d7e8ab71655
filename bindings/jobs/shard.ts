/**
 * Shards of a bulk job: `--shard I/N` makes a process take only the keys whose hash modulo N is I, so N processes
 * (machines, containers, the pods of a Kubernetes Indexed Job with `I = $JOB_COMPLETION_INDEX`) split one listing
 * with no coordination and no overlap. The hash is FNV-1a (32-bit) over the key's UTF-8 bytes: stable across
 * processes, runtimes and releases, cheap, and simple enough to reproduce in any language.
 *
 * Pure: no I/O. Deliberately not here: the listing and the job loop (run-job.ts).
 * @module
 */

/**
 * One shard of N: this process takes the keys with `shardOfKey(key, count) === index`.
 * @example
 *   const shard: Shard = { index: 0, count: 3 };
 */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** More shards than this is a typo, not a plan (OSS lists 1000 keys a page; a shard per key is pointless). */
export const MAX_SHARDS = 1_000_000;

const encoder = new TextEncoder();

/**
 * Parses `I/N` (0 ≤ I < N ≤ 1,000,000).
 * @param text the flag's value, e.g. `'2/8'`
 * @returns the shard
 * @throws {RangeError} when the text is not `I/N` with integers in range
 * @example
 *   parseShard('1/3') // { index: 1, count: 3 }
 */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,7})\/(\d{1,7})$/.exec(text);
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!(count >= 1 && count <= MAX_SHARDS && index >= 0 && index < count)) {
    throw new RangeError(`a shard is I/N with 0 <= I < N <= ${MAX_SHARDS}, got "${text}"`);
  }
  return { index, count };
}

/**
 * The shard a key belongs to: FNV-1a 32-bit of its UTF-8 bytes, modulo `count`.
 * @param key the object key
 * @param count the number of shards (≥ 1)
 * @returns an integer in [0, count)
 * @example
 *   shardOfKey('photos/a.jpg', 3) // the same number in every process, every run
 */
export function shardOfKey(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/**
 * Whether `key` is this shard's (every key is when no shard is given).
 * @example
 *   if (!inShard(object.key, shard)) continue;
 */
export function inShard(key: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOfKey(key, shard.count) === shard.index;
}

/**
 * The shard as its flag spells it.
 * @example
 *   formatShard({ index: 1, count: 3 }) // '1/3'
 */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
