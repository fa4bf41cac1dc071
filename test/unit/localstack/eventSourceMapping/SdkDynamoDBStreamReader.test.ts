import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import { SdkDynamoDBStreamReader } from '../../../../localstack/eventSourceMapping/SdkDynamoDBStreamReader';

const at = new Date('2026-01-01T00:00:00Z');
const change = (seq: string, extra: Record<string, unknown> = {}) => ({
  eventID: `id-${seq}`,
  eventName: 'REMOVE',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: at,
    Keys: { orderId: { S: 'o1' } },
    OldImage: { orderId: { S: 'o1' }, blob: { B: new Uint8Array([0, 1]) } },
    SequenceNumber: seq,
    SizeBytes: 20,
    StreamViewType: 'OLD_IMAGE',
  },
  ...extra,
});

function clientWith(records: unknown[]): DynamoDBStreamsClient {
  return {
    send: async (command: unknown) => {
      if (command instanceof GetRecordsCommand) return { Records: records };
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBStreamsClient;
}

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000';

/** A client over one shard whose records were created at `seconds` (epoch s), two records per page. */
function clientOver(seconds: readonly number[]): { client: DynamoDBStreamsClient; iteratorTypes: string[] } {
  const iteratorTypes: string[] = [];
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof GetShardIteratorCommand) {
      iteratorTypes.push(command.input.ShardIteratorType ?? '');
      return { ShardIterator: command.input.ShardIteratorType === 'LATEST' ? String(seconds.length) : '0' };
    }
    if (command instanceof GetRecordsCommand) {
      const from = Number(command.input.ShardIterator);
      const page = seconds.slice(from, from + 2);
      return {
        Records: page.map((s, i) => ({
          eventName: 'INSERT',
          dynamodb: {
            ApproximateCreationDateTime: new Date(s * 1000),
            Keys: { id: { S: `r${from + i}` } },
            SequenceNumber: String(100 + from + i),
          },
        })),
        NextShardIterator: String(from + page.length),
      };
    }
    throw new Error(`unexpected ${String(command)}`);
  };
  return { client: { send } as unknown as DynamoDBStreamsClient, iteratorTypes };
}

describe('SdkDynamoDBStreamReader', () => {
  it('when GetRecords returns changes, each record is the record as Lambda’s event carries it: time in seconds, binary as base64, a TTL delete’s userIdentity in the event’s lower-case fields', async () => {
    const reader = new SdkDynamoDBStreamReader(
      clientWith([
        change('100', { userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } }),
        change('101'),
      ]),
      () => at.getTime() + 1_000,
    );
    const { records } = await reader.getRecords('iterator', 10);
    const events = records.map(
      (r) => JSON.parse(Buffer.from(r.data).toString('utf8')) as Record<string, unknown>,
    );
    expect(events[0]).toEqual({
      eventID: 'id-100',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: at.getTime() / 1000,
        Keys: { orderId: { S: 'o1' } },
        OldImage: { orderId: { S: 'o1' }, blob: { B: 'AAE=' } },
        SequenceNumber: '100',
        SizeBytes: 20,
        StreamViewType: 'OLD_IMAGE',
      },
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
    expect(events[1]).not.toHaveProperty('userIdentity');
    expect(records.map((r) => [r.sequenceNumber, r.approximateArrivalTimestamp])).toEqual([
      ['100', at.getTime()],
      ['101', at.getTime()],
    ]);
  });

  it('when asked for AT_TIMESTAMP (a LATEST mapping read again), it reads from TRIM_HORIZON and skips records created before that second', async () => {
    const { client, iteratorTypes } = clientOver([100, 101, 102, 103, 104]);
    const reader = new SdkDynamoDBStreamReader(client, () => 200_000);
    let iterator: string | undefined = await reader.getShardIterator(ARN, 'shard-1', {
      type: 'AT_TIMESTAMP',
      timestamp: 102_400,
    });
    const read: string[] = [];
    while (iterator !== undefined && read.length < 3) {
      const page = await reader.getRecords(iterator, 1_000);
      for (const r of page.records) read.push(r.sequenceNumber);
      iterator =
        page.records.length === 0 && page.millisBehindLatest === 0 ? undefined : page.nextShardIterator;
    }
    expect(iteratorTypes).toEqual(['TRIM_HORIZON']);
    expect(read).toEqual(['102', '103', '104']);
  });
});
