import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import {
  removeSupersededSessionObjects,
  sessionObjectName,
  supersededSessionObjects,
} from '../../../../functions/core/state/sessionObjectNames';
import type { PipelineProgress } from '../../../../functions/core/state/types';

const at = (name: string, hour = '06'): string => `results/t/dt=2026-12-07/hour=${hour}/${name}.parquet`;
const item = (fields: Partial<PipelineProgress>): PipelineProgress =>
  ({ pipeline: 'p', ...fields }) as PipelineProgress;

const KEYS = [
  at('sessions-first'),
  at('sessions-after-1000'),
  at('sessions-after-2000'),
  at('sessions-ending-after--5'),
  at('sessions-ending-after-3000'),
  at('sessions-ending-after-4000', '07'),
  at('1796625600000-1796625660000'), // a fixed window's object
  at('sessions-ending-after-x'),
];

describe('session object names', () => {
  test.each([
    ['no pass had run', undefined, KEYS.slice(0, 6)],
    ['the first pass had run (legacy: named by emittedThrough)', { emittedThrough: 1000 }, KEYS.slice(1, 6)],
    ['legacy passes had run through 2000', { emittedThrough: 2000 }, KEYS.slice(2, 6)],
    [
      'passes named by emittedEnd had run through 3000',
      { emittedThrough: 3030, emittedEnd: 3000 },
      KEYS.slice(4, 6),
    ],
    ['passes had run through 3001', { emittedEnd: 3001 }, KEYS.slice(5, 6)],
    ['every pass had run', { emittedEnd: Number.MAX_SAFE_INTEGER }, []],
  ])(
    'when the savepoint was cut after %s, the objects of the pass it names and of every later pass are superseded',
    (_name, fields, expected) => {
      const restored = fields === undefined ? undefined : item(fields);
      expect(supersededSessionObjects(KEYS, restored)).toEqual(expected);
      // The restored pipeline's first pass names its objects as the pass the savepoint names.
      if (restored !== undefined)
        expect(sessionObjectName(restored)).toBe(
          restored.emittedEnd !== undefined
            ? `sessions-ending-after-${restored.emittedEnd}`
            : `sessions-after-${restored.emittedThrough}`,
        );
    },
  );

  test('a restore lists only from the restored session floor and removes the superseded objects', async () => {
    const objects = new InMemoryObjectStore();
    const body = new Uint8Array([1]);
    const keys = [
      at('sessions-ending-after-3000', '05'), // before the floor's hour: a session there would be open below the floor
      at('sessions-ending-after-3000', '06'),
      at('sessions-ending-after-2000', '06'),
      at('1796625600000-1796625660000', '07'),
    ];
    for (const key of keys) await objects.putObject(key, body, 'application/octet-stream');
    const floor = Date.UTC(2026, 11, 7, 6, 30);
    const removed = await removeSupersededSessionObjects(
      objects,
      't',
      item({ emittedEnd: 3000, sessionFloor: floor }),
    );
    expect(removed).toBe(1);
    expect(await objects.listKeys('results/')).toEqual([keys[0], keys[2], keys[3]].sort());
  });
});
