import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { count, sum } from '../../functions/core/dsl';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import {
  gateUpgrade,
  IncompatibleUpgradeError,
  OPEN_WINDOW_CHOICE,
} from '../../localstack/start/upgradeGate';
import { useLocalCloud } from '../helpers/localCloud';
import { processor, records, rows, views } from '../helpers/stateShapeContract';
import { createStateTable } from '../helpers/stateTable';

useLocalCloud();

const TABLE = `upgrade-${process.pid}`;
let counter = 0;

/** A pipeline with window T0 open in the state table (records 1..6 committed under `{ n: count() }`). */
async function deployedWithOpenWindow() {
  const clients = createClients();
  await createStateTable(clients.dynamoDb, TABLE).catch(() => undefined);
  const store = new DynamoDBStateStore({ tableName: TABLE, client: clients.dynamoDb });
  const name = `gate-${process.pid}-${(counter += 1)}`;
  const objects = new InMemoryObjectStore();
  await processor(store, objects, views(name, { n: count() })).apply(records(1, 6));
  return { clients, store, name, objects };
}

const compiled = (p: unknown) => [p as CompiledPipeline<unknown>];

describe('pre-deploy state check on DynamoDB Local', () => {
  test('when the new definition only adds a column, the check lets the deploy go and says which columns start from identity', async () => {
    const { clients, name } = await deployedWithOpenWindow();
    const lines = await gateUpgrade({
      clients,
      stateTable: TABLE,
      pipelines: compiled(views(name, { n: count(), total: sum((v) => v.ms) })),
      choice: OPEN_WINDOW_CHOICE.NONE,
    });
    expect(lines).toEqual([
      `${name}: evolvable; total start from their identity in 1 open windows (named in evolved_columns)`,
    ]);
  });

  test('when the new definition is incompatible under open windows, the deploy is refused in one line; with --discard-open-windows the windows are dropped and the new definition starts afresh', async () => {
    const { clients, store, name, objects } = await deployedWithOpenWindow();
    const next = views(name, { n: sum((v) => v.ms) });
    const refused = await gateUpgrade({
      clients,
      stateTable: TABLE,
      pipelines: compiled(next),
      choice: OPEN_WINDOW_CHOICE.NONE,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IncompatibleUpgradeError);
    expect((refused as Error).message).toBe(
      `pipeline ${name}: incompatible change under 1 open window (aggregate n changed from count to sum); wait until they close, or deploy again with --drain to emit them under the deployed definition first, or with --discard-open-windows to drop them`,
    );
    expect(
      await gateUpgrade({
        clients,
        stateTable: TABLE,
        pipelines: compiled(next),
        choice: OPEN_WINDOW_CHOICE.DISCARD,
      }),
    ).toEqual([
      `${name}: incompatible (aggregate n changed from count to sum); discarded 1 open windows on 1 shards`,
    ]);
    const after = processor(store, objects, next);
    await after.apply(records(7, 8));
    await after.tick(Infinity);
    expect(rows(objects).map((r) => [r.user, r.n])).toEqual([
      ['u0', 8],
      ['u1', 7],
    ]);
  });
});
