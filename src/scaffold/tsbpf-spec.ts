// The tsbpf dependency a created project gets. A tsbpf from the registry gives `^<version>`; any
// other tsbpf (a checkout, or a tarball installed with `npm install -g ./tsbpf-x.tgz`) gives a
// `file:` spec for itself, which npm installs on this machine without the registry. `npm publish`
// marks the package it uploads (scripts/published-marker.mjs); nothing else carries the mark.

import { existsSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../version.js';

/** Written into the package by `npm publish` only; its presence means "installed from the registry". */
export const publishedMarker = join('dist', 'published.json');

/** The root of the running tsbpf package (two levels above src/scaffold/ and dist/scaffold/). */
export function tsbpfRoot(): string {
  return realpathSync(fileURLToPath(new URL('../..', import.meta.url)));
}

/** Where this tsbpf comes from: the registry, or a folder on this machine. */
export function tsbpfOrigin(root: string): 'registry' | 'local' {
  // A checkout (even one that ran `npm publish`) sits outside node_modules; an installed package inside.
  const installed = root.split(sep).includes('node_modules');
  return installed && existsSync(join(root, publishedMarker)) ? 'registry' : 'local';
}

/** The npm spec of the tsbpf dependency when --tsbpf-version is not given. */
export function defaultTsbpfSpec(root = tsbpfRoot(), version = packageVersion()): string {
  return tsbpfOrigin(root) === 'registry' ? `^${version}` : `file:${root}`;
}
