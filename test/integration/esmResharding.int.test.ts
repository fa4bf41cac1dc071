/**
 * The ESM runtime against the real Kinesis engine (kinesis-mock, as in LocalStack): a shard split
 * and a merge are followed in parent-before-child order with per-key order kept, and a restarted
 * runtime resumes from its checkpoint file. Handlers are in-process doubles: this is about polling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { createClients } from '../../functions/adapters/aws';
import {
  EventSourceMappingRuntime,
  FileCheckpointStore,
  SdkKinesisReader,
} from '../../localstack/eventSourceMapping';
import { ScriptedInvoker } from '../helpers/fixtures/ScriptedInvoker';
import { TEST_FUNCTION } from '../helpers/fixtures/esmHarness';
import { useTargetCloud } from '../helpers/fixtures/targetCloud';
import { waitStreamActive } from '../helpers/streamRoundTrip';

useTargetCloud();

async function put(
  kinesis: KinesisClient,
  name: string,
  keys: readonly string[],
  round: string,
): Promise<void> {
  const output = await kinesis.send(
    new PutRecordsCommand({
      StreamName: name,
      Records: keys.map((key) => ({ PartitionKey: key, Data: Buffer.from(`${key}:${round}`) })),
    }),
  );
  expect(output.FailedRecordCount ?? 0).toBe(0);
}

describe('ESM runtime on kinesis-mock', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'esm-reshard-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a stream was split then merged before the start, and the runtime restarts, every record is delivered once, parents first, keys in order', async () => {
    const { kinesis } = createClients();
    const name = `reshard-${Date.now()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitStreamActive(kinesis, name);
    const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
    const checkpointFile = join(dir, 'checkpoints.json');
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    const runtimeWith = (invoker: ScriptedInvoker): EventSourceMappingRuntime =>
      new EventSourceMappingRuntime({
        mappings: [
          {
            uuid: 'reshard',
            functionName: TEST_FUNCTION.functionName,
            eventSourceArn: arn,
            startingPosition: 'TRIM_HORIZON',
            batchSize: 7,
          },
        ],
        functions: [TEST_FUNCTION],
        kinesis: new SdkKinesisReader(kinesis),
        invoker,
        checkpoints: new FileCheckpointStore(checkpointFile),
        pollIntervalMs: 50,
        shardDiscoveryIntervalMs: 200,
        log: () => undefined,
      });

    // The whole history exists before the runtime starts: it must read parent, then children, then the merged child.
    await put(kinesis, name, keys, 'r0');
    await kinesis.send(
      new SplitShardCommand({
        StreamName: name,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitStreamActive(kinesis, name);
    await put(kinesis, name, keys, 'r1');
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
    const open = shards
      .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
      .map((s) => s.ShardId as string);
    expect(open).toHaveLength(2);
    await kinesis.send(
      new MergeShardsCommand({ StreamName: name, ShardToMerge: open[0], AdjacentShardToMerge: open[1] }),
    );
    await waitStreamActive(kinesis, name);
    await put(kinesis, name, keys, 'r2');

    // The parent is slow to process, so children read too early would overtake it.
    const first = new ScriptedInvoker(async (event) => {
      if (event.Records[0]?.eventID.startsWith('shardId-000000000000:'))
        await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const runtime = runtimeWith(first);
    await runtime.start();
    await runtime.idle(20_000);
    await runtime.stop();

    const second = new ScriptedInvoker();
    const restarted = runtimeWith(second);
    await restarted.start();
    await put(kinesis, name, keys, 'r3');
    await restarted.idle(20_000);
    await restarted.stop();

    const delivered = [...first.delivered(), ...second.delivered()];
    expect(second.delivered().sort()).toEqual(keys.map((k) => `${k}:r3`).sort());
    expect(delivered).toHaveLength(keys.length * 4);
    for (const key of keys) {
      expect(delivered.filter((d) => d.startsWith(`${key}:`))).toEqual(
        ['r0', 'r1', 'r2', 'r3'].map((round) => `${key}:${round}`),
      );
    }
    const eventIds = [...first.calls, ...second.calls].flatMap((c) =>
      c.event.Records.map((r) => r.eventID.split(':')[0]),
    );
    expect(new Set(eventIds).size).toBe(4); // parent, two children, merged child
  }, 90_000);
});
