/**
 * Every `ts` block of the README, the package README and docs/*.md
 * compiles against the package's public types (strict, as a user's ES
 * module would): a snippet that drifts from the API fails here. Each block
 * is a module of its own, with `zepoll`, `zepoll/http`, `zepoll/fetch`, `zepoll/ws` and `zepoll/hono` mapped to the
 * sources, typechecked without emitting.
 */
import t from 'tap';
import ts from 'typescript';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const documents = ['README.md', 'packages/reactor/README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const FENCE = /^```ts\n([\s\S]*?)^```/gm;

interface Snippet {
  readonly document: string;
  readonly index: number;
  readonly line: number;
  readonly code: string;
}

function snippetsOf(document: string): Snippet[] {
  const text = readFileSync(join(root, document), 'utf8');
  const found: Snippet[] = [];
  for (const match of text.matchAll(FENCE)) {
    const line = text.slice(0, match.index).split('\n').length;
    found.push({ document, index: found.length, line, code: match[1]! });
  }
  return found;
}

t.test('every ts snippet in the docs compiles against the public API', (t) => {
  const snippets = documents.flatMap(snippetsOf);
  t.ok(snippets.length >= 14, `${snippets.length} snippets found`);
  t.ok(snippets.some((snippet) => snippet.document === 'docs/guide.md'), 'the guide has snippets');
  const folder = mkdtempSync(join(tmpdir(), 'zepoll-snippets-'));
  try {
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
    const files = snippets.map((snippet) => {
      const file = join(folder, `${snippet.document.replace(/[/.]/g, '_')}_${snippet.index}.ts`);
      writeFileSync(file, `${snippet.code}\nexport {};\n`);
      return { file, snippet };
    });
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      allowImportingTsExtensions: true,
      baseUrl: root,
      paths: {
        zepoll: [join(root, 'packages/reactor/src/index.ts')],
        'zepoll/http': [join(root, 'packages/reactor/src/http/index.ts')],
        'zepoll/fetch': [join(root, 'packages/reactor/src/fetch/index.ts')],
        'zepoll/ws': [join(root, 'packages/reactor/src/ws/index.ts')],
        'zepoll/hono': [join(root, 'packages/reactor/src/hono/index.ts')],
        // The fetch guide's examples are Hono apps (a devDependency here, the user's own dependency there).
        hono: [join(root, 'node_modules/hono/dist/types/index.d.ts')],
      },
    };
    const program = ts.createProgram(files.map(({ file }) => file), options);
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((diagnostic) => diagnostic.file !== undefined && diagnostic.file.fileName.startsWith(folder));
    const messages = diagnostics.map((diagnostic) => {
      const owner = files.find(({ file }) => file === diagnostic.file!.fileName)!.snippet;
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `${owner.document}:${owner.line + 1 + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    t.same(messages, [], 'no type error in any snippet');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  t.end();
});

t.test('no document links outside the repository', (t) => {
  for (const document of documents) {
    const text = readFileSync(join(root, document), 'utf8');
    t.notMatch(text, /\.\.\/shared|DESIGN\.md|STYLE\.md/, `${document} has no link to ../shared`);
  }
  t.end();
});
