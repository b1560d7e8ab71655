/**
 * The WebAssembly AES-256-CTR core: its whole ABI, numbers only (STYLE.md §C).
 *
 *   KEY, CTR, IO   addresses of the 32-byte key, the 16-byte counter block and the IO window
 *   IO_BYTES       size of the IO window
 *   ctrXor(len, skip)  XOR the keystream into IO[0..len) in place (ctr.ts)
 *   wipe(ioBytes)  zero KEY, CTR, the scratch areas and IO[0..ioBytes)
 *   CRC_STATE, crc64Update(len)  CRC-64/XZ register window, and run it over IO[0..len) (crc64.ts)
 *
 * The core keeps no state between calls that a call depends on: JS writes KEY and CTR (or CRC_STATE) before
 * every call, so any number of JS streams can share one instance.
 */
export { KEY, CTR, IO, IO_BYTES } from './windows';
export { ctrXor, wipe } from './ctr';
export { CRC_STATE, crc64Update } from './crc64';
