import { join } from 'node:path';
import fc from 'fast-check';
import { buildKinesisEvent, type EventContext } from '../../../../localstack/eventSourceMapping/kinesisEvent';
import {
  packKinesisEvent,
  UNPACK_EVENT_SOURCE,
  type PackedKinesisEvent,
} from '../../../../localstack/eventSourceMapping/packedEvent';
import { buildStreamEvent } from '../../../../localstack/eventSourceMapping/streamEvent';
import { WorkerInvoker } from '../../../../localstack/eventSourceMapping/WorkerInvoker';
import type { KinesisRecordData } from '../../../../localstack/eventSourceMapping/types';

// The worker's rebuild, from the same source the worker runs.
const unpack = new Function(`${UNPACK_EVENT_SOURCE}; return unpackKinesisEvent;`)() as (
  packed: PackedKinesisEvent,
) => unknown;

const context: EventContext = {
  shardId: 'shardId-000000000003',
  streamArn: 'arn:aws:kinesis:eu-west-1:000000000000:stream/clicks',
  region: 'eu-west-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/operator',
};

const recordArb: fc.Arbitrary<KinesisRecordData> = fc.record({
  // Any Unicode, including the characters a separator-based format would trip on.
  partitionKey: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  sequenceNumber: fc.bigInt({ min: 0n, max: 10n ** 56n }).map(String),
  data: fc.uint8Array({ maxLength: 300 }),
  approximateArrivalTimestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
});

const kinesisRecords = (n: number): KinesisRecordData[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionKey: `ключ-${i}`,
    sequenceNumber: String(49_000_000_000_000_000_000n + BigInt(i)),
    data: Buffer.from(JSON.stringify({ i, text: 'a,b;\n"c"' })),
    approximateArrivalTimestamp: 1_700_000_000_123 + i,
  }));

describe('packKinesisEvent / the worker’s unpackKinesisEvent', () => {
  it('rebuilds every Kinesis event Lambda would send with the same values in the same key order', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (records) => {
        const event = buildKinesisEvent(records, context);
        const packed = packKinesisEvent(event);
        expect(packed).toBeDefined();
        const rebuilt = unpack(packed!);
        expect(rebuilt).toEqual(event);
        // toEqual ignores key order; the handler may not.
        expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(event));
      }),
      { numRuns: 300 },
    );
  });

  it('packs the batch as its partition keys, one ASCII buffer and two typed arrays, the shared values once', () => {
    const packed = packKinesisEvent(buildKinesisEvent(kinesisRecords(3), context))!;
    expect(packed.shardId).toBe(context.shardId);
    expect(packed.shared.eventSourceARN).toBe(context.streamArn);
    expect(packed.partitionKeys).toEqual(['ключ-0', 'ключ-1', 'ключ-2']);
    expect(packed.ascii).toBeInstanceOf(Uint8Array);
    expect(packed.lengths).toBeInstanceOf(Uint32Array);
    expect(packed.lengths).toHaveLength(6);
    expect(packed.arrivals).toEqual(
      new Float64Array([1_700_000_000.123, 1_700_000_000.124, 1_700_000_000.125]),
    );
  });

  const kinesis = (): { Records: Record<string, unknown>[] } =>
    buildKinesisEvent(kinesisRecords(3), context) as unknown as { Records: Record<string, unknown>[] };
  const inner = (event: { Records: Record<string, unknown>[] }, i: number): Record<string, unknown> =>
    event.Records[i]!['kinesis'] as Record<string, unknown>;

  it.each<[string, () => unknown]>([
    ['a scheduled event', () => ({ source: 'aws.events', 'detail-type': 'Scheduled Event' })],
    ['an event without records', () => ({ Records: [] })],
    ['an event with a key beside Records', () => ({ ...kinesis(), mode: 'throw' })],
    [
      'a table stream event',
      () =>
        buildStreamEvent(
          [
            {
              partitionKey: 'k',
              sequenceNumber: '1',
              data: Buffer.from(JSON.stringify({ eventName: 'INSERT', dynamodb: {} })),
              approximateArrivalTimestamp: 1,
            },
          ],
          {
            ...context,
            streamArn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/t/stream/2026-01-01T00:00:00.000',
          },
        ),
    ],
    [
      'Records with a property beside its elements',
      () => {
        const e = kinesis();
        Object.assign(e.Records, { batchTag: 'x' });
        return e;
      },
    ],
    [
      'Records with a hole',
      () => {
        const e = kinesis();
        delete e.Records[1];
        return e;
      },
    ],
    ['Records behind a Proxy', () => ({ Records: new Proxy(kinesis().Records, {}) })],
    [
      'a record behind a Proxy',
      () => {
        const e = kinesis();
        e.Records[0] = new Proxy(e.Records[0]!, {});
        return e;
      },
    ],
    [
      'data that is not ASCII',
      () => {
        const e = kinesis();
        inner(e, 1)['data'] = 'é';
        return e;
      },
    ],
    [
      'a record with an extra key',
      () => {
        const e = kinesis();
        e.Records[1]!['extra'] = 1;
        return e;
      },
    ],
    [
      'a record missing a key',
      () => {
        const e = kinesis();
        delete e.Records[2]!['awsRegion'];
        return e;
      },
    ],
    [
      'a record whose keys are in another order',
      () => {
        const e = kinesis();
        const { kinesis: k, ...rest } = e.Records[1]!;
        e.Records[1] = { ...rest, kinesis: k };
        return e;
      },
    ],
    [
      'records from two streams',
      () => {
        const e = kinesis();
        e.Records[2]!['eventSourceARN'] = 'arn:aws:kinesis:eu-west-1:000000000000:stream/other';
        return e;
      },
    ],
    [
      'an eventID that is not shard id and sequence number',
      () => {
        const e = kinesis();
        e.Records[1]!['eventID'] = 'shardId-000000000009:' + String(inner(e, 1)['sequenceNumber']);
        return e;
      },
    ],
    [
      'data that is not a string',
      () => {
        const e = kinesis();
        inner(e, 0)['data'] = Buffer.from('x');
        return e;
      },
    ],
    [
      'an arrival time that is not a number',
      () => {
        const e = kinesis();
        inner(e, 2)['approximateArrivalTimestamp'] = '1700000000';
        return e;
      },
    ],
  ])('leaves %s unpacked (sent as it is)', (_name, make) => {
    expect(packKinesisEvent(make())).toBeUndefined();
  });
});

describe('WorkerInvoker with a Kinesis event', () => {
  let invoker: WorkerInvoker;
  beforeEach(() => {
    invoker = new WorkerInvoker({ inheritOutput: false });
  });
  afterEach(async () => {
    await invoker.close();
  });

  it('hands the handler the event it was given (packed on the way)', async () => {
    const event = buildKinesisEvent(kinesisRecords(50), context);
    expect(packKinesisEvent(event)).toBeDefined();
    const outcome = await invoker.invoke({
      fn: {
        functionName: 'echo',
        functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:echo',
        entryFile: join(__dirname, '../../../helpers/fixtures/handlers/invokerProbe.js'),
        exportName: 'echoEvent',
        timeoutSeconds: 5,
        memorySize: 128,
        environment: {},
        roleArn: 'arn:aws:iam::000000000000:role/echo',
        region: 'eu-west-1',
      },
      event,
      requestId: 'r-1',
    });
    expect(outcome).toEqual({ ok: true, payload: { text: JSON.stringify(event) } });
  });
});
