/**
 * Documentation checks: README.md and the TSDoc of the public API must agree with the code, so neither can drift.
 *
 * - TSDoc: every symbol exported from bindings/index.ts and bindings/core.ts, resolved through its re-exports to
 *   its declaration with the TypeScript compiler API, has a doc comment with a non-empty `@example` (docs/ARCHITECTURE.md §10).
 *   A self-test on a small in-memory program shows that the check flags an undocumented export.
 * - README commands: the quickstart's first two commands are `npm install && npm run demo` and `npm test`; every
 *   `npm run X` names a package.json script; every `oss-crypto` command line uses only commands and flags that
 *   bindings/cli/flags.ts defines (its `FLAGS`, `SHORT_FLAGS` and `COMMANDS` tables, read from the source's syntax tree), and
 *   every flag there is documented in the README's CLI section.
 * - README code: every import from `ali-oss-crypto`, `ali-oss-crypto/core` or `ali-oss-crypto/native` names an
 *   export of that entry; the quickstart example runs, as printed, against the loopback OSS stand-in and gives the
 *   values its comments state, and what OSS stores is ciphertext.
 * - README errors table: exactly the codes of `OssCryptoErrorCode`, once each; every class it names is an error
 *   class of bindings/errors.ts that throws that code somewhere; and every place in bindings/ that throws a code
 *   (found in the syntax tree, not by text search) has its class and its file named on that code's row.
 * @module
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';
import RealOSS from 'ali-oss';
import { startOssServer, type OssServer } from './support/oss-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINDINGS = join(ROOT, 'bindings');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
};
/**
 * The package's entry points as a user imports them (`ali-oss-crypto`, `ali-oss-crypto/core`...), each with the
 * source file behind it: package.json `exports` maps a subpath to `./dist/X.js`, built from `X.ts`.
 */
const ENTRIES: Record<string, string> = Object.fromEntries(
  Object.entries(PACKAGE.exports).flatMap(([subpath, target]) => {
    const built = typeof target === 'string' ? target : (target as { default?: string }).default;
    const m = built === undefined ? null : /^\.\/dist\/(.+)\.js$/.exec(built);
    if (m === null) return [];
    return [[subpath === '.' ? 'ali-oss-crypto' : `ali-oss-crypto${subpath.slice(1)}`, `${m[1]}.ts`]];
  }),
);
/** The entries whose every export must carry TSDoc with an example. */
const DOCUMENTED_ENTRIES = ['bindings/index.ts', 'bindings/core.ts'];

// One program over the public entries; building it is the slow part (a few seconds), so it is shared.
let programCache: ts.Program | undefined;
function program(): ts.Program {
  if (programCache === undefined) {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (config === undefined) throw new Error('tsconfig.json could not be read');
    programCache = ts.createProgram({
      rootNames: [...new Set([...Object.values(ENTRIES), ...DOCUMENTED_ENTRIES])].map((f) => join(ROOT, f)),
      options: { ...config.options, noEmit: true },
    });
  }
  return programCache;
}

// ---------------------------------------------------------------------------------------------------------------
// TSDoc

interface Missing {
  entry: string;
  name: string;
  file: string;
  why: string;
}

/**
 * The exports of `entries` whose declaration has no doc comment or no non-empty `@example`. Re-exports are
 * followed to the declaration, where the comment of a re-exported class, interface or type lives.
 */
function undocumentedExports(prog: ts.Program, entries: readonly string[], root: string): Missing[] {
  const checker = prog.getTypeChecker();
  const out: Missing[] = [];
  for (const entry of entries) {
    const source = prog.getSourceFile(entry);
    if (source === undefined) throw new Error(`${entry} is not part of the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${entry} has no module symbol (no exports?)`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = target.declarations?.[0];
      const file = declaration === undefined ? '(no declaration)' : relative(root, declaration.getSourceFile().fileName);
      const summary = ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
      const tags = target.getJsDocTags(checker);
      const example = tags.find((t) => t.name === 'example');
      const exampleText = example === undefined ? '' : ts.displayPartsToString(example.text).trim();
      const why =
        summary === '' && tags.length === 0 ? 'no TSDoc comment'
        : example === undefined ? 'no @example'
        : exampleText === '' ? 'an empty @example'
        : undefined;
      if (why !== undefined) out.push({ entry: relative(root, entry), name: exported.name, file, why });
    }
  }
  return out;
}

