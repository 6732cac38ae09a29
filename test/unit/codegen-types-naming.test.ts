// Names in generated code: PascalCase/camelCase of C identifiers and deterministic collisions.
import { describe, expect, it } from 'vitest';
import { camelCase, NameAllocator, pascalCase, propertyKey } from '../../src/codegen/naming.js';

describe('naming', () => {
  it('turns C names into PascalCase and camelCase', () => {
    expect(pascalCase('event_t')).toBe('EventT');
    expect(pascalCase('task_struct')).toBe('TaskStruct');
    expect(pascalCase('__u32')).toBe('U32');
    expect(pascalCase('TCPState')).toBe('TcpState');
    expect(pascalCase('bpf_map__x2')).toBe('BpfMapX2');
    expect(pascalCase('4you')).toBe('T4you');
    expect(pascalCase('___')).toBe('');
    expect(camelCase('uretprobe_bash_readline')).toBe('uretprobeBashReadline');
    expect(camelCase('XDP_pass')).toBe('xdpPass');
  });

  it('allocates unique names in request order, avoiding reserved ones', () => {
    const names = new NameAllocator();
    expect(names.allocate('Foo', 'Struct')).toBe('Foo');
    expect(names.allocate('Foo', 'Union')).toBe('FooUnion');
    expect(names.allocate('Foo', 'Union')).toBe('Foo2');
    expect(names.allocate('Foo')).toBe('Foo3');
    expect(names.allocate('Map', 'Struct')).toBe('MapStruct');
    expect(names.allocate('Uint8Array')).toBe('Uint8Array2');
    names.reserve('Bar');
    expect(names.has('Bar')).toBe(true);
    expect(names.allocate('Bar', 'Enum')).toBe('BarEnum');
  });

  it('quotes property keys only when needed', () => {
    expect(propertyKey('pid')).toBe('pid');
    expect(propertyKey('__state')).toBe('__state');
    expect(propertyKey('a-b')).toBe('"a-b"');
  });
});

describe('string helpers', () => {
  it('read C strings up to the first NUL, short or long, ASCII or not', async () => {
    const { readCString, writeCString } = await import('../../src/codegen/codec.js');
    for (const text of ['', 'bash', 'é😀x', 'a'.repeat(300), `${'ü'.repeat(100)}/bin`]) {
      for (const size of [8, 64, 200, 400]) {
        const b = new Uint8Array(size + 4).fill(0x41);
        writeCString(b, 2, size, text);
        const encoded = new TextEncoder().encode(text);
        // Truncated to the field (possibly mid-character, as C would), NUL-padded.
        const expected = new TextDecoder().decode(encoded.subarray(0, size));
        const decoded = readCString(b, 2, size);
        if (encoded.length <= size) expect(decoded).toBe(text);
        else expect(expected.startsWith(decoded)).toBe(true);
        expect(b[0]).toBe(0x41);
        expect(b[size + 2]).toBe(0x41);
      }
    }
  });
});
