/**
 * The DynamoDB side of savepoints (`core/state/savepointCut.ts` says why this read is one moment of the
 * commit chain): reading a pipeline's cut from the state table, reading what a target table holds of a
 * pipeline, and writing a savepoint's items into a table with puts conditioned on their absence.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../core/constants';
import { mapWithConcurrency } from '../core/state/concurrency';
import { progressPartitionKey, segmentPartitionKey, segmentSortKeyRange } from '../core/state/keys';
import {
  cutItems,
  sameCollect,
  SavepointError,
  segmentRanges,
  type RestoreWrite,
} from '../core/state/savepointCut';
import { savepointItemLine } from '../core/state/savepointFormat';
import { itemKey, type StateItem } from '../core/state/stateItems';

type Item = Record<string, AttributeValue>;
const { PARTITION_KEY: PK, SORT_KEY: SK } = STATE_TABLE;
const toSdk = (item: StateItem): Item => item as Item;
const fromSdk = (item: Item): StateItem => item as StateItem;

/** Items one `TransactGetItems` reads. */
const TRANSACT_GET_LIMIT = 100;
/** Reads of the progress partition before the cut gives up (every one lost to a commit in between). */
const CUT_ATTEMPTS = 20;

async function queryAll(client: DynamoDBClient, input: QueryCommandInput): Promise<StateItem[]> {
  const items: StateItem[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    for (const item of page.Items ?? []) items.push(fromSdk(item));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

/** Every item of the pipeline's progress partition (strongly consistent); only the keys with `keysOnly`. */
export function readProgressPartition(
  client: DynamoDBClient,
  table: string,
  pipeline: string,
  keysOnly = false,
): Promise<StateItem[]> {
  return queryAll(client, {
    TableName: table,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': PK, ...(keysOnly ? { '#sk': SK } : {}) },
    ExpressionAttributeValues: { ':pk': { S: progressPartitionKey(pipeline) } },
    ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
    ConsistentRead: true,
  });
}

const keysText = (items: readonly StateItem[]): string =>
  items
    .map((item) => itemKey(item).sk)
    .sort()
    .join('\n');

/**
 * The progress partition at one moment: one `TransactGetItems` of every key (serializable with every
 * write), taken between two key listings that agree; past 100 items or 4 MB, two full reads that agree.
 */
async function atomicProgress(client: DynamoDBClient, table: string, pipeline: string): Promise<StateItem[]> {
  let transact = true;
  for (let attempt = 1; attempt <= CUT_ATTEMPTS; attempt++) {
    const keys = await readProgressPartition(client, table, pipeline, true);
    if (keys.length === 0) return [];
    let items: StateItem[];
    if (transact && keys.length <= TRANSACT_GET_LIMIT) {
      try {
        const read = await client.send(
          new TransactGetItemsCommand({
            TransactItems: keys.map((key) => ({
              Get: { TableName: table, Key: { [PK]: toSdk(key)[PK]!, [SK]: toSdk(key)[SK]! } },
            })),
          }),
        );
        items = (read.Responses ?? []).flatMap((r) => (r.Item === undefined ? [] : [fromSdk(r.Item)]));
      } catch (error) {
        // A transaction in flight on one of the items (a shard's first commit): read again.
        if (error instanceof TransactionCanceledException) continue;
        // More than the 4 MB one transaction reads (large progress items): two reads that agree instead.
        if ((error as { name?: unknown }).name === 'ValidationException') {
          transact = false;
          continue;
        }
        throw error;
      }
      if (keysText(await readProgressPartition(client, table, pipeline, true)) === keysText(keys))
        return items;
    } else {
      items = await readProgressPartition(client, table, pipeline);
      if (sameCollect(items, await readProgressPartition(client, table, pipeline))) return items;
    }
  }
  throw new SavepointError(
    `The shards of ${pipeline} committed during each of ${CUT_ATTEMPTS} reads of their progress: pause the pipeline's event source mapping and take the savepoint again`,
  );
}

/**
 * The cut of `pipeline` in `table` (`savepointCut.ts`): its progress partition at one moment, then the
 * committed segment chunks its shard items name, in key order.
 */
export async function readStateCut(
  client: DynamoDBClient,
  table: string,
  pipeline: string,
): Promise<StateItem[]> {
  const progress = await atomicProgress(client, table, pipeline);
  const segments = new Map<string, StateItem[]>();
  for (const { shard, from, to } of segmentRanges(progress)) {
    const { low, high } = segmentSortKeyRange(from, to);
    segments.set(
      shard.shardId,
      await queryAll(client, {
        TableName: table,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': { S: segmentPartitionKey(pipeline, shard.shardId) },
          ':low': { S: low },
          ':high': { S: high },
        },
        ConsistentRead: true,
      }),
    );
  }
  return cutItems(progress, segments);
}

/**
 * Makes the puts of a restore (`restoreWrites`) in their order, each conditioned on its key's absence or on
 * the stored version it names, `concurrency` at a time within each kind so a later kind never lands before an
 * earlier one. A put whose condition fails is accepted only when the stored item is the one it writes (a
 * restore cut short, run again). Calls `onProgress` after every write.
 */
export async function writeStateItems(
  client: DynamoDBClient,
  table: string,
  writes: readonly RestoreWrite[],
  options: {
    readonly concurrency?: number;
    readonly onProgress?: (written: number, total: number) => void;
  } = {},
): Promise<{ readonly written: number; readonly present: number }> {
  let written = 0;
  let present = 0;
  const phase = (item: StateItem): string => {
    const { pk, sk } = itemKey(item);
    return pk.startsWith('C#') ? 'segment' : sk.startsWith('S#') ? 'shard' : sk;
  };
  const phases: RestoreWrite[][] = [];
  for (const write of writes) {
    const last = phases.at(-1);
    if (last !== undefined && phase(last[0]!.item) === phase(write.item)) last.push(write);
    else phases.push([write]);
  }
  for (const group of phases) {
    await mapWithConcurrency(group, options.concurrency ?? 16, async ({ item, expectedVersion }) => {
      try {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: toSdk(item),
            ...(expectedVersion === undefined
              ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
              : {
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } },
                }),
          }),
        );
        written += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const { pk, sk } = itemKey(item);
        const stored = await client.send(
          new GetItemCommand({
            TableName: table,
            Key: { [PK]: { S: pk }, [SK]: { S: sk } },
            ConsistentRead: true,
          }),
        );
        if (stored.Item === undefined || savepointItemLine(fromSdk(stored.Item)) !== savepointItemLine(item))
          throw new SavepointError(
            `Table ${table} holds another item under ${pk} ${sk}: something writes the pipeline's state during the restore; stop its event source mapping and restore into a table without its state`,
            { cause: error },
          );
        present += 1;
      }
      options.onProgress?.(written + present, writes.length);
    });
  }
  return { written, present };
}
