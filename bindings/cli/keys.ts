/**
 * Builds the CLI's key ring from its key flags (docs/FORMAT.md §2.1–§2.3): one main material (an RSA key, or KMS)
 * that writes new objects and reads those without matdesc, plus the `--material` entries, each selected by its
 * matdesc.
 *
 * Key files are read here and handed to the wrappers as PEM text; nothing in this module prints, logs or puts
 * a key (or a file's content) into an error message: a file that cannot be read or parsed is reported by its
 * flag and path only.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { KeyRing } from '../keys/keyring.js';
import { kmsKeyWrapper, type KmsKeyWrapperOptions } from '../keys/kms.js';
import { forgeRsaEngine, rsaKeyWrapper, type RsaEngine } from '../keys/rsa.js';
import { nodeRsaEngine } from '../keys/rsa-native.js';
import { nodeRsaWorkerEngine } from '../keys/rsa-workers.js';
import { wasmRsaEngine } from '../keys/rsa-wasm.js';
import type { KeyWrapper, Matdesc } from '../keys/types.js';
import { KeyInvalidError, OssCryptoError, withMessage } from '../errors.js';
import type { KeySettings, KmsSettings } from './args.js';
import type { RewrapTarget } from './command.js';

/**
 * The key ring the flags describe.
 * @param keys the parsed key flags
 * @returns a KeyRing whose default material is the RSA key or KMS (or none, for a read-only `--material` set)
 * @throws {KeyInvalidError} `KEY_INVALID` when a key file cannot be read or holds no usable key (flag and path named);
 *   a wrapper's own error keeps its class and code, with the flag and path added and the original as `cause`
 * @example
 *   const cmd = parseCliArgs(argv, process.env);
 *   if (cmd.command === 'get') client = new CryptoClient(oss, { keyring: await keyringFromFlags(cmd.keys) });
 */
export async function keyringFromFlags(keys: KeySettings): Promise<KeyRing | undefined> {
  const matdesc: Matdesc = keys.matdesc ?? {};
  const engine = rsaEngineNamed(keys.rsaEngine);
  let main: KeyWrapper | undefined;
  if (keys.rsaPublicKeyFile !== undefined || keys.rsaPrivateKeyFile !== undefined) {
    const publicKey = keys.rsaPublicKeyFile === undefined ? undefined : await readKey('--rsa-public-key', keys.rsaPublicKeyFile);
    const privateKey = keys.rsaPrivateKeyFile === undefined ? undefined : await readKey('--rsa-private-key', keys.rsaPrivateKeyFile);
    main = build(keys.rsaPrivateKeyFile !== undefined ? '--rsa-private-key' : '--rsa-public-key', keys.rsaPrivateKeyFile ?? keys.rsaPublicKeyFile!, () =>
      rsaKeyWrapper({ publicKey, privateKey, padding: keys.rsaPadding, matdesc, engine }),
    );
  } else if (keys.kms !== undefined) {
    main = kmsWrapper(keys.kms, keys.kms.keyId, matdesc);
  }
  const materials: KeyWrapper[] = [];
  for (const m of keys.materials) {
    if (m.kind === 'kms') {
      // args.ts guarantees KMS settings exist whenever a kms: material is given.
      materials.push(kmsWrapper(keys.kms!, m.keyId, m.matdesc));
    } else {
      const pem = await readKey('--material', m.privateKeyFile);
      materials.push(build('--material', m.privateKeyFile, () => rsaKeyWrapper({ privateKey: pem, matdesc: m.matdesc, engine })));
    }
  }
  if (main === undefined && materials.length === 0) return undefined;
  return new KeyRing({ default: main, materials });
}

/**
 * `rewrap`'s new material from its `--to-*` flags (an RSA public key read from its file, or a KMS key with the
 * `--kms-*` connection settings).
 * @throws {KeyInvalidError} `KEY_INVALID` when the key file cannot be read or holds no usable key
 * @example
 *   const to = await rewrapTargetFromFlags(cmd.to!, cmd.keys);
 */
export async function rewrapTargetFromFlags(to: RewrapTarget, keys: KeySettings): Promise<KeyWrapper> {
  if (to.kmsKeyId !== undefined) return kmsWrapper(keys.kms!, to.kmsKeyId, to.matdesc);
  const engine = rsaEngineNamed(keys.rsaEngine);
  const publicKey = await readKey('--to-rsa-public-key', to.rsaPublicKeyFile!);
  return build('--to-rsa-public-key', to.rsaPublicKeyFile!, () => rsaKeyWrapper({ publicKey, padding: to.rsaPadding, matdesc: to.matdesc, engine }));
}

let workerEngine: RsaEngine | undefined;

/** The engine `--rsa-engine` names; every key of the process shares one pool of worker threads. */
function rsaEngineNamed(name: KeySettings['rsaEngine'] | undefined): RsaEngine {
  if (name === 'workers') return (workerEngine ??= nodeRsaWorkerEngine());
  return { node: nodeRsaEngine, wasm: wasmRsaEngine, forge: forgeRsaEngine }[name ?? 'node'];
}

function kmsWrapper(kms: KmsSettings, keyId: string | undefined, matdesc: Matdesc): KeyWrapper {
  const options: KmsKeyWrapperOptions = {
    keyId,
    region: kms.region,
    endpoint: kms.endpoint,
    protocol: kms.protocol,
    passphrase: kms.passphrase,
    blobLayout: kms.blobLayout,
    accessKeyId: kms.accessKeyId,
    accessKeySecret: kms.accessKeySecret,
    securityToken: kms.stsToken,
    matdesc,
  };
  return kmsKeyWrapper(options);
}

async function readKey(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new KeyInvalidError('KEY_INVALID', `${flag}: cannot read ${JSON.stringify(path)} (${why})`, { cause: err });
  }
}

function build<T>(flag: string, path: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    // The wrapper's own message describes the PEM's shape, never its content; add which file it was, and keep
    // the original (its class, code and cause) rather than re-typing it.
    const message = `${flag} ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof OssCryptoError) throw withMessage(err, message);
    throw new KeyInvalidError('KEY_INVALID', message, { cause: err });
  }
}
