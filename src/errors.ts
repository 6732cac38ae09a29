// The error hierarchy every tsbpf module raises. Each error says what went wrong and,
// where tsbpf knows it, how to fix it (`hint`); the CLI prints both and no stack trace.

export interface TsbpfErrorOptions {
  cause?: unknown;
  /** One line telling the user what to do about it. */
  hint?: string;
}

export class TsbpfError extends Error {
  override name = 'TsbpfError';
  readonly hint: string | undefined;

  constructor(message: string, options: TsbpfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** Bad command-line arguments or options. */
export class UsageError extends TsbpfError {
  override name = 'UsageError';
}

/** A tool tsbpf runs (clang, llvm-strip, bpftool) or a library it loads (libbpf) is missing or unusable. */
export class ToolchainError extends TsbpfError {
  override name = 'ToolchainError';
}

/** C that clang refused to compile; the message carries clang's diagnostics. */
export class CompileError extends TsbpfError {
  override name = 'CompileError';
}

/** A malformed ELF file or BTF blob. */
export class FormatError extends TsbpfError {
  override name = 'FormatError';
}

/** A config file that does not match the schema. */
export class ConfigError extends TsbpfError {
  override name = 'ConfigError';
}

/** The kernel or the process lacks a privilege tsbpf needs. */
export class PermissionError extends TsbpfError {
  override name = 'PermissionError';
}

/** A kernel feature (kprobes, a map type, BTF) this machine does not have. */
export class NotSupportedError extends TsbpfError {
  override name = 'NotSupportedError';
}

/** Formats an error for a terminal: the message, then the hint on its own line. */
export function describeError(error: unknown): string {
  if (error instanceof TsbpfError) {
    return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
