// Runs a Containerfile's instructions on this machine, as a container build would but without
// a container engine: each stage gets a folder standing for its WORKDIR, COPY copies from the
// build context (minus .dockerignore) or from an earlier stage's folder, RUN runs in sh there.
// `apt-get` lines are not run (they would reach the network to install what this machine has):
// each package they name must be installed here instead. CMD is returned for the caller to start.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

/** The instructions, continuation lines joined, comments dropped. */
export function parseContainerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const [op, ...rest] = full.split(/\s+/);
    out.push({ op: op!.toUpperCase(), args: rest.join(' ') });
  }
  return out;
}

export interface Stage {
  name: string;
  dir: string;
  env: Record<string, string>;
  cmd: string[] | undefined;
  /** What ran, in order, for the assertion messages. */
  log: string[];
}

/** Packages an `apt-get install` line names. */
function aptPackages(line: string): string[] {
  const install = /apt-get install ([^&;]+)/.exec(line)?.[1] ?? '';
  return install.split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'));
}

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', `-f=\${Status}`, pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Runs every stage in folders under `root`; returns the stages (the last is the image). */
export function runContainerfile(file: string, context: string, root: string): Stage[] {
  const ignored = existsSync(join(context, '.dockerignore'))
    ? readFileSync(join(context, '.dockerignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const { op, args } of parseContainerfile(readFileSync(file, 'utf8'))) {
    if (op === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.length}`;
      stage = { name, dir: join(root, name), env: {}, cmd: undefined, log: [`FROM ${args}`] };
      mkdirSync(stage.dir, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (stage === undefined) throw new Error(`${file}: ${op} before FROM`);
    stage.log.push(`${op} ${args}`);
    if (op === 'RUN') {
      if (/^apt-get\b/.test(args)) {
        const missing = aptPackages(args).filter((p) => !installed(p));
        if (missing.length > 0)
          throw new Error(`${file}: RUN ${args}: not installed here: ${missing.join(' ')}`);
        continue;
      }
      const r = spawnSync('sh', ['-c', args], {
        cwd: stage.dir,
        encoding: 'utf8',
        env: { ...process.env, ...stage.env },
        timeout: 600_000,
      });
      if (r.status !== 0)
        throw new Error(`${file}: RUN ${args} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    } else if (op === 'COPY') {
      const words = args.split(/\s+/);
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
      const destination = words.pop()!;
      for (const source of words) {
        if (from !== undefined) {
          const earlier = stages.find((s) => s.name === from);
          if (earlier === undefined) throw new Error(`${file}: COPY --from=${from}: no such stage`);
          // Paths in the earlier stage are under its WORKDIR (/app here).
          const inStage = join(earlier.dir, source.replace(/^\/app\/?/, ''));
          cpSync(
            inStage,
            join(stage.dir, destination.endsWith('/') ? source.split('/').pop()! : destination),
            { recursive: true },
          );
        } else if (source === '.') {
          cpSync(context, join(stage.dir, destination), {
            recursive: true,
            filter: (path) =>
              !ignored.some((i) => path === join(context, i) || path.startsWith(`${join(context, i)}/`)),
          });
        } else {
          cpSync(join(context, source), join(stage.dir, destination, source));
        }
      }
    } else if (op === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [key, ...value] = pair.split('=');
        stage.env[key!] = value.join('=');
      }
    } else if (op === 'CMD') {
      stage.cmd = JSON.parse(args) as string[];
    } else if (!['WORKDIR', 'EXPOSE', 'USER', 'LABEL'].includes(op)) {
      throw new Error(`${file}: ${op} is not something this runner knows`);
    }
  }
  return stages;
}

/** setpriv arguments that leave root with exactly `caps` (Kubernetes names: BPF, PERFMON). */
export function onlyCapabilities(caps: string[]): string[] {
  const list = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  // Root's capabilities after exec are its inheritable and bounding sets: both cut to the list.
  execFileSync('setpriv', ['--version']);
  return [`--bounding-set=${list}`, `--inh-caps=${list}`, '--'];
}
