/**
 * The DynamoDB state store: speaks DynamoDB and nothing else. The item layout, the limits and unit
 * accounting live in `BaseStateStore`; this class writes segment chunks with PutItem conditioned on their
 * absence, a commit as one conditional PutItem of the progress item (one TransactWriteItems with a condition
 * check on the pipeline item for a shard's first item), reads with consistent Query pages, raises the pipeline item with conditional
 * UpdateItem, and retries throttled calls with full jitter (`throttleRetry.ts`). One table (`STATE_TABLE` in constants.ts).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type QueryCommandInput,
  type QueryCommandOutput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../core/constants';
import {
  BaseStateStore,
  type BaseStateStoreOptions,
  type CommitItems,
  type RaisedMarks,
} from '../core/state/BaseStateStore';
import { StateConflictError, StateError } from '../core/state/errors';
import { progressPartitionKey } from '../core/state/keys';
import {
  claimedEnd,
  pipelineFromItem,
  pipelineItemKey,
  progressFromItem,
  SESSION_PASS,
  storedMark,
  type StateItem,
} from '../core/state/stateItems';
import { COMMIT_RANGE_ATTRIBUTES } from '../core/state/segmentItems';
import { marksBelow } from '../core/state/pipelineMarks';
import { closedMarksCondition, raiseMarksUpdate } from './pipelineItemExpressions';
import type { PipelineMarks, PipelineProgress } from '../core/state/types';
import type { EpochMillis } from '../core/types';
import { dynamoDbClient } from './aws';
import {
  throttledCancellation,
  ThrottleRetry,
  TransactionThrottled,
  type ThrottleRetryOptions,
} from './throttleRetry';

type Item = Record<string, AttributeValue>;

const { PARTITION_KEY: PK, SORT_KEY: SK } = STATE_TABLE;

/** Settings of a `DynamoDBStateStore`. */
export interface DynamoDBStateStoreOptions extends BaseStateStoreOptions, ThrottleRetryOptions {
  /** Name of the state table (the stack passes it in `SHARDFLOW_STATE_TABLE`). */
  readonly tableName: string;
  /**
   * Client to use.
   * @default the shared client of `functions/adapters/aws.ts`
   */
  readonly client?: DynamoDBClient;
}

/** The SDK's attribute values are the items' own shape (`stateItems.ts` mirrors DynamoDB's JSON protocol). */
const toSdk = (item: StateItem): Item => item as Item;
const fromSdk = (item: Item): StateItem => item as StateItem;

