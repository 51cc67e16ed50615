#!/usr/bin/env node
// Gives packages/reactor its CommonJS entries, after tsc has built dist/.
//
// The CommonJS entry is the ES module itself: dist/<entry>.cjs is
// `module.exports = require('./<entry>.js')`, which Node (20.19+, 22.12+)
// answers with the ES module's namespace through require(esm). One module
// graph, so one addon instance and one set of classes: `instanceof`
// ZepollError, a Reactor made in CommonJS and handed to ESM code, the
// buffer pools, all are shared (no dual-package hazard).
//
// TypeScript projects in CommonJS (`module: node16`) may not import an ES
// module's types, so every dist/**/*.d.ts gets a .d.cts twin whose relative
// imports point at the twins: the same declarations, typed as CommonJS.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'packages', 'reactor', 'dist');
/** The package's entry points (package.json "exports"), without extension. */
const ENTRIES = ['index', 'http/index', 'fetch/index', 'ws/index', 'hono/index'];

if (!existsSync(join(dist, 'index.js'))) {
  process.stderr.write(`cjs-entries: ${dist}/index.js is missing: run tsc -b packages/reactor first\n`);
  process.exit(1);
}

for (const entry of ENTRIES) {
  if (!existsSync(join(dist, `${entry}.js`))) continue;
  const base = entry.split('/').pop();
  writeFileSync(
    join(dist, `${entry}.cjs`),
    "'use strict';\n" +
      '// CommonJS entry: the ES module itself through require(esm), one instance for both (scripts/cjs-entries.mjs).\n' +
      `module.exports = require('./${base}.js');\n`,
  );
}

/** Relative specifiers of a declaration file, `./x.js` → `./x.cjs` (from '…' and import('…')). */
const RELATIVE_JS = /((?:from\s+|import\s*\(\s*)(['"]))(\.{1,2}\/[^'"]*?)\.js\2/g;

function twin(folder) {
  for (const item of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, item.name);
    if (item.isDirectory()) twin(path);
    else if (item.name.endsWith('.d.ts')) {
      const text = readFileSync(path, 'utf8')
        .replace(RELATIVE_JS, '$1$3.cjs$2')
        .replace(/^\/\/# sourceMappingURL=.*$/m, '');
      writeFileSync(path.replace(/\.d\.ts$/, '.d.cts'), text);
    }
  }
}
twin(dist);
