// Runs every code block marked runnable in README.md and docs/*.md (```sh runnable, ```ts
// runnable), so the docs cannot rot: a command that stops working, or a snippet whose API
// changed, fails here. sh blocks run with bash -e in a fresh folder, with `tsbpf` and
// `create-tsbpf` on PATH as the built CLI (what `npm install -g tsbpf` gives); ts blocks are
// transpiled and run with node from inside the repository, so `import … from 'tsbpf'` is this
// package's dist/. Also checks that relative links between the pages point at files that exist.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';

interface Block {
  file: string;
  line: number;
  lang: 'sh' | 'ts';
  code: string;
}

function pages(): string[] {
  const docs = join(repoRoot, 'docs');
  const found = [join(repoRoot, 'README.md')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk(docs);
  return found.sort();
}

/** Fenced blocks whose info string is `sh runnable` or `ts runnable` (also bash/typescript). */
function runnableBlocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(sh|bash|ts|typescript)\s+runnable\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const lang = open[1] === 'sh' || open[1] === 'bash' ? 'sh' : 'ts';
    blocks.push({ file: relative(repoRoot, file), line: start + 1, lang, code: body.join('\n') });
  }
  return blocks;
}

const blocks = pages().flatMap(runnableBlocks);
const work = tempDir('tsbpf-docs-');
const bin = join(work, 'bin');
mkdirSync(bin);
for (const [name, script] of [
  ['tsbpf', 'cli.js'],
  ['create-tsbpf', 'create.js'],
]) {
  writeFileSync(
    join(bin, name!),
    `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'dist', script!)}" "$@"\n`,
  );
  chmodSync(join(bin, name!), 0o755);
}
// ts snippets run from inside the repository, where 'tsbpf' resolves to this package.
const snippets = join(repoRoot, 'test', 'docs', 'tmp');

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(snippets, { recursive: true, force: true });
});

const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1', TSBPF_REPO: repoRoot };

it('the docs have runnable blocks', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(5);
});

describe.each(blocks)('$file:$line ($lang)', (block) => {
  it('runs', () => {
    let result: ReturnType<typeof spawnSync>;
    if (block.lang === 'sh') {
      const cwd = join(work, `block-${block.line}-${block.file.replace(/\W/g, '_')}`);
      mkdirSync(cwd, { recursive: true });
      result = spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], {
        cwd,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    } else {
      mkdirSync(snippets, { recursive: true });
      const js = ts.transpileModule(block.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const path = join(snippets, `${block.file.replace(/\W/g, '_')}-${block.line}.mjs`);
      writeFileSync(path, js);
      result = spawnSync(process.execPath, [path], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
    }
    const output = `${block.file}:${block.line}\n${block.code}\n--- output ---\n${String(result.stdout)}${String(result.stderr)}`;
    expect(result.error, output).toBeUndefined();
    expect(result.status, output).toBe(0);
  }, 90_000);
});

it('relative links in the docs point at files that exist', () => {
  const broken: string[] = [];
  for (const page of pages()) {
    const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!.split('#')[0]!;
      if (target === '' || /^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(dirname(page), target))) broken.push(`${relative(repoRoot, page)}: ${match[1]}`);
    }
  }
  expect(broken).toEqual([]);
});
