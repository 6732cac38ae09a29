// Turns a verifier log into a short summary: the failing instruction, the verifier's complaint and
// the C source line. The kernel interleaves "; <source> @ <file>:<line>" comments from the object's
// .BTF.ext line info before the instructions they produced (kernel/bpf/log.c, verbose_linfo), so the
// last such comment before the last instruction is the line that failed.

export interface VerifierSummary {
  /** Index of the last instruction the verifier looked at. */
  instruction?: number;
  /** That instruction as the log prints it, e.g. `r0 = *(u32 *)(r1 +0)`. */
  instructionText?: string;
  /** The verifier's reason, e.g. `R1 invalid mem access 'scalar'`. */
  reason: string;
  /** The C source line (text, and `file:line` when the kernel prints it). */
  sourceLine?: string;
}

const insnLine = /^(\d+): \([0-9a-f]{2}\) (.*?)(?:\s+;.*)?$/;
const trailer =
  /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read|Func#|-- END)/;

export function summarizeVerifierLog(log: string): VerifierSummary {
  const lines = log.split('\n').map((l) => l.trimEnd());
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    if (insnLine.test(lines[i] ?? '')) last = i;
  }
  const reasonLines: string[] = [];
  for (let i = last + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '' || trailer.test(line)) continue;
    if (/^\d+: /.test(line) || line.startsWith('; ')) continue;
    reasonLines.push(line);
  }
  const summary: VerifierSummary = { reason: reasonLines.slice(0, 3).join(' / ') || 'rejected' };
  if (last >= 0) {
    const m = insnLine.exec(lines[last] ?? '');
    if (m) {
      summary.instruction = Number(m[1]);
      summary.instructionText = m[2];
    }
    for (let i = last; i >= 0; i--) {
      const line = lines[i] ?? '';
      if (line.startsWith('; ')) {
        summary.sourceLine = formatSource(line.slice(2));
        break;
      }
    }
  }
  return summary;
}

/** "x = *p; @ probe.bpf.c:12" → "probe.bpf.c:12: x = *p;" */
function formatSource(text: string): string {
  const at = /^(.*) @ (\S+:\d+)$/.exec(text);
  return at ? `${at[2]}: ${at[1]?.trim()}` : text.trim();
}

/** The one-paragraph message of a VerifierError. */
export function verifierMessage(program: string, summary: VerifierSummary): string {
  const where =
    summary.instruction === undefined
      ? ''
      : ` at instruction ${summary.instruction}${summary.instructionText ? ` (${summary.instructionText})` : ''}`;
  const source = summary.sourceLine ? `\n  source: ${summary.sourceLine}` : '';
  return `the verifier rejected program ${program}${where}: ${summary.reason}${source}`;
}
