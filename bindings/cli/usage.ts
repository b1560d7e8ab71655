/**
 * The text `oss-crypto --help` prints: every command and flag, with the environment the CLI reads. The parser's
 * own tables (args.ts) are what the docs test checks the README against; this is the human summary.
 * @module
 */

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
  oss-crypto --help

connection:
  --endpoint URL            OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com (or OSS_ENDPOINT)
  --region R                OSS region, e.g. oss-cn-hangzhou (or OSS_REGION)
  credentials come from OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN (optional)

keys:
  --rsa-public-key FILE     RSA public key PEM (writes)
  --rsa-private-key FILE    RSA private key PEM (reads; also writes with its public half)
  --rsa-padding P           pkcs1 (RSA/NONE/PKCS1Padding, default) or oaep (OAEP-SHA1)
  --kms-key-id ID           Alibaba Cloud KMS key id (KMS/ALICLOUD)
  --kms-region R            KMS region (default: the OSS region without its "oss-" prefix)
  --kms-endpoint HOST:PORT  KMS endpoint (default: kms.<region>.aliyuncs.com)
  --kms-protocol P          http or https (default https)
  --kms-passphrase P        oss2's EncryptionContext {"x-passphrase": P}
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

output:
  --quiet, -q               no progress bar (it is drawn on stderr only when stderr is a terminal)
  exit status 0 on success; 1 with "error CODE: message" on stderr; 2 for usage errors
`;
