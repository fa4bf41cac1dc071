/**
 * The upgrade gate judges open windows by the shapes of every segment they span, not only the shard item's
 * (its last commit's): after a discard, the deployed (old) operator can commit once more before the functions
 * are updated, and its old-shape segment then sits under a shard item of the new shape. Unseen, every close
 * pass refused it and no window was emitted again; seen, the gate refuses or discards it.
 */
import { count, sum } from '../../../../functions/core/dsl';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import { OPEN_WINDOW_CHOICE, upgradeGate } from '../../../../functions/core/state/upgradeCheck';
import { processor, records, rows, views } from '../../../helpers/stateShapeContract';

const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1);

test('when an old-shape commit lands after a discard, the gate sees it: it refuses, or discards it so later windows emit', async () => {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  const A = views('p', { n: count() });
  const B = views('p', { n: sum((v) => v.ms) }); // incompatible with A
  await processor(store, objects, A).apply(records(1, 6)); // window T0 open under A
  expect(await upgradeGate(store, B as never, OPEN_WINDOW_CHOICE.DISCARD)).toMatchObject({ passed: true });
  // The old operator, still deployed, takes one more batch (window T0 again, shape A).
  await processor(store, objects, A).apply(records(7, 8));
  // The new functions take over; their first batch commits (the shard item now names B's shape).
  const next = processor(store, objects, B);
  await next.apply(records(9, 10)).catch(() => undefined);

  const refused = await upgradeGate(store, B as never, OPEN_WINDOW_CHOICE.NONE);
  expect(refused).toMatchObject({ passed: false });
  expect(JSON.stringify(refused)).toMatch(
    /incompatible change under 1 open window \(aggregate n changed from count to sum\)/,
  );
  const discarded = await upgradeGate(store, B as never, OPEN_WINDOW_CHOICE.DISCARD);
  expect(discarded).toMatchObject({
    passed: true,
    line: expect.stringMatching(/^p: incompatible .*; discarded 1 open windows/),
  });

  await next.apply(records(11, 14, 2 * MINUTE));
  await next.tick(Infinity);
  expect(rows(objects).some((r) => r.window_start === T0 + 2 * MINUTE)).toBe(true);
});
