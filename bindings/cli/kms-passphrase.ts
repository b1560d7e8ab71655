/**
 * Where the CLI takes the KMS passphrase from (issue 12 §4). `--kms-passphrase P` puts the secret on the command
 * line, where `ps` and shell history show it to others; `--kms-passphrase-file FILE` and the environment variable
 * `OSS_CRYPTO_KMS_PASSPHRASE` keep it off argv. The flag, then the file, then the variable; giving both flags is a
 * usage error (one of them would be ignored without a word). The file is read as UTF-8 with one trailing newline
 * removed (what `echo` and editors add); the passphrase is never printed, only the file's path.
 *
 * Deliberately not here: what the passphrase does (keys/kms.ts: EncryptionContext `{"x-passphrase": P}`).
 * @module
 */
import { readFileSync } from 'node:fs';
import { CliUsageError } from './usage-error.js';

/**
 * The environment variable that carries the KMS passphrase.
 * @example
 *   OSS_CRYPTO_KMS_PASSPHRASE=... oss-crypto get oss://bkt/key out --kms-key-id k
 */
export const KMS_PASSPHRASE_ENV = 'OSS_CRYPTO_KMS_PASSPHRASE';

/**
 * Resolves the KMS passphrase from the flag, the file flag or the environment.
 * @param flag the value of `--kms-passphrase`
 * @param file the value of `--kms-passphrase-file`
 * @param env the process environment
 * @returns the passphrase, or undefined when none is given anywhere
 * @throws {CliUsageError} when both flags are given, or the file cannot be read
 * @example
 *   const passphrase = resolveKmsPassphrase(one('kms-passphrase'), one('kms-passphrase-file'), env);
 */
export function resolveKmsPassphrase(
  flag: string | undefined,
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (flag !== undefined && file !== undefined) {
    throw new CliUsageError('give --kms-passphrase or --kms-passphrase-file, not both');
  }
  if (flag !== undefined) return flag;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new CliUsageError(`--kms-passphrase-file ${JSON.stringify(file)} cannot be read (${code})`);
    }
    return text.replace(/\r?\n$/, '');
  }
  return env[KMS_PASSPHRASE_ENV];
}
