/**
 * TypeScript users' view of the public API: code that wraps a real `new OSS(...)` (typed by @types/ali-oss) in a
 * `CryptoClient` and calls it the ali-oss way must type-check under `strict`. The build type-checks bindings/
 * itself; this checks the seam between our types and ali-oss's, which only a caller's program exercises. The
 * program checked is test/e2e/real-oss.test.ts, the end-to-end test against real OSS (which runs only with
 * credentials, so without this check a type break there would go unseen), and test/types/ali-oss-caller.ts: options
 * without index signatures (each `@ts-expect-error` there is a typo or a wrong type that must not compile; an unused
 * one is an error), typed results, and a `CryptoClient` assignable to the ali-oss methods it implements.
 * @module
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const types = suite('types: a caller of the public API over @types/ali-oss');

types('new CryptoClient(new OSS(...)) and the ali-oss-style calls type-check under strict; misspelt or mistyped options do not (test/types/ali-oss-caller.ts)', () => {
  const files = ['./e2e/real-oss.test.ts', './types/ali-oss-caller.ts'].map((f) => fileURLToPath(new URL(f, import.meta.url)));
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.equal(problems, []);
});

types.run();
