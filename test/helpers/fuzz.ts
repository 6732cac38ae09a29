// Fuzz budgets. CI runs the base counts; TSBPF_FUZZ_SCALE=20 multiplies every one for a longer
// run (docs/reliability.md).
const scale = Number(process.env.TSBPF_FUZZ_SCALE ?? 1);

/** The number of cases for a property whose CI budget is `base`. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * scale));
}
