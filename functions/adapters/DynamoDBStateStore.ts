/**
 * The DynamoDB state store: speaks DynamoDB and nothing else. Key layout, fencing, versions and the warm
 * cache live in `BaseStateStore`; this class turns them into BatchGetItem (consistent, UnprocessedKeys
 * retried), Query, conditional PutItem/UpdateItem with `ReturnValuesOnConditionCheckFailure: ALL_OLD`,
 * and retries throttled calls with full jitter. One table holds window items and progress items
 * (`STATE_TABLE` in constants.ts); windows not yet emitted carry the sparse open-windows index attributes.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../core/constants';
import { BaseStateStore, type BaseStateStoreOptions } from '../core/state/BaseStateStore';
import { mapWithConcurrency } from '../core/state/concurrency';
import { StateConflictError, StateError, StateItemInvalidError } from '../core/state/errors';
import { DEDUPE_HASH_HEX, PIPELINE_PROGRESS_SORT_KEY, progressPartitionKey, windowPartitionKey, windowSortKey } from '../core/state/keys';
import type { DueWindow, ProgressSnapshot, WindowRef, WindowWriteCondition } from '../core/state/types';
import { WINDOW_STATUS, type EpochMillis, type Fence, type Json, type ShardProgress, type WindowStateItem, type WindowStatus } from '../core/types';
import { dynamoDbClient } from './aws';

type Item = Record<string, AttributeValue>;

const { PARTITION_KEY: PK, SORT_KEY: SK, TTL_ATTRIBUTE: TTL, OPEN_WINDOWS_INDEX, OPEN_WINDOWS_PARTITION_KEY: OPEN_PK, OPEN_WINDOWS_SORT_KEY: CLOSE_AT } = STATE_TABLE;

/** Errors DynamoDB uses to say "slow down"; retried with jitter. */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;

