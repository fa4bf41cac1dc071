import { z } from 'zod';
import { count, pipeline, sum, topK } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import { STATE_CHANGE } from '../../../../functions/core/state/stateFingerprint';
import {
  checkUpgrade,
  discardOpenWindows,
  OPEN_WINDOW_CHOICE,
  upgradeRefusal,
} from '../../../../functions/core/state/upgradeCheck';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import { processor, records, rows, views } from '../../../helpers/stateShapeContract';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

/** A store where `before` committed records 1..6 (window T0 open: the watermark is below its end). */
async function openState(before: StatefulPipeline) {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  await processor(store, objects, before).apply(records(1, 6));
  return { store, objects };
}

describe('upgrade check', () => {
  test('when nothing was ever committed, any change may deploy', async () => {
    const next = views('p', { n: sum((v) => v.ms) }) as unknown as Parameters<typeof checkUpgrade>[1];
    const check = checkUpgrade(await new InMemoryStateStore().readProgress('p'), next);
    expect(check).toEqual({
      pipeline: 'p',
      openWindows: 0,
      change: { kind: 'compatible', added: [], reasons: [] },
    });
    expect(upgradeRefusal(check, OPEN_WINDOW_CHOICE.NONE)).toBeUndefined();
  });

  test('when the change is compatible or evolvable under open windows, the deploy goes ahead', async () => {
    const { store } = await openState(views('p', { n: count() }));
    const same = checkUpgrade(
      await store.readProgress('p'),
      views('p', { n: count() }, (v) => v.ms > 2) as never,
    );
    expect(same).toMatchObject({ openWindows: 1, change: { kind: STATE_CHANGE.COMPATIBLE } });
    const added = checkUpgrade(
      await store.readProgress('p'),
      views('p', { n: count(), total: sum((v) => v.ms) }) as never,
    );
    expect(added).toMatchObject({
      openWindows: 1,
      change: { kind: STATE_CHANGE.EVOLVABLE, added: ['total'] },
    });
    expect(upgradeRefusal(added, OPEN_WINDOW_CHOICE.NONE)).toBeUndefined();
  });

  test('when the change is incompatible under open windows, the deploy is refused in one line naming why and the next step, unless open windows are discarded', async () => {
    const { store } = await openState(views('p', { n: count(), top: topK((v) => v.user, 3) }));
    const check = checkUpgrade(
      await store.readProgress('p'),
      views('p', { n: count(), top: topK((v) => v.user, 5) }) as never,
    );
    const refusal = upgradeRefusal(check, OPEN_WINDOW_CHOICE.NONE);
    expect(refusal).toBe(
      'pipeline p: incompatible change under 1 open window (aggregate top (topK) changed its parameters from {"k":3} to {"k":5}); wait until they close, or deploy again with --drain to emit them under the deployed definition first, or with --discard-open-windows to drop them',
    );
    expect(refusal).not.toContain('\n');
    expect(upgradeRefusal(check, OPEN_WINDOW_CHOICE.DISCARD)).toBeUndefined();
  });

  test('when the open windows were all emitted, an incompatible change may deploy', async () => {
    const before = views('p', { n: count() });
    const { store, objects } = await openState(before);
    await processor(store, objects, before).tick(Infinity);
    const check = checkUpgrade(await store.readProgress('p'), views('p', { n: sum((v) => v.ms) }) as never);
    expect(check.openWindows).toBe(0);
    expect(upgradeRefusal(check, OPEN_WINDOW_CHOICE.NONE)).toBeUndefined();
  });

  test('when open windows are discarded, nothing of them is emitted, and the new definition starts them afresh with only the records after the switch', async () => {
    const { store, objects } = await openState(views('p', { n: count() }));
    const next = views('p', { n: sum((v) => v.ms) });
    expect(await discardOpenWindows(store, 'p')).toBe(1);
    expect(checkUpgrade(await store.readProgress('p'), next as never).openWindows).toBe(0);
    const after = processor(store, objects, next);
    await after.apply(records(7, 8));
    await after.tick(Infinity);
    // Records 1..6 were in the discarded windows; 7 (u1) and 8 (u0) are summed by the new definition.
    expect(rows(objects)).toEqual([
      { user: 'u0', window_start: T0, window_end: T0 + MINUTE, n: 8, evolved_columns: null },
      { user: 'u1', window_start: T0, window_end: T0 + MINUTE, n: 7, evolved_columns: null },
    ]);
  });

  describe('a publish-only definition (no windows)', () => {
    const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
    const publishing = (): StatefulPipeline =>
      pipeline('p')
        .source({ stream: 'views', shards: 1 })
        .clean({ schema: View, eventTime: (v) => v.ts })
        .toStream('out', { partitionKey: (v) => v.user }) as unknown as StatefulPipeline;

    test('when a windowed pipeline with open windows becomes publish-only, the deploy is refused: its open windows would never close', async () => {
      const { store } = await openState(views('p', { n: count() }));
      const check = checkUpgrade(await store.readProgress('p'), publishing());
      expect(check).toMatchObject({
        openWindows: 1,
        change: {
          kind: STATE_CHANGE.INCOMPATIBLE,
          reasons: [
            'key column changed from user to (none)',
            'window changed from tumbling 60000 ms to none (publish-only)',
            'aggregate n was removed',
          ],
        },
      });
      expect(upgradeRefusal(check, OPEN_WINDOW_CHOICE.NONE)).toContain(
        'incompatible change under 1 open window',
      );
    });

    test('when a publish-only pipeline committed, it holds no open windows: any change may deploy', async () => {
      const store = new InMemoryStateStore();
      await new BatchProcessor({
        pipeline: publishing(),
        store,
        objects: new InMemoryObjectStore(),
        encoder: { contentType: 'x', extension: 'x', encode: () => new Uint8Array() },
        clock: { now: () => T0 + 3_600_000 },
        publisher: { stream: 'out', publish: async () => undefined },
      }).apply(records(1, 6));
      const check = checkUpgrade(await store.readProgress('p'), views('p', { n: count() }) as never);
      expect(check).toEqual({
        pipeline: 'p',
        openWindows: 0,
        change: { kind: 'compatible', added: [], reasons: [] },
      });
    });
  });
});
