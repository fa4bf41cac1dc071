/**
 * The load run's Kinesis emulator (kinesalite) read through the mapping's reader. kinesalite predates
 * `StreamARN`, so the reader must address the stream by name there.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators';
import { startKinesaliteEmulator } from '../../localstack/emulators/kinesaliteEmulator';
import type { RunningEmulator } from '../../localstack/emulators/types';
import { SdkKinesisReader } from '../../localstack/eventSourceMapping/SdkKinesisReader';
import { createActiveStream } from '../helpers/streamRoundTrip';

const STREAM = 'load-stream';
const ARN = `arn:aws:kinesis:${LOCAL_REGION}:000000000000:stream/${STREAM}`;

describe('kinesalite through SdkKinesisReader', () => {
  let kinesis: RunningEmulator;
  let client: KinesisClient;

  beforeAll(async () => {
    kinesis = await startKinesaliteEmulator();
    client = kinesisClient({
      endpoint: kinesis.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await createActiveStream(client, STREAM, 2);
    await client.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: Array.from({ length: 20 }, (_, i) => ({
          PartitionKey: `k${i}`,
          Data: Buffer.from(`{"n":${i}}`),
        })),
      }),
    );
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await kinesis?.stop();
  });

  it('lists shards and reads every record when streams are addressed by name', async () => {
    const reader = new SdkKinesisReader(client, { addressStreamsBy: 'name' });
    const shards = await reader.listShards(ARN);
    expect(shards).toHaveLength(2);
    expect(await reader.streamCreatedAt(ARN)).toEqual(expect.any(Number));
    const read: string[] = [];
    for (const shard of shards) {
      const iterator = await reader.getShardIterator(ARN, shard.shardId, { type: 'TRIM_HORIZON' });
      const page = await reader.getRecords(iterator, 100);
      read.push(...page.records.map((r) => Buffer.from(r.data).toString('utf8')));
    }
    expect(read.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `{"n":${i}}`).sort());
  });

  it('is refused by kinesalite when addressed by ARN (why the option exists)', async () => {
    await expect(new SdkKinesisReader(client).listShards(ARN)).rejects.toThrow(/StreamName/);
  });
});
