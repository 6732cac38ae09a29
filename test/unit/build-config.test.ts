// The build config: defaults, path resolution, and errors that name the file and the key.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig, parseConfig } from '../../src/build/config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('fills in defaults and resolves paths against the config folder', () => {
    const config = parseConfig(
      {
        includeDirs: ['include'],
        cflags: ['-DGLOBAL'],
        programs: [{ ident: 'probe', sources: 'src/probe.c', cflags: ['-DLOCAL'] }],
      },
      '/p/tsbpf.config.json',
    );
    expect(config.root).toBe('/p');
    expect(config.vmlinux).toBeUndefined();
    expect(config.programs).toEqual([
      {
        ident: 'probe',
        sources: ['/p/src/probe.c'],
        outDir: '/p/src',
        types: [],
        events: {},
        fieldAs: {},
        cflags: ['-DGLOBAL', '-DLOCAL'],
        targets: ['bpfel', 'bpfeb'],
        includeDirs: ['/p/include'],
        embed: false,
        strip: true,
        where: 'programs[0]',
      },
    ]);
  });

  it('takes program settings over global ones, and "source" as one source', () => {
    const config = parseConfig(
      {
        targets: ['bpfel'],
        vmlinux: 'vm',
        programs: [
          {
            ident: 'a',
            source: '/abs/a.c',
            outDir: 'gen',
            targets: ['amd64', 'arm64'],
            types: ['struct event'],
          },
          { ident: 'b', sources: ['b1.c', 'b2.c'], events: { events: 'event_t' }, embed: true, strip: false },
        ],
      },
      '/p/tsbpf.config.json',
    );
    expect(config.vmlinux).toEqual({ dir: '/p/vm', generate: true });
    expect(config.programs[0]).toMatchObject({
      sources: ['/abs/a.c'],
      outDir: '/p/gen',
      targets: ['amd64', 'arm64'],
    });
    expect(config.programs[1]).toMatchObject({
      sources: ['/p/b1.c', '/p/b2.c'],
      targets: ['bpfel'],
      events: { events: 'event_t' },
      embed: true,
      strip: false,
    });
  });

  it.each([
    [{}, 'f.json: programs: is required'],
    [{ programs: [] }, 'f.json: programs: must list at least one entry'],
    [{ programs: [{ sources: ['a.c'] }] }, 'f.json: programs[0].ident: is required'],
    [{ programs: [{ ident: 'a-b', sources: ['a.c'] }] }, 'f.json: programs[0].ident: "a-b" is not valid'],
    [{ programs: [{ ident: 'a' }] }, 'f.json: programs[0].sources: is required'],
    [
      { programs: [{ ident: 'a', sources: ['a.c'], cflags: '-O2' }] },
      'f.json: programs[0].cflags: expected an array',
    ],
    [
      { programs: [{ ident: 'a', sources: ['a.c'], cflags: [3] }] },
      'f.json: programs[0].cflags[0]: expected a string',
    ],
    [
      { programs: [{ ident: 'a', sources: ['a.c'], embed: 'yes' }] },
      'f.json: programs[0].embed: expected true or false',
    ],
    [
      { programs: [{ ident: 'a', sources: ['a.c'], events: { 'my-map': 'e' } }] },
      'programs[0].events.my-map',
    ],
    [{ programs: [{ ident: 'a', sources: ['a.c'], types: ['event-t'] }] }, 'programs[0].types[0]'],
    [
      { programs: [{ ident: 'a', source: 'a.c', sources: ['b.c'] }] },
      'programs[0]: has both "source" and "sources"',
    ],
    [{ programs: [{ ident: 'a', sources: ['a.c'] }], vmlinux: 3 }, 'f.json: vmlinux: expected an object'],
    [
      { programs: [{ ident: 'a', sources: ['a.c'], targets: ['bpfel', 'vax'] }] },
      "programs[0].targets: unknown target 'vax'",
    ],
    [
      {
        programs: [
          { ident: 'a', sources: ['x/a.c'] },
          { ident: 'a', sources: ['x/b.c'] },
        ],
      },
      'programs[1]: writes the same files as programs[0]',
    ],
  ])('rejects %j', (json, message) => {
    expect(errorOf(() => parseConfig(json, 'f.json')).message).toContain(message);
  });

  it('suggests the key a misspelt one was meant to be', () => {
    const error = errorOf(() =>
      parseConfig({ programs: [{ ident: 'a', sources: ['a.c'], outdir: 'x' }] }, 'f.json'),
    );
    expect(error.message).toBe('f.json: programs[0].outdir: unknown key');
    expect(error.hint).toBe('did you mean "outDir"?');
  });

  it('allows $schema and similar keys', () => {
    expect(
      parseConfig({ $schema: 'x', programs: [{ ident: 'a', sources: ['a.c'] }] }, '/f.json').programs,
    ).toHaveLength(1);
  });
});

