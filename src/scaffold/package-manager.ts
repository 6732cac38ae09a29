// The package manager the user ran create-tsbpf with (`npm create`, `pnpm create`, `yarn create`,
// `bun create` each set npm_config_user_agent, e.g. "pnpm/9.1.0 npm/? node/v20.19.0 linux x64"),
// so the next steps and --install use the same one. npm when there is no user agent.

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn' | 'bun';

export interface PackageManager {
  name: PackageManagerName;
  version: string | undefined;
}

export function detectPackageManager(
  userAgent: string | undefined = process.env.npm_config_user_agent,
): PackageManager {
  const first = userAgent?.trim().split(/\s+/)[0] ?? '';
  const [name = '', version] = first.split('/');
  if (name === 'pnpm' || name === 'yarn' || name === 'bun' || name === 'npm') return { name, version };
  return { name: 'npm', version: undefined };
}

/** The command (file and arguments) that installs a project's dependencies. */
export function installCommand(pm: PackageManager): [string, string[]] {
  return [pm.name, ['install']];
}

/** How to run a package.json script, as the user types it. */
export function runScript(pm: PackageManager, script: string): string {
  if (pm.name === 'npm')
    return script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`;
  return `${pm.name} ${script}`;
}
