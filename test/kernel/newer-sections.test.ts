// SEC() names that newer libbpf releases added (newer-sections.ts): with a libbpf that does not
// know one, the load is a NotSupportedError naming the release that does (netfilter aside: tsbpf
// types it and attaches it itself); with one that knows it, libbpf types the program. Runs under
// each libbpf of the matrix (1.1 here, 1.5 and 1.7 through TSBPF_LIBBPF), and asserts what that
// libbpf gives. Releases from libbpf's section_defs at tags v1.1.0 to v1.7.0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotSupportedError, UsageError } from '../../src/errors.js';
import { libbpfVersion } from '../../src/runtime/ffi/libbpf.js';
import { CollectionSpec } from '../../src/runtime/index.js';
import { compileSource } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';
import { errorOf, loadErrorOf } from './helpers.js';

const [major, minor] = libbpfVersion();
const loaded = `${major}.${minor}`;
const olderThan = (version: string) => {
  const [m = 0, n = 0] = version.split('.').map(Number);
  return major < m || (major === m && minor < n);
};

/** Program name, its section, and the libbpf release whose section_defs added the section. */
const sections: Array<[string, string, string]> = [
  ['nf', 'netfilter', '1.3'],
  ['umulti', 'uprobe.multi', '1.3'],
  ['umulti_s', 'uretprobe.multi.s', '1.3'],
  ['usdt_s', 'usdt.s', '1.3'],
  ['tcx_in', 'tcx/ingress', '1.3'],
  ['tc_out', 'tc/egress', '1.3'],
  ['nk', 'netkit/primary', '1.3'],
  ['unix_connect', 'cgroup/connect_unix', '1.3'],
  ['skb_verdict', 'sk_skb/verdict', '1.4'],
  ['ksession', 'kprobe.session', '1.5'],
  ['usession', 'uprobe.session', '1.6'],
  ['usession_s', 'uprobe.session.s', '1.6'],
  ['fsess', 'fsession/do_unlinkat', '1.7'],
];

const source = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
${sections.map(([name, section]) => `SEC("${section}") int ${name}(void *ctx) { return 1; }`).join('\n')}
SEC("kprobe.sesion") int typo(void *ctx) { return 0; }
SEC("socket") int plain(void *ctx) { return 0; }
`;
const bytes = compileSource('newer-sections', source);

/** A spec with only `programs` autoloaded. */
function open(programs: string[]): CollectionSpec {
  const spec = CollectionSpec.fromBytes(bytes, { name: 'newer' });
  for (const [name, p] of spec.programs) p.autoload = programs.includes(name);
  return spec;
}

describe(`sections newer than libbpf 1.1 (this run: libbpf ${loaded})`, () => {
  for (const [name, section, since] of sections) {
    const known = !olderThan(since);
    it(`SEC("${section}") (libbpf ${since}): ${known ? 'libbpf types it' : section === 'netfilter' ? 'tsbpf types it' : 'the load names libbpf ' + since}`, async () => {
      const spec = open([name]);
      const type = spec.programs.get(name)!.type;
      if (known || section === 'netfilter') {
        expect(type).not.toBe(0);
        spec.close();
        return;
      }
      expect(type).toBe(0);
      const error = await loadErrorOf(spec);
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `load program ${name}: SEC("${section}") needs libbpf >= ${since} (older ones do not know the section); this process loaded libbpf ${loaded}`,
      );
      expect(error.hint).toContain(`install libbpf ${since} or newer and point tsbpf at it: TSBPF_LIBBPF=`);
      expect(error.hint).toContain(
        `to load the other programs without ${name}, pass load({ optionalPrograms: 'skip-unsupported' })`,
      );
    });
  }

  it('with optionalPrograms: skip-unsupported, the sections this libbpf does not know are left out, the rest loads', async () => {
    const unknown = sections
      .filter(([, section, since]) => section !== 'netfilter' && olderThan(since))
      .map(([n]) => n);
    // A socket filter as the rest: every kernel loads it (Linux 6.1 has no netfilter programs).
    await using coll = await open(['plain', ...unknown]).load({ optionalPrograms: 'skip-unsupported' });
    expect(coll.skipped.map((s) => s.program).sort()).toEqual([...unknown].sort());
    for (const s of coll.skipped) expect(s.error).toBeInstanceOf(NotSupportedError);
    expect(coll.program('plain').fd).toBeGreaterThan(0);
  });

  it('a section no libbpf knows is a UsageError naming it', async () => {
    const error = await loadErrorOf(open(['typo']));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `load program typo: libbpf ${loaded} does not know SEC("kprobe.sesion"), so the program has no type`,
    );
    expect(error.hint).toContain("spec.programs.get('typo').type = ...");
  });

  // libbpf checks struct_ops programs while it opens the object: before 1.2 the open fails.
  it(`SEC("struct_ops.s/...") (libbpf 1.2): ${olderThan('1.2') ? 'the open names libbpf 1.2' : 'libbpf types it'}`, () => {
    const text = readFileSync(join(repoRoot, 'test/fixtures/runtime/struct-ops.bpf.c'), 'utf8').replace(
      'SEC("struct_ops/tsbpf_init")',
      'SEC("struct_ops.s/tsbpf_init")',
    );
    expect(text).toContain('struct_ops.s/tsbpf_init');
    const object = compileSource('struct-ops-sleepable', text);
    if (!olderThan('1.2')) {
      using spec = CollectionSpec.fromBytes(object);
      expect(spec.programs.get('tsbpf_init')?.type).toBe(27); // BPF_PROG_TYPE_STRUCT_OPS
      return;
    }
    const error = errorOf(() => CollectionSpec.fromBytes(object, { name: 'sops' }));
    expect(error).toBeInstanceOf(NotSupportedError);
    expect(error.message).toBe(
      `open BPF object sops: SEC("struct_ops.s/tsbpf_init") needs libbpf >= 1.2 (older ones do not know the section); this process loaded libbpf ${loaded}`,
    );
  });
});
