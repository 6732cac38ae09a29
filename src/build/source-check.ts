// The C sources gen and build are given, checked before clang starts: a missing file or a folder
// is said as the user's mistake on that path, and an object named as a source (a common slip for
// `--objfile`) is said as such, not as clang's "no input files" or a failed llvm-strip.

import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { userErrorOf } from '../system-error.js';

export function checkSource(path: string): void {
  if (/\.o$/.test(path)) {
    throw new UsageError(`${path}: an eBPF object, where C source was expected`, {
      hint: `tsbpf gen takes prebuilt objects with --objfile ${basename(path)}`,
    });
  }
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw userErrorOf(error, path) ?? error;
  }
  if (!isFile) {
    throw (
      userErrorOf(Object.assign(new Error('not a file'), { code: 'EISDIR', path })) ??
      new UsageError(`${path}: not a file`)
    );
  }
}
