// `tsbpf gen --objfile` asked for a type the object's BTF lacks: the object is compiled here with
// the type reached only through a local, and the error says why clang left it out and what fixes it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempProject, tsbpf } from '../fixtures/gen/helpers.js';
import { compileFixture } from '../helpers/bpf.js';

/** A temp project holding local_event.c compiled (with `cflags`) as probe.o. */
function projectWithObject(cflags: string[] = []): string {
  const dir = tempProject();
  writeFileSync(join(dir, 'probe.o'), compileFixture(fixture('local_event.c'), { cflags }));
  return dir;
}

describe('tsbpf gen --objfile and a type with no BTF', () => {
  it('says clang emitted no BTF for a type used only by locals, and how to get it', async () => {
    const dir = projectWithObject();
    const result = await tsbpf(['gen', 'probe', '--objfile', 'probe.o', '--type', 'event'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "no type named 'event' in probe.o: clang emitted no BTF for it (a type reached only through local variables gets none)",
    );
    expect(result.stderr).toContain('generate from the C source instead of --objfile');
    expect(result.stderr).toContain('`const struct event *unused_event;`');
    expect(result.stderr).toContain('`struct event *unused __attribute__((unused));`');
    expect(result.stderr).not.toContain('    at ');
  });

  it('names the same for --event, and keeps the similar names for a near miss', async () => {
    const dir = projectWithObject();
    const event = await tsbpf(
      ['gen', 'probe', '--objfile', 'probe.o', '--event', 'events=struct event'],
      dir,
    );
    expect(event.code).toBe(1);
    expect(event.stderr).toContain("no type named 'struct event' in probe.o: clang emitted no BTF for it");
    const typo = await tsbpf(['gen', 'probe', '--objfile', 'probe.o', '--type', 'countr'], dir);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/countr: similar names: .*\bcounter\b/);
  });

  it('the global the hint suggests gives the type BTF, and gen then succeeds', async () => {
    const dir = projectWithObject(['-DEVENT_GLOBAL']);
    const result = await tsbpf(['gen', 'probe', '--objfile', 'probe.o', '--type', 'event'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
