import { createProgram } from '../../../../localstack/cli/main';
import { CommandFailedError } from '../../../../localstack/cli/commands/cliAction';
import { LOCAL_CHOICE_HINT, withLocalChoiceHint } from '../../../../localstack/cli/commands/cdk';
import { CustomResourceFailedError } from '../../../../localstack/deployer/errors';
import { CHOICE_HINT, upgradeRefusal } from '../../../../functions/core/state/upgradeCheck';
import { STATE_CHANGE } from '../../../../functions/core/state/stateFingerprint';

describe('shardflow deploy: what happens to open windows', () => {
  test('when both --drain and --discard-open-windows are given, the deploy is refused in one line before anything is read', async () => {
    const program = createProgram().exitOverride();
    const run = program.parseAsync(['deploy', '--local', '--drain', '--discard-open-windows'], {
      from: 'user',
    });
    await expect(run).rejects.toThrow(/^choose one of --drain and --discard-open-windows$/);
  });

  test('the deploy command offers --drain beside --discard-open-windows', () => {
    const deploy = createProgram().commands.find((c) => c.name() === 'deploy')!;
    expect(deploy.options.map((o) => o.long)).toEqual(
      expect.arrayContaining(['--drain', '--discard-open-windows', '--check']),
    );
  });

  test("when the stack's own check refuses under deploy --local, its next step is this command's options, not -c (which deploy --local refuses)", () => {
    const refusal = upgradeRefusal(
      {
        pipeline: 'page-clicks',
        openWindows: 1,
        change: {
          kind: STATE_CHANGE.INCOMPATIBLE,
          added: [],
          reasons: ['window changed from tumbling 60000 ms to tumbling 300000 ms'],
        },
      },
      'none',
      CHOICE_HINT.CDK,
    );
    const failed = new CustomResourceFailedError(
      `PageClicksUpgradeCheck22B40B31 (Custom::ShardflowUpgradeCheck) failed: ${refusal}`,
    );
    const local = withLocalChoiceHint(failed);
    expect(local).toBeInstanceOf(CommandFailedError);
    expect((local as Error).message).toBe(
      'PageClicksUpgradeCheck22B40B31 (Custom::ShardflowUpgradeCheck) failed: pipeline page-clicks: incompatible change under 1 open window (window changed from tumbling 60000 ms to tumbling 300000 ms); wait until they close, or deploy again with --discard-open-windows to drop them, or with --drain --check <the pipeline module> to emit them first',
    );
    expect((local as Error).message).not.toContain('-c ');
    expect(LOCAL_CHOICE_HINT).not.toBe(CHOICE_HINT.CDK);
    // Any other failure passes through as it is.
    const other = new Error('edge port 4566 is already in use');
    expect(withLocalChoiceHint(other)).toBe(other);
  });
});
