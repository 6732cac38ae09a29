// An fentry program refused with EPERM is the kernel's doing only when the process holds CAP_BPF
// and CAP_PERFMON: as nobody with CAP_BPF alone the same refusal is a PermissionError naming
// CAP_PERFMON, with both it is the NotSupportedError about trampolines (on this kernel, which has none).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runNode, runtimeFixture, sharedDir, writeScript } from './helpers.js';

const nobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const withCaps = (caps: string[]) => [
  ...nobody,
  `--inh-caps=+${caps.join(',+')}`,
  `--ambient-caps=+${caps.join(',+')}`,
];

let script: string;

beforeAll(() => {
  const dir = sharedDir();
  writeFileSync(join(dir, 'tracing.o'), runtimeFixture('tracing'), { mode: 0o644 });
  script = writeScript(
    dir,
    'fentry.mjs',
    `
import { readFileSync } from 'node:fs';
import { CollectionSpec } from 'RUNTIME';
const spec = CollectionSpec.fromBytes(new Uint8Array(readFileSync(new URL('./tracing.o', import.meta.url))));
for (const [name, program] of spec.programs) program.autoload = name === 'count_unlinks';
try {
  const objs = await spec.load();
  objs.close();
  console.log(JSON.stringify({ loaded: true }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
`,
  );
});

describe('fentry EPERM and capabilities', () => {
  it('with CAP_BPF only: a PermissionError naming CAP_PERFMON, not the kernel', async () => {
    const result = await runNode(script, { prefix: withCaps(['bpf']) });
    const json = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(json.error).toBe('PermissionError');
    expect(json.message).toContain('lacks CAP_PERFMON');
  });

  it('with CAP_BPF + CAP_PERFMON: refused or loaded, by the kernel', async () => {
    const result = await runNode(script, { prefix: withCaps(['bpf', 'perfmon']) });
    const json = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    if (json.loaded) return; // a kernel with BPF trampolines
    expect(json.error).toBe('NotSupportedError');
    expect(json.message).toBe(
      'load program count_unlinks: the kernel refused the fentry program (SEC("fentry/do_unlinkat")) with EPERM ' +
        'although the process has CAP_BPF and CAP_PERFMON: this kernel does not run BPF trampolines',
    );
  });
});
