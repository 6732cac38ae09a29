// Generated loaders for the special maps (maps-special.test.ts has the maps themselves): each map
// typed with its view, the files pass tsc --strict, and the views work on a loaded object. Its own
// file because it imports the runtime as a user does ('tsbpf', built), not from src/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKernelBtf } from '../../src/btf/kernel.js';
import { readObject } from '../../src/btf/object.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { enumConstants } from '../../src/doctor/features.js';
import { importLoader, strictTypeErrors, tempProject } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';

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

  it('type each special map with its view, pass tsc --strict, and work against the kernel', async (ctx) => {
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
    expect(strictTypeErrors(dir, ['special.ts', 'cgroup.ts', 'ops.ts'])).toEqual([]);

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
    // CGRP_STORAGE is Linux 6.2+. A generated loader wants every map it types, so on older kernels
    // it cannot load this object (maps-special.test.ts checks the user's error for such a map).
    if (!enumConstants(readKernelBtf()).has('BPF_MAP_TYPE_CGRP_STORAGE')) {
      return ctx.skip('BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2+) is missing: the loader cannot load its map');
    }
    const spec = await loadSpecialSpec();
    await using objs = await spec.load();
    objs.maps.seenTgids.push(7);
    expect(objs.maps.seenTgids.has(7)).toBe(true);
    objs.maps.taskCounts.set({ pid: process.pid }, { calls: 1n, tag: 2n, seen_tag: 3n });
    expect(objs.maps.taskCounts.get({ pid: process.pid })).toEqual({ calls: 1n, tag: 2n, seen_tag: 3n });
  });
});
