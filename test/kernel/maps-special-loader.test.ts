// Generated loaders for the special maps (maps-special.test.ts has the maps themselves): each map
// typed with its view, and the views work on a loaded object (test/unit/loader.test.ts type-checks
// these loaders under tsc --strict: slow in the kernel matrix's emulated guests). Its own file
// because it imports the runtime as a user does ('tsbpf', built), not from src/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { readKernelBtf } from '../../src/btf/kernel.js';
import { readObject } from '../../src/btf/object.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { enumConstants } from '../../src/doctor/features.js';
import { importLoader, tempProject } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';

const getsid = koffi.load('libc.so.6').func('int getsid(int)') as (pid: number) => number;

describe('generated loaders', () => {
  /** `<ident>.ts` and its objects written into a temporary project that imports 'tsbpf'. */
  function generate(dir: string, name: string, ident: string): string {
    const bytes = compileFixture(join(repoRoot, 'test', 'fixtures', 'runtime', `${name}.bpf.c`));
    writeFileSync(join(dir, `${ident}_bpfel.o`), bytes);
    const text = generateLoader(readObject(bytes, `${ident}.o`), {
      ident,
      objects: [{ file: `${ident}_bpfel.o`, endian: 'little' }],
    });
    writeFileSync(join(dir, `${ident}.ts`), text);
    return text;
  }

  it('type each special map with its view and work against the kernel', async (ctx) => {
    const dir = tempProject();
    const views = (text: string, ident: string) =>
      Object.fromEntries(
        [
          ...(
            new RegExp(`export interface ${ident}Maps \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? ''
          ).matchAll(/^ {2}readonly (\w+): (.+);$/gm),
        ].map((m) => [m[1], m[2]]),
      );
    const special = generate(dir, 'special-maps', 'special');
    expect(views(special, 'Special')).toEqual({
      seenTgids: 'BloomFilter<number>',
      fifo: 'QueueMap<number>',
      lifo: 'QueueMap<number>',
      taskCounts: 'TaskStorage<Counter>',
      cgroupCounts: 'CgrpStorage<Counter>',
      socketCounts: 'SkStorage<Counter>',
      inodeCounts: 'InodeStorage<Counter>',
      reuseportSockets: 'ReuseportSockArray',
    });
    expect(views(generate(dir, 'cgroup', 'cgroup'), 'Cgroup')).toMatchObject({ watched: 'CgroupArray' });
    expect(views(generate(dir, 'struct-ops', 'ops'), 'Ops')).toMatchObject({ tsbpfCc: 'StructOpsMap' });

    interface Counter {
      calls: bigint;
      tag: bigint;
      seen_tag: bigint;
    }
    interface Objects extends AsyncDisposable {
      maps: {
        taskCounts: {
          get(task: { pid: number }): Counter | undefined;
          set(task: { pid: number }, v: Counter): void;
        };
        seenTgids: { push(v: number): void; has(v: number): boolean };
      };
    }
    const { loadSpecialSpec } = await importLoader<{
      loadSpecialSpec(): Promise<{
        maps: { cgroupCounts: { autocreate: boolean } };
        programs: { countCgroup: { autoload: boolean } };
        load(): Promise<Objects>;
      }>;
    }>(join(dir, 'special.ts'));
    // CGRP_STORAGE is Linux 6.2+: on older kernels the next test loads this object without it.
    if (!enumConstants(readKernelBtf()).has('BPF_MAP_TYPE_CGRP_STORAGE')) {
      return ctx.skip(
        'BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2+) is missing here: the next test loads without it',
      );
    }
    const spec = await loadSpecialSpec();
    await using objs = await spec.load();
    objs.maps.seenTgids.push(7);
    expect(objs.maps.seenTgids.has(7)).toBe(true);
    objs.maps.taskCounts.set({ pid: process.pid }, { calls: 1n, tag: 2n, seen_tag: 3n });
    expect(objs.maps.taskCounts.get({ pid: process.pid })).toEqual({ calls: 1n, tag: 2n, seen_tag: 3n });
  });

  it('loads with a map left out (autocreate off) and its program (autoload off): the rest works, the two say why when used', async () => {
    // libbpf-tools' fallback for a kernel without a map type (CGRP_STORAGE before Linux 6.2), on every kernel.
    const dir = tempProject();
    generate(dir, 'special-maps', 'special');
    interface Counter {
      calls: bigint;
      tag: bigint;
      seen_tag: bigint;
    }
    interface Control {
      target_tgid: number;
    }
    const { loadSpecialSpec } = await importLoader<{
      loadSpecialSpec(): Promise<{
        maps: { cgroupCounts: { autocreate: boolean } };
        programs: { countCgroup: { autoload: boolean } };
        load(): Promise<
          AsyncDisposable & {
            programs: { countTask: { attach(): unknown }; countCgroup: { attach(): unknown } };
            maps: Record<string, unknown> & {
              taskCounts: { get(task: { pid: number }): Counter | undefined };
              seenTgids: { push(v: number): void; has(v: number): boolean };
              cgroupCounts: { get(path: string): Counter | undefined };
            };
            variables: { control: { get(): Control; set(v: Control): void } };
          }
        >;
      }>;
    }>(join(dir, 'special.ts'));
    const spec = await loadSpecialSpec();
    spec.maps.cgroupCounts.autocreate = false;
    spec.programs.countCgroup.autoload = false;
    await using objs = await spec.load();

    // The rest: a map used from user space, and a program counting this process's getsid calls.
    objs.maps.seenTgids.push(7);
    expect(objs.maps.seenTgids.has(7)).toBe(true);
    objs.variables.control.set({ ...objs.variables.control.get(), target_tgid: process.pid });
    objs.programs.countTask.attach();
    for (let i = 0; i < 3; i++) getsid(0);
    expect(objs.maps.taskCounts.get({ pid: process.pid })?.calls).toBe(3n);

    // The two left out: still properties (the types promise them), each a UsageError saying why.
    expect(Object.keys(objs.maps)).toContain('cgroupCounts');
    expect(() => objs.maps.cgroupCounts.get('/sys/fs/cgroup')).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: 'map cgroup_counts was not created: its autocreate was off at load()',
        hint: expect.stringContaining('MapSpec.autocreate'),
      }),
    );
    expect(() => objs.programs.countCgroup.attach()).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: 'program count_cgroup was not loaded: its autoload was off at load()',
        hint: expect.stringContaining('ProgramSpec.autoload'),
      }),
    );
  });
});
