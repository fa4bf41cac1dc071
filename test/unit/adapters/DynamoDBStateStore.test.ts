import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStateStore } from '../../../functions/adapters/DynamoDBStateStore';
import { StateConflictError } from '../../../functions/core/state/errors';
import { progressToItem } from '../../../functions/core/state/stateItems';
import { progress, segment } from '../../helpers/stateStoreContract';

/** A client double: answers each `send` from a script of handlers, recording the commands. */
function scriptedClient(script: Array<(command: unknown) => unknown>): {
  client: DynamoDBClient;
  sent: unknown[];
} {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      const next = script.shift();
      if (next === undefined) throw new Error('unexpected call');
      return next(command);
    },
  } as unknown as DynamoDBClient;
  return { client, sent };
}

const throttled = (): never => {
  throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
};

function store(script: Array<(command: unknown) => unknown>) {
  const { client, sent } = scriptedClient(script);
  const delays: number[] = [];
  const instance = new DynamoDBStateStore({
    tableName: 't',
    client,
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
  });
  return { instance, sent, delays };
}

const cancelled = (reasons: { Code: string; Item?: unknown }[]): never => {
  throw new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: reasons as never,
  });
};

describe('DynamoDBStateStore', () => {
  test('when progress spans query pages, it follows LastEvaluatedKey with consistent reads', async () => {
    const { instance, sent } = store([
      () => ({
        Items: [progressToItem(progress('p', { shardId: 's1' }))],
        LastEvaluatedKey: { pk: { S: 'P#p' } },
      }),
      () => ({ Items: [progressToItem(progress('p', { shardId: 's2' }))] }),
    ]);
    const read = await instance.readProgress('p');
    expect(read.shards.map((s) => s.shardId)).toEqual(['s1', 's2']);
    expect(
      sent.map((c) => [
        (c as QueryCommand).input.ConsistentRead,
        (c as QueryCommand).input.ExclusiveStartKey,
      ]),
    ).toEqual([
      [true, undefined],
      [true, { pk: { S: 'P#p' } }],
    ]);
  });

  test('when a batch commits, its segment is a put conditioned on absence under attempt 0, then its progress one conditional put: no transaction', async () => {
    const { instance, sent } = store([() => ({}), () => ({})]);
    const written = await instance.writeSegment(segment('p', 1));
    await instance.commit({
      progress: progress('p', { commits: 1, version: 2 }),
      expectedVersion: 1,
      segment: written,
    });
    expect(written.attempt).toBe(0);
    expect(sent.every((c) => c instanceof PutItemCommand)).toBe(true);
    expect(
      sent.map((c) => [
        (c as PutItemCommand).input.Item?.sk,
        (c as PutItemCommand).input.ConditionExpression,
      ]),
    ).toEqual([
      [{ S: '000000000001#0000#0000' }, 'attribute_not_exists(#pk)'],
      [{ S: 'S#shardId-000000000000' }, '#version = :version'],
    ]);
  });

  test('when attempt 0 of a commit is taken, the writer reads the attempts there and writes the next one', async () => {
    const left = (attempt: number) => ({
      pk: { S: 'C#p#shardId-000000000000' },
      sk: { S: `000000000001#000${attempt}#0000` },
    });
    const { instance, sent } = store([
      () => {
        throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      },
      () => ({ Items: [left(0), left(2)] }),
      () => ({}),
    ]);
    const written = await instance.writeSegment(segment('p', 1));
    expect(written.attempt).toBe(3);
    expect((sent[1] as QueryCommand).input.ExpressionAttributeValues).toMatchObject({
      ':low': { S: '000000000001#0000#0000' },
      ':high': { S: '000000000001#9999#9999' },
    });
    expect((sent[2] as PutItemCommand).input.Item?.sk).toEqual({ S: '000000000001#0003#0000' });
  });

  test('when a first commit is sent, the transaction checks the pipeline closed watermark it started from', async () => {
    const { instance, sent } = store([() => ({})]);
    await instance.commit({
      progress: progress('p', { frozen: 5 }),
      expectedVersion: undefined,
      closedWatermarkRead: 5,
    });
    const actions = (sent[0] as TransactWriteItemsCommand).input.TransactItems ?? [];
    expect(actions[1]?.ConditionCheck).toMatchObject({
      Key: { pk: { S: 'P#p' }, sk: { S: '#pipeline' } },
      ConditionExpression: '#cw = :cw AND (attribute_not_exists(#ce) OR attribute_type(#ce, :null))',
      ExpressionAttributeNames: { '#cw': 'closedWatermark', '#ce': 'closedEnd' },
      ExpressionAttributeValues: { ':cw': { N: '5' }, ':null': { S: 'NULL' } },
    });
  });

  test('when a first commit read a pipeline closedEnd, the transaction checks it too', async () => {
    const { instance, sent } = store([() => ({})]);
    await instance.commit({
      progress: progress('p', { frozen: 5, closedEnd: 3 }),
      expectedVersion: undefined,
      closedWatermarkRead: 5,
      closedEndRead: 3,
    });
    const actions = (sent[0] as TransactWriteItemsCommand).input.TransactItems ?? [];
    expect(actions[1]?.ConditionCheck).toMatchObject({
      ConditionExpression: '#cw = :cw AND #ce = :ce',
      ExpressionAttributeValues: { ':cw': { N: '5' }, ':ce': { N: '3' } },
    });
    expect((actions[0]?.Put?.Item as Record<string, unknown>).closedEnd).toEqual({ N: '3' });
  });

  test('when a commit has no segment and no pipeline check, it is one conditional put', async () => {
    const { instance, sent } = store([() => ({})]);
    await instance.commit({ progress: progress('p', { version: 2 }), expectedVersion: 1 });
    expect(sent[0]).toBeInstanceOf(PutItemCommand);
    expect((sent[0] as PutItemCommand).input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  test('when the progress condition fails in a transaction, it throws a conflict carrying the stored progress', async () => {
    const winner = progress('p', { version: 2, lastSequence: '9'.repeat(64) });
    const { instance } = store([
      () => cancelled([{ Code: 'ConditionalCheckFailed', Item: progressToItem(winner) }, { Code: 'None' }]),
    ]);
    const error = await instance
      .commit({ progress: progress('p'), expectedVersion: undefined, closedWatermarkRead: -Infinity })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflictError);
    expect((error as StateConflictError).existing).toEqual(winner);
  });

  test('when a transaction is cancelled by throttling, it is retried with jitter, not reported as a conflict', async () => {
    const { instance, sent, delays } = store([
      () => cancelled([{ Code: 'ThrottlingError' }, { Code: 'None' }]),
      () => ({}),
    ]);
    await instance.commit({
      progress: progress('p'),
      expectedVersion: undefined,
      closedWatermarkRead: -Infinity,
    });
    expect(sent).toHaveLength(2);
    expect(delays).toEqual([25]);
    expect(instance.stats).toMatchObject({ throttles: 1, conflicts: 0, requests: 2 });
  });

  test('when a conditional put fails without ALL_OLD, the stored progress is read consistently', async () => {
    const stored = progress('p', { version: 7 });
    const { instance, sent } = store([
      () => {
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
      },
      () => ({ Item: progressToItem(stored) }),
    ]);
    const error = await instance
      .commit({ progress: progress('p', { version: 2 }), expectedVersion: 1 })
      .catch((e: unknown) => e);
    expect((error as StateConflictError).existing).toEqual(stored);
    expect((sent[1] as GetItemCommand).input.ConsistentRead).toBe(true);
  });

  test('when a throttled call keeps failing, it gives up after maxAttempts with growing capped delays', async () => {
    const { instance, delays } = store(Array.from({ length: 6 }, () => throttled));
    await expect(instance.readProgress('p')).rejects.toThrow('slow down');
    expect(delays).toEqual([25, 50, 100, 200, 400]);
  });

  test('when a pipeline mark is already higher, the failed condition returns the stored marks', async () => {
    const { instance, sent } = store([
      () => {
        throw new ConditionalCheckFailedException({
          message: 'failed',
          $metadata: {},
          Item: { pipeline: { S: 'p' }, closedWatermark: { N: '90' } },
        });
      },
    ]);
    await expect(instance.raisePipeline('p', { closedWatermark: 10 })).resolves.toEqual({
      pipeline: 'p',
      closedWatermark: 90,
      emittedThrough: -Infinity,
    });
    expect((sent[0] as UpdateItemCommand).input.ConditionExpression).toBe(
      '(attribute_not_exists(#m0) OR attribute_type(#m0, :null) OR #m0 < :m0)',
    );
  });

  test('when options are out of range, construction fails naming the value', () => {
    expect(() => new DynamoDBStateStore({ tableName: 't', maxAttempts: 0 })).toThrow(
      'maxAttempts must be an integer between 1 and 20 inclusive (given 0)',
    );
    expect(() => new DynamoDBStateStore({ tableName: '' })).toThrow('tableName must not be empty');
  });
});
