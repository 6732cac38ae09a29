// Turns a template folder into the files of a project. Files are copied as they are, except:
//   - a name ending in `.hbs` is rendered with handlebars and loses the suffix;
//   - a leading `_` of a file or folder name becomes a dot (`_gitignore` -> `.gitignore`,
//     `_github/` -> `.github/`; npm drops some real dotfiles from packages);
//   - `README.program.md` in a template folder is not copied: it is the `{{> program}}` partial of
//     the base README, the part that explains this template's program.
// A template's own files replace base files of the same name.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import Handlebars from 'handlebars';
import { pascalCase } from '../build/naming.js';
import { TsbpfError } from '../errors.js';

export interface TemplateFile {
  /** Absolute path of the file in templates/. */
  source: string;
  /** Path inside the new project, with `/` separators. */
  target: string;
  /** True for `.hbs` files. */
  render: boolean;
}

export interface ProjectFile {
  path: string;
  contents: Uint8Array;
}

const partialFile = 'README.program.md';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The project path of a template file: `_github/ci.yml.hbs` -> `.github/ci.yml`. */
export function targetName(templatePath: string): { target: string; render: boolean } {
  const parts = templatePath.split(sep).join('/').split('/');
  let base = parts.pop() ?? '';
  const render = base.endsWith('.hbs');
  if (render) base = base.slice(0, -'.hbs'.length);
  const dotted = [...parts, base].map((part) => (part.startsWith('_') ? `.${part.slice(1)}` : part));
  return { target: dotted.join('/'), render };
}

/** The files of `base/` overlaid with those of `<type>/`, sorted by target path. */
export function collectTemplateFiles(root: string, type: string): TemplateFile[] {
  const byTarget = new Map<string, TemplateFile>();
  for (const layer of ['base', type]) {
    const dir = join(root, layer);
    for (const source of walk(dir)) {
      const rel = relative(dir, source);
      if (layer !== 'base' && rel === partialFile) continue;
      const { target, render } = targetName(rel);
      byTarget.set(target, { source, target, render });
    }
  }
  return [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

/** Renders the files with `data`; a placeholder without a value is an error, not an empty string. */
export function renderFiles(
  files: TemplateFile[],
  data: Record<string, unknown>,
  partials: Record<string, string> = {},
): ProjectFile[] {
  const hbs = Handlebars.create();
  // {{json x}}: x escaped for the inside of a JSON string. {{pascal x}}: `xdp_filter` -> `XdpFilter`.
  hbs.registerHelper('json', (value: unknown) => JSON.stringify(String(value)).slice(1, -1));
  hbs.registerHelper('pascal', (value: unknown) => pascalCase(String(value)));
  for (const [name, text] of Object.entries(partials)) hbs.registerPartial(name, text);
  return files.map((file) => {
    const bytes = readFileSync(file.source);
    if (!file.render) return { path: file.target, contents: new Uint8Array(bytes) };
    try {
      // noEscape: these are source files, not HTML. strict: a typo in a placeholder fails loudly.
      const text = hbs.compile(bytes.toString('utf8'), { noEscape: true, strict: true })(data);
      return { path: file.target, contents: new TextEncoder().encode(text) };
    } catch (error) {
      throw new TsbpfError(`cannot render template file ${file.source}: ${(error as Error).message}`, {
        cause: error,
        hint: 'this is a bug in the tsbpf template; please report it',
      });
    }
  });
}

/** The partials a template provides to the base files (see the comment at the top). */
export function readPartials(root: string, type: string): Record<string, string> {
  try {
    return { program: readFileSync(join(root, type, partialFile), 'utf8') };
  } catch {
    return { program: '' };
  }
}
