/**
 * The layout rules of bindings/ that keep it readable (issue 8), computed from the source on every run:
 * - the folder-level import graph has no cycle (each folder's imports, read from the syntax tree, relative
 *   specifiers resolved; a cycle is printed with the import that closes each edge);
 * - no file outside bindings/oss/ names a private member of ali-oss (`_objectRequestParams`, `customResponse`,
 *   `successStatuses`, `requestError`, `_objectUrl`, `options.bucket`, `.request(`): the ali-oss adapter is the only
 *   file that knows ali-oss's internals;
 * - `AliOssLike` has no index signature, so the type checker sees every member the code uses;
 * - no file is over 450 lines (the generated WASM bytes aside), and each opens with a `@module` comment;
 * - every member the adapter needs exists on a real `new OSS()`, and a client missing one is refused at
 *   construction with the ali-oss version named.
 * Self-tests show that the cycle finder and the member scan do find what they look for.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OSS from 'ali-oss';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALI_OSS_MEMBERS, AliOssStore, type AliOssLike } from '../bindings/oss/ali-oss.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BINDINGS = join(ROOT, 'bindings');

/** Every .ts file under bindings/, as paths relative to bindings/. */
function sourceFiles(dir = BINDINGS): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(BINDINGS, path));
  }
  return out.sort();
}

/** The unit of the graph: a top-level folder, or a top-level file (`errors.ts`, the entries). */
function unitOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : `${file.slice(0, slash)}/`;
}

/** Relative import and re-export specifiers of a source text, static and dynamic. */
function importsOf(text: string, fileName: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out.filter((s) => s.startsWith('.'));
}

/** Folder-level edges, each with one import that makes it (for messages). */
type Graph = Map<string, Map<string, string>>;

