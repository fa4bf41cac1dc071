import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SynthError, synthesize, synthFailureReason } from '../../../../localstack/start/synthesize';

/** What `cdk synth` printed (stdout and stderr, blank lines dropped) when the app threw, as captured. */
const threw = (headline: string[], frames: string[] = []): string[] => [
  '/tmp/p/node_modules/shardflow/dist/lib/validation.js:50',
  '            throw new errors_1.ValidationError(subject, this.found);',
  '                  ^',
  ...headline,
  ...frames,
  '}',
  'Node.js v20.20.2',
  'npx tsx app.ts: Subprocess exited with error 1',
];

describe('synthFailureReason', () => {
  it("when ShardflowStack refuses a pipeline, it is the refusal, not cdk's 'Subprocess exited with error 1'", () => {
    const refusal =
      "- Pipeline 'orders-x' reads table 'orders-x' (fromTable) but is given no table: export const sourceTable = { partitionKey: { name, type } } from /tmp/p/pipelines/orders.ts (the stack creates the table), or give table (a dynamodb.ITable with a NEW_AND_OLD_IMAGES stream)";
    expect(
      synthFailureReason(
        threw([
          "ValidationError: Invalid ShardflowStack 'Pipelines' props:",
          refusal,
          '  problems: [',
          `    "${refusal.slice(2)}"`,
          '  ]',
        ]),
      ),
    ).toBe(`ValidationError: Invalid ShardflowStack 'Pipelines' props: ${refusal}`);
  });

  it('when the app does not parse, it is where and what', () => {
    expect(
      synthFailureReason(
        threw(
          ['Error: Transform failed with 1 error:', '/tmp/p/app.ts:20:18: ERROR: Unexpected ";"'],
          [
            '    at failureErrorWithLog (/tmp/p/node_modules/esbuild/lib/main.js:1752:15)',
            "  name: 'TransformError'",
          ],
        ),
      ),
    ).toBe('Error: Transform failed with 1 error: /tmp/p/app.ts:20:18: ERROR: Unexpected ";"');
  });

  it('when an error headline is complete, it stands alone (the stack frame after it is not appended)', () => {
    expect(
      synthFailureReason(
        threw(
          ['PipelineModuleError: Cannot load pipeline module pipelines/x.ts: boom'],
          ['    at load (x.js:1:1)'],
        ),
      ),
    ).toBe('PipelineModuleError: Cannot load pipeline module pipelines/x.ts: boom');
  });

  it('when nothing was thrown (a cdk-nag finding, say), it is the last line and where the whole output is', () => {
    expect(
      synthFailureReason([
        '[Error at /Pipelines/Bucket/Resource] AwsSolutions-S1: The S3 Bucket has server access logs disabled.',
        '85 feature flags are not configured.',
        'Found errors',
      ]),
    ).toBe('Found errors (npx cdk synth prints the whole output)');
    expect(synthFailureReason([])).toBe('no output');
  });

  it('when the app throws, synthesize fails with the error the app threw (through the real cdk CLI)', async () => {
    // Inside the repository, so that npx finds its cdk.
    const scratch = join(__dirname, '../../../../.shardflow');
    mkdirSync(scratch, { recursive: true });
    const app = mkdtempSync(join(scratch, 'synth-failure-'));
    try {
      writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
      writeFileSync(
        join(app, 'app.js'),
        "class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }\n" +
          "throw new ValidationError(\"Invalid ShardflowStack 'Pipelines' props:\\n- Pipeline 'x' is given no table\");\n",
      );
      const failed = await synthesize(join(app, 'cdk.out'), app).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(SynthError);
      expect((failed as Error).message).toBe(
        "cdk synth failed (exit 1): ValidationError: Invalid ShardflowStack 'Pipelines' props: - Pipeline 'x' is given no table",
      );
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 60_000);
});
