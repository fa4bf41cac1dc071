import { createProgram } from '../../../../localstack/cli/main';

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
});
