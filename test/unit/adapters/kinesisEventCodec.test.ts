import fc from 'fast-check';
import * as z from 'zod/mini';
import { decodeKinesisEvent, kinesisEventSchema } from '../../../functions/adapters/kinesisEventCodec';
import { compileSchemaFastPath } from '../../../functions/core/engine/schemaFastPath';
import { shardIdProblem } from '../../../functions/core/shardId';

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

  test('the record shape is checked by the compiled fast path (not only by zod)', () => {
    expect(compileSchemaFastPath(kinesisEventSchema.shape.Records._zod.def.element)).toBeDefined();
  });

  test('for any event, valid or hostile, it accepts exactly what the schema accepts and returns its fields', () => {
    const seq = fc.oneof(
      { weight: 10, arbitrary: fc.stringMatching(/^\d{1,80}$/) },
      { weight: 1, arbitrary: fc.constantFrom('', '1; DROP', '1'.repeat(81), '１２', '12\n', ' 12', '0x1f') },
    );
    const text = fc.oneof(fc.string({ maxLength: 6 }), fc.constant(''));
    const num = fc.oneof(
      { weight: 10, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
      { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN, -0, Number.MAX_VALUE) },
    );
    const anything = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer(),
      fc.boolean(),
      text,
      fc.constant([]),
    );
    // Mostly valid fields, so that events of several valid records (the accepting path) are common.
    const field = <T>(valid: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: anything });
    const kinesis = fc.record(
      {
        partitionKey: field(text),
        sequenceNumber: field(seq),
        data: field(text),
        approximateArrivalTimestamp: field(num),
        extra: anything,
      },
      { requiredKeys: ['partitionKey', 'sequenceNumber', 'data', 'approximateArrivalTimestamp'] },
    );
    const record = fc.oneof(
      {
        weight: 20,
        arbitrary: fc.record(
          {
            // Mixed shards in one event, shard ids zod accepts but the shard rule refuses, and prefixes of
            // a valid shard id (what reusing the shard of the record before must not be fooled by).
            eventID: field(
              fc.oneof(
                {
                  weight: 10,
                  arbitrary: fc.constantFrom(
                    'shardId-000000000001:1',
                    'shardId-000000000001',
                    'shardId-000000000002:9',
                    'shardId-00000000000:5',
                    'shardId-0000000000011:5',
                  ),
                },
                { weight: 1, arbitrary: fc.constantFrom('../x:1', 'y2>', ':9') },
              ),
            ),
            kinesis: field(kinesis),
            eventSource: text,
          },
          { requiredKeys: ['eventID'] },
        ),
      },
      { weight: 1, arbitrary: anything },
    );
    const event = fc.oneof(
      { weight: 8, arbitrary: fc.record({ Records: fc.array(record, { maxLength: 6 }) }) },
      { weight: 1, arbitrary: anything },
      { weight: 1, arbitrary: fc.constant({ Records: {} }) },
    );
    const accepted: number[] = [];
    fc.assert(
      fc.property(event, (e) => {
        const reference = z.safeParse(kinesisEventSchema, e);
        if (!reference.success) {
          expect(() => decodeKinesisEvent(e)).toThrow(z.core.$ZodError);
          return;
        }
        const shards = reference.data.Records.map((r) => r.eventID.split(':')[0]!);
        const bad = shards.findIndex((shard) => shardIdProblem(shard) !== undefined);
        if (bad >= 0) {
          expect(() => decodeKinesisEvent(e)).toThrow(new RegExp(`^Record ${bad}'s eventID names the shard`));
          return;
        }
        accepted.push(reference.data.Records.length);
        const decoded = decodeKinesisEvent(e);
        expect(decoded).toEqual(
          reference.data.Records.map((r, i) => ({
            shardId: shards[i],
            sequenceNumber: r.kinesis.sequenceNumber,
            partitionKey: r.kinesis.partitionKey,
            data: r.kinesis.data,
            approximateArrivalTimestamp: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
          })),
        );
      }),
      { numRuns: 2_000 },
    );
    // The accepting path is exercised, with events of several records.
    expect(accepted.filter((n) => n >= 2).length).toBeGreaterThan(50);
  });
});
