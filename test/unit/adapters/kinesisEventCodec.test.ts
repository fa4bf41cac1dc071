import { decodeKinesisEvent } from '../../../functions/adapters/kinesisEventCodec';

const record = (seq: string, data = 'eyJhIjoxfQ==') => ({
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: `shardId-000000000003:${seq}`,
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::123456789012:role/x',
  awsRegion: 'us-east-1',
  eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: 'pk-1',
    sequenceNumber: seq,
    data,
    approximateArrivalTimestamp: 1_700_000_000.123,
  },
});

describe('decodeKinesisEvent', () => {
  test('when a Kinesis event is decoded, it yields raw records with shard, sequence, payload and arrival in ms', () => {
    const seq = '49590338271490256608559692538361571095921575989136588898';
    expect(decodeKinesisEvent({ Records: [record(seq), record('2', '')] })).toEqual([
      {
        shardId: 'shardId-000000000003',
        sequenceNumber: seq,
        partitionKey: 'pk-1',
        data: 'eyJhIjoxfQ==',
        approximateArrivalTimestamp: 1_700_000_000_123,
      },
      {
        shardId: 'shardId-000000000003',
        sequenceNumber: '2',
        partitionKey: 'pk-1',
        data: '',
        approximateArrivalTimestamp: 1_700_000_000_123,
      },
    ]);
  });

  test('when the event is not a Kinesis event, it fails instead of guessing', () => {
    expect(() =>
      decodeKinesisEvent({
        Records: [
          {
            eventID: 'x',
            kinesis: {
              sequenceNumber: '1; DROP',
              data: '',
              partitionKey: 'p',
              approximateArrivalTimestamp: 1,
            },
          },
        ],
      }),
    ).toThrow();
    expect(() => decodeKinesisEvent({})).toThrow();
  });

  test("when a record's eventID names a hostile shard, the batch fails at decode with one line naming it", () => {
    const seq = '49590338271490256608559692538361571095921575989136588898';
    for (const [shard, shown, problem] of [
      ['.', '"."', 'does not start with a letter or digit'],
      ['..', '".."', 'does not start with a letter or digit'],
      ['-x', '"-x"', 'does not start with a letter or digit'],
      ['_x', '"_x"', 'does not start with a letter or digit'],
      ['../state', '"../state"', 'does not start with a letter or digit'],
      ['s'.repeat(129), `"${'s'.repeat(64)}"`, 'is 129 characters long'],
      ['shard\u0007', '"shard\\u0007"', "holds characters other than letters, digits, '_', '.', '-'"],
    ] as const) {
      const event = { Records: [record(seq), { ...record(seq), eventID: `${shard}:${seq}` }] };
      expect(() => decodeKinesisEvent(event)).toThrow(
        `Record 1's eventID names the shard ${shown}, which ${problem}: a shard id is 1–128 letters, digits, '_', '.', '-', the first a letter or digit; the batch cannot be fenced, check what invokes this function`,
      );
    }
  });
});
