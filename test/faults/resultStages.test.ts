/**
 * Exactly-once across two pipelines linked by their results (`.sink({ toStream })`), under faults (seeded, in
 * memory): the upstream stage rolls clicks up per page and minute and its close pass publishes each minute row
 * to a two-shard stream that refuses some entries of a put or lands a put and then fails it; every I/O of both
 * stages' stores crashes, throttles or loses to a concurrent writer at random, so some close passes die after
 * they wrote and published and before they raised the emitted mark (the next pass publishes the same rows
 * again under the same ids). The downstream stage rolls the minute rows up per page and hour, redelivered,
 * bisected and duplicated like Lambda does. Its rows equal a DuckDB SQL reference over the raw clicks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import type { PublishEntry } from '../../functions/core/engine/streamTap';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';
import { StreamPublisher } from '../../functions/core/state/streamPublisher';
import type { StatefulPipeline } from '../../functions/core/state/types';
import type { RawRecord, ResultRow } from '../../functions/core/types';
import { jsonEncoder } from '../helpers/jsonEncoder';
import { FaultPlan, FaultyObjectStore, FaultyStateStore, NO_FAULTS } from './faultyIo';
import { Prng } from './prng';
import { FlakyStream, Stage } from './stageHarness';

const SEED = Number(process.env.SHARDFLOW_FAULT_SEED ?? 20_261_206);
const SCHEDULES = Number(process.env.SHARDFLOW_FAULT_RESULT_SCHEDULES ?? 20);
const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
/** The clicks span two and a half hours. */
const SPAN_MS = 9_000_000;

const Click = z.object({ id: z.string(), page: z.string(), ts: z.number(), ms: z.number() });
/** Clicks come in event-time order on each shard: none is late, so minute windows close during the run. */
const minutes = pipeline('rs-minutes')
  .source({ stream: 'clicks', shards: 2 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .filter((c) => c.ms >= 0)
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '1m', idleTimeout: '1d' })
  .aggregate({ clicks: count(), time_ms: sum((c) => c.ms) })
  .sink({ table: 'rs_minutes', toStream: 'minutes' });
