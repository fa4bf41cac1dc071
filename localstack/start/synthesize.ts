import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * Synthesizes the CDK app offline into `outDir` (`npx --no-install cdk synth --quiet -o outDir`; the
 * functions are bundled with the local esbuild) and returns the stack template's path. A private
 * output directory keeps concurrent synths (tests, other terminals) from overwriting each other.
 *
 * @throws SynthError with the last line cdk printed when synthesis fails.
 */
export async function synthesize(outDir: string, cwd: string = process.cwd()): Promise<string> {
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'cdk', 'synth', '--quiet', '--output', outDir], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    const collect = (chunk: Buffer): void => {
      output.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
      output.splice(0, Math.max(0, output.length - 50));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) =>
      reject(new SynthError(`cannot run the CDK CLI: ${error.message}`, { cause: error })),
    );
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  if (code !== 0) {
    const reason = output.filter((l) => !/feature flags|^\s*$|cdk flags/.test(l)).pop() ?? 'no output';
    throw new SynthError(`cdk synth failed (exit ${code}): ${reason.trim()}`);
  }
  return stackTemplatePath(outDir);
}
