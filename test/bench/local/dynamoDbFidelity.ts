/**
 * Fidelity probe: runs the DynamoDB features shardflow's state store relies on (DESIGN.md §3) against
 * an endpoint and reports which behave like DynamoDB. Used to choose the emulator (localstack/README.md,
 * "Emulators and why") and kept so the choice can be re-measured when an emulator is upgraded:
 *
 *   npx tsx test/bench/local/dynamoDbFidelity.ts
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';

/** One probed behaviour. */
export interface FidelityCheck {
  readonly name: string;
  readonly passed: boolean;
  /** What was observed when it did not behave like DynamoDB (or a short confirmation). */
  readonly detail: string;
}

type Item = Record<string, AttributeValue>;

const PAD = 40;
const seq = (n: number): string => String(n).padStart(PAD, '0');

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 160) : String(error);
}

async function check(name: string, body: () => Promise<string>): Promise<FidelityCheck> {
  try {
    return { name, passed: true, detail: await body() };
  } catch (error) {
    return { name, passed: false, detail: describe(error) };
  }
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

async function expectConditionalFailure(
  run: () => Promise<unknown>,
): Promise<ConditionalCheckFailedException> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return error;
    throw error;
  }
  throw new Error('the write succeeded although its condition was false');
}

/**
 * Creates a scratch table (with a sparse GSI), runs every check and deletes the table.
 *
 * @example
 * const checks = await probeDynamoDbFidelity(new DynamoDBClient({ endpoint }));
 */
export async function probeDynamoDbFidelity(
  client: DynamoDBClient,
  tableName = `fidelity-${process.pid}`,
): Promise<FidelityCheck[]> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'openPk', AttributeType: 'S' },
        { AttributeName: 'closeAt', AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'open-windows',
          KeySchema: [
            { AttributeName: 'openPk', KeyType: 'HASH' },
            { AttributeName: 'closeAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  const key = (sk: string): Item => ({ pk: { S: 'p#k' }, sk: { S: sk } });
  const put = (item: Item): Promise<unknown> =>
    client.send(new PutItemCommand({ TableName: tableName, Item: item }));
  // The state store's fenced write: version check plus per-shard high-water mark in a map.
  const fencedUpdate = (sk: string, read: number, max: string, returnOld: boolean): Promise<unknown> =>
    client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key(sk),
        UpdateExpression: 'SET fence.#s = :max, version = :next',
        ConditionExpression: 'version = :read AND (attribute_not_exists(fence.#s) OR fence.#s < :max)',
        ExpressionAttributeNames: { '#s': 'shardId-000000000000' },
        ExpressionAttributeValues: {
          ':max': { S: max },
          ':read': { N: String(read) },
          ':next': { N: String(read + 1) },
        },
        ...(returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      }),
    );
  const window = (sk: string): Item => ({
    ...key(sk),
    version: { N: '1' },
    fence: { M: { 'shardId-000000000000': { S: seq(5) } } },
  });

  try {
    return [
      await check('ConditionExpression on a map path (`fence.#s < :max`)', async () => {
        await put(window('w1'));
        await fencedUpdate('w1', 1, seq(7), false);
        await expectConditionalFailure(() => fencedUpdate('w1', 2, seq(6), false));
        return 'applied when greater, rejected when not';
      }),
      await check('attribute_not_exists on a missing map key', async () => {
        await put({ ...key('w2'), version: { N: '1' }, fence: { M: {} } });
        await fencedUpdate('w2', 1, seq(1), false);
        return 'first write for a new shard applied';
      }),
      await check('ReturnValuesOnConditionCheckFailure ALL_OLD', async () => {
        await put(window('w3'));
        const failure = await expectConditionalFailure(() => fencedUpdate('w3', 9, seq(9), true));
        expect(
          failure.Item?.version?.N === '1',
          `exception carries no old item (Item = ${JSON.stringify(failure.Item)})`,
        );
        return 'exception carries the stored item';
      }),
      await check('UpdateItem SET on a nested map key', async () => {
        await put(window('w4'));
        await client
          .send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: key('w4'),
              UpdateExpression: 'SET fence.#a = :a, agg.#c = if_not_exists(agg.#c, :zero)',
              ExpressionAttributeNames: { '#a': 'shardId-000000000001', '#c': 'count' },
              ExpressionAttributeValues: { ':a': { S: seq(3) }, ':zero': { N: '0' } },
            }),
          )
          .then(
            () => {
              throw new Error('SET on a path under a missing map (agg) succeeded; DynamoDB rejects it');
            },
            (error: unknown) => {
              expect(
                error instanceof Error && error.name === 'ValidationException',
                `expected ValidationException, got ${describe(error)}`,
              );
            },
          );
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key('w4'),
            UpdateExpression: 'SET fence.#a = :a',
            ExpressionAttributeNames: { '#a': 'shardId-000000000001' },
            ExpressionAttributeValues: { ':a': { S: seq(3) } },
          }),
        );
        const got = await client.send(
          new GetItemCommand({ TableName: tableName, Key: key('w4'), ConsistentRead: true }),
        );
        const fence = got.Item?.fence?.M;
        expect(
          fence?.['shardId-000000000001']?.S === seq(3) && fence['shardId-000000000000']?.S === seq(5),
          'map not merged',
        );
        return 'key added, siblings kept, missing parent rejected';
      }),
      await check('BatchGetItem with ConsistentRead', async () => {
        const result = await client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [tableName]: { Keys: [key('w1'), key('w3'), key('absent')], ConsistentRead: true },
            },
          }),
        );
        const count = result.Responses?.[tableName]?.length ?? 0;
        expect(count === 2, `returned ${count} items, expected 2`);
        return 'returns existing items only';
      }),
      await check('TransactWriteItems (all-or-nothing, CancellationReasons)', async () => {
        await put(window('t1'));
        try {
          await client.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                { Put: { TableName: tableName, Item: { ...key('t2'), version: { N: '1' } } } },
                {
                  Update: {
                    TableName: tableName,
                    Key: key('t1'),
                    UpdateExpression: 'SET version = :n',
                    ConditionExpression: 'version = :wrong',
                    ExpressionAttributeValues: { ':n': { N: '2' }, ':wrong': { N: '99' } },
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                },
              ],
            }),
          );
          throw new Error('transaction with a false condition succeeded');
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? '?').join(',');
          expect(codes === 'None,ConditionalCheckFailed', `CancellationReasons = ${codes || 'missing'}`);
          const oldItem = error.CancellationReasons?.[1]?.Item;
          expect(oldItem?.version?.N === '1', 'no ALL_OLD item in the cancellation reason');
        }
        const t2 = await client.send(
          new GetItemCommand({ TableName: tableName, Key: key('t2'), ConsistentRead: true }),
        );
        expect(t2.Item === undefined, 'the other write of the cancelled transaction was applied');
        return 'cancelled atomically with per-item reasons and old item';
      }),
      await check('TTL (UpdateTimeToLive / DescribeTimeToLive)', async () => {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          }),
        );
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
        const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
        expect(status === 'ENABLED' || status === 'ENABLING', `status ${status}`);
        return `status ${status} (expiry itself is not emulated by either)`;
      }),
      await check('GSI query on a sparse index', async () => {
        await put({ ...key('g1'), openPk: { S: 'open#0' }, closeAt: { N: '100' } });
        await put({ ...key('g2'), openPk: { S: 'open#0' }, closeAt: { N: '50' } });
        await put(key('g3'));
        const result = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'open-windows',
            KeyConditionExpression: 'openPk = :p AND closeAt <= :t',
            ExpressionAttributeValues: { ':p': { S: 'open#0' }, ':t': { N: '100' } },
          }),
        );
        const order = (result.Items ?? []).map((i) => i.sk?.S).join(',');
        expect(order === 'g2,g1', `returned ${order}`);
        return 'sparse, sorted by range key';
      }),
    ];
  } finally {
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
  }
}

