// What both bins (tsbpf, create-tsbpf) share: version, --verbose, --help, strict parsing, and
// argument mistakes raised as UsageError so they end as one line with a hint (src/report.ts).

import type { Argv } from 'yargs';
import yargs from 'yargs';
import { UsageError } from './errors.js';
import { setVerbose } from './output.js';
import { packageVersion } from './version.js';

export function baseParser(argv: string[], scriptName: string): Argv {
  stopQuietlyOnClosedPipe();
  return yargs(argv)
    .scriptName(scriptName)
    .version(packageVersion())
    .option('verbose', {
      type: 'boolean',
      describe: 'Show details and stack traces (also DEBUG=tsbpf)',
      global: true,
    })
    .middleware((args) => setVerbose(Boolean(args.verbose)))
    .strict()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      throw (
        error ??
        new UsageError(message ?? 'invalid arguments', {
          hint: `run ${scriptName} --help to see the options`,
        })
      );
    });
}

/**
 * `tsbpf … | head -1` closes stdout once the reader has what it wanted; writing on is EPIPE,
 * which is not an error of anyone's: stop as other Unix tools do (exit status 0, nothing printed).
 */
function stopQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
