/**
 * What hostile producers send that is valid by the schema but aims at the state layer (issue 12): keys
 * that spell internal item names, maximal and multi-byte keys, values whose sum overflows a double, and
 * event times from a clock running ahead. The pipeline is page-activity's aggregates over a schema that
 * lets keys be long (page-activity caps `page` at 512 characters).
 */
import * as zm from 'zod/mini';
import { z } from 'zod';
import {
  avg,
  count,
  distinctCount,
  max,
  percentile,
  pipeline,
  sum,
  sliding,
  topK,
  tumbling,
} from '../../functions/core/dsl';
import { MAX_KEY_BYTES } from '../../functions/core/engine/definition';
import { PageEvent } from '../../functions/pipelines/pageActivity';

const LongKeyEvent = zm.extend(PageEvent, { page: z.string().min(1).max(4096) });
type LongKeyEvent = z.infer<typeof LongKeyEvent>;

/** page-activity's aggregates keyed by an unbounded `page`, over two shards. */
export const hostileProducers = pipeline('hostile-producers')
  .source({ stream: 'hostile-producers', shards: 2 })
  .clean({
    schema: LongKeyEvent,
    eventTime: (e: LongKeyEvent) => Date.parse(e.ts),
    dedupeBy: (e: LongKeyEvent) => e.eventId,
  })
  .keyBy((e) => e.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({
    events: count(),
    revenue: sum((e) => e.revenue),
    avg_revenue: avg((e) => e.revenue),
    max_duration_ms: max((e) => e.durationMs),
    p95_duration_ms: percentile((e) => e.durationMs, 0.95),
    users: distinctCount((e) => e.userId),
    top_countries: topK((e) => e.country, 3),
  })
  .sink({ table: 'hostile_producers_minutely' });

const NoteEvent = zm.extend(PageEvent, { note: z.string().max(1_000_000) });
type NoteEvent = z.infer<typeof NoteEvent>;

/**
 * State as large as a producer can make it: the top notes (long free text, up to the Kinesis record size) per
 * page in one-hour windows sliding every minute, so one record's value lands in 60 windows' state.
 */
export const hostileState = pipeline('hostile-state')
  .source({ stream: 'hostile-state', shards: 2 })
  .clean({
    schema: NoteEvent,
    eventTime: (e: NoteEvent) => Date.parse(e.ts),
    dedupeBy: (e: NoteEvent) => e.eventId,
  })
  .keyBy((e) => e.page, 'page')
  .window(sliding('1h', '1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({ events: count(), top_notes: topK((e) => e.note, 3) })
  .sink({ table: 'hostile_state' });

/**
 * Keys a producer may send that spell, or look like, the state table's internal names and separators, plus
 * the longest and the widest keys that fit in {@link MAX_KEY_BYTES} UTF-8 bytes.
 */
export const COLLIDING_KEYS: readonly string[] = [
  'shards',
  '#',
  '##',
  '#pipeline',
  'pipeline',
  'hostile-producers',
  'P#hostile-producers',
  'W#hostile-producers#x',
  '0000000000000000#0000000000060000',
  '\u0000',
  ' ',
  'ß😀中',
  'a'.repeat(MAX_KEY_BYTES),
  '中'.repeat(Math.floor(MAX_KEY_BYTES / 3)),
];
