/**
 * `npm run lint` runs the linter and the formatter check together, so a formatting change fails it (and
 * `npm test`, which starts with it). Run on a scratch project holding this repository's two configs.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../..');
const run = promisify(execFile);

/** Exit code and output of the repository's `lint` script run in `dir`. */
async function lint(dir: string): Promise<{ code: number; output: string }> {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  try {
    const { stdout, stderr } = await run('sh', ['-c', scripts.lint!], {
      cwd: dir,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

test('when a file is formatted otherwise than prettier formats it, npm run lint fails naming it', async () => {
  // Inside the repository, so the configs resolve their plugins from its node_modules.
  mkdirSync(join(ROOT, '.shardflow'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.shardflow', 'lint-script-'));
  try {
    for (const config of ['eslint.config.js', '.prettierrc.json'])
      copyFileSync(join(ROOT, config), join(dir, config));
    writeFileSync(join(dir, 'sample.ts'), "export const sample = 'formatted';\n");
    expect(await lint(dir)).toMatchObject({ code: 0 });
    // The same code with extra spaces: eslint alone has nothing against it.
    writeFileSync(join(dir, 'sample.ts'), "export   const sample = 'formatted';\n");
    const unformatted = await lint(dir);
    expect(unformatted.code).not.toBe(0);
    expect(unformatted.output).toContain('sample.ts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
