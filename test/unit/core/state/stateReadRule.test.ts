/**
 * One rule says whether a definition reads state written under a fingerprint (`changeFromFingerprint`): the
 * close pass (`StateShapeGuard.admit`) refuses exactly the segments the upgrade gate (`checkUpgrade`) calls
 * incompatible, so a deploy the gate lets through never leaves a window every close pass refuses.
 */
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../../../functions/core/dsl';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import { STATE_CHANGE, type StateShape } from '../../../../functions/core/state/stateFingerprint';
import { StateShapeGuard } from '../../../../functions/core/state/stateShapeGuard';
import type { ProgressSnapshot, Segment, StatefulPipeline } from '../../../../functions/core/state/types';
import { checkUpgrade } from '../../../../functions/core/state/upgradeCheck';

const Event = z.object({ user: z.string(), page: z.string(), ms: z.number(), ts: z.number() });
type E = z.infer<typeof Event>;

const definition = (key: 'user' | 'page', withTotal: boolean): StatefulPipeline =>
  pipeline('read-rule')
    .source({ stream: 'events', shards: 1 })
    .clean({ schema: Event, eventTime: (e: E) => e.ts })
    .keyBy((e: E) => e[key], key)
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1m' })
    .aggregate(withTotal ? { n: count(), total: sum((e: E) => e.ms) } : { n: count() })
    .sink({ table: 'read_rule' }) as unknown as StatefulPipeline;

const running = definition('user', true);
const older = definition('user', false); // evolvable: `total` added since
const otherKey = definition('page', false); // incompatible: key column changed

const SHARD = 'shardId-000000000000';

/** A snapshot with one open window on one shard whose state was written under `fingerprint`. */
function snapshotOf(
  fingerprint: string | undefined,
  shapes: ReadonlyMap<string, StateShape | undefined>,
): ProgressSnapshot {
  return {
    pipeline: undefined,
    shapes,
    shards: [
      {
        pipeline: 'read-rule',
        shardId: SHARD,
        watermark: 0,
        maxEventTime: 0,
        lastSequence: '1',
        lastActivity: 0,
        closed: false,
        frozen: -Infinity,
        commits: 1,
        pending: [{ start: 0, end: 60_000, firstCommit: 1, lastCommit: 1 }],
        ...(fingerprint === undefined ? {} : { shape: fingerprint }),
      },
    ],
  } as unknown as ProgressSnapshot;
}

const segmentOf = (fingerprint: string | undefined): Segment =>
  ({
    pipeline: 'read-rule',
    shardId: SHARD,
    commit: 1,
    attempt: 0,
    firstSequence: '1',
    lastSequence: '1',
    body: new Uint8Array(),
    ...(fingerprint === undefined ? {} : { shape: fingerprint }),
  }) as Segment;

const registered = new Map<string, StateShape | undefined>([
  [running.stateFingerprint, running.stateShape],
  [older.stateFingerprint, older.stateShape],
  [otherKey.stateFingerprint, otherKey.stateShape],
  ['0123456789abcdef', undefined], // registered, but its stored text is not a readable shape
]);

describe('the state read rule', () => {
  test.each([
    ['the same fingerprint', STATE_CHANGE.COMPATIBLE, running.stateFingerprint],
    ['an older shape with fewer aggregates', STATE_CHANGE.EVOLVABLE, older.stateFingerprint],
    ['a shape keyed by another column', STATE_CHANGE.INCOMPATIBLE, otherKey.stateFingerprint],
    ['a fingerprint nobody registered', STATE_CHANGE.INCOMPATIBLE, 'ffffffffffffffff'],
    ['a registered fingerprint whose shape is unreadable', STATE_CHANGE.INCOMPATIBLE, '0123456789abcdef'],
    ['no fingerprint', STATE_CHANGE.INCOMPATIBLE, undefined],
  ])(
    'when open state was written under %s, the gate calls it %s and the close pass refuses it exactly when incompatible',
    (_name, expected, fingerprint) => {
      const snapshot = snapshotOf(fingerprint, registered);
      const gate = checkUpgrade(snapshot, running);
      expect(gate.openWindows).toBe(1);
      expect(gate.change.kind).toBe(expected);
      const guard = new StateShapeGuard({ pipeline: running, store: new InMemoryStateStore() });
      const admit = (): void => guard.admit(segmentOf(fingerprint), snapshot);
      if (expected === STATE_CHANGE.INCOMPATIBLE) {
        expect(admit).toThrow(gate.change.reasons.join('; '));
        expect(guard.refused).toBe(1);
      } else {
        expect(admit).not.toThrow();
        expect(guard.refused).toBe(0);
      }
    },
  );
});