/** Settings of a `DynamoDBStateStore`. */
export interface DynamoDBStateStoreOptions extends BaseStateStoreOptions {
  /** Name of the state table (the stack passes it in `SHARDFLOW_STATE_TABLE`). */
  readonly tableName: string;
  /**
   * Client to use.
   * @default the shared client of `functions/adapters/aws.ts`
   */
  readonly client?: DynamoDBClient;
  /**
   * Attempts of a throttled call, and of a BatchGetItem with unprocessed keys (1–20).
   * @default 6
   */
  readonly maxAttempts?: number;
  /**
   * Base and cap of the full-jitter backoff in milliseconds.
   * @default { baseMs: 25, capMs: 2000 }
   */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /**
   * BatchGetItem requests in flight at once (1–32).
   * @default 4
   */
  readonly readConcurrency?: number;
  /** Injected for tests: sleep and randomness of the backoff. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

function str(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new StateItemInvalidError(`State item attribute ${name} must be a string`);
  return value;
}

function num(item: Item, name: string): number {
  const raw = item[name]?.N;
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(value)) throw new StateItemInvalidError(`State item attribute ${name} must be a finite number (given ${raw})`);
  return value;
}

function numOrNull(item: Item, name: string): number | null {
  return item[name]?.NULL === true || item[name] === undefined ? null : num(item, name);
}

const STATUSES = new Set<string>(Object.values(WINDOW_STATUS));

function status(item: Item): WindowStatus {
  const value = str(item, 'status');
  if (!STATUSES.has(value)) throw new StateItemInvalidError(`State item status must be one of ${[...STATUSES].join(', ')} (given ${value})`);
  return value as WindowStatus;
}

function fenceFrom(item: Item): Fence {
  const map = item.fence?.M;
  if (map === undefined) throw new StateItemInvalidError('State item attribute fence must be a map');
  return Object.fromEntries(Object.entries(map).map(([shard, value]) => {
    if (value.S === undefined) throw new StateItemInvalidError(`Fence of shard ${shard} must be a string`);
    return [shard, value.S];
  }));
}

const HASH_BYTES = DEDUPE_HASH_HEX / 2;
const HEX_HASH = new RegExp(`^[0-9a-f]{${DEDUPE_HASH_HEX}}$`);

function packHashes(hashes: readonly string[]): Uint8Array {
  const bytes = Buffer.alloc(hashes.length * HASH_BYTES);
  hashes.forEach((hash, i) => {
    if (!HEX_HASH.test(hash)) throw new StateError(`Dedupe hashes must be ${DEDUPE_HASH_HEX} lowercase hex digits (given ${JSON.stringify(hash.slice(0, 40))})`);
    bytes.write(hash, i * HASH_BYTES, 'hex');
  });
  return bytes;
}

function unpackHashes(bytes: Uint8Array): string[] {
  if (bytes.length % HASH_BYTES !== 0) throw new StateItemInvalidError(`State item attribute seenIds must hold whole ${HASH_BYTES}-byte hashes (given ${bytes.length} bytes)`);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / HASH_BYTES }, (_, i) => buffer.toString('hex', i * HASH_BYTES, (i + 1) * HASH_BYTES));
}

function windowToItem(item: WindowStateItem, closeAt: EpochMillis): Item {
  const attributes: Item = {
    [PK]: s(windowPartitionKey(item.pipeline, item.key)),
    [SK]: s(windowSortKey(item.window)),
    pipeline: s(item.pipeline),
    key: s(item.key),
    windowStart: n(item.window.start),
    windowEnd: n(item.window.end),
    // JSON text keeps aggregate state exact (no DynamoDB number rounding, no empty-string rules).
    state: s(JSON.stringify(item.state)),
    records: n(item.records),
    fence: { M: Object.fromEntries(Object.entries(item.fence).map(([shard, sequence]) => [shard, s(sequence)])) },
    version: n(item.version),
    status: s(item.status),
    [TTL]: n(item.ttl),
  };
  if (item.emissionId !== undefined) attributes.emissionId = s(item.emissionId);
  // One binary attribute of packed 8-byte hashes, oldest first (the order decides what the cap drops).
  if (item.seenIds !== undefined && item.seenIds.length > 0) attributes.seenIds = { B: packHashes(item.seenIds) };
  if (item.status !== WINDOW_STATUS.EMITTED) {
    attributes[OPEN_PK] = s(item.pipeline);
    attributes[CLOSE_AT] = n(closeAt);
  }
  return attributes;
}

function windowFromItem(item: Item): WindowStateItem {
  let state: Json;
  try {
    state = JSON.parse(str(item, 'state')) as Json;
  } catch (error) {
    throw new StateItemInvalidError('State item attribute state must be JSON', { cause: error });
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new StateItemInvalidError('State item attribute state must be a JSON object');
  const emissionId = item.emissionId?.S;
  const packed = item.seenIds?.B;
  const seenIds = packed === undefined ? undefined : unpackHashes(packed);
  return {
    pipeline: str(item, 'pipeline'),
    key: str(item, 'key'),
    window: { start: num(item, 'windowStart'), end: num(item, 'windowEnd') },
    state,
    records: num(item, 'records'),
    fence: fenceFrom(item),
    version: num(item, 'version'),
    status: status(item),
    ...(emissionId !== undefined ? { emissionId } : {}),
    ...(seenIds !== undefined && seenIds.length > 0 ? { seenIds } : {}),
    ttl: num(item, TTL),
  };
}

function progressToItem(progress: ShardProgress): Item {
  return {
    [PK]: s(progressPartitionKey(progress.pipeline)),
    [SK]: s(progress.shardId),
    pipeline: s(progress.pipeline),
    shardId: s(progress.shardId),
    watermark: progress.watermark === null ? { NULL: true } : n(progress.watermark),
    maxEventTime: progress.maxEventTime === null ? { NULL: true } : n(progress.maxEventTime),
    lastSequence: s(progress.lastSequence),
    archivedSequence: s(progress.archivedSequence),
    lastActivity: n(progress.lastActivity),
    closed: { BOOL: progress.closed },
    version: n(progress.version),
  };
}

function progressFromItem(item: Item): ShardProgress {
  return {
    pipeline: str(item, 'pipeline'),
    shardId: str(item, 'shardId'),
    watermark: numOrNull(item, 'watermark'),
    maxEventTime: numOrNull(item, 'maxEventTime'),
    lastSequence: str(item, 'lastSequence'),
    archivedSequence: str(item, 'archivedSequence'),
    lastActivity: num(item, 'lastActivity'),
    closed: item.closed?.BOOL === true,
    version: num(item, 'version'),
  };
}

export class DynamoDBStateStore extends BaseStateStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #maxAttempts: number;
  readonly #backoff: { readonly baseMs: number; readonly capMs: number };
  readonly #readConcurrency: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  public constructor(options: DynamoDBStateStoreOptions) {
    super(options);
    if (options.tableName === '') throw new StateError('tableName must not be empty');
    this.#client = options.client ?? dynamoDbClient();
    this.#table = options.tableName;
    this.#maxAttempts = options.maxAttempts ?? 6;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1 || this.#maxAttempts > 20) {
      throw new RangeError(`maxAttempts must be an integer between 1 and 20 inclusive (given ${this.#maxAttempts})`);
    }
    this.#readConcurrency = options.readConcurrency ?? 4;
    if (!Number.isInteger(this.#readConcurrency) || this.#readConcurrency < 1 || this.#readConcurrency > 32) {
      throw new RangeError(`readConcurrency must be an integer between 1 and 32 inclusive (given ${this.#readConcurrency})`);
    }
    this.#backoff = options.backoff ?? { baseMs: 25, capMs: 2_000 };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  protected async _readProgress(pipeline: string): Promise<ProgressSnapshot> {
    const shards: ShardProgress[] = [];
    let closedWatermark: number | undefined;
    const pages = this.#queryPages(() => ({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': s(progressPartitionKey(pipeline)) },
      ConsistentRead: true,
    }));
    for await (const items of pages) {
      for (const item of items) {
        if (item[SK]?.S === PIPELINE_PROGRESS_SORT_KEY) closedWatermark = num(item, 'closedWatermark');
        else shards.push(progressFromItem(item));
      }
    }
    return { shards, pipeline: closedWatermark === undefined ? undefined : { pipeline, closedWatermark } };
  }

  protected async _writeShardProgress(progress: ShardProgress, expectedVersion: number | undefined): Promise<void> {
    const item = progressToItem(progress);
    const condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Item } =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
        : {
            ConditionExpression: '#version = :version AND #last <= :last',
            ExpressionAttributeNames: { '#version': 'version', '#last': 'lastSequence' },
            ExpressionAttributeValues: { ':version': n(expectedVersion), ':last': s(progress.lastSequence) },
          };
    await this.#conditionalPut(item, condition, (old) => progressFromItem(old), `Shard progress ${progress.shardId} moved on`);
  }

  protected async _raiseClosedWatermark(pipeline: string, watermark: EpochMillis): Promise<EpochMillis> {
    try {
      await this.#send(() =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: { [PK]: s(progressPartitionKey(pipeline)), [SK]: s(PIPELINE_PROGRESS_SORT_KEY) },
            UpdateExpression: 'SET #w = :w',
            ConditionExpression: 'attribute_not_exists(#w) OR #w < :w',
            ExpressionAttributeNames: { '#w': 'closedWatermark' },
            ExpressionAttributeValues: { ':w': n(watermark) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return watermark;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ?? (await this.#getItem(progressPartitionKey(pipeline), PIPELINE_PROGRESS_SORT_KEY));
      return old === undefined ? watermark : num(old, 'closedWatermark');
    }
  }

  protected async _readWindows(pipeline: string, refs: readonly WindowRef[]): Promise<WindowStateItem[]> {
    const chunks: WindowRef[][] = [];
    for (let i = 0; i < refs.length; i += BATCH_GET_LIMIT) chunks.push(refs.slice(i, i + BATCH_GET_LIMIT));
    const pages = await mapWithConcurrency(chunks, this.#readConcurrency, (chunk) => this.#batchGet(chunk.map((ref) => ({ [PK]: s(windowPartitionKey(pipeline, ref.key)), [SK]: s(windowSortKey(ref.window)) }))));
    return pages.flat().map(windowFromItem);
  }

  protected async _writeWindow(item: WindowStateItem, condition: WindowWriteCondition, closeAt: EpochMillis): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = {};
    let expression: string;
    if (condition.expectedVersion === undefined) {
      names['#pk'] = PK;
      expression = 'attribute_not_exists(#pk)';
    } else {
      names['#version'] = 'version';
      values[':version'] = n(condition.expectedVersion);
      const parts = ['#version = :version'];
      if (condition.status !== undefined) {
        names['#status'] = 'status';
        values[':status'] = s(condition.status);
        parts.push('#status = :status');
      }
      const shards = Object.entries(condition.fenceBelow);
      if (shards.length > 0) names['#fence'] = 'fence';
      shards.forEach(([shard, sequence], i) => {
        names[`#s${i}`] = shard;
        values[`:s${i}`] = s(sequence);
        parts.push(`(attribute_not_exists(#fence.#s${i}) OR #fence.#s${i} < :s${i})`);
      });
      expression = parts.join(' AND ');
    }
    await this.#conditionalPut(
      windowToItem(item, closeAt),
      { ConditionExpression: expression, ExpressionAttributeNames: names, ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}) },
      windowFromItem,
      `Window ${item.key} [${item.window.start}, ${item.window.end}) of ${item.pipeline} moved on`,
    );
  }

  protected async _listDueWindows(pipeline: string, closeAtMax: EpochMillis, limit: number): Promise<DueWindow[]> {
    const due: DueWindow[] = [];
    const pages = this.#queryPages(() => ({
      IndexName: OPEN_WINDOWS_INDEX,
      KeyConditionExpression: '#open = :pipeline AND #closeAt <= :max',
      ExpressionAttributeNames: { '#open': OPEN_PK, '#closeAt': CLOSE_AT },
      ExpressionAttributeValues: { ':pipeline': s(pipeline), ':max': n(closeAtMax) },
      Limit: limit - due.length,
    }));
    for await (const items of pages) {
      for (const item of items) due.push(this.#dueWindow(pipeline, item));
      if (due.length >= limit) break;
    }
    return due;
  }

  /** Reads key, window and close time from the index keys, so a KEYS_ONLY projection is enough. */
  #dueWindow(pipeline: string, item: Item): DueWindow {
    const pk = str(item, PK);
    const prefix = windowPartitionKey(pipeline, '');
    const match = /^(\d+)#(\d+)$/.exec(str(item, SK));
    if (!pk.startsWith(prefix) || match === null) throw new StateItemInvalidError(`Open-windows index entry has an unexpected key (${pk})`);
    const stored = item.status?.S;
    return {
      key: pk.slice(prefix.length),
      window: { start: Number(match[1]), end: Number(match[2]) },
      closeAt: num(item, CLOSE_AT),
      status: stored !== undefined && STATUSES.has(stored) ? (stored as WindowStatus) : WINDOW_STATUS.OPEN,
    };
  }

  async #batchGet(keys: Item[]): Promise<Item[]> {
    const found: Item[] = [];
    let pending: Item[] = keys;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const result = await this.#send(() => this.#client.send(new BatchGetItemCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } })));
      found.push(...(result.Responses?.[this.#table] ?? []));
      pending = result.UnprocessedKeys?.[this.#table]?.Keys ?? [];
      if (pending.length === 0) break;
      if (attempt >= this.#maxAttempts) throw new StateError(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
      this.stats.throttles += 1;
      await this.#sleep(this.#delay(attempt));
    }
    return found;
  }

  async #getItem(pk: string, sk: string): Promise<Item | undefined> {
    const result = await this.#send(() => this.#client.send(new GetItemCommand({ TableName: this.#table, Key: { [PK]: s(pk), [SK]: s(sk) }, ConsistentRead: true })));
    return result.Item;
  }

  /**
   * PutItem under a condition. On failure the stored item comes from ALL_OLD; emulators that do not
   * return it get a consistent re-read instead. Either way the caller sees a `StateConflictError`.
   */
  async #conditionalPut<T extends WindowStateItem | ShardProgress>(
    item: Item,
    condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Item },
    parse: (item: Item) => T,
    message: string,
  ): Promise<void> {
    try {
      await this.#send(() => this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item, ...condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ?? (await this.#getItem(str(item, PK), str(item, SK)));
      throw new StateConflictError<T>(message, old === undefined ? undefined : parse(old), { cause: error });
    }
  }

  /** Sends one call, counting it, and retries throttling with full jitter up to `maxAttempts`. */
  /**
   * The items of a query on the state table, page by page (each request through {@link #send}); the next
   * page is fetched only when the caller asks for it, so leaving the loop stops paging. `input` is read
   * before every page (a `Limit` may depend on what the caller has collected).
   */
  async *#queryPages(input: () => Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<Item[], void, undefined> {
    let startKey: Item | undefined;
    do {
      const page = await this.#send(() =>
        this.#client.send(new QueryCommand({ TableName: this.#table, ...input(), ...(startKey ? { ExclusiveStartKey: startKey } : {}) })),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  async #send<R>(call: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      this.stats.requests += 1;
      try {
        return await call();
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        if (typeof name !== 'string' || !THROTTLING.has(name) || attempt >= this.#maxAttempts) throw error;
        this.stats.throttles += 1;
        await this.#sleep(this.#delay(attempt));
      }
    }
  }

  /** Full jitter: uniform in [0, min(cap, base · 2^attempt)). */
  #delay(attempt: number): number {
    return Math.floor(this.#random() * Math.min(this.#backoff.capMs, this.#backoff.baseMs * 2 ** attempt));
  }
}
