/**
 * The text `oss-crypto --help` prints: every command and flag, with the environment the CLI reads; and
 * `oss-crypto COMMAND --help`, the same text cut down to the flags that command accepts (per the flag table in
 * flags.ts). The parser's own tables are what the docs test checks the README against; this is the human summary.
 * @module
 */
import type { Command } from './command.js';
import { BULK_COMMANDS, FLAGS, REMOTE_COMMANDS } from './flags.js';

/**
 * The usage text printed by `--help`.
 * @example
 *   if (cmd.command === 'help') process.stdout.write(USAGE);
 */
export const USAGE = `oss-crypto: client-side encrypted Alibaba Cloud OSS objects, compatible with the official OSS SDKs

usage:
  oss-crypto put <file|-> oss://BUCKET/KEY
  oss-crypto get oss://BUCKET/KEY <file|-> [--range a-b|a-|-n]
  oss-crypto head oss://BUCKET/KEY               the envelope as JSON (never key material)
  oss-crypto keygen --out PREFIX [--bits 2048]   writes PREFIX.private.pem (mode 0600) and PREFIX.public.pem
  oss-crypto encrypt-existing oss://BUCKET/PREFIX   encrypts every plaintext object in place, metadata kept
  oss-crypto decrypt-existing oss://BUCKET/PREFIX --remove-encryption
                                                 stores every encrypted object decrypted, metadata kept
  oss-crypto rewrap oss://BUCKET/PREFIX --to-rsa-public-key F | --to-kms-key-id ID [--to-matdesc JSON]
                                                 wraps every object's content key with the new material
  oss-crypto verify oss://BUCKET/PREFIX          checks every object decrypts (length, CRC-64, MD5, commitment)
  oss-crypto serve [--port N] [--kms-port N] [--bucket NAME] [--region R] [--json]
                                                 loopback OSS and KMS stand-ins for your tests, until Ctrl-C
  oss-crypto COMMAND --help                      the flags of one command
  oss-crypto --help | --version

connection:
  --endpoint URL            OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com (or OSS_ENDPOINT)
  --region R                OSS region, e.g. oss-cn-hangzhou (or OSS_REGION)
  credentials come from OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN (optional)

keys:
  --rsa-public-key FILE     RSA public key PEM (writes)
  --rsa-private-key FILE    RSA private key PEM (reads; also writes with its public half)
  --rsa-padding P           pkcs1 (RSA/NONE/PKCS1Padding, default) or oaep (OAEP-SHA1)
  --rsa-engine E            node (node:crypto, default), workers (node:crypto on worker threads; the default of
                            the bulk jobs below when the machine has more than one core),
                            wasm (constant-time WebAssembly) or forge (node-forge)
  --kms-key-id ID           Alibaba Cloud KMS key id (KMS/ALICLOUD)
  --kms-region R            KMS region (default: the OSS region without its "oss-" prefix)
  --kms-endpoint HOST:PORT  KMS endpoint (default: kms.<region>.aliyuncs.com)
  --kms-protocol P          http or https (default https)
  --kms-passphrase P        oss2's EncryptionContext {"x-passphrase": P} (visible in ps: prefer the next two)
  --kms-passphrase-file F   the passphrase from file F (one trailing newline removed)
  OSS_CRYPTO_KMS_PASSPHRASE the passphrase from the environment, when neither flag is given
  --kms-blob-layout L       go (the CiphertextBlob as is, default) or oss2 (base64 of it)
  KMS credentials: KMS_ACCESS_KEY_ID / KMS_ACCESS_KEY_SECRET, else the OSS ones
  --matdesc JSON            material description written with new objects, e.g. '{"owner":"ops"}'
  --material 'JSON=FILE'    an extra read material: its matdesc and a private key PEM or kms:KEYID (repeatable)
  --plaintext P             reject (default) or allow objects stored without encryption

transfer:
  --part-size N             part size in bytes (suffixes KiB, MiB, GiB; a multiple of 16)
  --parallel N              parts in flight at once
  --multipart-threshold N   put: multipart upload at or above this size (default 100MiB)
  --checkpoint FILE         resumable transfer state; resumes when the file exists (files only, not "-")

bulk jobs (encrypt-existing, decrypt-existing, rewrap, verify):
  --parallel N              objects in flight (default 8)
  --dry-run                 print the keys that would change; write nothing
  --job FILE                resumable job journal: a rerun skips what a killed run finished
  --shard I/N               take only the keys whose FNV-1a hash mod N is I (N machines, no coordination)
  --report FILE             JSON lines: key, action, result, bytes, error code
  --part-size, --multipart-threshold   encrypt-/decrypt-existing: objects at or above the threshold go by multipart
  --remove-encryption       decrypt-existing: required; the objects stay in plaintext from then on
  --to-rsa-public-key FILE  rewrap: the new RSA public key PEM (the key flags above select the old material)
  --to-kms-key-id ID        rewrap: the new KMS key (with the --kms-* settings above)
  --to-matdesc JSON         rewrap: the new material description, e.g. '{"key":"2025"}'
  --to-rsa-padding P        rewrap: pkcs1 (default) or oaep
  exit status 1 ("error OBJECTS_FAILED") when any object failed; the others are done
serve:
  --port N                  OSS stand-in port (default: a free one)
  --kms-port N              KMS stand-in port (default: a free one)
  --bucket NAME             the bucket to create (default test-bucket; others are created on first use)
  --json                    print one JSON line instead of the description

output:
  --quiet, -q               no progress line (drawn on stderr only when stderr is a terminal: bytes, rate, ETA)
  --version                 the package version
  exit status 0 on success; 1 with "error CODE: message" on stderr; 2 for usage errors
`;

/**
 * The usage of one command: its synopsis and the lines of {@link USAGE} for the flags it accepts.
 * @example
 *   io.stdout.write(commandUsage('put')); // put's synopsis, then --endpoint ... --checkpoint, --quiet
 */
export function commandUsage(command: Command): string {
  const lines = USAGE.split('\n');
  const synopsis = lines.filter((l) => l.startsWith(`  oss-crypto ${command} `));
  const out = [`usage:`, ...synopsis, '', `options of ${command}:`];
  let lastFlagShown = false;
  // "--parallel" means parts in flight under "transfer" but objects in flight under "bulk jobs": a bulk command
  // shows only the bulk section's line of a flag, the others only the transfer section's.
  const bulk = BULK_COMMANDS.includes(command);
  let section = '';
  for (const line of lines) {
    section = /^[a-z][a-z ()-]*.*:$/.test(line) ? line : section;
    const flag = /^  --([a-z-]+)/.exec(line)?.[1];
    const inBulkSection = section.startsWith('bulk jobs');
    if (bulk && inBulkSection && flag === undefined && /^  \S/.test(line)) {
      out.push(line);
    } else if (flag !== undefined && (section.startsWith('transfer') && bulk || inBulkSection && !bulk)) {
      lastFlagShown = false;
    } else if (flag !== undefined) {
      lastFlagShown = FLAGS[flag]?.commands.includes(command) === true;
      if (lastFlagShown) out.push(line);
    } else if (/^  (credentials|KMS credentials)/.test(line) && REMOTE_COMMANDS.includes(command)) {
      out.push(line);
    } else if (/^ {20,}\S/.test(line) && lastFlagShown) {
      out.push(line);
    }
  }
  out.push('  --help, -h                this text', '');
  return out.join('\n');
}
