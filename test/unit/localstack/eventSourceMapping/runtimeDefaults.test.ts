import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSourceMappingRuntime } from '../../../../localstack/eventSourceMapping/EventSourceMappingRuntime';
import { TEST_FUNCTION } from '../../../helpers/fixtures/esmHarness';

describe('EventSourceMappingRuntime defaults', () => {
  const cwd = process.cwd();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esm-defaults-'));
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('when no clients are injected, it builds from the factory and stops cleanly without having started', async () => {
    const runtime = new EventSourceMappingRuntime({
      mappings: [
        {
          uuid: 'm',
          functionName: TEST_FUNCTION.functionName,
          eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
          startingPosition: 'LATEST',
        },
      ],
      functions: [TEST_FUNCTION],
      log: () => undefined,
    });
    expect(runtime.lag()).toEqual([]);
    await expect(runtime.stop()).resolves.toBeUndefined();
  });

  it('when a mapping names an unregistered function, it refuses to build', () => {
    expect(
      () =>
        new EventSourceMappingRuntime({
          mappings: [
            {
              uuid: 'm',
              functionName: 'ghost',
              eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
              startingPosition: 'LATEST',
            },
          ],
          functions: [TEST_FUNCTION],
        }),
    ).toThrow('mapping m targets unknown function ghost');
  });
});
