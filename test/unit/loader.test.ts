import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../src/btf/object.js';
import { readObject } from '../../src/btf/object.js';
import { findType, generatedHeader, generateLoader, typeNames } from '../../src/codegen/loader.js';
import { UsageError } from '../../src/errors.js';
import { strictTypeErrors } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const runtimeFixture = (name: string): ObjectInfo =>
  readObject(compileFixture(join(repoRoot, 'test', 'fixtures', 'runtime', `${name}.bpf.c`)), `${name}.o`);
const genFixture = (name: string): ObjectInfo =>
  readObject(compileFixture(join(repoRoot, 'test', 'fixtures', 'gen', `${name}.c`)), `${name}.o`);

const both = (ident: string) => [
  { file: `${ident}_bpfel.o`, endian: 'little' as const },
  { file: `${ident}_bpfeb.o`, endian: 'big' as const },
];

describe('generateLoader', () => {
  let maps: ObjectInfo;
  let mapsTs: string;

  beforeAll(() => {
    maps = runtimeFixture('maps');
    mapsTs = generateLoader(maps, { ident: 'maps', objects: both('maps') });
  });

  it('gives every map family its typed view', () => {
    const block = /export interface MapsMaps \{([\s\S]*?)\n\}/.exec(mapsTs)?.[1] ?? '';
    const views = Object.fromEntries(
      [...block.matchAll(/^ {2}readonly (\w+): (.+);$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(views).toMatchObject({
      hash: 'HashMap<number, bigint>',
      lru: 'HashMap<number, number>',
      array: 'ArrayMap<bigint>',
      pcpuHash: 'PerCpuHashMap<number, number>',
      pcpuArray: 'PerCpuArrayMap<bigint>',
      queue: 'QueueMap<number>',
      stack: 'QueueMap<number>',
      stacks: 'StackTraceMap',
      jumps: 'ProgArray',
    });
    expect(mapsTs).toMatch(/readonly lpm: HashMap<Ipv4LpmKey, \w+>;/);
  });

  it('starts with the generated-code header and documents maps with their C declaration', () => {
    expect(mapsTs.startsWith(`${generatedHeader}\n`)).toBe(true);
    expect(mapsTs).toContain(
      [
        '   * ```c',
        '   * struct {',
        '   *     __uint(type, BPF_MAP_TYPE_HASH);',
        '   *     __type(key, __u32);',
        '   *     __type(value, __u64);',
        '   *     __uint(max_entries, 1024);',
        '   * } hash SEC(".maps");',
        '   * ```',
      ].join('\n'),
    );
  });

  it('is deterministic', () => {
    expect(generateLoader(runtimeFixture('maps'), { ident: 'maps', objects: both('maps') })).toBe(mapsTs);
  });

  it('picks objects by architecture first, then by byte order', () => {
    const ts = generateLoader(maps, {
      ident: 'maps',
      objects: [
        { file: 'maps_x86_bpfel.o', endian: 'little', archs: ['x64', 'ia32'] },
        { file: 'maps_s390_bpfeb.o', endian: 'big', archs: ['s390x'] },
        { file: 'maps_bpfel.o', endian: 'little' },
      ],
    });
    expect(ts).toContain(
      "if (littleEndian && (process.arch === 'x64' || process.arch === 'ia32')) return readFile(new URL('./maps_x86_bpfel.o', import.meta.url));",
    );
    expect(ts).toContain(
      "if (!littleEndian && process.arch === 's390x') return readFile(new URL('./maps_s390_bpfeb.o', import.meta.url));",
    );
    expect(ts).toContain("if (littleEndian) return readFile(new URL('./maps_bpfel.o', import.meta.url));");
    expect(ts).toContain('throw new NotSupportedError(');
  });

  it('inlines objects as base64 with --embed', () => {
    const bytes = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
    const ts = generateLoader(maps, {
      ident: 'maps',
      objects: [{ file: 'maps_bpfel.o', endian: 'little', bytes }],
    });
    expect(ts).toContain(`const object0 = '${Buffer.from(bytes).toString('base64')}';`);
    expect(ts).toContain("if (littleEndian) return Buffer.from(object0, 'base64');");
    expect(ts).not.toContain('node:fs');
  });

  it('exposes only global variables, .rodata read-only once loaded', () => {
    const ts = generateLoader(runtimeFixture('events'), { ident: 'events', objects: both('events') });
    expect(ts).toContain("readonly targetPid: Pick<Variable<number>, 'get'>;");
    expect(ts).toContain('readonly calls: Variable<bigint>;');
    expect(ts).toContain('/** `const volatile __u64 multiplier` in .rodata, offset 8 */');
    // struct event named by the ring buffer's declared value type
    expect(ts).toContain('readonly events: RingBuf<Event, EventView>;');
  });

  it('binds --event types and rejects unknown maps, wrong map types and unknown types', () => {
    const ring = genFixture('ring');
    // settings is in the BTF (an array map's value), so it can name events of the ring buffer.
    expect(
      generateLoader(ring, { ident: 'r', objects: both('r'), events: { events: 'settings' } }),
    ).toContain('readonly events: RingBuf<Settings, SettingsView>;');
    const fail = (events: Record<string, string>) => () =>
      generateLoader(ring, { ident: 'r', objects: both('r'), events });
    expect(fail({ nope: 'settings' })).toThrow(UsageError);
    expect(fail({ nope: 'settings' })).toThrow('the object has no map nope');
    expect(fail({ calls: 'settings' })).toThrow('calls is a hash map');
    expect(fail({ events: 'no_such_type' })).toThrow("the object's BTF has no such type");
  });

  it('builds map views through mapViews, where a map whose autocreate was off fails only when used', () => {
    const ts = generateLoader(runtimeFixture('special-maps'), { ident: 'special', objects: both('special') });
    expect(ts).toContain(
      [
        '      maps: mapViews<SpecialMaps>(collection, {',
        "        seenTgids: ['seen_tgids', (map) => new BloomFilter(map, u32)],",
      ].join('\n'),
    );
    expect(ts).toContain(
      "        cgroupCounts: ['cgroup_counts', (map) => new CgrpStorage(map, Counter)],\n",
    );
    expect(ts).toMatch(/^import \{[^}]*\bmapViews\b[^}]*\} from 'tsbpf';$/m);
    const docs = ts.replace(/\n \* /g, ' ');
    expect(docs).toContain('One whose autocreate was off at load throws a UsageError when used.');
    expect(docs).toContain('One whose autoload was off at load throws a UsageError when used.');
    // An object without maps gets no mapViews (nor its import).
    const none = generateLoader(runtimeFixture('optional'), { ident: 'none', objects: both('none') });
    expect(none).toContain('      maps: {},');
    expect(none).not.toContain('mapViews');
  });

  it('keeps programs that cannot load as properties (getters fail only when used)', () => {
    const ts = generateLoader(runtimeFixture('optional'), { ident: 'optional', objects: both('optional') });
    for (const key of ['unlinkFentry', 'unlinkKprobe', 'unlinkTp']) expect(ts).toContain(`get ${key}() {`);
    expect(ts).toContain('`SEC("fentry/do_unlinkat") int unlink_fentry(');
  });
});

describe('findType', () => {
  it('finds structs, typedefs and tagged names, and ignores forward declarations', () => {
    const { btf } = runtimeFixture('events');
    const event = findType(btf, 'event');
    expect(event).toBeDefined();
    expect(findType(btf, 'struct event')).toBe(event);
    expect(findType(btf, '  struct   event ')).toBe(event);
    expect(findType(btf, 'union event')).toBeUndefined();
    expect(findType(btf, '__u32')).toBe(btf.find('__u32', 'typedef')[0]?.id);
    expect(findType(btf, 'struct')).toBeUndefined();
    expect(findType(btf, 'not a name')).toBeUndefined();
    expect(typeNames(btf)).toContain('event');
  });
});

describe('generated loaders type-check', () => {
  it('passes tsc --strict with noUncheckedIndexedAccess for every runtime fixture', () => {
    const dir = tempDir('tsbpf-loader-tsc-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const files: string[] = [];
    for (const name of [
      'maps',
      'events',
      'optional',
      'perf',
      'net',
      'special-maps',
      'cgroup',
      'struct-ops',
    ]) {
      const ts = generateLoader(runtimeFixture(name), { ident: name, objects: both(name) });
      writeFileSync(join(dir, `${name}.ts`), ts);
      files.push(`${name}.ts`);
    }
    for (const name of ['ring', 'link_main']) {
      const ts = generateLoader(genFixture(name), {
        ident: name,
        objects: both(name),
        types: name === 'ring' ? ['settings'] : [],
      });
      writeFileSync(join(dir, `${name}.ts`), ts);
      files.push(`${name}.ts`);
    }
    expect(strictTypeErrors(dir, files)).toEqual([]);
  });
});
