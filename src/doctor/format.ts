// The human form of a doctor report: one line per check, the fix under anything not ok,
// and a verdict. Colour only when the stream is a terminal (see src/output.ts).

import { bold, dim, green, red, yellow } from '../output.js';
import type { CheckStatus, DoctorReport } from './types.js';

const marks: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function formatReport(report: DoctorReport, stream: NodeJS.WriteStream = process.stdout): string {
  const paint = { ok: green, warn: yellow, fail: red } as const;
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${paint[c.status](marks[c.status], stream)}  ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.status !== 'ok') lines.push(`      ${' '.repeat(width)}  ${dim('fix:', stream)} ${c.fix}`);
  }
  const warnings = report.checks.filter((c) => c.status === 'warn').length;
  const failures = report.checks.filter((c) => c.status === 'fail').length;
  lines.push('');
  // Kinds this user lacks the privilege for: a Ready line must not hide them.
  const denied = (report.programs ?? []).filter((p) => p.blockedBy === 'privilege').map((p) => p.kind);
  if (report.ready && denied.length > 0) {
    const runs = (report.programs ?? []).filter((p) => p.runs).map((p) => p.kind);
    lines.push(
      bold(yellow(`Ready for some programs: this user cannot run ${denied.join(', ')}`, stream), stream) +
        ` (see warn above); ${runs.length > 0 ? `it can run ${runs.join(', ')}` : 'it can build them'}`,
    );
  } else if (report.ready) {
    const note =
      warnings > 0
        ? ` (${warnings} optional feature${warnings === 1 ? '' : 's'} missing, see warn above)`
        : '';
    lines.push(bold(green('Ready: this machine can build and run tsbpf programs', stream), stream) + note);
  } else {
    lines.push(
      bold(
        red(`Not ready: ${failures} check${failures === 1 ? '' : 's'} failed; apply the fixes above`, stream),
        stream,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
