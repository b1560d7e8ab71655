/**
 * docs/ARCHITECTURE.md matches bindings/: its §1 table names every folder and top-level file of bindings/ (and
 * nothing else), and every import in bindings/ that crosses from one folder to another is one its §2 table allows
 * ("may import"). The imports are read with the TypeScript compiler's pre-processor (static imports, re-exports
 * and dynamic `import()`), not by text search, so comments and examples do not count. A self-test shows that the
 * layering check flags an import the table does not allow.
 * @module
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINDINGS = join(ROOT, 'bindings');
const DOC = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');

/** The Markdown between heading `## <n>.` and the next `## ` heading. */
function section(n: number): string {
  const start = DOC.search(new RegExp(`^## ${n}\\. `, 'm'));
  assert.ok(start >= 0, `docs/ARCHITECTURE.md has no section ${n}`);
  const rest = DOC.slice(start + 1);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The cells of each table row of a section (header and separator rows left out). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .slice(1)
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()));
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** A file's node in the layer graph: its folder under bindings/ (`keys/`), or `entries` / `errors.ts` at the top. */
function nodeOf(file: string, entryFiles: ReadonlySet<string>): string {
  const rel = relative(BINDINGS, file).split(sep).join('/');
  const slash = rel.indexOf('/');
  if (slash >= 0) return rel.slice(0, slash + 1);
  const name = rel.replace(/\.js$/, '.ts');
  return entryFiles.has(name) ? 'entries' : name;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** Every import from one node to another, as `from → to (file imports spec)`. */
function crossImports(entryFiles: ReadonlySet<string>): Array<{ from: string; to: string; where: string }> {
  const out: Array<{ from: string; to: string; where: string }> = [];
  for (const file of tsFiles(BINDINGS)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), fileName);
      const from = nodeOf(file, entryFiles);
      const to = nodeOf(target, entryFiles);
      if (from !== to) out.push({ from, to, where: `${posix.normalize(relative(ROOT, file).split(sep).join('/'))} imports ${fileName}` });
    }
  }
  return out;
}

/** The §2 table as node → allowed nodes (`'*'` for anything). */
function allowedImports(): Map<string, Set<string>> {
  const allowed = new Map<string, Set<string>>();
  for (const [folder, may] of tableRows(section(2))) {
    const key = folder === 'entries' ? 'entries' : codeSpans(folder)[0];
    assert.ok(key !== undefined, `a §2 row names no folder: ${folder}`);
    allowed.set(key, may === 'anything' ? new Set(['*']) : new Set(codeSpans(may)));
  }
  return allowed;
}

/** The imports the table does not allow. */
export function layeringViolations(imports: Array<{ from: string; to: string; where: string }>, allowed: Map<string, Set<string>>): string[] {
  return imports
    .filter(({ from, to }) => {
      const ok = allowed.get(from);
      return ok === undefined || !(ok.has('*') || ok.has(to));
    })
    .map(({ from, to, where }) => `${from} → ${to}: ${where}`);
}

/** The entry files and the folders named in the §1 table. */
function layerTable(): { entryFiles: Set<string>; names: Set<string> } {
  const entryFiles = new Set<string>();
  const names = new Set<string>();
  for (const [layer, folder] of tableRows(section(1))) {
    for (const name of codeSpans(folder)) {
      if (layer === 'entries') entryFiles.add(name);
      names.add(name);
    }
  }
  return { entryFiles, names };
}

const arch = suite('docs/ARCHITECTURE.md matches the layout and the imports of bindings/');

arch('the layering check itself flags an import its table does not allow, and an unknown folder', () => {
  const allowed = new Map([
    ['cipher/', new Set(['wasm/', 'errors.ts'])],
    ['entries', new Set(['*'])],
  ]);
  const imports = [
    { from: 'cipher/', to: 'wasm/', where: 'bindings/cipher/wasm.ts imports ../wasm/core.js' },
    { from: 'cipher/', to: 'keys/', where: 'bindings/cipher/x.ts imports ../keys/y.js' },
    { from: 'entries', to: 'keys/', where: 'bindings/index.ts imports ./keys/rsa.js' },
    { from: 'newfolder/', to: 'errors.ts', where: 'bindings/newfolder/a.ts imports ../errors.js' },
  ];
  assert.equal(layeringViolations(imports, allowed), [
    'cipher/ → keys/: bindings/cipher/x.ts imports ../keys/y.js',
    'newfolder/ → errors.ts: bindings/newfolder/a.ts imports ../errors.js',
  ]);
});

arch('§1 names every folder and top-level file of bindings/, and nothing that is not there', () => {
  const { names } = layerTable();
  const actual = new Set(
    readdirSync(BINDINGS).map((name) => (statSync(join(BINDINGS, name)).isDirectory() ? `${name}/` : name)).filter((n) => n.endsWith('/') || n.endsWith('.ts')),
  );
  assert.equal([...actual].filter((n) => !names.has(n)).sort(), [], 'in bindings/ but not in the §1 table');
  assert.equal([...names].filter((n) => !actual.has(n)).sort(), [], 'in the §1 table but not in bindings/');
});

arch('§2: every import between folders of bindings/ is one the table allows', () => {
  const { entryFiles } = layerTable();
  const allowed = allowedImports();
  const imports = crossImports(entryFiles);
  assert.ok(imports.length > 50, `only ${imports.length} imports between folders were found: the scan is broken`);
  const violations = layeringViolations(imports, allowed);
  assert.equal(violations, [], `imports that docs/ARCHITECTURE.md §2 does not allow:\n${violations.join('\n')}`);
  const { names } = layerTable();
  const unknown = [...allowed].flatMap(([row, may]) => [row, ...may]).filter((n) => n !== 'entries' && n !== '*' && !names.has(n));
  assert.equal(unknown, [], 'the §2 table names folders that §1 does not');
});

arch.run();
