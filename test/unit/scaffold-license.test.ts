// A created project states one licence in four places that must agree: its LICENSE file,
// package.json's "license", each C file's SPDX line, and the licence string its eBPF program
// gives the kernel (`char LICENSE[] SEC("license")`), which must be GPL-compatible for the
// GPL-only helpers the templates call.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../src/scaffold/create-project.js';
import { templateTypes } from '../../src/scaffold/templates.js';
import { tempDir } from '../helpers/paths.js';

// The SPDX expression of each kernel licence string (the kernel's GPL-compatible list:
// license_is_gpl_compatible() in include/linux/license.h).
const kernelStrings: Record<string, string> = {
  GPL: 'GPL-2.0-only',
  'GPL v2': 'GPL-2.0-only',
  'Dual MIT/GPL': '(MIT OR GPL-2.0-only)',
  'Dual BSD/GPL': '(BSD-2-Clause OR GPL-2.0-only)',
};

describe.each(templateTypes)('template %s', (type) => {
  it('has a LICENSE, a license field, SPDX lines and a kernel licence string that agree', async () => {
    const cwd = tempDir();
    await createProject({ dir: 'p', type, tsbpfVersion: 'file:/tmp/tsbpf.tgz' }, { cwd, log: () => {} });
    const dir = join(cwd, 'p');
    const license = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).license as string;
    expect(Object.values(kernelStrings)).toContain(license);
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8').split('\n')[0]).toBe(
      `SPDX-License-Identifier: ${license}`,
    );
    const programs = readdirSync(join(dir, 'src')).filter((f) => f.endsWith('.bpf.c'));
    expect(programs.length).toBeGreaterThan(0);
    for (const file of programs) {
      const c = readFileSync(join(dir, 'src', file), 'utf8');
      expect(c.split('\n')[0], file).toBe(`// SPDX-License-Identifier: ${license}`);
      const declared = /char LICENSE\[\] SEC\("license"\) = "([^"]*)";/.exec(c)?.[1];
      expect(declared, file).toBeDefined();
      expect(kernelStrings[declared!], file).toBe(license);
    }
  });
});
