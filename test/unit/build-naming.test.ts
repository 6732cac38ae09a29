// Names in generated loaders and "did you mean" lists.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  camelCase,
  checkIdent,
  editDistance,
  pascalCase,
  propertyNames,
  similarNames,
} from '../../src/build/naming.js';
import { compareSpecifiers } from '../../src/codegen/loader.js';

describe('camelCase and pascalCase', () => {
  it.each([
    ['uretprobe_bash_readline', 'uretprobeBashReadline', 'UretprobeBashReadline'],
    ['__sys_enter', 'sysEnter', 'SysEnter'],
    ['XDPProg2', 'xdpProg2', 'XdpProg2'],
    ['handle_HTTP_request', 'handleHttpRequest', 'HandleHttpRequest'],
    ['probe', 'probe', 'Probe'],
    ['tcp_rtt', 'tcpRtt', 'TcpRtt'],
    ['2fast', '_2fast', '_2fast'],
  ])('%s -> %s, %s', (c, camel, pascal) => {
    expect(camelCase(c)).toBe(camel);
    expect(pascalCase(c)).toBe(pascal);
  });

  it('always gives a valid identifier for C identifiers', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/), (name) => {
        expect(camelCase(name)).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]*$/);
        expect(pascalCase(name)).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]*$/);
      }),
    );
  });

  it('keeps the C spelling of names that would fold together', () => {
    const names = propertyNames(['foo_bar', 'fooBar', 'other_one']);
    expect([...names]).toEqual([
      ['foo_bar', 'foo_bar'],
      ['fooBar', 'fooBar'],
      ['other_one', 'otherOne'],
    ]);
  });
});

describe('checkIdent', () => {
  it('accepts C identifiers and refuses anything else', () => {
    expect(checkIdent('probe_1')).toBe('probe_1');
    expect(() => checkIdent('my-probe')).toThrow('"my-probe" is not a valid identifier');
    expect(() => checkIdent('1probe')).toThrow('not a valid identifier');
  });
});

describe('similarNames', () => {
  it('finds typos and substrings, best first', () => {
    expect(similarNames('evnt', ['event', 'event_t', 'task_struct', 'sigevent'])).toEqual(['event']);
    expect(similarNames('event', ['task_struct', 'sigevent', 'event_t'])).toEqual(['event_t', 'sigevent']);
    expect(similarNames('cflag', ['cflags', 'types', 'targets'])).toEqual(['cflags']);
    expect(similarNames('zzz', ['event'])).toEqual([]);
  });

  it('measures edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('chekc', 'check')).toBe(1); // a swap of two neighbours is one step
  });
});

describe('compareSpecifiers (biome import order)', () => {
  it('sorts upper case before lower case of a letter, and numbers by value', () => {
    const names = [
      'u64',
      'Variable',
      'u8',
      'readCString',
      'RingBuf',
      'RecordCodec',
      'u16',
      'TsbpfError',
      'tooShort',
      'bytes',
      'ArrayMap',
    ];
    expect(names.sort(compareSpecifiers)).toEqual([
      'ArrayMap',
      'bytes',
      'RecordCodec',
      'RingBuf',
      'readCString',
      'TsbpfError',
      'tooShort',
      'u8',
      'u16',
      'u64',
      'Variable',
    ]);
  });
});
