import { GetRecordsCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
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
});
