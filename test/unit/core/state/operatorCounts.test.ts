import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import { sumCounts } from '../../../../functions/core/state/shardCounts';
import { rawRecord } from '../../../helpers/records';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const T0 = Date.UTC(2030, 0, 1);
const Event = z.object({ n: z.number(), ts: z.number() });

/** map (throws on 7) → filter (odd only) → flatMap (two copies; an undefined element for 9). */
const chained = pipeline('chained')
  .source({ stream: 's', shards: 1 })
  .clean({ schema: Event, eventTime: (e) => e.ts })
  .map((e) => {
    if (e.n === 7) throw new Error('seven');
    return { ...e, twice: e.n * 2 };
  }, 'double')
  .filter((e) => e.n % 2 === 1, 'odd')
  .flatMap((e) => (e.n === 9 ? [e, undefined as unknown as typeof e] : [e, { ...e }]), 'copies')
  .keyBy((e) => String(e.n), 'n')
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '30s' })
  .aggregate({ copies: count() })
  .sink({ table: 't' });

const records = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    rawRecord(
      { n: from + i, ts: T0 + from + i },
      { sequenceNumber: from + i, approximateArrivalTimestamp: T0 },
    ),
  );

describe('per-operator counts', () => {
  test('when a batch runs through map, filter and flatMap, each operator counts the values in and the values it passed on', () => {
    const prepared = chained.prepare(records(1, 10), { closedWatermark: -Infinity });
    // double: 10 in, 9 out (7 threw); odd: 9 in, 4 kept (1, 3, 5, 9); copies: 4 in, 7 elements passed on
    // (two each for 1, 3, 5; for 9 the first, then its undefined second element rejects the record).
    expect(prepared.operators).toEqual([
      [10, 9],
      [9, 4],
      [4, 7],
    ]);
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['OPERATOR_THREW', 'OPERATOR_RETURNED_INVALID']);
  });

  test('when batches commit, the shard progress adds their operator counts exactly once, redeliveries included', async () => {
    const tables = new InMemoryStateTables();
    const store = new InMemoryStateStore({ tables });
    const processor = new BatchProcessor({
      pipeline: chained as unknown as StatefulPipeline,
      store,
      objects: new InMemoryObjectStore(),
      encoder: jsonEncoder,
      clock: { now: () => T0 },
    });
    await processor.apply(records(1, 10));
    await processor.apply(records(1, 10)); // redelivered: already committed
    await processor.apply(records(11, 14));
    const { shards } = await store.readProgress('chained');
    // 11..14: double 4/4, odd 4/2 (11, 13), copies 2/4.
    expect(sumCounts(shards).operators).toEqual([
      [14, 13],
      [13, 6],
      [6, 11],
    ]);
  });
});
