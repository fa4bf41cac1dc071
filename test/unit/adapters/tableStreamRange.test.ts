/**
 * A skipped range of a table stream's shard read back (`replay-failures` on a table source): where the read
 * starts and stops (the first record past the end, the end itself, a closed shard's end, many empty pages in
 * a row), the range that is gone, and the records' shape (Lambda's DynamoDB-stream event record, decoded in
 * the shard the on-failure record names).
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { StreamRangeUnreadableError } from '../../../functions/adapters/streamShards';
import {
  decodeTableShardRange,
  MAX_EMPTY_PAGES,
  readTableShardRange,
} from '../../../functions/adapters/tableStreamRange';
import { orderInsert, TABLE_STREAM_ARN, tableSequence } from '../../helpers/dynamoStreamRecords';

const SHARD = 'shardId-00000001767225600000-1a2b3c4d';
const at = new Date('2026-01-01T00:00:00Z');
const seq = tableSequence;

const change = (i: number): _Record => orderInsert(i, at, { blob: { B: new Uint8Array([0, 1]) } });

/**
 * A DynamoDB Streams client that answers GetShardIterator with `iterator` (or throws `iteratorError`) and
 * GetRecords with `pages` in turn (a page without `next` ends a closed shard), recording every call.
 */
function streams(
  pages: { records: _Record[]; next?: boolean }[],
  iteratorError?: Error,
): { client: DynamoDBStreamsClient; calls: Record<string, unknown>[] } {
  const calls: Record<string, unknown>[] = [];
  let page = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) {
        calls.push({ GetShardIterator: command.input });
        if (iteratorError !== undefined) throw iteratorError;
        return { ShardIterator: 'it-0' };
      }
      if (command instanceof GetRecordsCommand) {
        calls.push({ GetRecords: command.input });
        const answer = pages[page] ?? { records: [], next: true };
        page++;
        return {
          Records: answer.records,
          ...(answer.next === false ? {} : { NextShardIterator: `it-${page}` }),
        };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBStreamsClient;
  return { client, calls };
}

const noPause = async () => undefined;
const sequencesOf = (records: Record<string, unknown>[]) =>
  records.map((r) => (r['dynamodb'] as { SequenceNumber: string }).SequenceNumber);