const MinuteRow = z.object({
  id: z.string(),
  time: z.number(),
  value: z.object({ page: z.string(), clicks: z.number(), time_ms: z.number() }),
});
const hours = pipeline('rs-hours')
  .source({ stream: 'minutes', shards: 2 })
  .clean({ schema: MinuteRow, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
  .keyBy((r) => r.value.page, 'page')
  .window(tumbling('1h'), { allowedLateness: '0s', maxOutOfOrderness: '1h', idleTimeout: '1d' })
  .aggregate({ clicks: sum((r) => r.value.clicks), time_ms: sum((r) => r.value.time_ms), minutes: count() })
  .sink({ table: 'rs_hours' });

interface Click {
  id: string;
  page: string;
  ts: number;
  ms: number;
}

/**
 * Clicks in event-time order; a producer retry repeats a click right after it, on the same shard (the upstream
 * `dedupeBy` reaches over one shard).
 */
function clicks(rng: Prng, n: number): Click[] {
  const out: Click[] = [];
  for (let i = 0; i < n; i++) {
    const click = {
      id: rng.uuid(),
      page: `/p${rng.int(0, 4)}`,
      ts: T0 + Math.floor((i * SPAN_MS) / n) + rng.int(0, 999),
      ms: rng.chance(0.1) ? -1 : rng.int(0, 5000),
    };
    out.push(click);
    if (rng.chance(0.05)) out.push({ ...click });
  }
  return out;
}

async function runResultStages(seed: number) {
  const rng = new Prng(seed);
  const plan = new FaultPlan(rng, {
    crashBefore: 0.02,
    crashAfter: 0.02,
    throttle: 0.01,
    concurrentWriter: 0.02,
    stall: 0,
  });
  let now = T0 + SPAN_MS;
  const clock = { now: () => now };
  const input = clicks(rng, rng.int(60, 240));
  const raw: RawRecord[][] = [[], []];
  const shardOf = new Map<string, number>();
  for (const click of input) {
    const shard = shardOf.get(click.id) ?? rng.int(0, 1);
    shardOf.set(click.id, shard);
    raw[shard]!.push({
      shardId: `shardId-00000000000${shard}`,
      sequenceNumber: String(raw[shard]!.length + 1),
      partitionKey: click.page,
      data: Buffer.from(JSON.stringify(click)).toString('base64'),
      approximateArrivalTimestamp: T0 + SPAN_MS,
    });
  }
  const stream = new FlakyStream(rng, clock.now);
  // Ids a publish call put in full, and how many a later call put again (a close pass run again).
  const landed = new Set<string>();
  let republished = 0;
  const results = { upstream: new InMemoryObjectStore(), downstream: new InMemoryObjectStore() };
  const tables = { upstream: new InMemoryStateTables(), downstream: new InMemoryStateTables() };
  const processorOf = (which: 'upstream' | 'downstream', p: StatefulPipeline) => (): BatchProcessor => {
    const publisher = new StreamPublisher(stream, 'minutes', {
      maxAttempts: rng.int(2, 4),
      sleep: async () => undefined,
    });
    // Small close passes: a pass with every I/O at risk completes often enough to make progress.
    return new BatchProcessor(
      {
        pipeline: p,
        store: new FaultyStateStore(
          new InMemoryStateStore({ tables: tables[which] }),
          plan,
          new InMemoryStateStore({ tables: tables[which] }),
        ),
        objects: new FaultyObjectStore(results[which], plan),
        encoder: jsonEncoder,
        clock,
        ...(which === 'upstream'
          ? {
              resultPublisher: {
                stream: 'minutes',
                publish: async (entries: readonly PublishEntry[]) => {
                  await publisher.publish(entries);
                  for (const entry of entries) {
                    const { id } = JSON.parse(entry.data) as { id: string };
                    if (landed.has(id)) republished += 1;
                    landed.add(id);
                  }
                },
              },
            }
          : {}),
      },
      { maxEmitPerPass: 4 },
    );
  };
  const up = new Stage(rng, () => raw, processorOf('upstream', minutes), 20);
  const down = new Stage(rng, () => stream.shards, processorOf('downstream', hours), 25);
  let upstreamClosed = false;
  for (let steps = 0; !(upstreamClosed && down.caughtUp); steps++) {
    if (steps > 20_000) throw new Error(`seed ${seed}: no progress after ${steps} steps`);
    now += 100;
    if (up.caughtUp && !upstreamClosed) {
      // End of the clicks: the upstream's last minutes close (a tick that dies is run again).
      upstreamClosed = await up.processor.tick(Number.POSITIVE_INFINITY).then(
        () => true,
        () => false,
      );
      continue;
    }
    await (up.caughtUp || (!down.caughtUp && rng.chance(0.4)) ? down : up).step();
    if (rng.chance(0.03)) await (rng.chance(0.5) ? up : down).processor.tick().catch(() => undefined);
  }
  plan.rates = NO_FAULTS;
  stream.faulty = false;
  await down.processor.tick(Number.POSITIVE_INFINITY);
  const rows = [...results.downstream.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(results.downstream.text(key) ?? '[]') as ResultRow[]);
  const published = stream.shards.reduce((n, s) => n + s.length, 0);
  return { input, rows, published, distinct: landed.size, republished, stream, up, down };
}

describe('two stages linked by their results, under faults', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-result-stage-faults-'));
    console.log(`result-stage fault seed ${SEED} (replay: SHARDFLOW_FAULT_SEED=${SEED})`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`when ${SCHEDULES} seeded schedules republish minute rows (dying close passes, flaky puts) and redeliver, bisect and duplicate downstream, the hour rows equal the DuckDB reference`, async () => {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const totals = { published: 0, distinct: 0, republished: 0, refused: 0, landedButFailed: 0, failed: 0 };
    try {
      for (let s = 0; s < SCHEDULES; s++) {
        const seed = SEED + s;
        const run = await runResultStages(seed);
        const file = join(dir, `clicks-${seed}.jsonl`);
        writeFileSync(file, run.input.map((c) => JSON.stringify(c)).join('\n'));
        const expected = (
          await connection.runAndReadAll(`
            SELECT page, epoch_ms(time_bucket(INTERVAL 1 hour, make_timestamp(ts * 1000))) AS window_start,
                   count(*)::DOUBLE AS clicks, sum(ms)::DOUBLE AS time_ms,
                   count(DISTINCT time_bucket(INTERVAL 1 minute, make_timestamp(ts * 1000)))::INTEGER AS minutes
            FROM (SELECT DISTINCT ON (id) * FROM read_json('${file}', format = 'newline_delimited')) WHERE ms >= 0
            GROUP BY ALL ORDER BY window_start, page`)
        ).getRowObjectsJson();
        const actual = run.rows
          .map((r) => ({
            page: r['page'],
            window_start: String(r['window_start']),
            clicks: Number(r['clicks']),
            time_ms: Number(r['time_ms']),
            minutes: Number(r['minutes']),
          }))
          .sort(
            (a, b) =>
              Number(a.window_start) - Number(b.window_start) || String(a.page).localeCompare(String(b.page)),
          );
        expect({ seed, rows: actual }).toEqual({ seed, rows: expected });
        totals.published += run.published;
        totals.distinct += run.distinct;
        totals.republished += run.republished;
        totals.refused += run.stream.refused;
        totals.landedButFailed += run.stream.landedButFailed;
        totals.failed += run.up.failed + run.down.failed;
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }
    console.log(`result-stage faults: ${JSON.stringify(totals)}`);
    // The faults happened: rows were published again by close passes run again, and copies landed.
    expect(totals.republished).toBeGreaterThan(0);
    expect(totals.published).toBeGreaterThan(totals.distinct);
    expect(totals.refused).toBeGreaterThan(0);
    expect(totals.landedButFailed).toBeGreaterThan(0);
    expect(totals.failed).toBeGreaterThan(0);
  }, 120_000);
});