/** Markdown table of the checks of several emulators. */
export function fidelityTable(
  results: ReadonlyArray<{ readonly emulator: string; readonly checks: readonly FidelityCheck[] }>,
): string {
  const names = results[0]?.checks.map((c) => c.name) ?? [];
  const header = `| Behaviour | ${results.map((r) => r.emulator).join(' | ')} |`;
  const rule = `|---|${results.map(() => '---').join('|')}|`;
  const rows = names.map((name) => {
    const cells = results.map((r) => {
      const c = r.checks.find((x) => x.name === name);
      if (c === undefined) return 'n/a';
      return c.passed ? `yes (${c.detail})` : `**no**: ${c.detail.replace(/\|/g, '/')}`;
    });
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

async function main(): Promise<void> {
  // Imported here so that importing the probe does not load the emulator launchers.
  const { dynamoDbClient } = await import('../../../functions/adapters/aws');
  const { startDynaliteEmulator } = await import('../../../localstack/emulators/dynaliteEmulator');
  const { startDynamoDbLocalEmulator } = await import('../../../localstack/emulators/dynamoDbLocalEmulator');
  const { LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../../../localstack/emulators/constants');
  const results: Array<{ emulator: string; checks: FidelityCheck[] }> = [];
  for (const [emulator, start] of [
    ['dynalite', startDynaliteEmulator],
    ['DynamoDB Local', startDynamoDbLocalEmulator],
  ] as const) {
    const running = await start();
    const client = dynamoDbClient({
      endpoint: running.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      const checks = await probeDynamoDbFidelity(client);
      checks.push({
        name: 'Start-up (spawn to first ListTables)',
        passed: true,
        detail: `${Math.round(running.startupMs)} ms`,
      });
      results.push({ emulator, checks });
    } finally {
      client.destroy();
      await running.stop();
    }
  }
  process.stdout.write(`${fidelityTable(results)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `fidelity probe failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