describe('loadConfig', () => {
  it('finds tsbpf.config.json in a parent folder', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({ programs: [{ ident: 'p', sources: ['p.c'] }] }),
    );
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    expect(findConfigFile(join(dir, 'a', 'b'))).toBe(join(dir, 'tsbpf.config.json'));
    expect(loadConfig({ cwd: join(dir, 'a', 'b') }).programs[0]!.sources).toEqual([join(dir, 'p.c')]);
  });

  it('reads the "tsbpf" key of package.json, naming it in errors', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'x', tsbpf: { programs: [{ ident: 1 }] } }),
    );
    const error = errorOf(() => loadConfig({ cwd: dir }));
    expect(error.message).toBe(
      `${join(dir, 'package.json')}: tsbpf.programs[0].ident: expected a string, got number 1`,
    );
  });

  it('stops at the project root: a package.json without "tsbpf"', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tsbpf.config.json'), '{}');
    mkdirSync(join(dir, 'pkg'));
    writeFileSync(join(dir, 'pkg', 'package.json'), '{"name":"pkg"}');
    expect(findConfigFile(join(dir, 'pkg'))).toBeUndefined();
    expect(errorOf(() => loadConfig({ cwd: join(dir, 'pkg') })).hint).toContain('tsbpf.config.json');
  });

  it('reports JSON syntax errors with the file name', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tsbpf.config.json'), '{ "programs": [], }');
    const error = errorOf(() => loadConfig({ cwd: dir }));
    expect(error.message).toContain(`${join(dir, 'tsbpf.config.json')}: not valid JSON`);
    expect(error.hint).toContain('trailing commas');
  });

  it('reports a package.json named with --config that has no "tsbpf" key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{"name":"x"}');
    expect(errorOf(() => loadConfig({ cwd: dir, file: 'package.json' })).message).toContain(
      'has no "tsbpf" key',
    );
  });

  it('stops at a .git folder: the repository is the project root', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({ programs: [{ ident: 'p', sources: ['p.c'] }] }),
    );
    mkdirSync(join(dir, 'repo', '.git'), { recursive: true });
    mkdirSync(join(dir, 'repo', 'src'));
    expect(findConfigFile(join(dir, 'repo', 'src'))).toBeUndefined();
  });
});

describe('configs someone else could have written', () => {
  const asRoot = process.geteuid?.() === 0;
  const config = JSON.stringify({
    programs: [{ ident: 'p', sources: ['p.c'], cflags: ['-fplugin=/tmp/x.so'] }],
  });

  it.skipIf(!asRoot)(
    'refuses a found config another user owns, naming the owner and the override (needs root to chown)',
    () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'tsbpf.config.json'), config);
      chownSync(join(dir, 'tsbpf.config.json'), 65534, 65534);
      mkdirSync(join(dir, 'work'));
      const error = errorOf(() => loadConfig({ cwd: join(dir, 'work') }));
      expect(error.message).toBe(
        `${join(dir, 'tsbpf.config.json')} is owned by nobody (uid 65534), not by you or root: not using it, since a build runs the compiler flags a config gives`,
      );
      expect(error.hint).toContain(`tsbpf build --config ${join(dir, 'tsbpf.config.json')}`);
      // Named on the command line, it is the user's choice.
      expect(
        loadConfig({ cwd: join(dir, 'work'), file: join(dir, 'tsbpf.config.json') }).programs,
      ).toHaveLength(1);
    },
  );

  it.skipIf(!asRoot)('refuses a package.json another user owns on the way up (needs root to chown)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', tsbpf: JSON.parse(config) }));
    chownSync(join(dir, 'package.json'), 65534, 65534);
    expect(errorOf(() => loadConfig({ cwd: dir })).message).toContain('is owned by nobody (uid 65534)');
  });

  it('refuses a found config every user may write', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tsbpf.config.json'), config);
    chmodSync(join(dir, 'tsbpf.config.json'), 0o666);
    expect(errorOf(() => loadConfig({ cwd: dir })).message).toBe(
      `${join(dir, 'tsbpf.config.json')} is writable by every user: not using it, since a build runs the compiler flags a config gives`,
    );
  });

  it('uses a config the user owns', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tsbpf.config.json'), config);
    chmodSync(join(dir, 'tsbpf.config.json'), 0o644);
    expect(loadConfig({ cwd: dir }).programs[0]!.cflags).toContain('-fplugin=/tmp/x.so');
  });
});
