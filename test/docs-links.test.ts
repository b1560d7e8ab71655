/**
 * Every document a comment points to is in the repository: each `<name>.md` mentioned in bindings/, test/,
 * bench/, docs/ or README.md resolves to a file (next to the mentioning file, or from the repository root), and
 * each `<name>.md §N` citation names a section heading that file has (`## 5. …`, `### 2.3 …`, `## F. …`). A list
 * (`§1, §4 and §6`) checks every member, a span (`§2.1–§2.3`) both ends. A self-test shows that the check flags
 * a missing file, a missing section and a bare mention of a missing file. And every source path the shipped docs
 * (docs/*.md) name is in the repository, so a file that moves takes its mentions along.
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCANNED_DIRS = ['bindings', 'test', 'bench', 'docs'];
const SCANNED_FILES = ['README.md'];
const TEXT_FILE = /\.(ts|js|mjs|cjs|md)$/;

/** A section id: `2`, `2.3`, or a letter `F`. */
const SECTION = String.raw`(?:[0-9]+(?:\.[0-9]+)*|[A-Z])`;
/** `<name>.md`, optionally in backticks, then `§N` and more `§N` joined by `,`, `and`, `or` or a dash. */
const CITATION = new RegExp(
  String.raw`([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\x60?\s*(§${SECTION}(?:\s*(?:,|and|or|–|—|-)\s*§${SECTION})*)`,
  'g',
);
/** Any `<name>.md`, not followed by more of a dotted name (so `forge.md.sha1` is no file name). */
const MENTION = /([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)(?![A-Za-z0-9_]|\.[A-Za-z0-9_])/g;

/** The section ids of a Markdown file: the leading number or letter of each heading. */
export function sectionIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = new RegExp(String.raw`^#{1,6}\s+(?:§\s*)?(${SECTION})(?:[.):]|\s|$)`).exec(line);
    if (m !== null) ids.add(m[1]);
  }
  return ids;
}

/**
 * The problems with the documents `text` (the content of `citingPath`, relative to the root) cites. `read`
 * returns a repository file's content, or undefined when there is no such file.
 */
export function citationProblems(text: string, citingPath: string, read: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  const where = (index: number) => `${citingPath}:${text.slice(0, index).split('\n').length}`;
  const resolveDoc = (name: string): { path: string; content: string } | undefined => {
    for (const candidate of [join(dirname(citingPath), name), name]) {
      const content = read(candidate);
      if (content !== undefined) return { path: candidate, content };
    }
    return undefined;
  };
  for (const m of text.matchAll(MENTION)) {
    if (resolveDoc(m[1]) === undefined) problems.push(`${where(m.index!)}: ${m[1]} is not a file of the repository`);
  }
  for (const m of text.matchAll(CITATION)) {
    const doc = resolveDoc(m[1]);
    if (doc === undefined) continue; // already reported as a mention
    const ids = sectionIds(doc.content);
    for (const id of m[2].match(new RegExp(`§(${SECTION})`, 'g'))!.map((s) => s.slice(1))) {
      if (!ids.has(id)) problems.push(`${where(m.index!)}: ${m[1]} §${id}: ${doc.path} has no section ${id}`);
    }
  }
  return problems;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    if (name === 'node_modules') continue;
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...filesUnder(rel));
    else if (TEXT_FILE.test(name)) out.push(rel);
  }
  return out;
}

function readRepoFile(path: string): string | undefined {
  const full = resolve(ROOT, path);
  if (relative(ROOT, full).startsWith('..') || !existsSync(full) || !statSync(full).isFile()) return undefined;
  return readFileSync(full, 'utf8');
}

const links = suite('docs: every cited document and section exists in the repository');

links('the check itself flags a missing file, a missing section and a bare mention of a missing file', () => {
  // Built from pieces, so that this file's own text cites nothing that is missing.
  const md = '.md';
  const sample = [
    `/** The counter (docs/FORMAT${md} §1, §4 and §99; see also §2). */`,
    `// Parts are planned (docs/FORMAT${md} §2.1–§2.3; NOWHERE${md} §F).`,
    `// Spelt out in \`docs/FORMAT${md}\` §5, and in GONE${md}.`,
    `// forge${md}.sha1 is a property path, not a file.`,
  ].join('\n');
  assert.equal(citationProblems(sample, 'bindings/cipher/sample.ts', readRepoFile), [
    `bindings/cipher/sample.ts:2: NOWHERE${md} is not a file of the repository`,
    `bindings/cipher/sample.ts:3: GONE${md} is not a file of the repository`,
    `bindings/cipher/sample.ts:1: docs/FORMAT${md} §99: docs/FORMAT${md} has no section 99`,
  ]);
  assert.equal([...sectionIds('# Title\n## 1. One\n### 2.3 Two three\n## F. Letters\n#### §7 Seven\nNot # a heading')], ['1', '2.3', 'F', '7']);
});

links('every <name>.md §N in bindings/, test/, bench/, docs/ and README.md names an existing file and section', () => {
  const problems = [...SCANNED_DIRS.flatMap(filesUnder), ...SCANNED_FILES].flatMap((path) =>
    citationProblems(readFileSync(join(ROOT, path), 'utf8'), path, readRepoFile),
  );
  assert.equal(problems, [], `${problems.length} citations point nowhere:\n${problems.join('\n')}`);
});

links('every path docs/*.md names (bindings/…, test/…, bench/…, or `folder/file.ts` inside bindings/) exists', () => {
  const problems: string[] = [];
  for (const doc of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md'))) {
    const text = readFileSync(join(ROOT, 'docs', doc), 'utf8');
    const missing = (path: string) => readRepoFile(path) === undefined && !(existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isDirectory());
    for (const m of text.matchAll(/(?<![\w/.-])((?:bindings|test|bench|assembly)\/[\w./-]*[\w/])/g)) {
      if (missing(m[1])) problems.push(`docs/${doc}: ${m[1]} does not exist`);
    }
    for (const m of text.matchAll(/`([a-z-]+\/[\w.-]+\.ts)`/g)) {
      if (!/^(bindings|test|bench|assembly)\//.test(m[1]) && missing(`bindings/${m[1]}`)) problems.push(`docs/${doc}: bindings/${m[1]} does not exist`);
    }
  }
  assert.equal(problems, [], problems.join('\n'));
});

links.run();