export class DynamoDBStateStore extends BaseStateStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #retry: ThrottleRetry;

  public constructor(options: DynamoDBStateStoreOptions) {
    super(options);
    if (options.tableName === '') throw new StateError('tableName must not be empty');
    this.#client = options.client ?? dynamoDbClient();
    this.#table = options.tableName;
    this.#retry = new ThrottleRetry(options);
  }

  protected async _queryProgress(pipeline: string): Promise<StateItem[]> {
    return this.#queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': { S: progressPartitionKey(pipeline) } },
      ConsistentRead: true,
    });
  }

  protected async _querySegments(pk: string, low: string, high: string): Promise<StateItem[]> {
    return this.#queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': { S: pk }, ':low': { S: low }, ':high': { S: high } },
      ConsistentRead: true,
    });
  }

  protected async _querySegmentRanges(
    pk: string,
    low: string,
    high: string,
  ): Promise<{ readonly items: StateItem[]; readonly readUnits: number }> {
    let units = 0;
    const items = await this.#queryAll(
      {
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
        ProjectionExpression: COMMIT_RANGE_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: {
          '#pk': PK,
          '#sk': SK,
          ...Object.fromEntries(COMMIT_RANGE_ATTRIBUTES.map((name, i) => [`#a${i}`, name])),
        },
        ExpressionAttributeValues: { ':pk': { S: pk }, ':low': { S: low }, ':high': { S: high } },
        ReturnConsumedCapacity: 'TOTAL',
      },
      (page) => (units += page.ConsumedCapacity?.CapacityUnits ?? 0),
    );
    return { items, readUnits: units };
  }

  protected async _commit(items: CommitItems): Promise<void> {
    const progressCondition: {
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues?: Item;
    } =
      items.expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
        : {
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': { N: String(items.expectedVersion) } },
          };
    if (items.closedWatermarkRead === undefined) {
      try {
        await this.#send(() =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#table,
              Item: toSdk(items.progress),
              ...progressCondition,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        throw new StateConflictError(
          `Progress of shard ${items.shardId} moved on`,
          await this.#storedProgress(items, error.Item),
          { cause: error },
        );
      }
      return;
    }
    // A shard's first item: written only if no close pass raised the closed watermark it starts from.
    const read = storedMark(items.closedWatermarkRead);
    const readEnd = storedMark(items.closedEndRead ?? -Infinity);
    const actions: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.#table,
          Item: toSdk(items.progress),
          ...progressCondition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        ConditionCheck: {
          TableName: this.#table,
          Key: toSdk(pipelineItemKey(items.pipeline)),
          ...closedMarksCondition(read, readEnd),
        },
      },
    ];
    try {
      await this.#send(async () => {
        try {
          return await this.#client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
        } catch (error) {
          const reasons =
            error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
          if (throttledCancellation(reasons)) throw new TransactionThrottled(error);
          throw error;
        }
      });
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // A failed condition (progress moved on, the closed watermark moved) or a concurrent transaction on
      // one of the items: either way the caller reads again and re-applies.
      const stored = error.CancellationReasons?.[0]?.Item;
      const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').join(', ');
      throw new StateConflictError(
        `Commit of shard ${items.shardId} was cancelled (${codes})`,
        stored === undefined ? undefined : progressFromItem(fromSdk(stored)),
        { cause: error },
      );
    }
  }

  protected async _delete(key: { readonly pk: string; readonly sk: string }): Promise<void> {
    await this.#send(() =>
      this.#client.send(
        new DeleteItemCommand({ TableName: this.#table, Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } } }),
      ),
    );
  }

  protected async _putIfAbsent(item: StateItem): Promise<boolean> {
    try {
      await this.#send(() =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: toSdk(item),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  protected async _raisePipeline(pipeline: string, marks: PipelineMarks): Promise<RaisedMarks> {
    let pending = Object.entries(marks) as [string, number][];
    let stored: PipelineProgress = { pipeline, closedWatermark: -Infinity, emittedThrough: -Infinity };
    let writes = 0;
    // A refused update names (in the stored item) the marks already at or above their values: at least
    // one, so each round raises fewer; what is left goes again.
    while (pending.length > 0) {
      writes += 1;
      const attempt = await this.#raiseMarks(pipeline, pending);
      if (attempt.item !== undefined) stored = pipelineFromItem(attempt.item);
      if (attempt.raised) break;
      pending = marksBelow(attempt.item, pending);
    }
    return { stored, writes };
  }

  /** One conditional update of `marks` (all or none): the item after it, or the stored item that refused it. */
  async #raiseMarks(
    pipeline: string,
    marks: readonly [string, number][],
  ): Promise<{ readonly raised: boolean; readonly item: StateItem | undefined }> {
    try {
      const result = await this.#send(() =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: toSdk(pipelineItemKey(pipeline)),
            ...raiseMarksUpdate(pipeline, marks),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { raised: true, item: result.Attributes === undefined ? undefined : fromSdk(result.Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ?? (await this.#getItem(pipelineItemKey(pipeline)));
      return { raised: false, item: old === undefined ? undefined : fromSdk(old) };
    }
  }

  protected async _claimSessionPass(
    pipeline: string,
    after: number,
    end: number,
  ): Promise<EpochMillis | undefined> {
    try {
      await this.#send(() =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: toSdk(pipelineItemKey(pipeline)),
            UpdateExpression: 'SET #a = :a, #t = :t, #p = :p',
            // No claim of this or a later `after`, and the emitted end not past `after` (a stale view).
            ConditionExpression:
              '(attribute_not_exists(#a) OR #a < :a) AND (attribute_not_exists(#e) OR #e <= :a)',
            ExpressionAttributeNames: {
              '#a': SESSION_PASS.AFTER,
              '#t': SESSION_PASS.END,
              '#e': 'emittedEnd',
              '#p': 'pipeline',
            },
            ExpressionAttributeValues: {
              ':a': { N: String(after) },
              ':t': { N: String(end) },
              ':p': { S: pipeline },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return end;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The same claim or a later one is stored (ours, if a retried update had landed: the same answer).
      const old = error.Item ?? (await this.#getItem(pipelineItemKey(pipeline)));
      return claimedEnd(old === undefined ? undefined : fromSdk(old), after);
    }
  }

  /** The stored progress after a failed condition: from ALL_OLD, or a consistent read for emulators without it. */
  async #storedProgress(items: CommitItems, returned: Item | undefined) {
    const old = returned ?? (await this.#getItem({ [PK]: items.progress[PK]!, [SK]: items.progress[SK]! }));
    return old === undefined ? undefined : progressFromItem(fromSdk(old));
  }

  async #getItem(key: StateItem): Promise<Item | undefined> {
    const result = await this.#send(() =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: toSdk(key), ConsistentRead: true }),
      ),
    );
    return result.Item;
  }

  /** Every item of a query, page by page (each page one request through {@link #send}). */
  async #queryAll(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
    onPage?: (page: QueryCommandOutput) => void,
  ): Promise<StateItem[]> {
    const items: StateItem[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#send(() =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ...input,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      onPage?.(page);
      for (const item of page.Items ?? []) items.push(fromSdk(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** Sends one call through the throttle retry, counting it in the store's stats. */
  #send<R>(call: () => Promise<R>): Promise<R> {
    return this.#retry.send(call, this.stats);
  }
}
