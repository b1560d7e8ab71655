/**
 * Tests of bindings/errors.ts: every error code has exactly one class (ERROR_CLASS_OF_CODE), the constructors
 * refuse any other pairing, every throw site in bindings/ agrees with the table, and wrapping an error keeps
 * its class, code and `cause` (withMessage, and the CLI's key loading built on it).
 * @module
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { keyringFromFlags } from '../bindings/cli/keys.js';
import {
  CheckpointError,
  ERROR_CLASS_OF_CODE,
  IntegrityError,
  KeyInvalidError,
  KeyUnwrapError,
  KeyWrapError,
  KmsError,
  MetadataError,
  OssCryptoError,
  withMessage,
  type OssCryptoErrorCode,
} from '../bindings/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BINDINGS = join(ROOT, 'bindings');

type Ctor = new (code: OssCryptoErrorCode, message: string, options?: { cause?: unknown }) => OssCryptoError;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.wasm.ts') ? [path] : [];
  });
}

/** The codes of the `OssCryptoErrorCode` union, read from the source (a type has no runtime value to list). */
function declaredCodes(): string[] {
  const text = readFileSync(join(BINDINGS, 'errors.ts'), 'utf8');
  const union = /export type OssCryptoErrorCode =([\s\S]*?);/.exec(text);
  assert.ok(union, 'OssCryptoErrorCode union not found in errors.ts');
  return [...union[1].matchAll(/\|\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]);
}

const table = suite('error code table');

table('the table lists every declared code exactly once, and nothing else', () => {
  const declared = declaredCodes();
  assert.ok(declared.length >= 20, `only ${declared.length} codes parsed`);
  assert.equal([...declared].sort(), Object.keys(ERROR_CLASS_OF_CODE).sort());
});

table('each code constructs with its class, and with no other class', () => {
  const classes = new Set(Object.values(ERROR_CLASS_OF_CODE).filter((c) => c !== KmsError)) as Set<unknown> as Set<Ctor>;
  for (const [code, owner] of Object.entries(ERROR_CLASS_OF_CODE) as [OssCryptoErrorCode, unknown][]) {
    if (owner === KmsError) {
      const err = new KmsError('m', { kmsCode: 'Rejected' });
      assert.is(err.code, code);
      continue;
    }
    const own = new (owner as Ctor)(code, 'm');
    assert.is(own.code, code);
    assert.is(own.name, (owner as Ctor).name);
    for (const other of [OssCryptoError as unknown as Ctor, ...classes]) {
      if (other === owner) continue;
      assert.throws(
        () => new other(code, 'm'),
        (e: unknown) => e instanceof TypeError && e.message === `error code "${code}" belongs to ${(owner as Ctor).name}, not ${other.name}`,
        `${other.name} accepted ${code}`,
      );
    }
  }
  assert.throws(() => new MetadataError('NO_SUCH_CODE' as never, 'm'), /belongs to no class \(unknown code\)/);
});

table('every `new XxxError(\'CODE\'` in bindings/ uses the class the table gives the code', () => {
  const sites: string[] = [];
  const wrong: string[] = [];
  for (const file of sourceFiles(BINDINGS)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new\s+([A-Za-z]+)\(\s*'([A-Z][A-Z0-9_]*)'/g)) {
      const where = `${relative(ROOT, file)}:${text.slice(0, m.index).split('\n').length}`;
      const code = m[2] as OssCryptoErrorCode;
      const owner = ERROR_CLASS_OF_CODE[code];
      if (owner === undefined) continue; // a string constant that is not one of our codes
      sites.push(where);
      if (owner.name !== m[1]) wrong.push(`${where}: new ${m[1]}('${code}', …) but ${code} belongs to ${owner.name}`);
    }
  }
  assert.ok(sites.length >= 60, `only ${sites.length} throw sites found: is the pattern still right?`);
  assert.equal(wrong, []);
});

const instances = suite('instanceof');

