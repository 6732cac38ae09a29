// doctor's per-program-type checks with stand-in probes: how each kernel answer becomes a line,
// and how the verdict names the kinds this user cannot run (the real answers, as root and as
// nobody with few capabilities, are in test/integration/doctor.test.ts and
// test/reliability/privilege.test.ts).
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  checkProgramTypes,
  type DoctorReport,
  formatReport,
  type ProgramTypeProbes,
} from '../../src/doctor/index.js';

const { EPERM, EACCES, ENOENT, EINVAL } = constants.errno;

/** A machine where everything works for this user; tests override one answer at a time. */
const allowed: ProgramTypeProbes = {
  load: () => 0,
  uprobePmu: () => ENOENT,
  bpfOutput: () => 0,
  tracefs: () => ({ state: 'ok', root: '/sys/kernel/tracing' }),
  kprobes: () => true,
  missing: () => [],
};

const byId = (probes: Partial<ProgramTypeProbes>) =>
  Object.fromEntries(checkProgramTypes({ ...allowed, ...probes }).map((r) => [r.check.id, r]));

describe('checkProgramTypes', () => {
  it('everything allowed: every kind runs', () => {
    const results = checkProgramTypes(allowed);
    expect(results.map((r) => [r.kind, r.runs, r.check.status])).toEqual([
      ['raw_tp', true, 'ok'],
      ['tracepoint', true, 'ok'],
      ['uprobe/uretprobe', true, 'ok'],
      ['kprobe', true, 'ok'],
      ['XDP', true, 'ok'],
      ['tc', true, 'ok'],
      ['perf event array', true, 'ok'],
    ]);
  });

  it('a refused load names the capabilities this user lacks and a whole command', () => {
    const r = byId({
      load: (type) => (type === 6 || type === 3 ? EPERM : 0),
      missing: () => ['CAP_NET_ADMIN'],
    });
    expect(r['run-xdp']).toMatchObject({ runs: false, blockedBy: 'privilege' });
    expect(r['run-xdp']?.check.detail).toBe('cannot load (EPERM): this user lacks CAP_NET_ADMIN');
    expect(r['run-xdp']?.check.fix).toContain('--inh-caps=+bpf,+net_admin --ambient-caps=+bpf,+net_admin');
    expect(r['run-xdp']?.check.fix).not.toContain('...');
  });

  it('a root-only tracefs blocks tracepoints and points at CAP_DAC_READ_SEARCH and raw_tp', () => {
    const r = byId({ tracefs: () => ({ state: 'denied', root: '/sys/kernel/tracing' }) });
    expect(r['run-tracepoint']).toMatchObject({ runs: false, blockedBy: 'privilege' });
    expect(r['run-tracepoint']?.check.fix).toContain('CAP_DAC_READ_SEARCH');
    expect(r['run-tracepoint']?.check.fix).toContain('raw_tp');
    expect(r['run-raw-tracepoint']?.runs).toBe(true);
  });

  it('the uprobe PMU refusing (EACCES) blocks uprobes and names CAP_SYS_ADMIN', () => {
    const r = byId({ uprobePmu: () => EACCES });
    expect(r['run-uprobe']).toMatchObject({ runs: false, blockedBy: 'privilege' });
    expect(r['run-uprobe']?.check.detail).toContain('uprobes need CAP_SYS_ADMIN');
    expect(r['run-uprobe']?.check.fix).toContain('+sys_admin');
  });

  it('what the kernel lacks is the kernel’s, not the user’s', () => {
    const r = byId({
      kprobes: () => false,
      uprobePmu: () => undefined,
      load: (t) => (t === 17 ? EINVAL : 0),
    });
    expect(r['run-kprobe']).toMatchObject({ runs: false, blockedBy: 'kernel' });
    expect(r['run-kprobe']?.check.status).toBe('ok');
    expect(r['run-uprobe']).toMatchObject({ runs: false, blockedBy: 'kernel' });
    expect(r['run-raw-tracepoint']).toMatchObject({ runs: false, blockedBy: 'kernel' });
  });
});

describe('the verdict', () => {
  const checks: DoctorReport['checks'] = [{ id: 'clang', title: 'clang', status: 'ok', detail: 'clang 14' }];
  const plain = { isTTY: false } as NodeJS.WriteStream;

  it('names the kinds this user cannot run instead of a blanket Ready', () => {
    const text = formatReport(
      {
        ready: true,
        checks,
        programs: [
          { kind: 'raw_tp', runs: true },
          { kind: 'tracepoint', runs: false, blockedBy: 'privilege' },
          { kind: 'uprobe/uretprobe', runs: false, blockedBy: 'privilege' },
          { kind: 'kprobe', runs: false, blockedBy: 'kernel' },
        ],
      },
      plain,
    );
    expect(text).not.toContain('Ready: this machine');
    expect(text).toContain(
      'Ready for some programs: this user cannot run tracepoint, uprobe/uretprobe (see warn above); it can run raw_tp',
    );
  });

  it('says Ready when only the kernel lacks something', () => {
    const text = formatReport(
      { ready: true, checks, programs: [{ kind: 'kprobe', runs: false, blockedBy: 'kernel' }] },
      plain,
    );
    expect(text).toContain('Ready: this machine can build and run tsbpf programs');
  });
});
