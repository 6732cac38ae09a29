// The symbolizer's text parsers (kallsyms, /proc/PID/maps, perf maps), its sorted tables and the
// frame formatter, on hand-written input with the shapes the kernel and JITs print.
import { describe, expect, it } from 'vitest';
import {
  findMapping,
  formatFrame,
  KernelSymbols,
  parsePerfMap,
  parseProcMaps,
  SymbolTable,
} from '../../src/symbolize/index.js';

const kallsyms = [
  'ffffffff81000000 T _stext',
  'ffffffff81001000 T do_one_thing',
  'ffffffff81001080 t helper_local',
  'ffffffff81200000 D some_data',
  'ffffffff81300000 W weak_function',
  // Modules and BPF programs come after the image, not in address order.
  'ffffffffc0a02000 t ext4_thing\t[ext4]',
  'ffffffffc0a01000 t ext4_first\t[ext4]',
  'ffffffffc0100000 t bpf_prog_0123456789abcdef_handler\t[bpf]',
  'not a line at all',
  'ffffffffzz000000 T bad_hex',
  '',
].join('\n');

describe('KernelSymbols', () => {
  const symbols = new KernelSymbols(kallsyms);

  it('finds the function at or below an address, with its offset and module', () => {
    expect(symbols.hidden).toBe(false);
    expect(symbols.lookup(0xffffffff81001010n)).toEqual({ name: 'do_one_thing', offset: 0x10 });
    expect(symbols.lookup(0xffffffff81001080n)).toEqual({ name: 'helper_local', offset: 0 });
    expect(symbols.lookup(0xffffffffc0a01004n)).toEqual({ name: 'ext4_first', offset: 4, module: 'ext4' });
    expect(symbols.lookup(0xffffffffc0a02010n)).toEqual({ name: 'ext4_thing', offset: 0x10, module: 'ext4' });
    expect(symbols.lookup(0xffffffffc0100020n)).toEqual({
      name: 'bpf_prog_0123456789abcdef_handler',
      offset: 0x20,
      module: 'bpf',
    });
    expect(symbols.lookup(0xffffffff81300001n)?.name).toBe('weak_function');
  });

  it('keeps data symbols, malformed lines and far-away addresses out', () => {
    // some_data is data: an address past it belongs to the text symbol before it, too far away.
    expect(symbols.lookup(0xffffffff81200004n)).toBeUndefined();
    expect(symbols.lookup(0x7fff0000n)).toBeUndefined();
    expect(symbols.lookup(0xffffffffc0c00000n)).toBeUndefined();
    expect(symbols.size).toBe(7);
  });

  it('says when kptr_restrict hides every address', () => {
    const hidden = new KernelSymbols(
      '0000000000000000 T _stext\n0000000000000000 T schedule\n0000000000000000 t x\t[ext4]\n',
    );
    expect(hidden.hidden).toBe(true);
    expect(hidden.lookup(0xffffffff81000010n)).toBeUndefined();
    expect(new KernelSymbols('').hidden).toBe(false);
  });
});

describe('parseProcMaps', () => {
  const maps = parseProcMaps(
    [
      '55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1048600                    /usr/bin/my prog',
      '55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 1048600                    /usr/bin/my prog',
      '7f0000000000-7f0000100000 r-xp 00002000 08:02 77                         /tmp/libgone.so (deleted)',
      '7f0000200000-7f0000300000 rwxp 00000000 00:00 0 ',
      '7ffd5a3fe000-7ffd5a400000 r-xp 00000000 00:00 0                          [vdso]',
      '7ffd5a100000-7ffd5a200000 rw-p 00000000 00:00 0                          [stack]',
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
      'garbage',
      '10-5 r-xp 00000000 00:00 0 /backwards',
    ].join('\n'),
  );

  it('reads each mapping with its kind, offset and path', () => {
    expect(maps.map((m) => m.kind)).toEqual([
      'file',
      'file',
      'file',
      'anonymous',
      'special',
      'vdso',
      'vsyscall',
    ]);
    const text = maps[1]!;
    expect(text).toMatchObject({
      path: '/usr/bin/my prog',
      offset: 0x1000,
      executable: true,
      inode: 1048600,
    });
    expect(maps[2]).toMatchObject({ path: '/tmp/libgone.so', deleted: true, device: '08:02' });
    expect(maps[6]!.start).toBe(0xffffffffff600000n);
  });

  it('finds the mapping of an address', () => {
    expect(findMapping(maps, 0x55d0c0a01234n)?.offset).toBe(0x1000);
    expect(findMapping(maps, 0x7ffd5a3fe010n)?.kind).toBe('vdso');
    expect(findMapping(maps, 0x7f0000300000n)).toBeUndefined();
    expect(findMapping(maps, 0n)).toBeUndefined();
  });
});

