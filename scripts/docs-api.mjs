#!/usr/bin/env node
// Writes docs/api.md, the reference of the runtime API (everything `import … from 'tsbpf'`
// gives), from the source: the exports of src/runtime/index.ts, their signatures as the
// TypeScript compiler sees them, and their JSDoc comments. Nothing in the page is hand-written
// except the introduction below, so the page cannot drift from the code.
//
//   node scripts/docs-api.mjs           rewrite docs/api.md
//   node scripts/docs-api.mjs --check   exit 1 when docs/api.md is not what the source says
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = `${root}src/runtime/index.ts`;
const page = `${root}docs/api.md`;

const intro = `# Runtime API reference

Everything \`import { … } from 'tsbpf'\` provides: what generated loaders use and what a program
can use directly. The loaders \`tsbpf build\` and \`tsbpf gen\` write wrap these classes in
typed views (\`loadProbe()\` → \`programs\`, \`maps\`, \`variables\`), so most programs only meet
\`Program\`, the map classes, \`RingBuf\`/\`PerfEventArray\` readers and the errors. See
[concepts](concepts.md) for how they fit together.

This page is generated from \`src/runtime/index.ts\` and the JSDoc of what it exports by
\`node scripts/docs-api.mjs\`; a test fails when it is out of date. Do not edit it by hand.
`;

const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

function load() {
  const config = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([entry], { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot read ${entry}`);
  const module = checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`${entry} has no exports`);
  return { checker, exports: checker.getExportsOfModule(module) };
}

/** The JSDoc text of a symbol or signature, with @param/@returns/@example tags. */
function docOf(checker, thing) {
  const text = ts.displayPartsToString(thing.getDocumentationComment(checker)).trim();
  const tags = (thing.getJsDocTags?.(checker) ?? [])
    .map((tag) => `@${tag.name} ${ts.displayPartsToString(tag.text ?? [])}`.trim())
    .filter((tag) => !tag.startsWith('@internal'));
  return [text, ...tags].filter((part) => part !== '').join('\n\n');
}

const isPublic = (declaration) => {
  if (!declaration) return false;
  const modifiers = ts.getCombinedModifierFlags(declaration);
  if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  const name = declaration.name;
  if (name && ts.isPrivateIdentifier(name)) return false;
  return !(name && ts.isIdentifier(name) && name.text.startsWith('_'));
};

/** Marked `@internal` in its JSDoc: for tsbpf's own modules, not for users. */
const isInternal = (symbol) =>
  ts.getJSDocTags(symbol.declarations?.[0] ?? {}).some((t) => t.tagName.text === 'internal');

/** A parameter whose type is a tsbpf type that 'tsbpf' does not export: only tsbpf calls this. */
function takesInternalType(checker, signature, exportedNames) {
  return signature.getParameters().some((parameter) => {
    const type = checker.getTypeOfSymbol(parameter);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName ?? '';
    return file.startsWith(`${root}src/`) && !exportedNames.has(symbol.getName());
  });
}

const memberName = (symbol) => {
  const name = symbol.getName();
  if (name.startsWith('__@')) return `[Symbol.${name.slice(3).replace(/@\d+$/, '')}]`;
  return name;
};

/** One line of code per member of a class or interface, each followed by its doc. */
function members(checker, symbols, isStatic) {
  const out = [];
  for (const symbol of symbols) {
    const declaration = symbol.declarations?.[0];
    if (!isPublic(declaration) || symbol.getName() === 'prototype' || isInternal(symbol)) continue;
    const name = memberName(symbol);
    const prefix = isStatic ? 'static ' : '';
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    if (ts.isMethodDeclaration(declaration) || ts.isMethodSignature(declaration)) {
      for (const signature of type.getCallSignatures()) {
        out.push({
          code: `${prefix}${name}${checker.signatureToString(signature, undefined, flags)}`,
          doc: docOf(checker, signature) || docOf(checker, symbol),
        });
      }
    } else if (ts.isGetAccessorDeclaration(declaration) || ts.isSetAccessorDeclaration(declaration)) {
      const readonly = !symbol.declarations.some((d) => ts.isSetAccessorDeclaration(d));
      out.push({
        code: `${prefix}${readonly ? 'readonly ' : ''}${name}: ${checker.typeToString(type, undefined, flags)}`,
        doc: docOf(checker, symbol),
      });
    } else if (ts.isConstructorDeclaration(declaration)) {
    } else {
      const readonly =
        ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
      const optional = symbol.flags & ts.SymbolFlags.Optional ? '?' : '';
      out.push({
        code: `${prefix}${readonly}${name}${optional}: ${checker.typeToString(type, declaration, flags)}`,
        doc: docOf(checker, symbol),
      });
    }
  }
  return out;
}

const fence = (code) => `\`\`\`ts\n${code}\n\`\`\``;

/** `Uint8Array<ArrayBufferLike>` is what TypeScript 5.7+ prints for a plain `Uint8Array`. */
const tidy = (text) => text.replace(/<ArrayBufferLike>/g, '');

function renderMembers(list) {
  return list.map(
    ({ code, doc }) => `- \`${code.replace(/`/g, "'")}\`${doc ? `\n\n  ${doc.replace(/\n/g, '\n  ')}` : ''}`,
  );
}

/** The Markdown of one exported symbol. */
function renderSymbol(checker, exported, exportedNames) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = exported.getName();
  const declaration = symbol.declarations?.[0];
  if (!declaration) return undefined;
  const parts = [];
  let code;
  if (ts.isClassDeclaration(declaration)) {
    const heritage = (declaration.heritageClauses ?? []).map((h) => h.getText()).join(' ');
    const params = declaration.typeParameters
      ? `<${declaration.typeParameters.map((p) => p.getText()).join(', ')}>`
      : '';
    code = `class ${name}${params}${heritage ? ` ${heritage}` : ''}`;
    const constructors = checker
      .getTypeOfSymbolAtLocation(symbol, declaration)
      .getConstructSignatures()
      .filter((s) => !s.declaration || isPublic(s.declaration))
      .filter((s) => !takesInternalType(checker, s, exportedNames))
      .map((s) => ({
        code: `new ${name}${checker.signatureToString(s, undefined, flags | ts.TypeFormatFlags.WriteArrowStyleSignature).replace(/ => .*$/, '')}`,
        doc: docOf(checker, s),
      }));
    const statics = members(checker, [...(symbol.exports?.values() ?? [])], true);
    const instance = members(checker, [...(symbol.members?.values() ?? [])], false);
    parts.push(...renderMembers([...constructors, ...statics, ...instance]));
  } else if (ts.isInterfaceDeclaration(declaration)) {
    const heritage = (declaration.heritageClauses ?? []).map((h) => h.getText()).join(' ');
    const params = declaration.typeParameters
      ? `<${declaration.typeParameters.map((p) => p.getText()).join(', ')}>`
      : '';
    code = `interface ${name}${params}${heritage ? ` ${heritage}` : ''}`;
    parts.push(...renderMembers(members(checker, [...(symbol.members?.values() ?? [])], false)));
  } else if (ts.isTypeAliasDeclaration(declaration)) {
    const params = declaration.typeParameters
      ? `<${declaration.typeParameters.map((p) => p.getText()).join(', ')}>`
      : '';
    code = `type ${name}${params} = ${declaration.type.getText().replace(/\s+/g, ' ')}`;
  } else if (ts.isFunctionDeclaration(declaration)) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    code = type
      .getCallSignatures()
      .map((s) => `function ${name}${checker.signatureToString(s, undefined, flags)}`)
      .join('\n');
  } else if (ts.isVariableDeclaration(declaration)) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    const text = declaration.type
      ? declaration.type.getText()
      : checker.typeToString(type, declaration, flags);
    code = `const ${name}: ${text.replace(/\s+/g, ' ')}`;
    // A const object of named values (e.g. MapType): list its keys.
    if (
      !declaration.type &&
      type.getProperties().length > 0 &&
      ts.isObjectLiteralExpression(declaration.initializer?.getChildAt?.(0) ?? declaration.initializer)
    ) {
      code = `const ${name}: { ${type
        .getProperties()
        .map((p) => p.getName())
        .join(', ')} }`;
    }
  } else if (ts.isEnumDeclaration(declaration)) {
    code = `enum ${name} { ${declaration.members.map((m) => m.name.getText()).join(', ')} }`;
  } else {
    return undefined;
  }
  const doc = docOf(checker, symbol);
  const file = relative(root, declaration.getSourceFile().fileName);
  return {
    name,
    file,
    text: [`### ${name}`, fence(code), doc, ...(parts.length > 0 ? [parts.join('\n')] : [])]
      .filter((p) => p !== '')
      .join('\n\n'),
  };
}

