import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ShardflowCliError } from './errors';

/** `cdk synth` failed or produced no stack template. */
export class SynthError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SynthError';
  }
}

/** The template of the first CloudFormation stack artifact in a cloud assembly directory. */
export function stackTemplatePath(outDir: string): string {
  const manifestPath = join(outDir, 'manifest.json');
  if (!existsSync(manifestPath))
    throw new SynthError(`No cloud assembly in ${outDir} (manifest.json missing)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
  };
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    const file = artifact.properties?.templateFile;
    if (artifact.type === 'aws:cloudformation:stack' && file !== undefined) return join(outDir, file);
  }
  throw new SynthError(`No CloudFormation stack in the cloud assembly ${outDir}`);
}

/**
 * The one line that says why `cdk synth` failed, from the lines it printed. An error the app threw (a
 * pipeline module or `ShardflowStack` refusing a definition, a syntax error in the app) is printed by node as
 * `<Name>Error: <message>` before its stack, and cdk ends with `npx tsx app.ts: Subprocess exited with error
 * 1`, which says nothing: the error's line is the reason, with the line after it when it only announces that
 * line (`ValidationError: Invalid ShardflowStack 'Pipelines' props:` then `- Pipeline 'x' reads table …`).
 * Otherwise (a cdk-nag finding, say) the last line cdk printed, and where the whole output is.
 */
export function synthFailureReason(lines: readonly string[]): string {
  const printed = lines.filter((l) => !/feature flags|^\s*$|cdk flags/.test(l));
  let thrown = printed.length - 1;
  while (thrown >= 0 && !/^(?:[A-Z]\w*)?Error(?: \[\w+\])?: /.test(printed[thrown]!)) thrown--;
  if (thrown >= 0) {
    const headline = printed[thrown]!.trim();
    const next = printed[thrown + 1]?.trim();
    return headline.endsWith(':') && next !== undefined && !next.startsWith('at ')
      ? `${headline} ${next}`
      : headline;
  }
  const last = printed.pop()?.trim();
  return last === undefined ? 'no output' : `${last} (npx cdk synth prints the whole output)`;
}

/**
 * Synthesizes the CDK app offline into `outDir` (`npx --no-install cdk synth --quiet -o outDir`; the
 * functions are bundled with the local esbuild) and returns the stack template's path. A private
 * output directory keeps concurrent synths (tests, other terminals) from overwriting each other.
 *
 * @throws SynthError with the last line cdk printed when synthesis fails.
 */
export async function synthesize(
  outDir: string,
  cwd: string = process.cwd(),
  context: Readonly<Record<string, string>> = {},
): Promise<string> {
  const output: string[] = [];
  const contextArgs = Object.entries(context).flatMap(([key, value]) => ['--context', `${key}=${value}`]);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      'npx',
      ['--no-install', 'cdk', 'synth', '--quiet', '--output', outDir, ...contextArgs],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    const collect = (chunk: Buffer): void => {
      output.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
      output.splice(0, Math.max(0, output.length - 200));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) =>
      reject(new SynthError(`cannot run the CDK CLI: ${error.message}`, { cause: error })),
    );
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  if (code !== 0) throw new SynthError(`cdk synth failed (exit ${code}): ${synthFailureReason(output)}`);
  return stackTemplatePath(outDir);
}

/** What the synthesized app depends on, relative to the project root: a change to any of them synthesizes again. */
// This repository's app (lib/, functions/) and the layout `shardflow init` writes (app.ts, pipelines/).
const APP_INPUTS = [
  'lib',
  'functions',
  'app.ts',
  'pipelines',
  'cdk.json',
  'package-lock.json',
  'tsconfig.json',
];
const SOURCE_FILE = /\.(ts|js|mjs|cjs|json)$/;
/** Cached assemblies kept besides the one in use. */
const KEPT_ASSEMBLIES = 3;

/**
 * SHA-256 (first 16 hex digits) over the paths and contents of the app's inputs under `cwd`, the synth
 * context, and the directories of the pipeline modules it names (`pipelines`).
 */
export function appFingerprint(cwd: string, context: Readonly<Record<string, string>> = {}): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(Object.entries(context).sort()));
  const visit = (relative: string): void => {
    const path = join(cwd, relative);
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(relative, entry));
    } else if (SOURCE_FILE.test(relative)) {
      hash.update(`${relative}\u0000`);
      hash.update(readFileSync(path));
      hash.update('\u0000');
    }
  };
  for (const input of APP_INPUTS) visit(input);
  for (const module of (context.pipelines ?? '').split(',').filter((m) => m !== ''))
    visit(relative(cwd, dirname(resolve(cwd, module))));
  return hash.digest('hex').slice(0, 16);
}

/** A synthesized template and whether it came from the cache. */
export interface SynthesizedApp {
  readonly templatePath: string;
  /** True when the app and its inputs had not changed since an earlier synth: `cdk synth` did not run. */
  readonly cached: boolean;
}

/**
 * `cdk synth` (with `context`, e.g. `{ pipelines: '<module>' }` to deploy that pipeline module) into
 * `.shardflow/cdk.out-<fingerprint>` unless that assembly exists already (the app and its
 * inputs are unchanged since it was made: see {@link appFingerprint}); keeps the last few assemblies.
 */
export async function synthesizeCached(
  cwd: string = process.cwd(),
  context: Readonly<Record<string, string>> = {},
): Promise<SynthesizedApp> {
  const parent = join(cwd, '.shardflow');
  const dir = join(parent, `cdk.out-${appFingerprint(cwd, context)}`);
  if (existsSync(join(dir, 'manifest.json'))) return { templatePath: stackTemplatePath(dir), cached: true };
  await mkdir(parent, { recursive: true });
  const scratch = await mkdtemp(join(parent, 'cdk.out-synth-'));
  try {
    await synthesize(scratch, cwd, context);
    await rename(scratch, dir).catch(async (error: unknown) => {
      // Another process synthesized the same inputs meanwhile: use theirs.
      if (!existsSync(join(dir, 'manifest.json'))) throw error;
      await rm(scratch, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  const others = readdirSync(parent)
    .filter((name) => /^cdk\.out-[0-9a-f]{16}$/.test(name) && join(parent, name) !== dir)
    .map((name) => ({ path: join(parent, name), at: statSync(join(parent, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of others.slice(KEPT_ASSEMBLIES - 1)) await rm(old.path, { recursive: true, force: true });
  return { templatePath: stackTemplatePath(dir), cached: false };
}
