/**
 * `shardflow init [dir]`: a user project that keeps its pipelines in its own repo, like `cdk init` — a
 * package.json depending on shardflow, a CDK app deploying every module under `pipelines/`, one example
 * pipeline with sample input, a jest test of it on the bounded runner, and a README with its two commands.
 * Existing files are never overwritten; an existing package.json gets the missing scripts and dependencies.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod/mini';
import { ShardflowCliError } from '../../start/errors';
import { generateClickstream, toJsonLines } from '../../generator/clickstream';
import { cliAction } from './cliAction';

/** Files `init` would overwrite. */
export class InitConflictError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InitConflictError';
  }
}

interface Manifest {
  name?: string;
  version?: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

/** The fields of a user's package.json init reads and extends; anything else is kept as it is. */
const userManifest = z.looseObject({
  scripts: z.optional(z.record(z.string(), z.string())),
  dependencies: z.optional(z.record(z.string(), z.string())),
  devDependencies: z.optional(z.record(z.string(), z.string())),
  allowScripts: z.optional(z.record(z.string(), z.boolean())),
});

/** The package.json already in the directory, or a one-line error naming it and what is wrong. */
function readManifest(path: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InitConflictError(
      `${path} is not valid JSON (${(error as Error).message}): fix or remove it, then run init again`,
    );
  }
  const checked = z.safeParse(userManifest, parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const at = issue === undefined || issue.path.length === 0 ? 'its top level' : `"${issue.path.join('.')}"`;
    throw new InitConflictError(
      `${path} is not a package.json init can extend (${at}: ${issue?.message ?? 'invalid'}): fix or remove it, then run init again`,
    );
  }
  return checked.data as Manifest;
}

