// create-tsbpf's logic: checking the arguments (template type, package name, target
// directory), asking for missing ones on a terminal, rendering templates/ and writing the
// project safely. src/create.ts and `tsbpf create` are thin front ends over createProject().

export {
  type CreateArguments,
  type CreateContext,
  type CreateResult,
  createProject,
  resolveOptions,
  templateData,
} from './create-project.js';
export { detectPackageManager, type PackageManager } from './package-manager.js';
export { checkPackageName, suggestPackageName } from './package-name.js';
export { CancelledError, clackPrompter, type Prompter } from './prompts.js';
export { collectTemplateFiles, renderFiles, targetName } from './render.js';
export { checkTargetDir, containedPath, inspectTargetDir, resolveTargetDir } from './target-dir.js';
export { findTemplate, type TemplateInfo, templates, templatesRoot, templateTypes } from './templates.js';
export { writeProjectFiles } from './write.js';