describe('parsePerfMap and SymbolTable', () => {
  it('reads a JIT perf map, later entries winning at one address', () => {
    const table = parsePerfMap(
      '7f1000001000 40 LazyCompile:~main /app/x.js:1\n7f1000002000 0x20 Builtin:ArgumentsAdaptor\n' +
        'junk\n7f1000001000 80 LazyCompile:*main /app/x.js:1\n',
    );
    expect(table.lookup(0x7f1000001050)).toEqual({ name: 'LazyCompile:*main /app/x.js:1', offset: 0x50 });
    expect(table.lookup(0x7f1000002010)?.name).toBe('Builtin:ArgumentsAdaptor');
    expect(table.lookup(0x7f1000002020)).toBeUndefined();
  });

  it('lets an unsized symbol reach the next and finds an enclosing symbol behind a nested one', () => {
    const table = new SymbolTable([
      { name: 'outer', start: 0x1000, size: 0x100 },
      { name: 'inner', start: 0x1010, size: 0x10 },
      { name: 'label', start: 0x2000, size: 0 },
      { name: 'alias_local', start: 0x3000, size: 8, rank: 0 },
      { name: 'alias_global', start: 0x3000, size: 8, rank: 1 },
    ]);
    expect(table.lookup(0x1014)).toEqual({ name: 'inner', offset: 4 });
    expect(table.lookup(0x1030)).toEqual({ name: 'outer', offset: 0x30 });
    expect(table.lookup(0x1100)).toBeUndefined();
    expect(table.lookup(0x2fff)).toEqual({ name: 'label', offset: 0xfff });
    expect(table.lookup(0x3004)?.name).toBe('alias_global');
    expect(table.lookup(0xfff)).toBeUndefined();
  });
});

describe('formatFrame', () => {
  it('prints frames as profilers do', () => {
    expect(formatFrame({ address: 0xffffffff81001010n, symbol: 'schedule', offset: 0x1a })).toBe(
      'schedule+0x1a',
    );
    expect(formatFrame({ address: 1n, symbol: 'ext4_thing', offset: 0, module: 'ext4' })).toBe(
      'ext4_thing [ext4]',
    );
    expect(
      formatFrame({ address: 1n, symbol: 'read', offset: 4, module: '/usr/lib/x86_64-linux-gnu/libc.so.6' }),
    ).toBe('read+0x4 [libc.so.6]');
    expect(formatFrame({ address: 0x7f3a00001000n, module: '/lib/libz.so.1', moduleAddress: 0x2b1c })).toBe(
      '0x7f3a00001000 [libz.so.1+0x2b1c]',
    );
    expect(formatFrame({ address: 0x7f3a00001000n, module: '[anon]' })).toBe('0x7f3a00001000 [anon]');
    expect(formatFrame({ address: 1n, symbol: '__vdso_clock_gettime', offset: 2, module: '[vdso]' })).toBe(
      '__vdso_clock_gettime+0x2 [vdso]',
    );
    expect(formatFrame({ address: 0xdeadn, reason: 'process 1 exited' })).toBe('0xdead');
  });
});