const tsdoc = suite('docs: TSDoc on every public export');

tsdoc('the check itself flags an export without @example, without a comment, or with an empty @example', () => {
  const files: Record<string, string> = {
    '/v/index.ts': "export { documented, bare, empty } from './impl.js';\nexport type { Shape } from './impl.js';\nexport const local = 1;\n",
    '/v/impl.ts': [
      '/**\n * Adds one.\n * @example\n *   documented(1) // 2\n */\nexport function documented(n: number): number { return n + 1; }',
      '/** Has a summary but shows no use. */\nexport function bare(): void {}',
      '/**\n * An example tag with nothing in it.\n * @example\n */\nexport const empty = 0;',
      '/**\n * A shape.\n * @example\n *   const s: Shape = { x: 1 };\n */\nexport interface Shape { x: number }',
    ].join('\n'),
  };
  const options: ts.CompilerOptions = { noLib: true, types: [], module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true };
  const host = ts.createCompilerHost(options);
  host.fileExists = (f) => f in files;
  host.directoryExists = (d) => d === '/' || d === '/v';
  host.getCurrentDirectory = () => '/v';
  host.readFile = (f) => files[f];
  host.getSourceFile = (f, language) => (f in files ? ts.createSourceFile(f, files[f], language, true) : undefined);
  const prog = ts.createProgram({ rootNames: ['/v/index.ts'], options, host });
  const missing = undocumentedExports(prog, ['/v/index.ts'], '/v');
  assert.equal(
    missing.map((m) => `${m.name}: ${m.why} (${m.file})`).sort(),
    ['bare: no @example (impl.ts)', 'empty: an empty @example (impl.ts)', 'local: no TSDoc comment (index.ts)'],
  );
});

tsdoc('every symbol exported from bindings/index.ts and bindings/core.ts has TSDoc with an @example', () => {
  const prog = program();
  const checker = prog.getTypeChecker();
  // The check must see the real export lists: both entries resolve, and every export reaches a declaration.
  for (const entry of DOCUMENTED_ENTRIES) {
    const source = prog.getSourceFile(join(ROOT, entry));
    assert.ok(source, `${entry} is not in the program`);
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source!)!);
    assert.ok(exports.length > 0, `${entry} exports nothing?`);
  }
  const missing = undocumentedExports(prog, DOCUMENTED_ENTRIES.map((f) => join(ROOT, f)), ROOT);
  const byName = new Map<string, Missing>();
  for (const m of missing) byName.set(`${m.name} (${m.file}): ${m.why}`, m);
  const list = [...byName.keys()].sort();
  assert.ok(list.length === 0, `${list.length} public export(s) lack TSDoc with an @example:\n  ${list.join('\n  ')}`);
});

// ---------------------------------------------------------------------------------------------------------------
// Markdown helpers

interface CodeBlock {
  lang: string;
  body: string;
}

