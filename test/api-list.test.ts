/**
 * The README's API section ("## API: what each entry exports") lists exactly the names each package entry
 * exports, values and types alike: for every entry in package.json `exports`, the names read from the README
 * equal the names the TypeScript compiler resolves from the entry file (through every re-export). So the list can
 * neither miss a new export nor keep a removed one. The main entry's line may say "everything
 * `ali-oss-crypto/core` exports", which stands for that entry's names.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

/** `ali-oss-crypto[/sub]` → the source file behind it (package.json maps `./sub` to `./dist/X.js`, built from `X.ts`). */
const ENTRIES: ReadonlyMap<string, string> = new Map(
  Object.entries(PACKAGE.exports).flatMap(([subpath, target]) => {
    const built = typeof target === 'string' ? target : (target as { default?: string }).default;
    const m = built === undefined ? null : /^\.\/dist\/(.+)\.js$/.exec(built);
    if (m === null) return [];
    return [[subpath === '.' ? 'ali-oss-crypto' : `ali-oss-crypto${subpath.slice(1)}`, `${m[1]}.ts`] as [string, string]];
  }),
);

/** The names each entry file exports, as the compiler resolves them. */
function exportedNames(): Map<string, string[]> {
  const files = [...ENTRIES.values()].map((f) => join(ROOT, f));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const [entry, file] of ENTRIES) {
    const source = program.getSourceFile(join(ROOT, file));
    if (source === undefined) throw new Error(`${file} (behind ${entry}) is not in the program`);
    const symbol = checker.getSymbolAtLocation(source);
    out.set(entry, symbol === undefined ? [] : checker.getExportsOfModule(symbol).map((s) => s.name).sort());
  }
  return out;
}

/** The README's list: entry → names, with "everything `X` exports" kept as a reference to resolve. */
function readmeList(text: string): Map<string, { names: string[]; includes: string[] }> {
  const section = /^## API: what each entry exports\n([\s\S]*?)(?=^## )/m.exec(text)?.[1];
  if (section === undefined) throw new Error('README.md has no "## API: what each entry exports" section');
  const items = section.split(/^- /m).slice(1);
  const out = new Map<string, { names: string[]; includes: string[] }>();
  for (const item of items) {
    const m = /^`([^`]+)`[^:]*:([\s\S]*)$/.exec(item.trim());
    if (m === null) throw new Error(`API list item without "\`entry\` (...):" at its start: ${item.slice(0, 60)}`);
    let body = m[2];
    const includes = [...body.matchAll(/everything `([^`]+)` exports/g)].map((x) => x[1]);
    body = body.replace(/everything `[^`]+` exports/g, '');
    out.set(m[1], { names: [...body.matchAll(/`([^`]+)`/g)].map((x) => x[1]), includes });
  }
  return out;
}

function resolveList(list: Map<string, { names: string[]; includes: string[] }>, entry: string, seen = new Set<string>()): string[] {
  const item = list.get(entry);
  if (item === undefined) return [];
  if (seen.has(entry)) throw new Error(`the API list's "everything ... exports" references loop at ${entry}`);
  seen.add(entry);
  return [...item.names, ...item.includes.flatMap((e) => resolveList(list, e, seen))];
}

const api = suite("README's API section: the exported names of each entry");

api('the parser reads names, "everything X exports" references and refuses a section without items (self-test)', () => {
  const sample = '## API: what each entry exports\n\nIntro `notAName`.\n\n- `a` (Node): everything `b` exports, and `x`,\n  `y`.\n- `b`: `z`.\n\n## Next\n';
  const list = readmeList(sample);
  assert.equal(resolveList(list, 'a').sort(), ['x', 'y', 'z']);
  assert.equal(resolveList(list, 'b'), ['z']);
  assert.throws(() => readmeList('## Other\n'), /no "## API/);
});

api('every entry of package.json has a line in the list, and the list names no other entry', () => {
  const list = readmeList(README);
  assert.ok(ENTRIES.size >= 4, `only ${ENTRIES.size} entries in package.json`);
  assert.equal([...list.keys()].sort(), [...ENTRIES.keys()].sort());
});

api('each entry exports exactly the names its line lists, each once', () => {
  const list = readmeList(README);
  const actual = exportedNames();
  const problems: string[] = [];
  for (const [entry, names] of actual) {
    const listed = resolveList(list, entry);
    const once = new Set(listed);
    if (once.size !== listed.length) problems.push(`${entry}: a name is listed twice (${listed.filter((n, i) => listed.indexOf(n) !== i).join(', ')})`);
    const missing = names.filter((n) => !once.has(n));
    const extra = [...once].filter((n) => !names.includes(n));
    if (missing.length > 0) problems.push(`${entry} exports ${missing.join(', ')}, which its README line does not list`);
    if (extra.length > 0) problems.push(`${entry}'s README line lists ${extra.join(', ')}, which it does not export`);
  }
  assert.equal(problems, []);
});

api('the main entry keeps the plumbing out: withRetry and createClientContext are in /advanced only', () => {
  const actual = exportedNames();
  for (const name of ['withRetry', 'createClientContext', 'isTransientError', 'multipartUpload', 'downloadFile']) {
    assert.not.ok(actual.get('ali-oss-crypto')!.includes(name), `${name} should not be in the main entry`);
    assert.ok(actual.get('ali-oss-crypto/advanced')!.includes(name), `${name} should be in ali-oss-crypto/advanced`);
  }
});

api.run();