function folderGraph(files: ReadonlyMap<string, string>): Graph {
  const graph: Graph = new Map();
  for (const [file, text] of files) {
    const from = unitOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of importsOf(text, file)) {
      const target = relative(BINDINGS, resolve(BINDINGS, dirname(file), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('..')) continue;
      const to = unitOf(target);
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${file} imports ${spec}`);
    }
  }
  return graph;
}

/** Every elementary cycle's first appearance, as a list of units (strongly connected components of size > 1). */
function findCycles(graph: Graph): string[][] {
  // Tarjan's algorithm: each component with more than one unit holds at least one cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strong = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) strong(v);
  // One concrete cycle per component, for the message: a path back to its first unit inside the component.
  return components.map((component) => {
    const members = new Set(component);
    const start = component[0];
    const path = [start];
    const seen = new Set([start]);
    const walk = (v: string): boolean => {
      for (const w of graph.get(v)?.keys() ?? []) {
        if (!members.has(w)) continue;
        if (w === start) return true;
        if (seen.has(w)) continue;
        seen.add(w);
        path.push(w);
        if (walk(w)) return true;
        path.pop();
      }
      return false;
    };
    walk(start);
    return [...path, start];
  });
}

function describeCycle(graph: Graph, cycle: string[]): string {
  const steps = cycle.slice(0, -1).map((from, i) => `${from} → ${cycle[i + 1]} (${graph.get(from)!.get(cycle[i + 1])})`);
  return steps.join('; ');
}

/** The private ali-oss members (and the two private property reads) no file outside bindings/oss/ may name. */
const PRIVATE_MEMBERS: ReadonlyArray<[string, RegExp]> = [
  ['_objectRequestParams', /_objectRequestParams/],
  ['customResponse', /customResponse/],
  ['successStatuses', /successStatuses/],
  ['requestError', /requestError/],
  ['_objectUrl', /_objectUrl/],
  ['options.bucket', /options\??\.bucket/],
  ['.request(', /\.request\(/],
];

/**
 * `file:line names X` for every naming of a private member in code (comments are blanked first, keeping the line
 * numbers: explaining where an ali-oss behaviour comes from is allowed, reaching into ali-oss is not).
 */
function privateMemberUses(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    if (file.startsWith('oss/')) continue;
    codeOnly(text).split('\n').forEach((line, i) => {
      for (const [name, pattern] of PRIVATE_MEMBERS) if (pattern.test(line)) problems.push(`${file}:${i + 1} names ${name}`);
    });
  }
  return problems;
}

/** The text with every comment replaced by spaces (newlines kept), using the TypeScript scanner. */
function codeOnly(text: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  let out = '';
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const token = scanner.getTokenText();
    const comment = kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia;
    out += comment ? token.replace(/[^\n]/g, ' ') : token;
  }
  return out;
}

const FILES: ReadonlyMap<string, string> = new Map(sourceFiles().map((f) => [f, readFileSync(join(BINDINGS, f), 'utf8')]));

const layout = suite('layout of bindings/: import graph, the ali-oss boundary');

layout('the cycle finder finds a planted cycle and names its imports (self-test)', () => {
  const planted = new Map([
    ['a/x.ts', "import { y } from '../b/y.js';"],
    ['b/y.ts', "export { z } from '../c/z.js';"],
    ['c/z.ts', "const m = await import('../a/x.js');"],
    ['d/w.ts', "import '../a/x.js';"],
  ]);
  const graph = folderGraph(planted);
  const cycles = findCycles(graph);
  assert.equal(cycles, [['a/', 'b/', 'c/', 'a/']]);
  assert.match(describeCycle(graph, cycles[0]), /c\/ → a\/ \(c\/z\.ts imports \.\.\/a\/x\.js\)/);
  assert.equal(findCycles(folderGraph(new Map([['a/x.ts', "import '../b/y.js';"], ['b/y.ts', '']]))), []);
});

layout('the folder-level import graph of bindings/ has no cycle', () => {
  const graph = folderGraph(FILES);
  assert.ok(graph.size >= 10, `only ${graph.size} folders found`);
  const cycles = findCycles(graph).map((c) => describeCycle(graph, c));
  assert.equal(cycles, [], `import cycles between folders:\n${cycles.join('\n')}`);
});

layout('the member scan flags a private ali-oss member outside oss/ (self-test)', () => {
  const planted = new Map([
    ['client/x.ts', 'const p = oss._objectRequestParams("GET", name, o);\nconst b = ctx.oss.options?.bucket; // requestError'],
    ['client/y.ts', '/** as ali-oss requestError does */\nconst x = 1;'],
    ['oss/ali-oss.ts', 'params.customResponse = true;'],
  ]);
  assert.equal(privateMemberUses(planted), ['client/x.ts:1 names _objectRequestParams', 'client/x.ts:2 names options.bucket']);
});

layout('no file outside bindings/oss/ names a private ali-oss member', () => {
  assert.equal(privateMemberUses(FILES), []);
});

layout('AliOssLike has no index signature', () => {
  const text = FILES.get('oss/ali-oss.ts')!;
  const source = ts.createSourceFile('ali-oss.ts', text, ts.ScriptTarget.Latest, true);
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'AliOssLike');
  assert.ok(decl, 'AliOssLike not found in bindings/oss/ali-oss.ts');
  assert.equal(decl!.members.filter(ts.isIndexSignatureDeclaration).map((m) => m.getText()), []);
  assert.ok(decl!.members.length >= 5);
});

/** Generated files, exempt from the size rule (their headers say they are generated). */
const GENERATED = new Set(['wasm/core.wasm.ts', 'wasm/core-debug.wasm.ts']);
const MAX_LINES = 450;

layout(`no file in bindings/ is over ${MAX_LINES} lines, and each opens with a @module comment saying its job`, () => {
  const long = [...FILES].filter(([f, text]) => !GENERATED.has(f) && text.split('\n').length - 1 > MAX_LINES).map(([f, text]) => `${f}: ${text.split('\n').length - 1} lines`);
  assert.equal(long, []);
  // The opening comment comes first (after a shebang, or a generated file's `//` banner) and ends with @module.
  const unexplained = [...FILES].filter(([, text]) => !/^(?:#![^\n]*\n)?(?:\/\/[^\n]*\n)*\/\*\*\n(?: \*[^\n]*\n)+? \* @module\n \*\//.test(text)).map(([f]) => f);
  assert.equal(unexplained, []);
});

const OSS_OPTIONS = { region: 'oss-cn-hangzhou', bucket: 'layout-bkt', accessKeyId: 'id', accessKeySecret: 'secret' };

layout('every ali-oss member the adapter needs exists on a real new OSS()', () => {
  const oss = new OSS(OSS_OPTIONS) as unknown as Record<string, unknown>;
  const missing = ALI_OSS_MEMBERS.filter((m) => typeof oss[m] !== 'function');
  assert.equal(missing, []);
  const store = new AliOssStore(oss as unknown as AliOssLike);
  assert.match(store.runtime, /^ali-oss \d+\.\d+\.\d+/);
  assert.is(store.bucket, 'layout-bkt');
  assert.match(store.objectUrl('a b.bin') ?? '', /layout-bkt.*a%20b\.bin$/);
});

layout('a client missing a member is refused at construction, naming the ali-oss version and the member', () => {
  const oss = new OSS(OSS_OPTIONS) as unknown as Record<string, unknown>;
  // An instance whose prototype lacks the private request layer, as a release that renamed it would.
  const crippled = Object.create(oss, { _objectRequestParams: { value: undefined } });
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.throws(
    () => new CryptoClient(crippled as AliOssLike, { material: rsaKeyWrapper({ privateKey }) }),
    (err: unknown) => err instanceof TypeError && /ali-oss \d+\.\d+\.\d+/.test(err.message) && err.message.includes('_objectRequestParams()'),
  );
  // The same instance, whole, is accepted; the CryptoClient hands the ali-oss client back as `oss`.
  const client = new CryptoClient(oss as unknown as AliOssLike, { material: rsaKeyWrapper({ privateKey }) });
  assert.is(client.oss, oss as unknown as AliOssLike);
});

layout.run();