function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** The text of the `## ` section whose heading matches, up to the next `## ` heading. */
function section(markdown: string, heading: RegExp): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## ') && heading.test(l.slice(3)));
  if (start === -1) throw new Error(`README has no "## " section matching ${heading}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** Rows of the Markdown tables in `text`, cells trimmed, `\|` kept inside a cell; header and rule rows dropped. */
function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line.startsWith('|')) continue;
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    // A row followed by the rule row is the header.
    if (/^\|\s*:?-+/.test(lines[i + 1]?.trim() ?? '')) continue;
    rows.push(cells);
  }
  return rows;
}

/** Shell command lines of the README's shell code blocks: continuations joined, comments dropped. */
function shellCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const block of codeBlocks(markdown)) {
    if (!['sh', 'bash', 'shell', 'console', ''].includes(block.lang)) continue;
    const joined = block.body.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/^\$\s+/, '').replace(/(^|\s)#\s.*$/, '').trim();
      if (line !== '') out.push(line);
    }
  }
  return out;
}

const inlineCode = (markdown: string): string[] => [...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);

// ---------------------------------------------------------------------------------------------------------------
// bindings/cli/flags.ts, read from its syntax tree (no import: the parser's own tables are what is checked)

function parseFile(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
}

function variableInitializer(file: ts.SourceFile, name: string): ts.Expression {
  let found: ts.Expression | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer) {
      found = node.initializer;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (found === undefined) throw new Error(`${file.fileName} declares no ${name}`);
  // `{...} as const`, `Object.freeze({...})`: look through the wrapper.
  let expr: ts.Expression = found;
  for (;;) {
    if (ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr) || ts.isParenthesizedExpression(expr)) expr = expr.expression;
    else if (ts.isCallExpression(expr) && expr.arguments.length === 1) expr = expr.arguments[0];
    else return expr;
  }
}

function propertyNames(expr: ts.Expression, what: string): string[] {
  if (!ts.isObjectLiteralExpression(expr)) throw new Error(`${what} is not an object literal`);
  return expr.properties.map((p) => {
    if (!(ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
      throw new Error(`${what} has a property this test cannot read: ${p.getText()}`);
    }
    return p.name.text;
  });
}

function cliTables(): { flags: Set<string>; short: Map<string, string>; commands: Set<string> } {
  const file = parseFile(join(BINDINGS, 'cli/flags.ts'));
  const flags = new Set(propertyNames(variableInitializer(file, 'FLAGS'), 'FLAGS'));
  const shortLiteral = variableInitializer(file, 'SHORT_FLAGS');
  const short = new Map<string, string>();
  if (!ts.isObjectLiteralExpression(shortLiteral)) throw new Error('SHORT_FLAGS is not an object literal');
  for (const p of shortLiteral.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && ts.isStringLiteral(p.initializer)) {
      short.set(p.name.text, p.initializer.text);
    }
  }
  const all = variableInitializer(file, 'COMMANDS');
  if (!ts.isArrayLiteralExpression(all)) throw new Error('COMMANDS is not an array literal');
  const commands = new Set(all.elements.filter(ts.isStringLiteral).map((e) => e.text));
  return { flags, short, commands };
}

// ---------------------------------------------------------------------------------------------------------------
const commands = suite('docs: README commands match package.json and the CLI');

commands('the quickstart: the first two commands after cloning are `npm install && npm run demo`, then `npm test`', () => {
  const quick = section(README, /^Quickstart\b/);
  const first = codeBlocks(quick)[0];
  assert.ok(first, 'the Quickstart section has no code block');
  const lines = shellCommands('```sh\n' + first.body + '```\n');
  assert.equal(lines.slice(0, 2), ['npm install && npm run demo', 'npm test']);
  assert.ok(PACKAGE.scripts.test, 'package.json has no "test" script');
  // .ci/run must run exactly the README's test command.
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  assert.match(ci, /^\s*npm test\b/m, '.ci/run does not run `npm test`');
});

commands('every `npm run X` in the README names a package.json script', () => {
  const texts = [...codeBlocks(README).map((b) => b.body), ...inlineCode(README)];
  const named = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(/\bnpm run ([\w:.-]+)/g)) named.add(m[1]);
  assert.ok(named.size >= 2, `expected the README to show npm scripts, found ${[...named].join(', ') || 'none'}`);
  const unknown = [...named].filter((s) => !(s in PACKAGE.scripts));
  assert.equal(unknown, [], `README names npm scripts that package.json does not define: ${unknown.join(', ')}`);
});

commands('every `oss-crypto` command line uses only commands and flags defined in bindings/cli/flags.ts', () => {
  const { flags, short, commands: known } = cliTables();
  const lines = shellCommands(README).filter((l) => /(^|[\s/])oss-crypto\s/.test(l));
  assert.ok(lines.length >= 4, `expected oss-crypto examples in the README, found ${lines.length}`);
  const problems: string[] = [];
  for (const line of lines) {
    // Only the oss-crypto invocation itself: stop at a pipe into another program.
    const invocation = line.slice(line.search(/oss-crypto\s/)).split(/\s\|\s/)[0];
    const words = invocation.split(/\s+/);
    const command = words[1];
    if (!command.startsWith('-') && !known.has(command)) problems.push(`unknown command "${command}" in: ${line}`);
    for (const word of words.slice(1)) {
      const long = /^--([a-z][\w-]*)(=.*)?$/.exec(word);
      if (long && !flags.has(long[1])) problems.push(`unknown flag --${long[1]} in: ${line}`);
      const one = /^-([A-Za-z])$/.exec(word);
      if (one && !short.has(one[1])) problems.push(`unknown short flag -${one[1]} in: ${line}`);
    }
  }
  assert.equal(problems, []);
});

commands('the CLI section documents every command and flag of bindings/cli/flags.ts, and no other flag', () => {
  const { flags, short, commands: known } = cliTables();
  const cli = section(README, /^The CLI\b/);
  const shown = new Set([...cli.matchAll(/(?<![\w-])--([a-z][\w-]*)/g)].map((m) => m[1]));
  const undocumented = [...flags].filter((f) => !shown.has(f));
  const invented = [...shown].filter((f) => !flags.has(f));
  assert.equal(undocumented, [], `flags of flags.ts missing from the README's CLI section: ${undocumented.map((f) => '--' + f).join(', ')}`);
  assert.equal(invented, [], `flags in the README's CLI section that flags.ts does not define: ${invented.map((f) => '--' + f).join(', ')}`);
  for (const s of short.keys()) assert.ok(new RegExp(`\`-${s}\``).test(cli), `short flag -${s} is not documented`);
  for (const c of known) assert.ok(new RegExp(`\`${c}\\b`).test(cli), `command "${c}" is not documented in the CLI section`);
  // The exit statuses the runner returns (bindings/cli/run.ts) are the ones documented.
  const run = readFileSync(join(BINDINGS, 'cli/run.ts'), 'utf8');
  for (const status of new Set([...run.matchAll(/\breturn ([0-9]);/g)].map((m) => m[1]))) {
    assert.ok(new RegExp(`\`${status}\``).test(cli), `exit status ${status} (cli/run.ts) is not documented`);
  }
  assert.match(cli, /`error CODE: message`/);
  assert.match(cli, /`error USAGE: message`/);
});

