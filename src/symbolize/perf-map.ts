// Perf maps: the text files JIT compilers write so profilers can name generated code
// (/tmp/perf-PID.map, one "START SIZE name" line per function, hex, from Linux's
// tools/perf/Documentation/jit-interface.txt). Node writes one with --perf-basic-prof.
import { type SymbolEntry, SymbolTable } from './symbol-table.js';

const LINE = /^(?:0x)?([0-9a-fA-F]{1,16}) (?:0x)?([0-9a-fA-F]{1,16}) (.+)$/;

/** The entries of a perf map; malformed lines are skipped. Later lines win at one address (code reused). */
export function parsePerfMap(text: string): SymbolTable {
  const entries: SymbolEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = LINE.exec(line);
    if (!m) return;
    const start = Number.parseInt(m[1]!, 16);
    const size = Number.parseInt(m[2]!, 16);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(start + size)) return;
    entries.push({ name: m[3]!.trimEnd(), start, size, rank: i });
  });
  return new SymbolTable(entries);
}
