// The text printed after a project is written: what to run next, in order.

import { isAbsolute, relative } from 'node:path';
import type { PackageManager } from './package-manager.js';
import { runScript } from './package-manager.js';

export interface NextStepsInput {
  /** Absolute project directory. */
  dir: string;
  cwd: string;
  pm: PackageManager;
  installed: boolean;
  /** Root runs the last two as they are; anyone else through sudo (root may have no sudo at all). */
  root?: boolean;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function nextSteps({ dir, cwd, pm, installed, root = isRoot() }: NextStepsInput): string[] {
  const steps: string[] = [];
  const rel = relative(cwd, dir);
  // A path below the working directory reads best relative; anything else, absolute.
  const shown = rel === '' ? '' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
  if (shown !== '') steps.push(`cd ${/[\s'"$]/.test(shown) ? `'${shown.replaceAll("'", "'\\''")}'` : shown}`);
  if (!installed) steps.push(`${pm.name} install`);
  const sudo = root ? '' : 'sudo ';
  const commented: Array<[string, string]> = [
    [runScript(pm, 'build'), 'compile the C program, write its typed loader, run tsc'],
    [`${sudo}${runScript(pm, 'start')}`, 'load and attach it (needs root); Ctrl-C detaches'],
    [`${sudo}${runScript(pm, 'test')}`, 'run its test against the kernel (needs root)'],
  ];
  const width = Math.max(...commented.map(([command]) => command.length));
  for (const [command, comment] of commented) steps.push(`${command.padEnd(width)}  # ${comment}`);
  return steps;
}
