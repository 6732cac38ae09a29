// What both bins (tsbpf, create-tsbpf) share: version, --verbose, --help, strict parsing, and
// argument mistakes raised as UsageError so they end as one line with a hint (src/report.ts).

import type { Argv } from 'yargs';
import yargs from 'yargs';
import { UsageError } from './errors.js';
import { setVerbose } from './output.js';
import { packageVersion } from './version.js';

export function baseParser(argv: string[], scriptName: string): Argv {
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
