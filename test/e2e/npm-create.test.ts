// `npm create tsbpf <dir> -- --type …` runs the create-tsbpf package (packages/create-tsbpf),
// which starts tsbpf's own scaffolder. Both are packed as npm would publish them.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';

const wrapperDir = join(repoRoot, 'packages', 'create-tsbpf');
const npmFlags = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

function pack(dir: string, into: string): string {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', into, '--loglevel=error'], {
      cwd: dir,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  return join(into, packed!.filename);
}

describe('npm create tsbpf', () => {
  it('depends on the tsbpf release of the same version', () => {
    const tsbpf = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const wrapper = JSON.parse(readFileSync(join(wrapperDir, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
    };
    expect(wrapper.dependencies.tsbpf).toBe(tsbpf.version);
    expect(wrapper.version).toBe(tsbpf.version);
  });

  it('scaffolds a project through the create-tsbpf package', () => {
    const work = tempDir();
    const tsbpfTarball = pack(repoRoot, work);
    const wrapperTarball = pack(wrapperDir, work);
    // What `npm create tsbpf my-probe -- --type xdp` runs, with the two packages from tarballs.
    const output = execFileSync(
      'npm',
      [
        'exec',
        ...npmFlags,
        '--yes',
        `--package=${tsbpfTarball}`,
        `--package=${wrapperTarball}`,
        '--',
        'create-tsbpf',
        'my-probe',
        '--type',
        'xdp',
        '--tsbpf-version',
        `file:${tsbpfTarball}`,
      ],
      { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(output).toContain('my-probe');
    const pkg = JSON.parse(readFileSync(join(work, 'my-probe', 'package.json'), 'utf8')) as {
      name: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.name).toBe('my-probe');
    expect(pkg.dependencies.tsbpf).toBe(`file:${tsbpfTarball}`);
    expect(existsSync(join(work, 'my-probe', 'src', 'firewall.bpf.c'))).toBe(true);
  });
});