/** shardflow's own package.json (two folders up from the sources, three from `dist/`). */
function ownManifest(): Manifest {
  const path = [
    join(__dirname, '..', '..', '..', 'package.json'),
    join(__dirname, '..', '..', '..', '..', 'package.json'),
  ]
    .filter((p) => existsSync(p))
    .find((p) => (JSON.parse(readFileSync(p, 'utf8')) as Manifest).name === 'shardflow');
  if (path === undefined) throw new ShardflowCliError('Cannot find the shardflow package.json');
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** The versions this shardflow was built and tested with, so the project installs a matching set. */
function pinned(own: Manifest, names: readonly string[]): Record<string, string> {
  const all = { ...own.devDependencies, ...own.dependencies };
  return Object.fromEntries(
    names.map((name) => {
      const version = all[name];
      if (version === undefined) throw new ShardflowCliError(`shardflow does not pin ${name}`);
      return [name, version];
    }),
  );
}

const EXAMPLE_PIPELINE = `/**
 * Clicks per page per minute, with purchases and revenue. \`npm start\` runs it through the local stack over
 * data/clicks.jsonl; \`npx cdk deploy\` deploys it (and every other module in pipelines/) to AWS.
 */
// zod/mini keeps the function bundle small (the classic \`zod\` import adds ~450 KB); any Standard Schema
// library works. zod/mini carries no messages of its own: the English locale words the rejected/ reasons.
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { count, max, pipeline, sum, tumbling } from 'shardflow';

z.config(en());

const Click = z.object({
  eventId: z.string().check(z.minLength(1)),
  page: z.string().check(z.minLength(1), z.maxLength(512)),
  action: z.enum(['view', 'click', 'add_to_cart', 'purchase']),
  revenue: z.number().check(z.nonnegative()),
  ts: z.iso.datetime({ offset: true }),
});

export default pipeline('page-clicks')
  .source({ stream: 'page-clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => Date.parse(c.ts), dedupeBy: (c) => c.eventId })
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({
    clicks: count(),
    purchases: count((c) => c.action === 'purchase'),
    revenue: sum((c) => c.revenue),
    max_revenue: max((c) => c.revenue),
  })
  .sink({ table: 'page_clicks_minutely' });
`;

const EXAMPLE_TEST = `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBounded } from 'shardflow';
import pageClicks from '../pipelines/pageClicks';

const lines = readFileSync(join(__dirname, '..', 'data', 'clicks.jsonl'), 'utf8')
  .split('\\n')
  .filter((line) => line.trim() !== '');

test('every click is counted once: in a window row, rejected, late, or dropped as a producer duplicate', async () => {
  const { rows, rejected, late, duplicates } = await runBounded(pageClicks, lines.map((line) => JSON.parse(line) as unknown));
  const clicks = rows.reduce((total, row) => total + Number(row.clicks), 0);
  expect(clicks + rejected.length + late.length + duplicates).toBe(lines.length);
  expect(rows.length).toBeGreaterThan(0);
  expect(rejected.every((r) => r.reason === 'SCHEMA_VIOLATION' || r.reason === 'MISSING_EVENT_TIME')).toBe(true);
});
`;

const APP = `/**
 * The CDK app (cdk.json runs it with tsx): every pipeline module under pipelines/ in one stack, checked by
 * cdk-nag. \`shardflow run <module>\` synthesizes it with -c pipelines=<module> to deploy that one alone.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pipelinesFromContext, ShardflowStack } from 'shardflow/cdk';

const app = new App();
const modules = readdirSync(join(__dirname, 'pipelines'))
  .filter((file) => /\\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
  .map((file) => join('pipelines', file));
new ShardflowStack(app, 'Pipelines', {
  pipelines: pipelinesFromContext(app, modules).map((entry) => ({ entry })),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
`;

const README = (name: string): string => `# ${name}

Stream-processing pipelines on [shardflow](https://www.npmjs.com/package/shardflow): Kinesis in, event-time
windows with exactly-once results, Parquet in S3.

\`\`\`bash
npm start   # runs pipelines/pageClicks.ts through the local stack (embedded emulators) over data/clicks.jsonl
npm test    # the pipeline's tests, on the in-memory bounded runner
\`\`\`

- Add a pipeline: a module under \`pipelines/\` whose default export is \`pipeline(...)…sink(...)\`.
- Run any of them locally: \`npx shardflow run pipelines/<file>.ts --input <file.jsonl>\` (\`--in-memory\` for the
  bounded runner only).
- Deploy all of them: \`npx cdk deploy\` (\`npx cdk synth\` works offline and runs cdk-nag).
`;

const FILES = (name: string): Record<string, string> => ({
  'cdk.json': `${JSON.stringify({ app: 'npx tsx app.ts', output: 'cdk.out' }, null, 2)}\n`,
  'app.ts': APP,
  'pipelines/pageClicks.ts': EXAMPLE_PIPELINE,
  'test/pageClicks.test.ts': EXAMPLE_TEST,
  'jest.config.js': `/** @type {import('jest').Config} */\nmodule.exports = {\n  testEnvironment: 'node',\n  transform: { '^.+\\\\.tsx?$': '@swc/jest' },\n};\n`,
  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node', 'jest'],
      },
      include: ['app.ts', 'pipelines', 'test'],
    },
    null,
    2,
  )}\n`,
  '.gitignore': 'node_modules/\ncdk.out/\n.shardflow/\n',
  'README.md': README(name),
  'data/clicks.jsonl': toJsonLines(generateClickstream({ events: 300, seed: 7 }).records),
});

/** Writes the scaffold into `dir`; returns the files written. */
export function initProject(dir: string, options: { readonly shardflow?: string } = {}): string[] {
  const root = resolve(dir);
  const name =
    basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-') || 'pipelines';
  const files = FILES(name);
  const conflicts = Object.keys(files).filter((file) => existsSync(join(root, file)));
  if (conflicts.length > 0)
    throw new InitConflictError(
      `${root} already has ${conflicts.join(', ')}: init writes only new files (run it in an empty directory or move those away)`,
    );
  const own = ownManifest();
  const manifestPath = join(root, 'package.json');
  const manifest: Manifest = existsSync(manifestPath)
    ? readManifest(manifestPath)
    : { name, version: '0.1.0', private: true };
  // `npm init`'s placeholder test script counts as none.
  const scripts = Object.fromEntries(
    Object.entries(manifest.scripts ?? {}).filter(([, script]) => !script.includes('no test specified')),
  );
  manifest.scripts = {
    start: 'shardflow run pipelines/pageClicks.ts --input data/clicks.jsonl',
    test: 'jest',
    synth: 'cdk synth',
    ...scripts,
  };
  manifest.dependencies = {
    shardflow: options.shardflow ?? manifest.dependencies?.shardflow ?? `^${own.version ?? '0.1.0'}`,
    ...pinned(own, ['aws-cdk-lib', 'constructs', 'cdk-nag', 'zod']),
    ...manifest.dependencies,
  };
  manifest.devDependencies = {
    ...pinned(own, ['jest', '@swc/jest', '@swc/core', '@types/jest', '@types/node', 'typescript']),
    ...manifest.devDependencies,
  };
  // The install scripts shardflow's dependencies carry are not needed (each ships prebuilt binaries): denied,
  // so installs run none and print no warning about them.
  manifest.allowScripts = { ...own.allowScripts, ...manifest.allowScripts };
  mkdirSync(root, { recursive: true });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return ['package.json', ...Object.keys(files)];
}

/** `shardflow init`. */
export function registerInitCommands(program: Command): void {
  program
    .command('init')
    .description(
      'Create a project that keeps its pipelines in its own repo: CDK app, example pipeline, test, sample data',
    )
    .argument('[dir]', 'project directory (created if missing)', '.')
    .option(
      '--shardflow <spec>',
      'the shardflow dependency to write (default: ^<this version>; e.g. file:../shardflow.tgz)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ npx shardflow init my-pipelines && cd my-pipelines && npm install && npm test',
    )
    .action(
      cliAction(async (dir: string, options: { readonly shardflow?: string }) => {
        const written = initProject(dir, options);
        process.stdout.write(
          `Created ${written.length} files in ${resolve(dir)}. Next: ${resolve(dir) === resolve() ? '' : `cd ${dir} && `}npm install && npm test (then npm start)\n`,
        );
      }),
    );
}
