import { decodeDynamoDBStreamEvent } from '../../../functions/adapters/dynamoDBStreamEventCodec';
import {
  describeTableStreamShards,
  TableShardResolver,
  type TableStreamShard,
} from '../../../functions/adapters/tableStreamShards';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { orderItem, streamRecord, TABLE_STREAM_ARN } from '../../helpers/dynamoStreamRecords';

const T = 1_767_225_600; // 2026-01-01T00:00:00Z in seconds
const NOW = () => T * 1000 + 60_000;
const shards: TableStreamShard[] = [
  { id: 'shardId-old', parents: [], open: false, starting: '100', ending: '199' },
  { id: 'shardId-new', parents: ['shardId-old'], open: true, starting: '200' },
];
const resolver = {
  shardOf: jest.fn(async (_arn: string, seq: string) => (Number(seq) < 200 ? shards[0]! : shards[1]!)),
  named: jest.fn(),
};
const decode = (...records: unknown[]) =>
  decodeDynamoDBStreamEvent({ Records: records }, 'NEW_AND_OLD_IMAGES', resolver, NOW);
const payload = (data: string) => JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;

describe('DynamoDB-stream event codec', () => {
  beforeEach(() => {
    resolver.shardOf.mockClear();
    resolver.named.mockClear();
  });

  it('when changes are valid, each becomes a record of the batch’s shard carrying the unmarshalled change, its time in ms and its sequence number', async () => {
    const records = await decode(
      streamRecord('INSERT', '210', T + 0.5, { NewImage: orderItem('o1', 'eu', 10) }),
      streamRecord('MODIFY', '220', T + 1, {
        NewImage: { ...orderItem('o1', 'eu', 25), tags: { SS: ['a', 'b'] }, blob: { B: 'AAE=' } },
        OldImage: orderItem('o1', 'eu', 10),
      }),
      streamRecord('REMOVE', '230', T + 2, { OldImage: orderItem('o1', 'eu', 25) }),
    );
    expect(resolver.shardOf).toHaveBeenCalledWith(TABLE_STREAM_ARN, '210', T * 1000 + 500);
    expect(
      records.map((r) => [r.shardId, r.sequenceNumber, r.approximateArrivalTimestamp, r.rejection]),
    ).toEqual([
      ['shardId-new', '210', T * 1000 + 500, undefined],
      ['shardId-new', '220', T * 1000 + 1000, undefined],
      ['shardId-new', '230', T * 1000 + 2000, undefined],
    ]);
    expect(records.map((r) => payload(r.data))).toEqual([
      {
        eventName: 'INSERT',
        keys: { orderId: 'o1' },
        newImage: { orderId: 'o1', region: 'eu', amount: 10 },
        eventTime: T * 1000 + 500,
      },
      {
        eventName: 'MODIFY',
        keys: { orderId: 'o1' },
        newImage: { orderId: 'o1', region: 'eu', amount: 25, tags: ['a', 'b'], blob: 'AAE=' },
        oldImage: { orderId: 'o1', region: 'eu', amount: 10 },
        eventTime: T * 1000 + 1000,
      },
      {
        eventName: 'REMOVE',
        keys: { orderId: 'o1' },
        oldImage: { orderId: 'o1', region: 'eu', amount: 25 },
        eventTime: T * 1000 + 2000,
      },
    ]);
    expect(records[0]!.partitionKey).toBe('{"orderId":"o1"}');
  });

  it('when records are hostile, each becomes a rejection with its reason, fenced in the batch’s shard', async () => {
    const item = orderItem('o1', 'eu', 1);
    const records = await decode(
      streamRecord('MODIFY', '101', T, { NewImage: item }),
      streamRecord('INSERT', '102', T, { OldImage: item }),
      streamRecord('INSERT', '103', 'yesterday', { NewImage: item }),
      streamRecord('INSERT', '104', 1e12, { NewImage: item }),
      streamRecord('INSERT', '105', 100, { NewImage: item }),
      streamRecord('INSERT', '106', T, { NewImage: item }, { SizeBytes: 2_000_000 }),
      streamRecord('INSERT', '107', T, { NewImage: { ...item, big: { N: '123456789012345678901' } } }),
      streamRecord('INSERT', '108', T, { NewImage: { ...item, bad: { X: '1' } } }),
      streamRecord('INSERT', '109', T, { NewImage: { ...item, nan: { N: 'abc' } } }),
      streamRecord('UPSERT', '110', T, { NewImage: item }),
      streamRecord('INSERT', '111', T, { NewImage: { ...item, huge: { S: 'x'.repeat(1_100_000) } } }),
      streamRecord('INSERT', 'abc', T, { NewImage: item }),
      { eventName: 'INSERT' },
      streamRecord('INSERT', '112', T, { NewImage: item }),
    );
    expect(resolver.shardOf).toHaveBeenCalledWith(TABLE_STREAM_ARN, '101', T * 1000);
    expect(records.every((r) => r.shardId === 'shardId-old')).toBe(true);
    expect(records.map((r) => [r.sequenceNumber, r.subSequenceNumber, r.rejection?.reason])).toEqual([
      ['101', undefined, 'INVALID_CHANGE_RECORD'],
      ['102', undefined, 'INVALID_CHANGE_RECORD'],
      ['103', undefined, 'INVALID_CHANGE_RECORD'],
      ['104', undefined, 'INVALID_CHANGE_RECORD'],
      ['105', undefined, 'INVALID_CHANGE_RECORD'],
      ['106', undefined, 'OVERSIZE_RECORD'],
      ['107', undefined, 'INVALID_CHANGE_RECORD'],
      ['108', undefined, 'INVALID_CHANGE_RECORD'],
      ['109', undefined, 'INVALID_CHANGE_RECORD'],
      ['110', undefined, 'INVALID_CHANGE_RECORD'],
      ['111', undefined, 'OVERSIZE_RECORD'],
      ['111', 1, 'INVALID_CHANGE_RECORD'],
      ['111', 2, 'INVALID_CHANGE_RECORD'],
      ['112', undefined, undefined],
    ]);
    const details = records.map((r) => r.rejection?.detail ?? '');
    expect(details[0]).toBe('MODIFY without OldImage on a NEW_AND_OLD_IMAGES stream');
    expect(details[1]).toBe('INSERT without NewImage on a NEW_AND_OLD_IMAGES stream');
    expect(details[2]).toMatch(/ApproximateCreationDateTime "yesterday" is not epoch seconds/);
    expect(details[3]).toMatch(/ApproximateCreationDateTime 1000000000000 /);
    expect(details[4]).toMatch(/ApproximateCreationDateTime 100 /);
    expect(details[5]).toMatch(
      /stream record of 2000000 bytes \(SizeBytes\) exceeds 822782 bytes, two items of DynamoDB's 409600-byte limit and their key/,
    );
    expect(details[6]).toMatch(
      /number "123456789012345678901" has no exact JSON number: an integer beyond 2\^53/,
    );
    expect(details[7]).toMatch(/dynamodb.NewImage is not DynamoDB JSON: .*X/);
    expect(details[8]).toMatch(/number "abc" has no exact JSON number: not a decimal number/);
    expect(details[9]).toMatch(/eventName "UPSERT" is not INSERT, MODIFY or REMOVE/);
    expect(details[10]).toMatch(
      /change of 1100\d{3} bytes as JSON exceeds 66336 bytes, the most its stream record of 100 bytes \(SizeBytes\) inflates to/,
    );
    expect(details[11]).toMatch(/SequenceNumber "abc" is not a decimal sequence number/);
    expect(details[12]).toBe('record has no dynamodb object');
    // A rejected record keeps its raw record (bounded later by the reject path) and files under a valid time.
    expect(payload(records[0]!.data)).toMatchObject({ eventName: 'MODIFY' });
    expect(records[2]!.approximateArrivalTimestamp).toBe(T * 1000);
  });

  it('when the event is not a stream event or no record can be fenced, it throws naming why', async () => {
    await expect(decodeDynamoDBStreamEvent({}, 'NEW_IMAGE', resolver)).rejects.toThrow(/has a Records array/);
    await expect(decodeDynamoDBStreamEvent({ Records: [] }, 'NEW_IMAGE', resolver)).resolves.toEqual([]);
    await expect(decode(streamRecord('INSERT', 'x', T, {}), { dynamodb: {} })).rejects.toThrow(
      /None of the event's 2 records has a valid dynamodb.SequenceNumber and eventSourceARN/,
    );
  });
});

