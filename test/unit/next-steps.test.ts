// The next steps create-tsbpf prints say `sudo` only to someone who is not root: root may run
// on a machine without sudo (a container, a minimal Debian), where `sudo npm start` fails.
import { describe, expect, it } from 'vitest';
import { nextSteps } from '../../src/scaffold/next-steps.js';
import { detectPackageManager } from '../../src/scaffold/package-manager.js';

const npm = detectPackageManager('');
const input = { dir: '/w/p', cwd: '/w/p', pm: npm, installed: true };

describe('next steps', () => {
  it('as root: npm start and npm test as they are', () => {
    expect(nextSteps({ ...input, root: true })).toEqual([
      'npm run build  # compile the C program, write its typed loader, run tsc',
      'npm start      # load and attach it (needs root); Ctrl-C detaches',
      'npm test       # run its test against the kernel (needs root)',
    ]);
  });

  it('as another user: through sudo', () => {
    expect(nextSteps({ ...input, root: false }).slice(1)).toEqual([
      'sudo npm start  # load and attach it (needs root); Ctrl-C detaches',
      'sudo npm test   # run its test against the kernel (needs root)',
    ]);
  });

  it('defaults to who is running', () => {
    const root = process.getuid?.() === 0;
    expect(nextSteps(input)).toEqual(nextSteps({ ...input, root }));
  });
});
