// Package build turns C programs into typed loaders: `tsbpf gen` (compile or take objects, then
// generate `<ident>.ts`) and `tsbpf build` (the same for every program of a config, in parallel,
// skipped when nothing it was built from changed, with atomic writes and a `--check` for CI).
export {
  type BuildOptions,
  type BuildResult,
  type EntryResult,
  type EntryStatus,
  runBuild,
} from './build.js';
export {
  type BuildConfig,
  configFileName,
  findConfigFile,
  loadConfig,
  type ProgramConfig,
  parseConfig,
  readConfigFile,
  type VmlinuxConfig,
} from './config.js';
export {
  type GenerateOptions,
  generate,
  type OutputFile,
  type Prepared,
  prepare,
  writeOutputs,
} from './generate.js';
export { camelCase, pascalCase, similarNames } from './naming.js';
export { stampPath } from './stamp.js';
