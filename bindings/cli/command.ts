/**
 * What the command line parses into (`CliCommand` and its settings): the contract between the parser (args.ts),
 * the key flags (keys.ts) and the runner (run.ts).
 *
 * Deliberately not here: parsing (args.ts) and acting on a command (run.ts).
 * @module
 */
import type { RangeSpec } from '../transfer/range.js';

/** A command of `oss-crypto`. */
export type Command = 'put' | 'get' | 'head' | 'keygen' | 'encrypt-existing' | 'decrypt-existing' | 'rewrap' | 'verify' | 'serve';

/** `oss://BUCKET/KEY`, split. */
export interface OssUrl {
  readonly bucket: string;
  readonly key: string;
}

/** An extra read material given with `--material 'JSON=FILE'` (or `'JSON=kms:KEYID'`). */
export type ExtraMaterial =
  | { readonly matdesc: Readonly<Record<string, string>>; readonly kind: 'rsa'; readonly privateKeyFile: string }
  | { readonly matdesc: Readonly<Record<string, string>>; readonly kind: 'kms'; readonly keyId: string };

/** Where to reach OSS, and with which credentials (read from the environment only, never from argv). */
export interface Connection {
  readonly endpoint?: string;
  readonly region?: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly stsToken?: string;
}

/** The KMS settings of `--kms-*` flags. */
export interface KmsSettings {
  readonly keyId?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly protocol: 'http' | 'https';
  readonly passphrase?: string;
  readonly blobLayout: 'oss2' | 'go';
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly stsToken?: string;
}

/** Every key-related flag. */
export interface KeySettings {
  readonly rsaPublicKeyFile?: string;
  readonly rsaPrivateKeyFile?: string;
  readonly rsaPadding: 'pkcs1' | 'oaep';
  /**
   * The RSA engine of every RSA key: node (default), workers (node:crypto on worker threads; the bulk commands'
   * default on a machine with more than one core), wasm or forge.
   */
  readonly rsaEngine: 'node' | 'workers' | 'wasm' | 'forge';
  /** Present when any `--kms-*` flag or a `kms:` material was given. */
  readonly kms?: KmsSettings;
  readonly matdesc?: Readonly<Record<string, string>>;
  readonly materials: readonly ExtraMaterial[];
  readonly plaintext: 'reject' | 'allow';
}

/** Every transfer flag; absent means "the library's default". */
export interface TransferSettings {
  readonly partSize?: number;
  readonly parallel?: number;
  readonly multipartThreshold: number;
  readonly checkpoint?: string;
}

/**
 * What the CLI was asked to do: one validated command with everything it needs.
 * @example
 *   const cmd = parseCliArgs(['head', 'oss://b/k'], process.env);
 *   if (cmd.command === 'head') cmd.target.key; // 'k'
 */
export type CliCommand =
  | {
      readonly command: 'help';
      /** `oss-crypto put --help`: the command whose flags to show; absent for the whole usage. */
      readonly topic?: Command;
      /** No arguments at all: the usage goes to stderr with exit status 2 (a script called us wrongly). */
      readonly noArguments?: boolean;
    }
  | { readonly command: 'version' }
  /** `serve` runs in serve.ts (main.ts dispatches it first); its arguments pass on as given. */
  | { readonly command: 'serve'; readonly argv: readonly string[] }
  | {
      readonly command: 'put';
      /** A file path, or `-` for stdin. */
      readonly source: string;
      readonly target: OssUrl;
      readonly connection: Connection;
      readonly keys: KeySettings;
      readonly transfer: TransferSettings;
      readonly quiet: boolean;
    }
  | {
      readonly command: 'get';
      readonly source: OssUrl;
      /** A file path, or `-` for stdout. */
      readonly target: string;
      readonly range?: RangeSpec;
      readonly connection: Connection;
      readonly keys: KeySettings;
      readonly transfer: TransferSettings;
      readonly quiet: boolean;
    }
  | { readonly command: 'head'; readonly target: OssUrl; readonly connection: Connection; readonly keys: KeySettings; readonly quiet: boolean }
  | { readonly command: 'keygen'; readonly out: string; readonly bits: number; readonly quiet: boolean }
  | BulkCommand;

/**
 * A job over every object under a prefix (`encrypt-existing`, `decrypt-existing`, `rewrap`, `verify`), parsed by
 * bulk-args.ts.
 * @example
 *   if (cmd.command === 'verify') cmd.target.prefix; // 'logs/'
 */
export interface BulkCommand {
  readonly command: 'encrypt-existing' | 'decrypt-existing' | 'rewrap' | 'verify';
  /** rewrap only: the material that wraps content keys from now on (`--to-*`). */
  readonly to?: RewrapTarget;
  readonly target: { readonly bucket: string; readonly prefix: string };
  readonly connection: Connection;
  readonly keys: KeySettings;
  /** Objects in flight (default 8). */
  readonly parallel: number;
  readonly dryRun: boolean;
  /** The resumable job journal (`--job FILE`). */
  readonly job?: string;
  /** The JSON-lines report (`--report FILE`). */
  readonly report?: string;
  /** `--shard I/N`. */
  readonly shard?: { readonly index: number; readonly count: number };
  readonly partSize?: number;
  readonly multipartThreshold?: number;
  readonly quiet: boolean;
}

/**
 * `rewrap`'s target material, from `--to-rsa-public-key` or `--to-kms-key-id` (with the `--kms-*` connection
 * settings), `--to-matdesc` and `--to-rsa-padding`.
 * @example
 *   const to: RewrapTarget = { rsaPublicKeyFile: 'new.public.pem', rsaPadding: 'oaep', matdesc: { key: '2025' } };
 */
export interface RewrapTarget {
  readonly rsaPublicKeyFile?: string;
  readonly kmsKeyId?: string;
  readonly rsaPadding: 'pkcs1' | 'oaep';
  readonly matdesc: Readonly<Record<string, string>>;
}
