/**
 * The upgrade check judges which pending windows are open by the rule of the definition that wrote them
 * (its registered shape's window kind), not the new one's: a session still open under a session definition
 * is open when the new definition has tumbling windows, and emitted tumbling windows are not open when the
 * new one has sessions.
 */
import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../../../functions/core/dsl';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import { checkUpgrade, OPEN_WINDOW_CHOICE, upgradeGate } from '../../../../functions/core/state/upgradeCheck';
import { rawRecord } from '../../../helpers/records';
import { processor, rows } from '../../../helpers/stateShapeContract';

const T0 = Date.UTC(2030, 0, 1);
const SEC = 1000;
const SHARD = 'shardId-000000000000';
const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
const base = (name: string) =>
  pipeline(name)
    .source({ stream: 'views', shards: 1 })
    .clean({ schema: View, eventTime: (v) => v.ts })
    .keyBy((v) => v.user, 'user');
const opts = { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' } as const;
const sessions = (name: string): StatefulPipeline =>
  base(name)
    .window(session('30s'), opts)
    .aggregate({ n: count() })
    .sink({ table: 't' }) as unknown as StatefulPipeline;
const tumblingDef = (name: string): StatefulPipeline =>
  base(name)
    .window(tumbling('30s'), opts)
    .aggregate({ n: count() })
    .sink({ table: 't' }) as unknown as StatefulPipeline;

let seq = 0;
const rec = (user: string, t: number) =>
  rawRecord(
    { user, ms: 1, ts: T0 + t },
    { shardId: SHARD, sequenceNumber: ++seq, approximateArrivalTimestamp: T0 + t },
  );

describe('upgrade check across window kinds', () => {
  test('when sessions become tumbling windows while a session is open, the gate refuses naming the change', async () => {
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const old = processor(store, objects, sessions('s'));
    // One batch: u0's session with a record every 20 s from 0 to 240 s (13 records), still open (it ends at
    // 270 s and closes at 300 s); stored as one fragment under the bucket of its start, [0, 30 s). The close
    // pass raises emittedEnd to the watermark, 240 s, past that bucket's end.
    const batch = [];
    for (let t = 0; t <= 240; t += 20) batch.push(rec('u0', t * SEC));
    await old.apply(batch);
    await old.tick();
    expect(rows(objects)).toEqual([]);
    const snapshot = await store.readProgress('s');
    expect(checkUpgrade(snapshot, sessions('s') as never).openWindows).toBeGreaterThan(0);
    expect(checkUpgrade(snapshot, tumblingDef('s') as never).openWindows).toBeGreaterThan(0);
    const gate = await upgradeGate(store, tumblingDef('s') as never, OPEN_WINDOW_CHOICE.NONE);
    expect(gate).toMatchObject({ passed: false });
    expect(JSON.stringify(gate)).toMatch(/incompatible change under 1 open window/);
  });

  test('when tumbling windows become sessions after every window was emitted, the gate lets it deploy', async () => {
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const old = processor(store, objects, tumblingDef('t2'));
    await old.apply([rec('u0', 1 * SEC), rec('u1', 2 * SEC)]);
    await old.tick(Infinity); // window [0, 30 s) emitted
    expect(rows(objects)).toHaveLength(2);
    const snapshot = await store.readProgress('t2');
    expect(checkUpgrade(snapshot, tumblingDef('t2') as never).openWindows).toBe(0);
    // README: "Without open windows any change deploys."
    const gate = await upgradeGate(store, sessions('t2') as never, OPEN_WINDOW_CHOICE.NONE);
    expect(gate).toMatchObject({ passed: true });
  });
});
