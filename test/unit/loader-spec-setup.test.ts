// The generated …MapSpecs and …ProgramSpecs types expose every pre-load setter of MapSpec and
// ProgramSpec, under the camelCase keys the pre-load size errors name (spec.maps.callCounts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/object.js';
import { generateLoader } from '../../src/codegen/loader.js';
import { strictTypeErrors } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const user = `import { loadSizingSpec } from './sizing.js';

const spec = await loadSizingSpec();
spec.maps.stackmap.valueSize = 127 * 8;
spec.maps.stackmap.keySize = 4;
spec.maps.callCounts.maxEntries = 1024;
spec.maps.callCounts.type = 'lruHash';
spec.maps.callCounts.flags = 1;
spec.maps.callCounts.numaNode = 0;
spec.maps.callCounts.mapExtra = 0n;
spec.maps.callCounts.pinPath = '/sys/fs/bpf/call_counts';
spec.maps.callCounts.autocreate = true;
spec.programs.onGetppid.type = 'tracepoint';
spec.programs.onGetppid.expectedAttachType = 0;
spec.programs.onGetppid.flags = 0;
spec.programs.onGetppid.logLevel = 2;
spec.programs.onGetppid.attachTarget = { functionName: 'sys_exit' };
const size: number = spec.maps.stackmap.valueSize;
// @ts-expect-error map types are the names MapType spells
spec.maps.callCounts.type = 'no_such_type';
spec.close();
export { size };
`;

describe('generated spec types', () => {
  it('let a strict project set every pre-load property by the camelCase map and program keys', () => {
    const dir = tempDir('tsbpf-loader-spec-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const info = readObject(compileFixture(join(repoRoot, 'test/fixtures/runtime/sizing.bpf.c')), 'sizing.o');
    const objects = [
      { file: 'sizing_bpfel.o', endian: 'little' as const },
      { file: 'sizing_bpfeb.o', endian: 'big' as const },
    ];
    writeFileSync(join(dir, 'sizing.ts'), generateLoader(info, { ident: 'sizing', objects }));
    writeFileSync(join(dir, 'user.ts'), user);
    expect(strictTypeErrors(dir, ['sizing.ts', 'user.ts'])).toEqual([]);
  });
});