// ---------------------------------------------------------------------------------------------------------------
const code = suite('docs: README code matches the exports and runs');

code('every import from ali-oss-crypto[/core|/native] in the README names an export of that entry', () => {
  const prog = program();
  const checker = prog.getTypeChecker();
  const exportsOf = new Map<string, Set<string>>();
  for (const specifier of ['ali-oss-crypto', 'ali-oss-crypto/core', 'ali-oss-crypto/native']) {
    assert.ok(ENTRIES[specifier], `package.json "exports" has no entry for ${specifier}`);
  }
  for (const [specifier, file] of Object.entries(ENTRIES)) {
    const source = prog.getSourceFile(join(ROOT, file));
    assert.ok(source, `${file} (package.json exports, ${specifier}) is not in the program`);
    exportsOf.set(specifier, new Set(checker.getExportsOfModule(checker.getSymbolAtLocation(source!)!).map((s) => s.name)));
  }
  const problems: string[] = [];
  let imports = 0;
  for (const block of codeBlocks(README)) {
    if (!['js', 'ts', 'javascript', 'typescript', 'mjs'].includes(block.lang)) continue;
    const sf = ts.createSourceFile('block.ts', block.body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    for (const statement of sf.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const specifier = statement.moduleSpecifier.text;
      if (!specifier.startsWith('ali-oss-crypto')) continue;
      const names = exportsOf.get(specifier);
      if (names === undefined) {
        problems.push(`import from "${specifier}", which is not an entry of the package`);
        continue;
      }
      const bindings = statement.importClause?.namedBindings;
      if (statement.importClause?.name) problems.push(`default import from "${specifier}" (the package has named exports only)`);
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          imports++;
          const name = (el.propertyName ?? el.name).text;
          if (!names.has(name)) problems.push(`"${name}" is not exported by ${specifier} (${ENTRIES[specifier]})`);
        }
      }
    }
  }
  assert.ok(imports >= 10, `expected the README's examples to import from the package, found ${imports} names`);
  assert.equal(problems, []);
});

