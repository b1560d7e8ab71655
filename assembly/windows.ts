/**
 * The static memory windows of the core: what JS writes before a call and reads after it, plus the core's own
 * scratch areas. No allocation happens after start-up (runtime `stub`); every address here is fixed at
 * compile time.
 *
 * Layout: the small windows live in the first 64 KiB page (static data); IO is the whole second page, so the
 * module needs exactly two pages and never grows.
 */

/** Bytes in the IO window: the most `ctrXor` transforms per call. A multiple of the 128-byte batch. */
export const IO_BYTES: u32 = 65536;

/** The IO window: `ctrXor(len, skip)` XORs the keystream into `IO[0..len)` in place. */
export const IO: usize = 65536;

/** The 32-byte AES-256 key, written by JS before every call; `ctrXor` zeroes it when it returns. */
export const KEY: usize = memory.data(32, 16);

/**
 * The 16-byte counter block (big-endian 128-bit integer) of the first keystream block of a call. `ctrXor`
 * leaves in it the counter block of the byte right after the last byte it transformed.
 */
export const CTR: usize = memory.data(16, 16);

// Key material and keystream below: zeroed at the end of every `ctrXor` and by `wipe`.

/** Bitsliced round keys: 15 rounds x 8 bit-planes x 16 bytes (see aes.ts for the plane layout). */
export const ROUND_KEYS: usize = memory.data(15 * 128, 16);
/** The FIPS-197 expanded key as bytes: 60 words, 240 bytes. */
export const SCHEDULE: usize = memory.data(240, 16);
/** One batch of keystream (8 blocks) for a partial batch at the start or end of a call. */
export const SCRATCH: usize = memory.data(128, 16);

/** Zeroes every area that holds key material or keystream (not IO, not CTR). */
export function wipeSecrets(): void {
  memory.fill(KEY, 0, 32);
  memory.fill(ROUND_KEYS, 0, 15 * 128);
  memory.fill(SCHEDULE, 0, 240);
  memory.fill(SCRATCH, 0, 128);
}

// IO sits above the static data and the (unused) heap; the module starts with two pages.
assert(__heap_base <= IO, 'static data overlaps the IO window');
assert(<usize>memory.size() << 16 >= IO + IO_BYTES, 'memory too small for the IO window');
