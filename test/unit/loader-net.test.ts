// Generated loaders type the XDP redirect maps and socket maps with their views (maps-net.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/object.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { strictTypeErrors } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const loaderOf = (name: string): string => {
  const object = compileFixture(join(repoRoot, 'test', 'fixtures', 'runtime', `${name}.bpf.c`));
  return generateLoader(readObject(object, `${name}.o`), {
    ident: name,
    objects: [
      { file: `${name}_bpfel.o`, endian: 'little' },
      { file: `${name}_bpfeb.o`, endian: 'big' },
    ],
  });
};

const views = (ts: string, iface: string): Record<string, string> => {
  const block = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(ts)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/^ {2}readonly (\w+): (.+);$/gm)].map((m) => [m[1], m[2]]));
};

describe('generated loaders for redirect and socket maps', () => {
  const redirect = loaderOf('redirect');
  const sockmap = loaderOf('sockmap');

  it('types devmaps, cpumaps, xskmaps, sockmaps and sockhashes with their views', () => {
    expect(views(redirect, 'RedirectMaps')).toMatchObject({
      txPorts: 'DevMap',
      txHash: 'DevMap',
      txPlain: 'DevMap',
      cpus: 'CpuMap',
      xsks: 'XskMap',
    });
    expect(views(sockmap, 'SockmapMaps')).toMatchObject({ sockMap: 'SockMap', msgHash: 'SockHash<number>' });
    expect(redirect).toContain('new DevMap(');
    expect(sockmap).toContain("msgHash: ['msg_hash', (map) => new SockHash(map, u32)],");
  });

  it('passes tsc --strict', () => {
    const dir = tempDir('tsbpf-loader-net-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'redirect.ts'), redirect);
    writeFileSync(join(dir, 'sockmap.ts'), sockmap);
    expect(strictTypeErrors(dir, ['redirect.ts', 'sockmap.ts'])).toEqual([]);
  });
});
