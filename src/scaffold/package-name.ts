// npm package name rules (the ones `npm install` enforces; see npm's validate-npm-package-name):
// at most 214 characters, lowercase, URL-safe, no leading dot or underscore, not a Node core
// module or a reserved name. A rejected name comes with a corrected one the user can take.

import { builtinModules } from 'node:module';

export type NameCheck = { valid: true } | { valid: false; problems: string[]; suggestion: string };

const reserved = new Set(['node_modules', 'favicon.ico']);
const maxLength = 214;

export function checkPackageName(name: string): NameCheck {
  const problems: string[] = [];
  if (name.length === 0) problems.push('it is empty');
  if (name.length > maxLength) problems.push(`it is longer than ${maxLength} characters`);
  if (name !== name.trim()) problems.push('it starts or ends with spaces');
  if (name !== name.toLowerCase()) problems.push('it has uppercase letters');
  const scoped = /^@([^/]+)\/(.+)$/.exec(name);
  const bare = scoped ? scoped[2]! : name;
  if (/^[._]/.test(bare) || (scoped && /^[._]/.test(scoped[1]!))) problems.push('it starts with "." or "_"');
  const parts = scoped ? [scoped[1]!, scoped[2]!] : [name];
  if (parts.some((p) => encodeURIComponent(p) !== p || /[~'!()*]/.test(p))) {
    problems.push('it has characters that are not URL-safe (use a-z, 0-9, "-", "." and "_")');
  }
  if (reserved.has(name) || builtinModules.includes(name))
    problems.push('it is a reserved or core module name');
  if (problems.length === 0) return { valid: true };
  return { valid: false, problems, suggestion: suggestPackageName(name) };
}

/** A valid name close to `name`: lowercased, spaces and odd characters turned into dashes. */
export function suggestPackageName(name: string): string {
  const scoped = /^@([^/]+)\/(.+)$/.exec(name.trim());
  const clean = (part: string) =>
    part
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[._-]+/, '')
      .replace(/-+$/, '')
      .slice(0, maxLength);
  if (scoped) {
    const scope = clean(scoped[1]!);
    const bare = clean(scoped[2]!);
    if (scope !== '' && bare !== '') return `@${scope}/${bare}`;
  }
  let suggestion = clean(name);
  if (suggestion === '') suggestion = 'tsbpf-project';
  if (reserved.has(suggestion) || builtinModules.includes(suggestion)) suggestion = `${suggestion}-probe`;
  return suggestion;
}
