import { BatchGetItemCommand, ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient, type QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStateStore } from '../../../functions/adapters/DynamoDBStateStore';
import { StateConflictError } from '../../../functions/core/state/errors';
import type { WindowStateItem } from '../../../functions/core/types';

/** A client double: answers each `send` from a script of handlers, recording the commands. */
function scriptedClient(script: Array<(command: unknown) => unknown>): { client: DynamoDBClient; sent: unknown[] } {
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

const stored = {
  pk: { S: 'p#k' },
  sk: { S: '0000000000000000#0000000000060000' },
  pipeline: { S: 'p' },
  key: { S: 'k' },
  windowStart: { N: '0' },
  windowEnd: { N: '60000' },
  state: { S: '{"views":{"count":3}}' },
  records: { N: '3' },
  fence: { M: { s1: { S: '0005' } } },
  version: { N: '4' },
  status: { S: 'open' },
  ttl: { N: '99' },
};

const item: WindowStateItem = { pipeline: 'p', key: 'k', window: { start: 0, end: 60_000 }, state: { views: { count: 1 } }, records: 1, fence: { s1: '0003' }, version: 4, status: 'open', ttl: 99 };

function store(script: Array<(command: unknown) => unknown>, extra: Partial<ConstructorParameters<typeof DynamoDBStateStore>[0]> = {}) {
  const { client, sent } = scriptedClient(script);
  const delays: number[] = [];
  const instance = new DynamoDBStateStore({ tableName: 't', client, sleep: async (ms) => void delays.push(ms), random: () => 0.5, ...extra });
  return { instance, sent, delays };
}

describe('DynamoDBStateStore', () => {
  test('when due windows span pages, it asks each next page for only the rest of the limit and stops at the limit', async () => {
    const entry = (key: string, closeAt: number) => ({ pk: { S: `W#p#${key}` }, sk: { S: '0000000000000000#0000000000060000' }, closeAt: { N: String(closeAt) } });
    const { instance, sent } = store([
      () => ({ Items: [entry('a', 1), entry('b', 2)], LastEvaluatedKey: { pk: { S: 'p#b' } } }),
      () => ({ Items: [entry('c', 3)], LastEvaluatedKey: { pk: { S: 'p#c' } } }),
    ]);
    const due = await instance.listDueWindows('p', 10, 3);
    expect(due.map((d) => [d.key, d.closeAt])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    const inputs = sent.map((command) => (command as QueryCommand).input);
    expect(inputs.map((input) => [input.TableName, input.IndexName, input.Limit, input.ExclusiveStartKey])).toEqual([
      ['t', 'open-windows', 3, undefined],
      ['t', 'open-windows', 1, { pk: { S: 'p#b' } }],
    ]);
  });

  test('when shard progress spans pages, it reads every page consistently and keeps the pipeline row apart', async () => {
    const progress = (shardId: string) => ({ pipeline: { S: 'p' }, shardId: { S: shardId }, lastSequence: { S: '1' }, archivedSequence: { S: '0' }, lastActivity: { N: '5' }, version: { N: '1' } });
    const { instance, sent } = store([
      () => ({ Items: [progress('s1')], LastEvaluatedKey: { pk: { S: 'p#shards' } } }),
      () => ({ Items: [{ sk: { S: '#pipeline' }, closedWatermark: { N: '42' } }, progress('s2')] }),
    ]);
    const snapshot = await instance.readProgress('p');
    expect(snapshot.shards.map((shard) => shard.shardId)).toEqual(['s1', 's2']);
    expect(snapshot.pipeline).toEqual({ pipeline: 'p', closedWatermark: 42 });
    const inputs = sent.map((command) => (command as QueryCommand).input);
    expect(inputs.map((input) => [input.TableName, input.ConsistentRead, input.ExclusiveStartKey])).toEqual([
      ['t', true, undefined],
      ['t', true, { pk: { S: 'p#shards' } }],
    ]);
  });

  test('when a call is throttled, it retries with jittered, growing delays and counts every attempt', async () => {
    const { instance, delays } = store([throttled, throttled, () => ({ Responses: { t: [stored] } })]);
    const read = await instance.readWindows('p', [{ key: 'k', window: { start: 0, end: 60_000 } }]);
    expect([...read.values()][0]).toMatchObject({ records: 3, version: 4, fence: { s1: '0005' } });
    expect(delays).toEqual([25, 50]);
    expect(instance.stats).toMatchObject({ requests: 3, throttles: 2 });
  });

  test('when throttling outlasts the attempts, the error is rethrown unchanged', async () => {
    const { instance } = store([throttled, throttled], { maxAttempts: 2 });
    await expect(instance.readWindows('p', [{ key: 'k', window: { start: 0, end: 1 } }])).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });

  test('when BatchGetItem leaves keys unprocessed, it asks again for exactly those keys', async () => {
    const other = { ...stored, key: { S: 'j' }, pk: { S: 'p#j' } };
    const { instance, sent } = store([() => ({ Responses: { t: [stored] }, UnprocessedKeys: { t: { Keys: [{ pk: other.pk, sk: other.sk }] } } }), () => ({ Responses: { t: [other] } })]);
    const read = await instance.readWindows('p', [
      { key: 'k', window: { start: 0, end: 60_000 } },
      { key: 'j', window: { start: 0, end: 60_000 } },
    ]);
    expect(read.size).toBe(2);
    const second = sent[1] as BatchGetItemCommand;
    expect(second).toBeInstanceOf(BatchGetItemCommand);
    expect(second.input.RequestItems?.t?.Keys).toEqual([{ pk: other.pk, sk: other.sk }]);
    expect(second.input.RequestItems?.t?.ConsistentRead).toBe(true);
  });

  test('when a conditional write fails with ALL_OLD, the conflict carries that item without another read', async () => {
    const { instance, sent } = store([
      () => {
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {}, Item: stored });
      },
    ]);
    const error = await instance.writeWindow({ ...item, version: 5 }, { expectedVersion: 4, fenceBelow: { s1: '0003' }, status: 'open' }, 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflictError);
    expect((error as StateConflictError).existing).toMatchObject({ records: 3, fence: { s1: '0005' } });
    expect(sent).toHaveLength(1);
    const put = sent[0] as PutItemCommand;
    expect(put.input.ConditionExpression).toBe('#version = :version AND #status = :status AND (attribute_not_exists(#fence.#s0) OR #fence.#s0 < :s0)');
    expect(put.input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(put.input.Item?.openPk).toEqual({ S: 'p' });
    expect(put.input.Item?.closeAt).toEqual({ N: '60000' });
  });

  test('when a conditional write fails without an item, it re-reads consistently', async () => {
    const { instance, sent } = store([
      () => {
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
      },
      () => ({ Item: stored }),
    ]);
    const error = await instance.writeWindow({ ...item, version: 5 }, { expectedVersion: 4, fenceBelow: {} }, 60_000).catch((e: unknown) => e);
    expect((error as StateConflictError).existing).toMatchObject({ version: 4 });
    expect((sent[1] as GetItemCommand).input.ConsistentRead).toBe(true);
  });

  test('when an emitted item is written, it leaves the open-windows index', async () => {
    const { instance, sent } = store([() => ({})]);
    await instance.writeWindow({ ...item, version: 5, status: 'emitted', emissionId: 'e' }, { expectedVersion: 4, fenceBelow: {}, status: 'emitting' }, 60_000);
    const put = sent[0] as PutItemCommand;
    expect(put.input.Item?.openPk).toBeUndefined();
    expect(put.input.Item?.closeAt).toBeUndefined();
  });

  test('when a stored item is malformed, reading it fails instead of trusting it', async () => {
    const { instance } = store([() => ({ Responses: { t: [{ ...stored, status: { S: 'bogus' } }] } })]);
    await expect(instance.readWindows('p', [{ key: 'k', window: { start: 0, end: 60_000 } }])).rejects.toThrow('status must be one of open, emitting, emitted (given bogus)');
  });
});
