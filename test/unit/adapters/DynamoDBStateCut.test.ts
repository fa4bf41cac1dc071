import {
  QueryCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { readStateCut } from '../../../functions/adapters/DynamoDBStateCut';
import { SavepointError } from '../../../functions/core/state/savepointCut';
import { itemKey, progressToItem, type StateItem } from '../../../functions/core/state/stateItems';
import { progress } from '../../helpers/stateStoreContract';

const shard = (n: number, version = 1): StateItem =>
  progressToItem(progress('p', { shardId: `shardId-${String(n).padStart(12, '0')}`, version }));

/**
 * A table double holding `items` of partition `P#p`: answers Query (keys only with a projection) and
 * TransactGetItems; `before` runs before each answer, as a concurrent writer would between calls.
 */
function table(items: StateItem[], before: (command: unknown, calls: number) => void = () => undefined) {
  const sent: string[] = [];
  const byKey = () => new Map(items.map((item) => [itemKey(item).sk, item]));
  const client = {
    send: async (command: unknown) => {
      before(command, sent.length);
      sent.push(command!.constructor.name);
      if (command instanceof QueryCommand) {
        const keysOnly = command.input.ProjectionExpression !== undefined;
        if (command.input.ExpressionAttributeValues?.[':pk']?.S !== 'P#p') return { Items: [] };
        return {
          Items: [...byKey().values()].map((item) => (keysOnly ? { pk: item.pk, sk: item.sk } : item)),
        };
      }
      if (command instanceof TransactGetItemsCommand) {
        const stored = byKey();
        return {
          Responses: (command.input.TransactItems ?? []).map((get) => ({
            Item: stored.get(get.Get!.Key!.sk!.S!),
          })),
        };
      }
      throw new Error(`unexpected ${command!.constructor.name}`);
    },
  } as unknown as DynamoDBClient;
  return { client, sent, items };
}

const shardIds = (cut: StateItem[]) => cut.map((i) => itemKey(i).sk);

describe('reading the cut from DynamoDB', () => {
  test('when a shard commits its first item between the key listing and the transaction, the cut is read again and holds it', async () => {
    const items = [shard(0)];
    let landed = false;
    const t = table(items, (command) => {
      if (command instanceof TransactGetItemsCommand && !landed) {
        landed = true;
        items.push(shard(1));
      }
    });
    const cut = await readStateCut(t.client, 't', 'p');
    expect(shardIds(cut)).toEqual(['S#shardId-000000000000', 'S#shardId-000000000001']);
    expect(t.sent).toEqual([
      'QueryCommand',
      'TransactGetItemsCommand',
      'QueryCommand',
      'QueryCommand',
      'TransactGetItemsCommand',
      'QueryCommand',
    ]);
  });

  test('when a transaction is cancelled by a write in flight, the cut is read again', async () => {
    let cancelled = false;
    const t = table([shard(0)], (command) => {
      if (command instanceof TransactGetItemsCommand && !cancelled) {
        cancelled = true;
        throw new TransactionCanceledException({ message: 'conflict', $metadata: {} });
      }
    });
    expect(shardIds(await readStateCut(t.client, 't', 'p'))).toEqual(['S#shardId-000000000000']);
  });

  test('past 100 items, two full reads must agree: a commit between them makes it read again', async () => {
    const items = Array.from({ length: 120 }, (_, n) => shard(n));
    let commits = 0;
    const t = table(items, (command, calls) => {
      // A commit of shard 7 lands between the first two full reads.
      if (command instanceof QueryCommand && calls === 2 && commits === 0) {
        commits += 1;
        items[7] = shard(7, 2);
      }
    });
    const cut = await readStateCut(t.client, 't', 'p');
    expect(cut).toHaveLength(120);
    expect(
      cut.find((i) => i.sk !== undefined && 'S' in i.sk && i.sk.S.endsWith('000000000007'))?.version,
    ).toEqual({ N: '2' });
    expect(t.sent.filter((c) => c === 'TransactGetItemsCommand')).toEqual([]);
    expect(t.sent).toHaveLength(6);
  });

  test('when the items are more than one transaction reads (4 MB), two full reads that agree are the cut', async () => {
    const t = table([shard(0), shard(1)], (command) => {
      if (command instanceof TransactGetItemsCommand)
        throw Object.assign(new Error('Transaction request cannot be larger than 4 MB'), {
          name: 'ValidationException',
        });
    });
    expect(shardIds(await readStateCut(t.client, 't', 'p'))).toHaveLength(2);
    // (The refused transaction is not recorded: the double throws before it records a call.)
    expect(t.sent).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand', 'QueryCommand']);
  });

  test('when the pipeline has no state, the cut is empty', async () => {
    const t = table([]);
    expect(await readStateCut(t.client, 't', 'p')).toEqual([]);
    expect(t.sent).toEqual(['QueryCommand']);
  });

  test('when every read loses to a commit, it gives up in one line that says what to do', async () => {
    const items = Array.from({ length: 101 }, (_, n) => shard(n));
    let version = 1;
    const t = table(items, (command) => {
      if (command instanceof QueryCommand && command.input.ProjectionExpression === undefined)
        items[0] = shard(0, (version += 1));
    });
    await expect(readStateCut(t.client, 't', 'p')).rejects.toThrow(
      new SavepointError(
        "The shards of p committed during each of 20 reads of their progress: pause the pipeline's event source mapping and take the savepoint again",
      ),
    );
  });
});
