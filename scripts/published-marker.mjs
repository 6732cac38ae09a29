#!/usr/bin/env node
// npm runs this before and after packing (package.json prepack/postpack). Only a pack made by
// `npm publish` gets dist/published.json, so an installed tsbpf knows it came from the registry
// and create-tsbpf gives new projects `^<version>`; a tarball from `npm pack` never has it, and
// create-tsbpf from such a tarball gives its projects a `file:` dependency that installs here
// (src/scaffold/tsbpf-spec.ts).
//   node scripts/published-marker.mjs          (prepack: write when publishing, else remove)
//   node scripts/published-marker.mjs --remove (postpack: keep the checkout unmarked)
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// npm runs lifecycle scripts in the package's root.
const marker = join(process.cwd(), 'dist', 'published.json');
const publishing = process.env.npm_command === 'publish' && !process.argv.includes('--remove');
if (publishing) writeFileSync(marker, `${JSON.stringify({ publishedBy: 'npm publish' })}\n`);
else rmSync(marker, { force: true });
