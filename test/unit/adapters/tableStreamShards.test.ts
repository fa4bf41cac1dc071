import { decodeDynamoDBStreamEvent } from '../../../functions/adapters/dynamoDBStreamEventCodec';
import { TableShardResolver, type TableStreamShard } from '../../../functions/adapters/tableStreamShards';
import { orderItem, streamRecord, TABLE_STREAM_ARN } from '../../helpers/dynamoStreamRecords';

const T = 1_767_225_600; // 2026-01-01T00:00:00Z in seconds
const NOW = T * 1000 + 60_000;

/**
 * A table with two partitions: two shards open at once, each with range [start, ∞). Sequence numbers grow
 * with time across the whole stream, so both ranges hold every sequence number from 200 on.
 */
const twoPartitions: TableStreamShard[] = [
  { id: 'shardId-A', parents: [], open: true, starting: '100' },
  { id: 'shardId-B', parents: [], open: true, starting: '200' },
];

/** A batch of shard B as Lambda delivers it: its records do not name their shard. */
const batchOfB = [
  streamRecord('INSERT', '250', T, { NewImage: orderItem('o1', 'eu', 10) }),
  streamRecord('INSERT', '260', T, { NewImage: orderItem('o2', 'us', 20) }),
];

describe('which shard a table-stream batch is in, without the shard named (no tumbling window)', () => {
  it('when two open shards hold the sequence number (a table of several partitions), it does not guess: it fails naming both shards, the cause and the fix', async () => {
    const describeStream = jest.fn(async () => twoPartitions);
    const resolver = new TableShardResolver(describeStream, () => NOW);
    await expect(resolver.shardOf(TABLE_STREAM_ARN, '250', NOW - 5_000)).rejects.toThrow(
      /^Sequence number 250 of stream arn:aws:dynamodb:\S+ is in the range of 2 shards \(shardId-A, shardId-B\): the records do not name their shard, so the batch cannot be fenced; set TumblingWindowInSeconds on the event source mapping \(Lambda then names the shard in the event's shardId\)$/,
    );
    // Decoded as a whole, the batch fails rather than being filed under shard A.
    await expect(
      decodeDynamoDBStreamEvent({ Records: batchOfB }, 'NEW_AND_OLD_IMAGES', resolver, () => NOW),
    ).rejects.toThrow(/in the range of 2 shards \(shardId-A, shardId-B\).*TumblingWindowInSeconds/);
  });

  it('when closed shards overlap, it fails from the cache without describing the stream again (closed ranges are final)', async () => {
    const closed: TableStreamShard[] = [
      { id: 'shardId-A', parents: [], open: false, starting: '100', ending: '400' },
      { id: 'shardId-B', parents: [], open: false, starting: '200', ending: '500' },
    ];
    const describeStream = jest.fn(async () => closed);
    const resolver = new TableShardResolver(describeStream, () => NOW);
    await expect(resolver.shardOf(TABLE_STREAM_ARN, '150', NOW)).resolves.toMatchObject({ id: 'shardId-A' });
    await expect(resolver.shardOf(TABLE_STREAM_ARN, '300', NOW)).rejects.toThrow(
      /in the range of 2 shards \(shardId-A, shardId-B\)/,
    );
    expect(describeStream).toHaveBeenCalledTimes(1);
  });

  it('when only one shard holds the sequence number, it is the batch’s shard', async () => {
    const lineage: TableStreamShard[] = [
      { id: 'shardId-parent', parents: [], open: false, starting: '100', ending: '199' },
      { id: 'shardId-child', parents: ['shardId-parent'], open: true, starting: '200' },
    ];
    const resolver = new TableShardResolver(
      async () => lineage,
      () => NOW,
    );
    await expect(resolver.shardOf(TABLE_STREAM_ARN, '150', NOW)).resolves.toMatchObject({
      id: 'shardId-parent',
    });
    await expect(resolver.shardOf(TABLE_STREAM_ARN, '250', NOW)).resolves.toMatchObject({
      id: 'shardId-child',
    });
  });
});

describe('the lineage of a shard the event names (a mapping with a tumbling window)', () => {
  const lineage: TableStreamShard[] = [
    { id: 'shardId-parent', parents: [], open: false, starting: '100', ending: '199' },
    { id: 'shardId-child', parents: ['shardId-parent'], open: true, starting: '200' },
  ];

  it('describes the stream once for a shard it does not know yet, then answers from the cache; a shard no event named and no description lists has none', async () => {
    let described = [lineage[0]!];
    const describeStream = jest.fn(async () => described);
    const resolver = new TableShardResolver(describeStream, () => NOW);
    await expect(resolver.parentsOf('shardId-child')).resolves.toEqual([]);
    expect(describeStream).not.toHaveBeenCalled();
    resolver.named(TABLE_STREAM_ARN, 'shardId-parent');
    await expect(resolver.parentsOf('shardId-parent')).resolves.toEqual([]);
    expect(describeStream).toHaveBeenCalledTimes(1);
    // A child appears after the description: described again for it, once.
    described = lineage;
    resolver.named(TABLE_STREAM_ARN, 'shardId-child');
    for (let i = 0; i < 3; i++)
      await expect(resolver.parentsOf('shardId-child')).resolves.toEqual(['shardId-parent']);
    await expect(resolver.parentsOf('shardId-parent')).resolves.toEqual([]);
    expect(describeStream).toHaveBeenCalledTimes(2);
    expect(describeStream).toHaveBeenCalledWith(TABLE_STREAM_ARN);
  });

  it('on a live stream, 100 batches of an open shard describe the stream once when the events name the shard, and on every batch when they do not', async () => {
    const batches = 100;
    let now = NOW;
    const describeStream = jest.fn(async () => lineage);
    const named = new TableShardResolver(describeStream, () => now);
    for (let i = 0; i < batches; i++, now += 1_000) {
      const event = {
        Records: [streamRecord('INSERT', String(300 + i), now / 1000, { NewImage: orderItem('o', 'eu', 1) })],
        window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:15:00Z' },
        shardId: 'shardId-child',
        eventSourceARN: TABLE_STREAM_ARN,
      };
      const records = await decodeDynamoDBStreamEvent(event, 'NEW_AND_OLD_IMAGES', named, () => now);
      // The operator asks a shard's parents before its first commit.
      if (i === 0) await expect(named.parentsOf(records[0]!.shardId)).resolves.toEqual(['shardId-parent']);
    }
    expect(describeStream).toHaveBeenCalledTimes(1);

    describeStream.mockClear();
    const guessed = new TableShardResolver(describeStream, () => now);
    for (let i = 0; i < batches; i++, now += 1_000) {
      const event = {
        Records: [streamRecord('INSERT', String(300 + i), now / 1000, { NewImage: orderItem('o', 'eu', 1) })],
      };
      await decodeDynamoDBStreamEvent(event, 'NEW_AND_OLD_IMAGES', guessed, () => now);
    }
    // Each change is newer than the description before it, in a shard that was open: described again.
    expect(describeStream).toHaveBeenCalledTimes(batches);
  });
});
