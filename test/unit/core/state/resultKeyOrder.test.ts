/**
 * Rows of a result object are sorted by key as SQL sorts text (UTF-8 bytes, `keyOrder.ts`), for fixed
 * windows and sessions: a key beyond U+FFFF (an emoji) after one in U+E000..U+FFFF.
 */
import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import type { RawRecord, WindowSpec } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const T0 = Date.UTC(2026, 0, 1, 10, 0);
const Ev = z.object({ k: z.string(), t: z.number() });
const KEYS = ['😀', '｡', 'é', 'a'];

const counting = (window: WindowSpec) =>
  pipeline('order')
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t })
    .keyBy((e) => e.k, 'k')
    .window(window, { allowedLateness: '0s', maxOutOfOrderness: '0s' })
    .aggregate({ n: count() })
    .sink({ table: 't' });

it.each([
  ['a tumbling window', tumbling('1m')],
  ['a session pass', session('1m')],
])(
  'when %s holds keys beyond U+FFFF and in U+E000..U+FFFF, its rows are in SQL order',
  async (_what, window) => {
    const objects = new InMemoryObjectStore();
    const processor = new BatchProcessor({
      pipeline: counting(window),
      store: new InMemoryStateStore(),
      objects,
      encoder: jsonEncoder,
      clock: { now: () => T0 },
    });
    const records: RawRecord[] = KEYS.map((k, i) => ({
      shardId: 'shardId-000000000000',
      sequenceNumber: String(i + 1),
      partitionKey: 'p',
      data: Buffer.from(JSON.stringify({ k, t: T0 + i })).toString('base64'),
      approximateArrivalTimestamp: T0 + i,
    }));
    await processor.apply(records);
    await processor.tick(Number.POSITIVE_INFINITY);
    const results = [...objects.objects.keys()].filter((key) => key.startsWith('results/'));
    expect(results).toHaveLength(1);
    const rows = JSON.parse(objects.text(results[0]!) ?? '[]') as { k: string }[];
    expect(rows.map((r) => r.k)).toEqual(['a', 'é', '｡', '😀']);
  },
);