code('every JavaScript and TypeScript block of the README is syntactically valid', () => {
  const blocks = codeBlocks(README).filter((b) => ['js', 'ts', 'javascript', 'typescript', 'mjs'].includes(b.lang));
  assert.ok(blocks.length >= 8, `expected the README to show code, found ${blocks.length} JS/TS blocks`);
  const problems: string[] = [];
  for (const block of blocks) {
    const out = ts.transpileModule(block.body, {
      reportDiagnostics: true,
      fileName: block.lang.startsWith('t') ? 'block.ts' : 'block.mjs',
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, allowJs: true },
    });
    for (const d of out.diagnostics ?? []) {
      problems.push(`${ts.flattenDiagnosticMessageText(d.messageText, ' ')} in:\n${block.body.split('\n').slice(0, 3).join('\n')}`);
    }
  }
  assert.equal(problems, []);
});

let oss: OssServer;
code.before(async () => {
  oss = await startOssServer();
});
code.after(async () => {
  await oss.close();
});

code('the quickstart example runs as printed against the loopback OSS and gives the values its comments state', async () => {
  const quick = section(README, /^Quickstart\b/);
  const block = codeBlocks(quick).find((b) => ['js', 'javascript', 'mjs'].includes(b.lang) && b.body.includes('new CryptoClient('));
  assert.ok(block, 'the Quickstart section has no JavaScript example with new CryptoClient(');
  const sf = ts.createSourceFile('quickstart.mjs', block!.body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);

  // Imports become parameters: the library's own exports, ali-oss aimed at the stand-in, and a key file reader.
  const library = (await import(pathToFileURL(join(BINDINGS, 'index.ts')).href)) as Record<string, unknown>;
  const privatePem = readFileSync(join(ROOT, 'test/fixtures/interop/keys/rsaprovider-main-rsa2048.private.pem'), 'utf8');
  const readPaths: string[] = [];
  const buckets: string[] = [];
  const stand = oss;
  class StandInOSS extends RealOSS {
    constructor(options: RealOSS.Options) {
      buckets.push(String(options.bucket));
      // Same bucket; the stand-in's endpoint and credentials (real ones are never needed or read).
      super({ ...options, ...stand.clientOptions(String(options.bucket)) } as RealOSS.Options);
    }
  }
  const params = new Map<string, unknown>();
  let body = block!.body;
  for (const statement of [...sf.statements].reverse()) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    const clause = statement.importClause;
    if (clause?.name) {
      assert.is(from, 'ali-oss', `unexpected default import from ${from}`);
      params.set(clause.name.text, StandInOSS);
    }
    if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) {
      for (const el of clause.namedBindings.elements) {
        const name = (el.propertyName ?? el.name).text;
        if (from === 'ali-oss-crypto') {
          assert.ok(name in library, `${name} is not exported by bindings/index.ts`);
          params.set(el.name.text, library[name]);
        } else if (from === 'node:fs' && name === 'readFileSync') {
          params.set(el.name.text, (path: string, encoding?: string) => {
            readPaths.push(path);
            assert.is(encoding, 'utf8', 'the example should read the PEM as text');
            return privatePem;
          });
        } else {
          assert.unreachable(`the quickstart imports ${name} from ${from}; teach this test what to give it`);
        }
      }
    }
    body = body.slice(0, statement.getStart(sf)) + body.slice(statement.getEnd());
  }

  // `const { content: x } = await client.get(...); // 'text'` states what x holds.
  const stated = [...block!.body.matchAll(/const \{ content(?::\s*(\w+))? \} = await [^\n]*\/\/\s*'([^']*)'/g)].map((m) => ({
    variable: m[1] ?? 'content',
    text: m[2],
  }));
  assert.ok(stated.length >= 2, 'the quickstart should state what its whole and ranged reads return');
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<Record<string, Buffer>>;
  const run = new AsyncFunction(...params.keys(), `${body}\nreturn { ${stated.map((s) => s.variable).join(', ')} };`);
  const results = await run(...params.values());

  for (const s of stated) assert.is(results[s.variable]?.toString('utf8'), s.text, `${s.variable} should be '${s.text}'`);
  assert.equal(readPaths, ['key.pem']);
  // What OSS holds is ciphertext of the full plaintext, with the V2 envelope.
  const whole = stated[0].text;
  const putName = /client\.put\('([^']+)'/.exec(body)?.[1];
  assert.ok(putName, 'the quickstart should put an object');
  const stored = oss.getObject(buckets[0], putName!);
  assert.ok(stored, `nothing stored at ${buckets[0]}/${putName}`);
  assert.ok(stored!.body, 'the stand-in kept no body');
  const storedBody = Buffer.from(stored!.body!);
  assert.is(storedBody.length, Buffer.byteLength(whole));
  assert.not.ok(storedBody.toString('utf8').includes(whole.slice(0, 5)), 'the stored object holds plaintext');
  const headerNames = Object.keys(stored!.headers).map((h) => h.toLowerCase());
  assert.ok(headerNames.includes('x-oss-meta-client-side-encryption-key'), `no V2 key header among ${headerNames.join(', ')}`);
});

