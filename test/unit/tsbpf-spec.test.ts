// Which tsbpf dependency a created project gets: `^<version>` from a tsbpf the registry
// installed (it carries the mark `npm publish` adds), else a `file:` spec for the running tsbpf;
// and the prepack/postpack script that adds the mark only when publishing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultTsbpfSpec, publishedMarker, tsbpfOrigin, tsbpfRoot } from '../../src/scaffold/tsbpf-spec.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const markerScript = join(repoRoot, 'scripts', 'published-marker.mjs');

function packageAt(...parts: string[]): string {
  const root = join(tempDir(), ...parts);
  mkdirSync(join(root, 'dist'), { recursive: true });
  return root;
}

function mark(root: string): void {
  writeFileSync(join(root, publishedMarker), '{}\n');
}

describe('the default tsbpf dependency', () => {
  it('is this checkout, by path, when create-tsbpf runs from a checkout', () => {
    expect(tsbpfRoot()).toBe(realpathSync(repoRoot));
    expect(defaultTsbpfSpec()).toBe(`file:${realpathSync(repoRoot)}`);
  });

  it('is the installed package, by path, when no registry installed it (npm install -g ./tsbpf.tgz)', () => {
    const root = packageAt('lib', 'node_modules', 'tsbpf');
    expect(tsbpfOrigin(root)).toBe('local');
    expect(defaultTsbpfSpec(root, '1.2.3')).toBe(`file:${root}`);
  });

  it('is ^version when the registry installed it', () => {
    const root = packageAt('lib', 'node_modules', 'tsbpf');
    mark(root);
    expect(tsbpfOrigin(root)).toBe('registry');
    expect(defaultTsbpfSpec(root, '1.2.3')).toBe('^1.2.3');
  });

  it('stays the checkout when a checkout kept a mark (an `npm publish` that stopped half way)', () => {
    const root = packageAt('src', 'tsbpf');
    mark(root);
    expect(defaultTsbpfSpec(root, '1.2.3')).toBe(`file:${root}`);
  });
});

describe('scripts/published-marker.mjs', () => {
  const run = (cwd: string, command: string, args: string[] = []) =>
    spawnSync(process.execPath, [markerScript, ...args], {
      cwd,
      env: { ...process.env, npm_command: command },
      encoding: 'utf8',
    });

  it('marks the package when npm publishes it, and nowhere else', () => {
    const root = packageAt('pkg');
    expect(run(root, 'publish').status).toBe(0);
    expect(existsSync(join(root, publishedMarker))).toBe(true);
    expect(run(root, 'publish', ['--remove']).status).toBe(0);
    expect(existsSync(join(root, publishedMarker))).toBe(false);
    mark(root);
    expect(run(root, 'pack').status).toBe(0);
    expect(existsSync(join(root, publishedMarker))).toBe(false);
  });

  it('runs around every pack, and `npm pack` ships LICENSE and no mark', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepack).toBe('node scripts/published-marker.mjs');
    expect(pkg.scripts.postpack).toBe('node scripts/published-marker.mjs --remove');
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(repoRoot, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} the tsbpf authors\n/,
    );
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = packed!.files.map((f) => f.path);
    expect(files).toContain('LICENSE');
    expect(files).toContain('templates/base/LICENSE');
    expect(files).not.toContain('dist/published.json');
  }, 60_000);
});