describe('DynamoDB-stream event codec: size in DynamoDB’s unit', () => {
  const decodeView = (view: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES', ...records: unknown[]) =>
    decodeDynamoDBStreamEvent({ Records: records }, view, resolver, NOW);

  it('when a MODIFY of a valid 390 KB item with a binary attribute (NEW_AND_OLD_IMAGES) takes more than 1 MiB as JSON, it is not rejected: Kinesis’ limit is not DynamoDB’s', async () => {
    const blob = Buffer.alloc(390 * 1024, 7).toString('base64'); // as Lambda's event carries B
    const item = (v: string) => ({ orderId: { S: 'o1' }, status: { S: v }, blob: { B: blob } });
    const [record] = await decodeView(
      'NEW_AND_OLD_IMAGES',
      streamRecord(
        'MODIFY',
        '100',
        T,
        { NewImage: item('paid'), OldImage: item('new') },
        { SizeBytes: 2 * (390 * 1024 + 30) },
      ),
    );
    expect(record!.rejection).toBeUndefined();
    expect(Buffer.from(record!.data, 'base64').length).toBeGreaterThan(1024 * 1024);
  });

  it('when an INSERT of a valid 200 KB item holds control characters (six bytes each as JSON), it is not rejected', async () => {
    const note = '\u0001'.repeat(200_000); // 200,000 bytes of UTF-8: a valid DynamoDB string
    const [record] = await decodeView(
      'NEW_IMAGE',
      streamRecord(
        'INSERT',
        '100',
        T,
        { NewImage: { orderId: { S: 'o1' }, note: { S: note } } },
        { SizeBytes: 200_020, StreamViewType: 'NEW_IMAGE' },
      ),
    );
    expect(record!.rejection).toBeUndefined();
  });

  it('when a record is larger than DynamoDB writes (SizeBytes over two items and a key, or JSON beyond what its SizeBytes inflates to, or beyond any record without SizeBytes), it is rejected OVERSIZE_RECORD naming the limit', async () => {
    const item = orderItem('o1', 'eu', 1);
    const records = await decodeView(
      'NEW_AND_OLD_IMAGES',
      streamRecord('INSERT', '100', T, { NewImage: item }, { SizeBytes: 822_783 }),
      streamRecord('INSERT', '101', T, { NewImage: item }, { SizeBytes: 822_782 }),
      streamRecord(
        'INSERT',
        '102',
        T,
        { NewImage: { ...item, s: { S: 'x'.repeat(300_000) } } },
        { SizeBytes: 200 },
      ),
      streamRecord(
        'INSERT',
        '103',
        T,
        { NewImage: { ...item, s: { S: 'x'.repeat(7_000_000) } } },
        { SizeBytes: undefined },
      ),
    );
    expect(records.map((r) => r.rejection?.reason)).toEqual([
      'OVERSIZE_RECORD',
      undefined,
      'OVERSIZE_RECORD',
      'OVERSIZE_RECORD',
    ]);
    expect(records[0]!.rejection!.detail).toBe(
      "stream record of 822783 bytes (SizeBytes) exceeds 822782 bytes, two items of DynamoDB's 409600-byte limit and their key",
    );
    expect(records[2]!.rejection!.detail).toMatch(
      /^change of 300\d{3} bytes as JSON exceeds 67136 bytes, the most its stream record of 200 bytes \(SizeBytes\) inflates to$/,
    );
    expect(records[3]!.rejection!.detail).toMatch(
      /^change of 7000\d{3} bytes as JSON exceeds 6647792 bytes, the most a stream record of 822782 bytes inflates to$/,
    );
  });
});

describe('DynamoDB-stream event codec: numbers', () => {
  const amountOf = async (n: string) => {
    const [record] = await decode(
      streamRecord('INSERT', '100', T, { NewImage: { orderId: { S: 'o1' }, amount: { N: n } } }),
    );
    return record!;
  };

  it.each(['12345678901234567890.5', '9007199254740993.25', '-98765432109876543210.125'])(
    'when the number %s is beyond 2^53 and a double would read another value, the change is refused naming it, never rounded',
    async (n) => {
      const record = await amountOf(n);
      expect(record.rejection).toEqual({
        reason: 'INVALID_CHANGE_RECORD',
        detail: expect.stringMatching(
          new RegExp(
            `^number "${n}" has no exact JSON number: beyond 2\\^53 with more significant digits than a double keeps \\(it would read [0-9.e+-]+\\)$`,
          ),
        ),
      });
    },
  );

  it.each([
    ['0.1000000000000000055511151231257827', 0.1],
    // Decimal(1) / Decimal(3), as boto3 writes it: carried as any JSON number is, to the nearest double.
    ['0.3333333333333333333333333333', 1 / 3],
  ])(
    'when the number %s within 2^53 has more digits than a double keeps, it is carried as the nearest double, as a JSON number is',
    async (n, expected) => {
      const record = await amountOf(n);
      expect(record.rejection).toBeUndefined();
      expect((payload(record.data) as { newImage: { amount: number } }).newImage.amount).toBe(expected);
    },
  );

  it.each([
    ['0.1', 0.1],
    ['19.99', 19.99],
    ['1e-7', 1e-7],
    ['-0.30000000000000004', -0.30000000000000004],
    ['123456789012345.6', 123456789012345.6],
    ['1.0000000000000000000', 1],
    ['9007199254740991', 9007199254740991],
    ['1E+300', 1e300],
  ])('when the number %s is one a double carries, the change holds it', async (n, expected) => {
    const record = await amountOf(n);
    expect(record.rejection).toBeUndefined();
    expect((payload(record.data) as { newImage: { amount: number } }).newImage.amount).toBe(expected);
  });
});

describe('DynamoDB-stream event codec: Time to Live', () => {
  const TTL = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

  it('when a REMOVE was done by TTL (userIdentity of DynamoDB’s service principal), the change says expired: true; a user’s REMOVE and other identities do not', async () => {
    const remove = (seq: string, extra: Record<string, unknown>) => ({
      ...streamRecord('REMOVE', seq, T, { OldImage: orderItem('o1', 'eu', 10) }),
      ...extra,
    });
    const records = await decode(
      remove('100', { userIdentity: TTL }),
      remove('101', {}),
      remove('102', { userIdentity: { type: 'Service', principalId: 'other.amazonaws.com' } }),
      remove('103', { userIdentity: 'dynamodb.amazonaws.com' }),
      { ...streamRecord('INSERT', '104', T, { NewImage: orderItem('o1', 'eu', 10) }), userIdentity: TTL },
    );
    expect(records.map((r) => r.rejection)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const changes = records.map((r) => payload(r.data) as Record<string, unknown>);
    expect(changes.map((c) => c['expired'])).toEqual([true, undefined, undefined, undefined, undefined]);
    expect(changes[0]).toEqual({
      eventName: 'REMOVE',
      keys: { orderId: 'o1' },
      oldImage: { orderId: 'o1', region: 'eu', amount: 10 },
      eventTime: T * 1000,
      expired: true,
    });
  });
});

describe('DynamoDB-stream event codec: attributes named __proto__ or constructor', () => {
  it.each([
    ['__proto__ (string)', '{"orderId":{"S":"o1"},"__proto__":{"S":"v"}}', '__proto__'],
    ['__proto__ (map)', '{"orderId":{"S":"o1"},"__proto__":{"M":{"isAdmin":{"BOOL":true}}}}', '__proto__'],
    ['__proto__ in a nested map', '{"orderId":{"S":"o1"},"a":{"M":{"__proto__":{"N":"1"}}}}', 'a.__proto__'],
    [
      '__proto__ in a map in a list',
      '{"orderId":{"S":"o1"},"l":{"L":[{"S":"x"},{"M":{"__proto__":{"S":"y"}}}]}}',
      'l[1].__proto__',
    ],
  ])(
    'when an image has an attribute %s, the change is refused whole naming it, never delivered without it; rejected/ keeps the record as it came',
    async (_what, json, path) => {
      // As Lambda's JSON parser builds it: an own property named "__proto__".
      const newImage = JSON.parse(json) as Record<string, unknown>;
      const [record] = await decode(streamRecord('INSERT', '100', T, { NewImage: newImage }));
      expect(record!.rejection).toEqual({
        reason: 'INVALID_CHANGE_RECORD',
        detail: `dynamodb.NewImage has an attribute "${path}": a table change does not carry attributes named __proto__`,
      });
      const raw = Buffer.from(record!.data, 'base64').toString('utf8');
      expect(raw).toContain(json);
      expect(Object.getPrototypeOf(newImage)).toBe(Object.prototype);
    },
  );

  it('when a key or an old image has an attribute __proto__, the change is refused naming its field', async () => {
    const records = await decode(
      streamRecord('REMOVE', '100', T, {
        Keys: JSON.parse('{"__proto__":{"S":"k"}}'),
        OldImage: JSON.parse('{"__proto__":{"S":"k"}}'),
      }),
      streamRecord('MODIFY', '101', T, {
        NewImage: orderItem('o1', 'eu', 1),
        OldImage: JSON.parse('{"orderId":{"S":"o1"},"meta":{"M":{"__proto__":{"N":"2"}}}}'),
      }),
    );
    expect(records.map((r) => r.rejection?.detail)).toEqual([
      'dynamodb.Keys has an attribute "__proto__": a table change does not carry attributes named __proto__',
      'dynamodb.OldImage has an attribute "meta.__proto__": a table change does not carry attributes named __proto__',
    ]);
  });

  it('when an item has an ordinary attribute named constructor (an F1 results table), the change is delivered with it, and look-alike names are carried', async () => {
    const newImage = JSON.parse(
      '{"orderId":{"S":"o1"},"constructor":{"S":"Williams"},"proto":{"S":"a"},"Constructor":{"M":{"__proto":{"S":"b"}}}}',
    );
    const [record] = await decode(streamRecord('INSERT', '100', T, { NewImage: newImage }));
    expect(record!.rejection).toBeUndefined();
    const raw = JSON.parse(Buffer.from(record!.data, 'base64').toString('utf8')) as {
      newImage: Record<string, unknown>;
    };
    expect(raw.newImage).toEqual({
      orderId: 'o1',
      constructor: 'Williams',
      proto: 'a',
      Constructor: { __proto: 'b' },
    });
  });
});

describe('DynamoDB-stream event codec, with the shard named (a mapping with a tumbling window)', () => {
  const window = { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:15:00Z' };
  const windowEvent = (records: unknown[], extra: Record<string, unknown> = {}) => ({
    Records: records,
    window,
    state: {},
    shardId: 'shardId-00000001767225600000-2bac9cd2',
    eventSourceARN: TABLE_STREAM_ARN,
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
    ...extra,
  });
  const decodeWindow = (event: unknown) =>
    decodeDynamoDBStreamEvent(event, 'NEW_AND_OLD_IMAGES', resolver, NOW);

  beforeEach(() => {
    resolver.shardOf.mockClear();
    resolver.named.mockClear();
  });

  it('when the event names its shard, every record is of that shard, whatever its sequence number, and nothing is described; the shard is noted with its stream', async () => {
    const records = await decodeWindow(
      windowEvent([
        streamRecord('INSERT', '150', T, { NewImage: orderItem('o1', 'eu', 10) }),
        streamRecord('INSERT', 'abc', T, { NewImage: orderItem('o2', 'eu', 10) }),
        streamRecord('INSERT', '250', T, { NewImage: orderItem('o3', 'eu', 10) }),
      ]),
    );
    expect(
      records.map((r) => [r.shardId, r.sequenceNumber, r.subSequenceNumber, r.rejection?.reason]),
    ).toEqual([
      ['shardId-00000001767225600000-2bac9cd2', '150', undefined, undefined],
      ['shardId-00000001767225600000-2bac9cd2', '150', 1, 'INVALID_CHANGE_RECORD'],
      ['shardId-00000001767225600000-2bac9cd2', '250', undefined, undefined],
    ]);
    expect(resolver.shardOf).not.toHaveBeenCalled();
    expect(resolver.named).toHaveBeenCalledWith(TABLE_STREAM_ARN, 'shardId-00000001767225600000-2bac9cd2');
  });

  it('when the named shard is hostile (not a string, empty, too long, a path part, option-like, other characters), the batch fails naming it', async () => {
    const record = streamRecord('INSERT', '250', T, { NewImage: orderItem('o1', 'eu', 10) });
    for (const [shardId, shown] of [
      [42, '42'],
      [{ id: 'x' }, '{"id":"x"}'],
      ['', '""'],
      ['s'.repeat(129), `"${'s'.repeat(64)}"`],
      ['shardId/../../state', '"shardId/../../state"'],
      ['.', '"."'],
      ['..', '".."'],
      ['-x', '"-x"'],
      ['_x', '"_x"'],
      ['shard id', '"shard id"'],
      ['shard\u0000', '"shard\\u0000"'],
    ] as const) {
      await expect(decodeWindow(windowEvent([record], { shardId }))).rejects.toThrow(
        new RegExp(
          `^The event's shardId ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is|holds|does) [^:]*: a shard id is 1–128 letters, digits, '_', '\\.', '-', the first a letter or digit; the batch cannot be fenced, check what invokes this function$`,
        ),
      );
    }
    // Even a final invocation, which has no records.
    await expect(decodeWindow(windowEvent([], { shardId: 7, isFinalInvokeForWindow: true }))).rejects.toThrow(
      /shardId 7 is a number, not a string/,
    );
    expect(resolver.shardOf).not.toHaveBeenCalled();
    expect(resolver.named).not.toHaveBeenCalled();
  });

  it('when it is the final invocation of a window, it has no records and decodes to none', async () => {
    await expect(decodeWindow(windowEvent([], { isFinalInvokeForWindow: true }))).resolves.toEqual([]);
    expect(resolver.shardOf).not.toHaveBeenCalled();
  });

  it('when no record has a valid sequence number, it throws: nothing to fence them by', async () => {
    await expect(decodeWindow(windowEvent([streamRecord('INSERT', 'x', T, {})]))).rejects.toThrow(
      /None of the event's 1 records has a valid dynamodb.SequenceNumber:/,
    );
  });
});

describe('table stream shards', () => {
  const pages = (...lists: TableStreamShard[][]) => {
    const send = jest.fn(async (command: { input: { ExclusiveStartShardId?: string } }) => {
      const index =
        command.input.ExclusiveStartShardId === undefined
          ? 0
          : Number(command.input.ExclusiveStartShardId.split('@')[1]);
      const list = lists[index]!;
      return {
        StreamDescription: {
          Shards: list.map((s) => ({
            ShardId: s.id,
            ...(s.parents[0] !== undefined ? { ParentShardId: s.parents[0] } : {}),
            SequenceNumberRange: {
              StartingSequenceNumber: s.starting,
              ...(s.ending !== undefined ? { EndingSequenceNumber: s.ending } : {}),
            },
          })),
          ...(index + 1 < lists.length ? { LastEvaluatedShardId: `page@${index + 1}` } : {}),
        },
      };
    });
    return { client: { send } as unknown as DynamoDBStreamsClient, send };
  };

  it('describes every page of the stream', async () => {
    const { client, send } = pages([shards[0]!], [shards[1]!]);
    await expect(describeTableStreamShards(client, TABLE_STREAM_ARN)).resolves.toEqual(shards);
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('finds the shard whose range holds a sequence number: a closed shard from the cache, an open one only for a change written before the description; else it describes again; it knows a shard’s parent', async () => {
    const child: TableStreamShard = {
      id: 'shardId-child',
      parents: ['shardId-new'],
      open: true,
      starting: '300',
    };
    let described: TableStreamShard[] = shards;
    let now = 10_000_000;
    const describe = jest.fn(async () => described);
    const r = new TableShardResolver(describe, () => now);
    await expect(r.shardOf(TABLE_STREAM_ARN, '150', now)).resolves.toMatchObject({ id: 'shardId-old' });
    expect(describe).toHaveBeenCalledTimes(1);
    now += 60_000;
    // Closed shard: its range is final, the cache answers.
    await expect(r.shardOf(TABLE_STREAM_ARN, '00000199', now)).resolves.toMatchObject({ id: 'shardId-old' });
    // Open shard, change written well before the description: the cache answers.
    await expect(r.shardOf(TABLE_STREAM_ARN, '250', now - 70_000)).resolves.toMatchObject({
      id: 'shardId-new',
    });
    expect(describe).toHaveBeenCalledTimes(1);
    // Open shard, change newer than the description: the shard may have split since; it has.
    described = [shards[0]!, { ...shards[1]!, open: false, ending: '299' }, child];
    await expect(r.shardOf(TABLE_STREAM_ARN, '300', now)).resolves.toMatchObject({ id: 'shardId-child' });
    expect(describe).toHaveBeenCalledTimes(2);
    await expect(r.shardOf(TABLE_STREAM_ARN, '250', undefined)).resolves.toMatchObject({ id: 'shardId-new' });
    expect(describe).toHaveBeenCalledTimes(2);
    await expect(r.shardOf(TABLE_STREAM_ARN, '50', now)).rejects.toThrow(
      /No shard of stream .* holds sequence number 50 \(3 shards described\)/,
    );
    expect(describe).toHaveBeenCalledTimes(3);
    await expect(r.parentsOf('shardId-child')).resolves.toEqual(['shardId-new']);
    await expect(r.parentsOf('unknown')).resolves.toEqual([]);
    expect(describe).toHaveBeenCalledTimes(3);
  });
});