// ---------------------------------------------------------------------------------------------------------------
const errors = suite('docs: the README errors table matches bindings/errors.ts and the throw sites');

interface ThrowSite {
  code: string;
  cls: string;
  where: string;
}

/** Codes of `OssCryptoErrorCode`, error classes of errors.ts, and the code a class fixes in its constructor. */
function errorModel(): { codes: string[]; classes: Set<string>; fixedCode: Map<string, string> } {
  const file = parseFile(join(BINDINGS, 'errors.ts'));
  let codes: string[] | undefined;
  const classes = new Set<string>();
  const fixedCode = new Map<string, string>();
  for (const statement of file.statements) {
    if (ts.isTypeAliasDeclaration(statement) && statement.name.text === 'OssCryptoErrorCode' && ts.isUnionTypeNode(statement.type)) {
      codes = statement.type.types.map((t) => {
        if (!ts.isLiteralTypeNode(t) || !ts.isStringLiteral(t.literal)) throw new Error(`OssCryptoErrorCode member ${t.getText()} is not a string literal`);
        return t.literal.text;
      });
    }
    if (ts.isClassDeclaration(statement) && statement.name) {
      classes.add(statement.name.text);
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
          fixedCode.set(statement.name!.text, node.arguments[0].text);
        }
        ts.forEachChild(node, visit);
      };
      visit(statement);
    }
  }
  if (codes === undefined) throw new Error('bindings/errors.ts has no OssCryptoErrorCode union');
  return { codes, classes, fixedCode };
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    // The generated WASM bytes hold no code to inspect.
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && name !== 'core.wasm.ts' && name !== 'core-debug.wasm.ts') out.push(path);
  }
  return out;
}

