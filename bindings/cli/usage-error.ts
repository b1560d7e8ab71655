/**
 * The command line's one error of its own: a usage mistake, printed as `error USAGE: <message>` with exit status
 * 2. A file of its own so that the parsers of single flags (kms-passphrase.ts) and the argv parser (args.ts) can
 * both throw it without importing each other.
 * @module
 */

/**
 * A usage mistake on the command line: printed as `error USAGE: <message>`, exit status 2.
 * @example
 *   try { parseCliArgs(argv, env) } catch (err) { if (err instanceof CliUsageError) exitCode = 2 }
 */
export class CliUsageError extends Error {
  /** Always `USAGE`, the code printed on stderr. */
  readonly code = 'USAGE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