/** The whole page. */
export function render() {
  const { checker, exports } = load();
  const byFile = new Map();
  const exportedNames = new Set(exports.map((e) => e.getName()));
  for (const exported of exports) {
    const rendered = renderSymbol(checker, exported, exportedNames);
    if (!rendered) continue;
    if (!byFile.has(rendered.file)) byFile.set(rendered.file, []);
    byFile.get(rendered.file).push(rendered);
  }
  const files = [...byFile.keys()].sort();
  const seen = new Map();
  for (const file of files) {
    byFile.get(file).sort((a, b) => a.name.localeCompare(b.name, 'en'));
    for (const n of byFile.get(file)) {
      const base = n.name.toLowerCase();
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      n.anchor = count === 0 ? base : `${base}-${count}`;
    }
  }
  const toc = files.map(
    (file) =>
      `- \`${file}\`: ${byFile
        .get(file)
        .map((n) => `[${n.name}](#${n.anchor})`)
        .join(', ')}`,
  );
  const sections = files.map(
    (file) =>
      `## From \`${file}\`\n\n${byFile
        .get(file)
        .map((n) => n.text)
        .join('\n\n')}`,
  );
  return tidy(`${intro}\n## Contents\n\n${toc.join('\n')}\n\n${sections.join('\n\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const next = render();
  let current = '';
  try {
    current = readFileSync(page, 'utf8');
  } catch {
    // first run
  }
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('docs/api.md differs from src/runtime: run `node scripts/docs-api.mjs`');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(page, next);
    console.log('wrote docs/api.md');
  }
}
