/**
 * The flag table of `oss-crypto`: every command, every flag, whether a flag takes a value or may repeat, and
 * which commands accept it. The parser (args.ts) enforces it; per-command help (usage.ts) filters by it.
 * @module
 */
import type { Command } from './command.js';

/**
 * Every command, in the order the usage lists them.
 * @example
 *   COMMANDS.includes('put'); // true
 */
export const COMMANDS: readonly Command[] = ['put', 'get', 'head', 'keygen', 'encrypt-existing', 'decrypt-existing', 'rewrap', 'verify', 'serve'];
/**
 * The commands that talk to OSS, and so take the connection and key flags.
 * @example
 *   REMOTE_COMMANDS.includes('keygen'); // false
 */
export const REMOTE_COMMANDS: readonly Command[] = ['put', 'get', 'head', 'encrypt-existing', 'decrypt-existing', 'rewrap', 'verify'];
/**
 * The jobs over every object under a prefix (bulk-args.ts parses them).
 * @example
 *   BULK_COMMANDS.includes('verify'); // true
 */
export const BULK_COMMANDS: readonly Command[] = ['encrypt-existing', 'decrypt-existing', 'rewrap', 'verify'];

/** What the table says about one flag. */
export interface FlagSpec {
  /** The flag takes a value (`--range -500`), rather than standing alone (`--quiet`). */
  readonly value: boolean;
  /** The flag may be given more than once (`--material`). */
  readonly repeat?: boolean;
  readonly commands: readonly Command[];
}

/**
 * Every long flag, without its leading `--`.
 * @example
 *   FLAGS['part-size'].commands; // ['put', 'get', 'encrypt-existing']
 */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  help: { value: false, commands: COMMANDS },
  version: { value: false, commands: COMMANDS },
  quiet: { value: false, commands: ['put', 'get', 'head', 'keygen', 'encrypt-existing', 'decrypt-existing', 'rewrap', 'verify'] },
  endpoint: { value: true, commands: REMOTE_COMMANDS },
  region: { value: true, commands: [...REMOTE_COMMANDS, 'serve'] },
  'rsa-public-key': { value: true, commands: REMOTE_COMMANDS },
  'rsa-private-key': { value: true, commands: REMOTE_COMMANDS },
  'rsa-padding': { value: true, commands: REMOTE_COMMANDS },
  'rsa-engine': { value: true, commands: REMOTE_COMMANDS },
  'kms-key-id': { value: true, commands: REMOTE_COMMANDS },
  'kms-region': { value: true, commands: REMOTE_COMMANDS },
  'kms-endpoint': { value: true, commands: REMOTE_COMMANDS },
  'kms-protocol': { value: true, commands: REMOTE_COMMANDS },
  'kms-passphrase': { value: true, commands: REMOTE_COMMANDS },
  'kms-passphrase-file': { value: true, commands: REMOTE_COMMANDS },
  'kms-blob-layout': { value: true, commands: REMOTE_COMMANDS },
  matdesc: { value: true, commands: REMOTE_COMMANDS },
  material: { value: true, repeat: true, commands: REMOTE_COMMANDS },
  plaintext: { value: true, commands: REMOTE_COMMANDS },
  'part-size': { value: true, commands: ['put', 'get', 'encrypt-existing', 'decrypt-existing'] },
  parallel: { value: true, commands: ['put', 'get', 'encrypt-existing', 'decrypt-existing', 'rewrap', 'verify'] },
  'multipart-threshold': { value: true, commands: ['put', 'encrypt-existing', 'decrypt-existing', 'rewrap'] },
  'remove-encryption': { value: false, commands: ['decrypt-existing'] },
  'to-rsa-public-key': { value: true, commands: ['rewrap'] },
  'to-kms-key-id': { value: true, commands: ['rewrap'] },
  'to-matdesc': { value: true, commands: ['rewrap'] },
  'to-rsa-padding': { value: true, commands: ['rewrap'] },
  job: { value: true, commands: BULK_COMMANDS },
  report: { value: true, commands: BULK_COMMANDS },
  shard: { value: true, commands: BULK_COMMANDS },
  'dry-run': { value: false, commands: BULK_COMMANDS },
  checkpoint: { value: true, commands: ['put', 'get'] },
  range: { value: true, commands: ['get'] },
  out: { value: true, commands: ['keygen'] },
  bits: { value: true, commands: ['keygen'] },
  port: { value: true, commands: ['serve'] },
  'kms-port': { value: true, commands: ['serve'] },
  bucket: { value: true, commands: ['serve'] },
  json: { value: false, commands: ['serve'] },
};
/**
 * The one-letter flags, and the long flag each stands for.
 * @example
 *   SHORT_FLAGS.q; // 'quiet'
 */
export const SHORT_FLAGS: Readonly<Record<string, string>> = { h: 'help', q: 'quiet' };
