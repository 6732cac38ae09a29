// Terminal output shared by the commands: colour only on a TTY (and never with NO_COLOR),
// debug lines only with --verbose or DEBUG=tsbpf.

import { stderr, stdout } from 'node:process';

const colourEnabled = (stream: NodeJS.WriteStream): boolean =>
  Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

const paint =
  (code: number) =>
  (text: string, stream: NodeJS.WriteStream = stdout) =>
    colourEnabled(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;

export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

let verbose = /(^|,)\s*tsbpf\b/.test(process.env.DEBUG ?? '');

export function setVerbose(on: boolean): void {
  verbose = verbose || on;
}

export function isVerbose(): boolean {
  return verbose;
}

export function debug(message: string): void {
  if (verbose) stderr.write(`${dim('tsbpf:', stderr)} ${message}\n`);
}

/** A person at a terminal: stdin and stdout are TTYs, and no CI runner says otherwise. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && stdout.isTTY) && process.env.CI !== 'true';
}
