#!/usr/bin/env node
// Bundles the `tsbpf` command line into dist/cli/ and points dist/cli.js at it; `npm run build`
// runs it after tsc. Why: Node pays per ES module file it resolves, reads and compiles, and
// yargs and its dependencies are ~50 of them, so loading the tsc output costs 80-100 ms before `tsbpf --help`
// prints or `tsbpf build` starts its first clang. One file per command (esbuild's splitting)
// keeps what a command does not use unloaded. The library entry points stay tsc's output.
//
// Modules that find files relative to themselves (headers/, templates/, package.json) move in a
// bundle, so each `import.meta.url` in src/ is rewritten to the URL the module has in tsc's
// layout (dist/<dir>/<file>.js): the same paths in the repository and in an installed package.
//
//   node scripts/bundle.mjs     (after tsc -p tsconfig.build.json; dist/cli.js is then replaced)
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { writeFileAtomic } from '../dist/atomic.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;
const outDir = `${root}dist/cli/`;

/** The source with each `import.meta.url` (in code, not in strings) made the module's dist/ URL. */
function withDistUrls(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  // From dist/cli/<chunk>.js to where tsc writes this module.
  const asEmitted = `../${relative(src, file).replace(/\.ts$/, '.js')}`;
  const spans = [];
  const visit = (node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      ts.isMetaProperty(node.expression) &&
      node.expression.keywordToken === ts.SyntaxKind.ImportKeyword &&
      node.name.text === 'url'
    ) {
      spans.push([node.getStart(source), node.getEnd()]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  let out = text;
  for (const [start, end] of spans.reverse()) {
    out = `${out.slice(0, start)}new URL(${JSON.stringify(asEmitted)}, import.meta.url).href${out.slice(end)}`;
  }
  return out;
}

const distUrls = {
  name: 'dist-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return {
        contents: text.includes('import.meta') ? withDistUrls(args.path, text) : text,
        loader: 'ts',
      };
    });
    // yargs finds its translations (locales/, for LANG) relative to its Node shim: give the shim
    // its own URL in the installed yargs, as an unbundled import would have.
    b.onLoad({ filter: /\/node_modules\/yargs\/lib\/platform-shims\/esm\.mjs$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const own = "new URL('./lib/platform-shims/esm.mjs', import.meta.resolve('yargs/package.json')).href";
      if (!text.includes('import.meta.url')) throw new Error(`${args.path}: no import.meta.url to rewrite`);
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js' };
    });
  },
};

const result = await build({
  // compile-cache: what dist/cli.js runs before it imports main (see src/compile-cache.ts).
  entryPoints: { main: `${src}cli.ts`, 'compile-cache': `${src}compile-cache.ts` },
  outdir: outDir,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // koffi is a native addon: it stays a package import, found in node_modules as before.
  external: ['koffi'],
  // yargs, cliui and wrap-ansi each bring a string-width whose module body builds an
  // Intl.Segmenter and Unicode property regexes (~25 ms at every start, for help text that is
  // ASCII); fast-string-width (already here for @clack/prompts) measures the same widths and
  // builds nothing until asked.
  alias: { 'string-width': 'fast-string-width' },
  // Bundled CommonJS dependencies (handlebars) require Node's built-in modules.
  banner: {
    js: "import { createRequire as __tsbpfRequire } from 'node:module';\nconst require = __tsbpfRequire(import.meta.url);",
  },
  plugins: [distUrls],
  logLevel: 'warning',
  write: false,
});

// Each file is written beside its place and renamed (writeFileAtomic), so a CLI started meanwhile
// (parallel test runs) reads whole files. Chunks first (their names carry a hash of their
// contents), the entry that imports them last.
// Then the chunks of earlier builds go, once a minute old: a build running at the same time (a
// parallel test run) may have just written the ones its entry imports.
await mkdir(outDir, { recursive: true });
const entry = `${outDir}main.js`;
const written = new Set();
for (const file of result.outputFiles.sort((a, b) => (a.path === entry) - (b.path === entry))) {
  writeFileAtomic(file.path, file.contents);
  written.add(basename(file.path));
}
for (const name of await readdir(outDir)) {
  const path = join(outDir, name);
  const info = written.has(name) ? undefined : await stat(path).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > 60_000) await rm(path, { force: true });
}

// No source maps ship (tsconfig.build.json, and none from esbuild): they would name src/*.ts files
// the package does not contain. Maps an older build left in dist/ go too, or npm pack ships them.
for (const name of await readdir(`${root}dist`, { recursive: true })) {
  if (name.endsWith('.js.map')) await rm(join(root, 'dist', name), { force: true });
}

// The bin: tsc's dist/cli.js replaced by the bundle's entry (same exports, see dist/cli.d.ts).
// Imported, not statically, so that Node's compile cache is on before the bundle is compiled.
writeFileAtomic(
  `${root}dist/cli.js`,
  [
    '#!/usr/bin/env node',
    '// The tsbpf command line, bundled by scripts/bundle.mjs into ./cli/.',
    "(await import('./cli/compile-cache.js')).enableCompileCache();",
    "export const { main } = await import('./cli/main.js');",
    '',
  ].join('\n'),
  0o755,
);
