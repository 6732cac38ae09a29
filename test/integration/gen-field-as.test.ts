// `tsbpf gen --field-as TYPE.FIELD=string|strings|bytes` and the config's "fieldAs" through the
// real CLI: the loader's types follow the choice, the names are checked against the object's BTF,
// and a bad choice or name is one clear error naming it.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, strictTypeErrors, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';

const gen = (dir: string, args: string[]) =>
  tsbpf(['gen', 'argv', fixture('argv.c'), '--target', 'bpfel', ...args, ...vmlinuxArgs()], dir);

describe('tsbpf gen --field-as', () => {
  it('types a char[N] field as the choice says, and the loader type-checks', async () => {
    const dir = tempProject();
    const result = await gen(dir, [
      '--field-as',
      'argv_event.args=strings',
      '--field-as',
      'argv_event.comm=bytes',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const ts = readFileSync(join(dir, 'argv.ts'), 'utf8');
    expect(ts).toContain('  args: string[];');
    expect(ts).toContain('  comm: Uint8Array;');
    expect(ts).toContain('readCStrings(b, o + 24, tail)');
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { ArgvEvent, loadArgv } from './argv.js';",
        'export async function main(): Promise<void> {',
        '  await using objs = await loadArgv();',
        '  for await (const e of objs.maps.events.reader()) console.log(e.args.join(" "), e.comm.length);',
        '  objs.maps.events.reader().consume((v) => console.log(v.$raw("args").length, v.args[0]));',
        '  console.log(ArgvEvent.raw(new Uint8Array(152), "args").length);',
        '}',
        '',
      ].join('\n'),
    );
    expect(strictTypeErrors(dir, ['argv.ts', 'main.ts'])).toEqual([]);

    // Without the flag: a string up to the first NUL, as before.
    const plain = tempProject();
    expect((await gen(plain, [])).code).toBe(0);
    expect(readFileSync(join(plain, 'argv.ts'), 'utf8')).toContain('  args: string;');
  });

  it('names an unknown field, and the field it may have meant', async () => {
    const dir = tempProject();
    const result = await gen(dir, ['--field-as', 'argv_event.argz=strings']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "field choice argv_event.argz=strings: struct argv_event has no field 'argz'",
    );
    expect(result.stderr).toContain("did you mean 'argv_event.args'?");
    expect(result.stderr).not.toContain('    at ');
    expect(existsSync(join(dir, 'argv.ts'))).toBe(false);
  });

  it('names an unknown type with similar ones, and a bad choice', async () => {
    const dir = tempProject();
    const unknown = await gen(dir, ['--field-as', 'argv_evnt.args=strings']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no type named 'argv_evnt'");
    expect(unknown.stderr).toMatch(/similar names: .*\bargv_event\b/);
    const bad = await gen(dir, ['--field-as', 'argv_event.args=strngs']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--field-as argv_event.args=strngs: unknown choice "strngs"');
    expect(bad.stderr).toContain('did you mean "strings"?');
  });
});

describe('"fieldAs" in tsbpf.config.json', () => {
  const project = (fieldAs: unknown) => {
    const dir = tempProject();
    copyFileSync(fixture('argv.c'), join(dir, 'argv.c'));
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({
        includeDirs: [vmlinuxDir()],
        targets: ['bpfel'],
        programs: [{ ident: 'argv', sources: ['argv.c'], fieldAs }],
      }),
    );
    return dir;
  };

  it('builds with the choice, and names a bad one by its key path', async () => {
    const dir = project({ 'argv_event.args': 'strings' });
    const built = await tsbpf(['build'], dir);
    expect(built.code, built.stdout + built.stderr).toBe(0);
    expect(readFileSync(join(dir, 'argv.ts'), 'utf8')).toContain('  args: string[];');

    const bad = await tsbpf(['build'], project({ 'argv_event.args': 'strngs' }));
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toContain(
      'programs[0].fieldAs.argv_event.args: expected "string", "strings", "bytes" or "number", got "strngs"',
    );
    const field = await tsbpf(['build'], project({ 'argv_event.argz': 'strings' }));
    expect(field.code).toBe(1);
    expect(field.stdout + field.stderr).toContain("struct argv_event has no field 'argz'");
  });
});
