// Package codegen turns BTF into TypeScript: interfaces and codecs for C types (emitTypes), and
// the typed loader `tsbpf gen` and `tsbpf build` write for an eBPF object (generateLoader).

export {
  findType,
  generatedHeader,
  generateLoader,
  type LoaderObject,
  type LoaderOptions,
  type MissingObject,
  typeNames,
} from './loader.js';
export { type EmitTypesOptions, type EmittedTypes, emitTypes, emitTypesModule } from './types.js';
