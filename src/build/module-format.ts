// Generated loaders are ES modules: they find their objects with import.meta.url, which TypeScript
// refuses (TS1470) in a file it compiles to CommonJS, as it does every .ts file of a package
// without "type": "module" under "module": "Node16"/"NodeNext"; under "module": "CommonJS" it also
// cannot resolve 'tsbpf', whose package.json has only "exports". Said at gen/build time, with the
// fix, before the user's tsc says it once per loader.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { printable } from '../printable.js';

/** A note when the loader written to `outDir` would be compiled as CommonJS; undefined otherwise. */
export function commonJsNote(outDir: string, ident: string, embedded: boolean): string | undefined {
  const tsconfig = nearest(outDir, 'tsconfig.json');
  if (!tsconfig) return undefined; // no tsc: node runs .ts files with import syntax as ESM
  const module = compilerModule(tsconfig, 0)?.toLowerCase();
  const pkg = nearest(outDir, 'package.json');
  if (pkg && readJson(pkg)?.type === 'module') return undefined;
  const pkgName = pkg ?? 'no package.json above it';
  if (module === 'commonjs') {
    return printable(
      `${tsconfig} has "module": "CommonJS", under which tsc cannot resolve 'tsbpf' (an ES module package) and refuses the import.meta.url in ${ident}.ts (TS1470): ` +
        `set "module": "NodeNext" there and add "type": "module" to ${pkg ?? 'a package.json'} (docs/troubleshooting.md, "CommonJS projects")`,
    );
  }
  if (embedded || !module || !/^node(16|18|20|next)$/.test(module)) return undefined;
  return printable(
    `${ident}.ts finds its objects with import.meta.url, which tsc refuses (TS1470) in a package without "type": "module" (${pkgName}) under "module": "${module}": ` +
      `add "type": "module" to ${pkg ?? 'a package.json'}, or generate with --embed (build config: "embed": true) so the loader reads no files (docs/troubleshooting.md, "CommonJS projects")`,
  );
}

/** The nearest `name` in `dir` or a folder above it. */
function nearest(dir: string, name: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const candidate = join(at, name);
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/** compilerOptions.module of a tsconfig, following "extends" (a path or a package's file). */
function compilerModule(tsconfig: string, depth: number): string | undefined {
  const config = readJson(tsconfig);
  const module = (config?.compilerOptions as { module?: unknown } | undefined)?.module;
  if (typeof module === 'string') return module;
  if (depth > 8) return undefined;
  const parents = ([] as unknown[]).concat(config?.extends ?? []).filter((e) => typeof e === 'string');
  // The last base wins (TypeScript 5 applies an "extends" array in order).
  for (const parent of (parents as string[]).reverse()) {
    const path = resolveExtends(parent, dirname(tsconfig));
    const found = path && compilerModule(path, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function resolveExtends(spec: string, from: string): string | undefined {
  const withJson = (p: string): string => (p.endsWith('.json') ? p : `${p}.json`);
  if (spec.startsWith('.') || spec.startsWith('/')) return withJson(resolve(from, spec));
  const require = createRequire(join(from, 'tsconfig.json'));
  for (const candidate of [spec, withJson(spec), `${spec}/tsconfig.json`]) {
    try {
      return require.resolve(candidate);
    } catch {
      // next form
    }
  }
  return undefined;
}

/** A JSON file that may hold comments and trailing commas, as tsconfig files do; undefined if unreadable. */
function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(stripJsonComments(readFileSync(path, 'utf8')));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes // and block comments and trailing commas outside strings. */
function stripJsonComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** The index just past the JSON string that starts at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