instances('KEY_INVALID is a KeyInvalidError, and handlers for wrap or unwrap failures see it too', () => {
  const err = new KeyInvalidError('KEY_INVALID', 'no usable key');
  assert.instance(err, KeyInvalidError);
  assert.instance(err, KeyWrapError);
  assert.instance(err, KeyUnwrapError);
  assert.instance(err, OssCryptoError);
  assert.is(err.name, 'KeyInvalidError');
  // The widening is one-way and only for KEY_INVALID.
  const wrap = new KeyWrapError('KEY_WRAP_FAILED', 'x');
  const unwrap = new KeyUnwrapError('KEY_UNWRAP_FAILED', 'x');
  assert.not.instance(wrap, KeyUnwrapError);
  assert.not.instance(unwrap, KeyWrapError);
  assert.not.instance(wrap, KeyInvalidError);
  assert.not.instance(unwrap, KeyInvalidError);
  assert.not.instance(new IntegrityError('INTEGRITY_MD5', 'x'), KeyWrapError);
  assert.not.ok((null as unknown) instanceof KeyWrapError);
  assert.not.ok(('KEY_INVALID' as unknown) instanceof KeyUnwrapError);
});

const wrapping = suite('wrapping keeps cause');

wrapping('withMessage: same class and code, the new message, the original as cause', () => {
  const original = new CheckpointError('CHECKPOINT_MISMATCH', 'size changed');
  const worded = withMessage(original, 'upload "a": size changed');
  assert.ok(Object.getPrototypeOf(worded) === CheckpointError.prototype);
  assert.is(worded.code, 'CHECKPOINT_MISMATCH');
  assert.is(worded.message, 'upload "a": size changed');
  assert.is(worded.cause, original);
  const kms = new KmsError('Decrypt failed', { kmsCode: 'Forbidden.KeyNotFound', requestId: 'r-1', status: 404 }, { cause: new Error('x') });
  const kmsWorded = withMessage(kms, 'reading "a": Decrypt failed') as KmsError;
  assert.instance(kmsWorded, KmsError);
  assert.equal([kmsWorded.kmsCode, kmsWorded.requestId, kmsWorded.status, kmsWorded.cause], ['Forbidden.KeyNotFound', 'r-1', 404, kms]);
});

wrapping('the CLI names the key file and keeps the wrapper\'s error (class, code, cause) instead of re-typing it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'errors-test-'));
  try {
    const notPem = join(dir, 'not-a-key.pem');
    writeFileSync(notPem, 'hello\n');
    const base = { rsaPadding: 'pkcs1' as const, materials: [], plaintext: 'reject' as const };
    const parseErr = await keyringFromFlags({ ...base, rsaPrivateKeyFile: notPem }).then(
      () => assert.unreachable('accepted a file without a key'),
      (e: unknown) => e as KeyInvalidError,
    );
    assert.instance(parseErr, KeyInvalidError);
    assert.is(parseErr.code, 'KEY_INVALID');
    assert.is(parseErr.message, `--rsa-private-key ${JSON.stringify(notPem)}: "privateKey" is not valid PEM`);
    assert.instance(parseErr.cause, KeyInvalidError, 'the wrapper\'s own error is the cause');
    assert.is((parseErr.cause as Error).message, '"privateKey" is not valid PEM');
    assert.instance((parseErr.cause as Error).cause, Error, 'and the parser\'s (scrubbed) error is its cause');

    const missing = join(dir, 'missing.pem');
    const readErr = await keyringFromFlags({ ...base, rsaPublicKeyFile: missing }).then(
      () => assert.unreachable('read a missing file'),
      (e: unknown) => e as KeyInvalidError,
    );
    assert.instance(readErr, KeyInvalidError);
    assert.is(readErr.message, `--rsa-public-key: cannot read ${JSON.stringify(missing)} (no such file)`);
    assert.is((readErr.cause as NodeJS.ErrnoException).code, 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

table.run();
instances.run();
wrapping.run();
