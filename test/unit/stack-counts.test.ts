// StackCounts: counted stacks merged by what they print, folded lines flame graph tools read,
// the top-N text view, and frame coverage. A kallsyms file and a /proc of the test's own make the
// names; the user side uses a pid whose /proc directory does not exist (an exited process).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StackCounts, Symbolizer } from '../../src/symbolize/index.js';
import { tempDir } from '../helpers/paths.js';

const dir = tempDir('tsbpf-stack-counts-');
const kallsyms = join(dir, 'kallsyms');
writeFileSync(
  kallsyms,
  [
    'ffffffff81000000 T _stext',
    'ffffffff81001000 T schedule',
    'ffffffff81002000 T do_nanosleep',
    'ffffffffc0100000 t ext4_sync_file\t[ext4]',
    'ffffffffc0200000 t end_of_text',
  ].join('\n'),
);
const procRoot = join(dir, 'proc');
mkdirSync(procRoot);

const schedule = 0xffffffff81001010n;
const nanosleep = 0xffffffff81002020n;
const ext4 = 0xffffffffc0100004n;

function counts(): StackCounts {
  return new StackCounts(new Symbolizer({ kallsyms, procRoot }));
}

describe('StackCounts', () => {
  it('folds stacks outermost first, marks kernel frames, and merges stacks that print alike', () => {
    const stacks = counts();
    stacks.add({ pid: 7, comm: 'sleeper', kernel: [schedule, nanosleep], value: 3n });
    // Another offset in the same functions prints the same folded stack: one line, values added.
    stacks.add({ pid: 7, comm: 'sleeper', kernel: [schedule + 4n, nanosleep + 8n], value: 4n });
    stacks.add({ pid: 8, comm: 'syncer', kernel: [ext4], value: 10n });
    expect(stacks.folded()).toEqual([
      'syncer;ext4_sync_file_[k] 10',
      'sleeper;do_nanosleep_[k];schedule_[k] 7',
    ]);
    expect(stacks.coverage()).toEqual({ resolved: 5, unresolved: 0 });
  });

  it('keeps separators and control characters of hostile names out of folded lines and text', () => {
    const stacks = counts();
    stacks.add({ pid: 9, comm: 'a;b\x1b[31m', kernel: [schedule], value: 1n });
    const [line] = stacks.folded();
    expect(line).toBe('a:b\\x1b[31m;schedule_[k] 1');
    expect(stacks.text(1, 'samples')).not.toContain('\x1b');
  });

  it('counts frames it cannot name and says why in the text view', () => {
    const stacks = counts();
    stacks.add({ pid: 4242, comm: 'gone', kernel: [schedule], user: [0x401000n, 0x401100n], value: 2n });
    expect(stacks.coverage()).toEqual({ resolved: 1, unresolved: 2 });
    expect(stacks.folded()).toEqual(['gone;[unknown];[unknown];schedule_[k] 2']);
    const text = stacks.text(5, 'samples').split('\n');
    expect(text[0]).toMatch(/^\s+2 samples {2}gone \[4242\]$/);
    expect(text[1]?.trim()).toBe('schedule+0x10');
    expect(text[2]?.trim()).toBe('--');
    expect(text[3]?.trim()).toMatch(/^0x401000 {2}\(process 4242 exited/);
    // Said once: the second frame has the same reason.
    expect(text[4]?.trim()).toBe('0x401100');
  });

  it('adds by stack id: a negative id or one the map no longer holds leaves that stack out', () => {
    const stacks = counts();
    const map = new Map<number, bigint[]>([[1, [schedule]]]);
    const lookup = { get: (id: number) => map.get(id) };
    stacks.addIds({ pid: 3, comm: 'kthread', kernelStackId: 1, userStackId: -14, value: 5n }, lookup);
    stacks.addIds({ pid: 3, comm: 'kthread', kernelStackId: 99, userStackId: -14, value: 1n }, lookup);
    expect(stacks.folded()).toEqual(['kthread;schedule_[k] 5', 'kthread 1']);
  });

  it('reads a counts hash keyed as bcc names the fields, with its stack map', () => {
    const stacks = counts();
    const map = new Map<number, bigint[]>([
      [1, [schedule]],
      [2, [nanosleep]],
    ]);
    const lookup = { get: (id: number) => map.get(id) };
    const hash = new Map([
      [{ pid: 3, comm: 'kthread', kernel_stack_id: 1, user_stack_id: -14 }, 5n],
      [{ pid: 4, comm: 'sleeper', kernel_stack_id: 2, user_stack_id: -14 }, 7n],
    ]);
    stacks.noticeMap(hash, lookup);
    expect(stacks.folded()).toEqual([]);
    stacks.addMap(hash, lookup);
    expect(stacks.folded()).toEqual(['sleeper;do_nanosleep_[k] 7', 'kthread;schedule_[k] 5']);
  });

  it('says once why a frame in a known file has no name', () => {
    const stacks = counts();
    const pid = 4343;
    mkdirSync(join(procRoot, String(pid)));
    writeFileSync(
      join(procRoot, String(pid), 'maps'),
      '00400000-00401000 r-xp 00000000 fd:01 77 /opt/missing/app\n',
    );
    stacks.add({ pid, comm: 'app', user: [0x400010n, 0x400020n], value: 1n });
    const text = stacks.text(1, 'samples').split('\n');
    expect(text[1]?.trim()).toMatch(/^0x400010 \[app\] {2}\(cannot open \/opt\/missing\/app \(ENOENT\)/);
    expect(text[2]?.trim()).toBe('0x400020 [app]');
  });

  it('shows the busiest stacks first and no more than asked', () => {
    const stacks = counts();
    stacks.add({ pid: 1, comm: 'small', kernel: [schedule], value: 1n });
    stacks.add({ pid: 2, comm: 'big', kernel: [nanosleep], value: 100n });
    const text = stacks.text(1, 'us');
    expect(text).toMatch(/^\s+100 us {2}big \[2\]\n\s+do_nanosleep\+0x20$/);
    expect(text).not.toContain('small');
  });
});
