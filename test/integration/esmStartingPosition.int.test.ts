/**
 * StartingPosition on the real Kinesis engine (kinesis-mock): AT_TIMESTAMP starts at the first record
 * that arrived at or after the timestamp, LATEST skips what was there before the start.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createClients } from '../../functions/adapters/aws';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  type StartingPosition,
} from '../../localstack/eventSourceMapping';
import { ScriptedInvoker } from '../helpers/fixtures/ScriptedInvoker';
import { TEST_FUNCTION } from '../helpers/fixtures/esmHarness';
import { useTargetCloud } from '../helpers/fixtures/targetCloud';
import { createActiveStream } from '../helpers/streamRoundTrip';

useTargetCloud();

async function createStream(kinesis: KinesisClient, name: string): Promise<string> {
  await createActiveStream(kinesis, name, 1);
  return `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
}

const put = async (kinesis: KinesisClient, name: string, values: string[]): Promise<void> => {
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: name,
      Records: values.map((v) => ({ PartitionKey: 'k', Data: Buffer.from(v) })),
    }),
  );
};

function runtimeFor(
  arn: string,
  startingPosition: StartingPosition,
  invoker: ScriptedInvoker,
  startingPositionTimestamp?: number,
): EventSourceMappingRuntime {
  const { kinesis } = createClients();
  return new EventSourceMappingRuntime({
    mappings: [
      {
        uuid: `m-${startingPosition}`,
        functionName: TEST_FUNCTION.functionName,
        eventSourceArn: arn,
        startingPosition,
        ...(startingPositionTimestamp === undefined ? {} : { startingPositionTimestamp }),
      },
    ],
    functions: [TEST_FUNCTION],
    kinesis: new SdkKinesisReader(kinesis),
    invoker,
    checkpoints: new MemoryCheckpointStore(),
    pollIntervalMs: 50,
    log: () => undefined,
  });
}

describe('StartingPosition on kinesis-mock', () => {
  it('when AT_TIMESTAMP, it delivers only records that arrived at or after the timestamp', async () => {
    const { kinesis } = createClients();
    const name = `at-ts-${Date.now()}`;
    const arn = await createStream(kinesis, name);
    await put(kinesis, name, ['early-1', 'early-2']);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const timestamp = Date.now() / 1000;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put(kinesis, name, ['late-1', 'late-2']);
    const invoker = new ScriptedInvoker();
    const runtime = runtimeFor(arn, 'AT_TIMESTAMP', invoker, timestamp);
    await runtime.start();
    await runtime.idle(20_000);
    await runtime.stop();
    expect(invoker.delivered()).toEqual(['late-1', 'late-2']);
  }, 40_000);

  it('when LATEST, it skips records put before the start and delivers later ones', async () => {
    const { kinesis } = createClients();
    const name = `latest-${Date.now()}`;
    const arn = await createStream(kinesis, name);
    await put(kinesis, name, ['before']);
    const invoker = new ScriptedInvoker();
    const runtime = runtimeFor(arn, 'LATEST', invoker);
    await runtime.start();
    await runtime.idle(20_000);
    await put(kinesis, name, ['after']);
    await runtime.idle(20_000);
    await runtime.stop();
    expect(invoker.delivered()).toEqual(['after']);
  }, 40_000);
});