describe('readTableShardRange', () => {
  it('starts AT_SEQUENCE_NUMBER the first record and stops at the first record past the end, without it', async () => {
    const { client, calls } = streams([
      { records: [change(3), change(4)] },
      { records: [change(5), change(6), change(7)] },
    ]);
    const records = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(5), noPause);
    expect(sequencesOf(records)).toEqual([seq(3), seq(4), seq(5)]);
    expect(calls).toEqual([
      {
        GetShardIterator: {
          StreamArn: TABLE_STREAM_ARN,
          ShardId: SHARD,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: seq(3),
        },
      },
      { GetRecords: { ShardIterator: 'it-0', Limit: 1000 } },
      { GetRecords: { ShardIterator: 'it-1', Limit: 1000 } },
    ]);
  });

  it('when a page ends at the last sequence number, it reads no further page', async () => {
    const { client, calls } = streams([{ records: [change(3), change(4)] }, { records: [change(5)] }]);
    const records = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(4), noPause);
    expect(sequencesOf(records)).toEqual([seq(3), seq(4)]);
    expect(calls).toHaveLength(2);
  });

  it('each record is the record as Lambda’s event carries it: eventSourceARN, time in seconds, binary as base64', async () => {
    const { client } = streams([{ records: [change(3)] }]);
    const [record] = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(3), noPause);
    expect(record).toEqual({
      eventID: 'id-3',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: TABLE_STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: at.getTime() / 1000,
        Keys: { orderId: { S: 'o3' } },
        NewImage: {
          orderId: { S: 'o3' },
          region: { S: 'eu' },
          amount: { N: '3' },
          blob: { B: 'AAE=' },
        },
        SequenceNumber: seq(3),
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  });

  it('reads past a few empty pages (a portion of the shard without records), pausing between them', async () => {
    const pause = jest.fn(async () => undefined);
    const { client } = streams([
      { records: [change(3)] },
      ...Array.from({ length: MAX_EMPTY_PAGES - 1 }, () => ({ records: [] })),
      { records: [change(4), change(5)] },
    ]);
    const records = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(5), pause);
    expect(sequencesOf(records)).toEqual([seq(3), seq(4), seq(5)]);
    expect(pause).toHaveBeenCalledTimes(MAX_EMPTY_PAGES - 1);
    expect(pause).toHaveBeenCalledWith(200);
  });

  it('after MAX_EMPTY_PAGES empty pages in a row (the tip of an open shard), it stops with what it read: short of the range', async () => {
    const { client, calls } = streams([{ records: [change(3)] }]);
    const records = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(9), noPause);
    expect(sequencesOf(records)).toEqual([seq(3)]);
    expect(calls).toHaveLength(2 + MAX_EMPTY_PAGES);
  });

  it('at the end of a closed shard (no next iterator), it stops with what it read', async () => {
    const { client, calls } = streams([{ records: [change(3), change(4)], next: false }]);
    const records = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(9), noPause);
    expect(sequencesOf(records)).toEqual([seq(3), seq(4)]);
    expect(calls).toHaveLength(2);
  });

  it('when the first record returned is not the first of the range (trimmed), it fails: the range cannot be read back', async () => {
    const { client } = streams([{ records: [change(4)] }]);
    const read = readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(5), noPause);
    await expect(read).rejects.toThrow(StreamRangeUnreadableError);
    await expect(
      readTableShardRange(
        streams([{ records: [change(4)] }]).client,
        TABLE_STREAM_ARN,
        SHARD,
        seq(3),
        seq(5),
      ),
    ).rejects.toThrow(
      `Shard ${SHARD} of stream ${TABLE_STREAM_ARN} no longer holds sequence number ${seq(3)} (the first record it returns is ${seq(4)}): the stream's retention has passed, the range cannot be read back`,
    );
  });

  it.each(['TrimmedDataAccessException', 'ResourceNotFoundException'])(
    'when GetShardIterator answers %s, it fails in one line: the range cannot be read back',
    async (name) => {
      const error = Object.assign(new Error('gone'), { name });
      const read = readTableShardRange(streams([], error).client, TABLE_STREAM_ARN, SHARD, seq(3), seq(5));
      await expect(read).rejects.toBeInstanceOf(StreamRangeUnreadableError);
      await expect(read).rejects.toThrow(
        `Shard ${SHARD} of stream ${TABLE_STREAM_ARN} no longer holds sequence number ${seq(3)} (${name}): the stream's retention (24 hours) has passed or the table's stream was replaced, the range cannot be read back`,
      );
    },
  );

  it('when the shard holds nothing at all from the first sequence number, it fails', async () => {
    const { client } = streams([{ records: [], next: false }]);
    await expect(
      readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(5), noPause),
    ).rejects.toThrow(/returned no record at sequence number \d+: the stream's retention has passed/);
  });
});

describe('decodeTableShardRange', () => {
  it('decodes the records in the shard the on-failure record names, as the operator decodes Lambda’s event (no DescribeStream)', async () => {
    const { client } = streams([{ records: [change(3), change(4)] }]);
    const read = await readTableShardRange(client, TABLE_STREAM_ARN, SHARD, seq(3), seq(4), noPause);
    const records = await decodeTableShardRange(read, TABLE_STREAM_ARN, SHARD, 'NEW_AND_OLD_IMAGES');
    expect(records.map((r) => [r.shardId, r.sequenceNumber, r.approximateArrivalTimestamp])).toEqual([
      [SHARD, seq(3), at.getTime()],
      [SHARD, seq(4), at.getTime()],
    ]);
    expect(records.every((r) => r.rejection === undefined)).toBe(true);
    expect(JSON.parse(Buffer.from(records[0]!.data, 'base64').toString('utf8'))).toEqual({
      eventName: 'INSERT',
      keys: { orderId: 'o3' },
      newImage: { orderId: 'o3', region: 'eu', amount: 3, blob: 'AAE=' },
      eventTime: at.getTime(),
    });
  });
});