/** Every `new <ErrorClass>('CODE', ...)` in bindings/ (and `new KmsError(...)`, whose code is fixed). */
function throwSites(classes: Set<string>, fixedCode: Map<string, string>): ThrowSite[] {
  const sites: ThrowSite[] = [];
  for (const path of sourceFiles(BINDINGS)) {
    const file = parseFile(path);
    const where = relative(BINDINGS, path);
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && classes.has(node.expression.text)) {
        const cls = node.expression.text;
        const first = node.arguments?.[0];
        const code = fixedCode.get(cls) ?? (first !== undefined && ts.isStringLiteral(first) ? first.text : undefined);
        // A code passed through a variable (re-throwing another error's code) has its own literal site elsewhere.
        if (code !== undefined) sites.push({ code, cls, where: `${where}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}` });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return sites;
}

function errorsTable(): Map<string, { classes: string[]; text: string }> {
  const rows = tableRows(section(README, /^Errors\b/));
  const table = new Map<string, { classes: string[]; text: string }>();
  for (const cells of rows) {
    const codes = [...(cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]);
    assert.is(codes.length, 1, `each errors-table row names one code; got ${JSON.stringify(cells[1])}`);
    assert.not.ok(table.has(codes[0]), `${codes[0]} has two rows in the errors table`);
    table.set(codes[0], { classes: [...(cells[0] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]), text: cells.join(' | ') });
  }
  return table;
}

errors('the table has one row per OssCryptoErrorCode, and no other code', () => {
  const { codes } = errorModel();
  assert.ok(codes.length >= 10, `OssCryptoErrorCode has only ${codes.length} members?`);
  const table = errorsTable();
  const missing = codes.filter((c) => !table.has(c));
  const extra = [...table.keys()].filter((c) => !codes.includes(c));
  assert.equal(missing, [], `codes of bindings/errors.ts missing from the README's errors table: ${missing.join(', ')}`);
  assert.equal(extra, [], `codes in the README's errors table that bindings/errors.ts does not define: ${extra.join(', ')}`);
});

errors('every throw site in bindings/ has its class and its file named on its code row', () => {
  const { codes, classes, fixedCode } = errorModel();
  const sites = throwSites(classes, fixedCode);
  // The scan must find the throw sites of most codes (some are only re-thrown through a variable).
  const thrown = new Set(sites.map((s) => s.code));
  assert.ok(thrown.size >= codes.length - 2, `the scan found throw sites for only ${thrown.size} of ${codes.length} codes`);
  const table = errorsTable();
  const problems: string[] = [];
  for (const site of sites) {
    const row = table.get(site.code);
    if (row === undefined) {
      problems.push(`${site.where} throws ${site.cls} ${site.code}, which has no row`);
      continue;
    }
    if (!row.classes.includes(site.cls)) problems.push(`${site.where} throws ${site.code} as ${site.cls}, but its row names ${row.classes.join(', ')}`);
    const file = site.where.replace(/:\d+$/, '');
    if (!row.text.includes(file)) problems.push(`${site.where} throws ${site.code}, but its row does not name ${file}`);
  }
  assert.equal(problems, []);
});

errors('every class on a row is an error class of errors.ts that throws that code somewhere', () => {
  const { classes, fixedCode } = errorModel();
  const sites = throwSites(classes, fixedCode);
  const problems: string[] = [];
  for (const [code, row] of errorsTable()) {
    assert.ok(row.classes.length > 0, `the row of ${code} names no class`);
    for (const cls of row.classes) {
      if (!classes.has(cls)) problems.push(`${code}: ${cls} is not a class of bindings/errors.ts`);
      else if (!sites.some((s) => s.code === code && s.cls === cls)) problems.push(`${code}: nothing in bindings/ throws it as ${cls}`);
    }
  }
  assert.equal(problems, []);
});

tsdoc.run();
commands.run();
code.run();
errors.run();
