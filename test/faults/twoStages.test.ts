/**
 * Exactly-once across two pipelines linked by a stream, under faults (seeded, in memory): the upstream stage
 * reads two shards of clicks and publishes each clean value to a two-shard stream that refuses some entries of
 * a put, or lands a put and then fails it (so the publisher puts again: copies), and every I/O of both stages'
 * stores crashes, throttles or loses to a concurrent writer at random. Both stages run under Lambda's
 * semantics: a failed batch is redelivered from its first record (bisected downstream), some are delivered
 * twice, and some invocations die after they published (the batch is redelivered and publishes again). The
 * downstream rows equal a DuckDB SQL reference over the raw clicks: each valid click once. In one variant the
 * upstream state of the page `/huge` never fits a commit: its clicks are dead-lettered `STATE_LIMIT` upstream
 * and must never reach the downstream stage, however often their batches are redelivered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';
import { StreamPublisher } from '../../functions/core/state/streamPublisher';
import { StateLimitError } from '../../functions/core/state/errors';
import { decodeSegment } from '../../functions/core/state/segmentCodec';
import type { StatefulPipeline, StateStore } from '../../functions/core/state/types';
import type { RawRecord, ResultRow } from '../../functions/core/types';
import { FaultPlan, FaultyObjectStore, FaultyStateStore, NO_FAULTS } from './faultyIo';
import { FlakyStream, Stage } from './stageHarness';
import { Prng } from './prng';
import { jsonEncoder } from '../helpers/jsonEncoder';
import { randomClick, twoStages, viewRows } from '../helpers/twoStageFixture';

const SEED = Number(process.env.SHARDFLOW_FAULT_SEED ?? 20_261_206);
const SCHEDULES = Number(process.env.SHARDFLOW_FAULT_STAGE_SCHEDULES ?? 30);
const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);

/** The upstream stage only publishes, or also keeps windows of its own (the publish path of a windowed pipeline). */
const VARIANTS = [
  { name: 'publish-only', schedules: SCHEDULES, ...twoStages('stage') },
  {
    name: 'windowed and publishing',
    schedules: Math.ceil(SCHEDULES / 2),
    ...twoStages('wstage', { upstreamWindowed: true }),
  },
  {
    name: 'windowed and publishing, with STATE_LIMIT records',
    schedules: Math.ceil(SCHEDULES / 2),
    ...twoStages('hstage', { upstreamWindowed: true }),
    hugePages: true,
  },
] as const;
type Variant = (typeof VARIANTS)[number];

type Click = ReturnType<typeof randomClick>;

/** The page whose upstream state is refused by every commit (`refusingHugePages`). */
const HUGE_PAGE = '/huge';

function clicks(rng: Prng, n: number, hugePages: boolean): Click[] {
  const out: Click[] = [];
  for (let i = 0; i < n; i++) {
    const random = randomClick(rng, T0);
    const click = hugePages && rng.chance(0.05) ? { ...random, page: HUGE_PAGE } : random;
    out.push(click);
    // A producer retry: the same click again, later, maybe through the other shard.
    if (rng.chance(0.05)) out.splice(rng.int(0, out.length), 0, { ...click });
  }
  return out;
}

/**
 * `store` whose limit no segment holding a partial of the page `/huge` fits, as if that page's state were too
 * big for one commit: a batch holding such a click commits in halves, and the click alone is dead-lettered.
 */
function refusingHugePages(store: StateStore): StateStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'checkSegment')
        return (segment: Parameters<StateStore['checkSegment']>[0]) => {
          const { windows } = decodeSegment(segment.body);
          if (windows.some((w) => w.partials.some((p) => p.key === HUGE_PAGE)))
            throw new StateLimitError(`segment holds state of ${HUGE_PAGE}, which never fits`);
          target.checkSegment(segment);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function runTwoStages(variant: Variant, seed: number) {
  const { upstream, downstream } = variant;
  const hugePages = 'hugePages' in variant && variant.hugePages;
  const rng = new Prng(seed);
  const plan = new FaultPlan(rng, {
    crashBefore: 0.02,
    crashAfter: 0.02,
    throttle: 0.01,
    concurrentWriter: 0.02,
    stall: 0,
  });
  let now = T0 + 3_600_000;
  const clock = { now: () => now };
  const input = clicks(rng, rng.int(60, 240), hugePages);
  const raw: RawRecord[][] = [[], []];
  for (const click of input) {
    const shard = rng.int(0, 1);
    raw[shard]!.push({
      shardId: `shardId-00000000000${shard}`,
      sequenceNumber: String(raw[shard]!.length + 1),
      partitionKey: click.user,
      data: Buffer.from(JSON.stringify(click)).toString('base64'),
      approximateArrivalTimestamp: T0 + 3_600_000,
    });
  }
  const stream = new FlakyStream(rng, clock.now);
  const results = { upstream: new InMemoryObjectStore(), downstream: new InMemoryObjectStore() };
  const tables = { upstream: new InMemoryStateTables(), downstream: new InMemoryStateTables() };
  const processorOf = (which: 'upstream' | 'downstream', p: StatefulPipeline) => (): BatchProcessor =>
    new BatchProcessor({
      pipeline: p,
      store: (which === 'upstream' && hugePages ? refusingHugePages : (s: StateStore) => s)(
        new FaultyStateStore(
          new InMemoryStateStore({ tables: tables[which] }),
          plan,
          new InMemoryStateStore({ tables: tables[which] }),
        ),
      ),
      objects: new FaultyObjectStore(results[which], plan),
      encoder: jsonEncoder,
      clock,
      ...(which === 'upstream'
        ? {
            publisher: new StreamPublisher(stream, 'views', {
              maxAttempts: rng.int(1, 3),
              sleep: async () => undefined,
            }),
          }
        : {}),
    });
  const up = new Stage(rng, () => raw, processorOf('upstream', upstream), 20);
  const down = new Stage(rng, () => stream.shards, processorOf('downstream', downstream), 25);
  for (let steps = 0; !(up.caughtUp && down.caughtUp); steps++) {
    if (steps > 20_000) throw new Error(`seed ${seed}: no progress after ${steps} steps`);
    now += 100;
    await (up.caughtUp || (!down.caughtUp && rng.chance(0.4)) ? down : up).step();
    if (rng.chance(0.02)) await (rng.chance(0.5) ? up : down).processor.tick().catch(() => undefined);
  }
  plan.rates = NO_FAULTS;
  stream.faulty = false;
  await down.processor.tick(Number.POSITIVE_INFINITY);
  const rows = [...results.downstream.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(results.downstream.text(key) ?? '[]') as ResultRow[]);
  const published = stream.shards.reduce((n, s) => n + s.length, 0);
  return { input, rows, published, stream, up, down, injected: plan.injected };
}

describe('two stages under faults', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-stage-faults-'));
    console.log(`two-stage fault seed ${SEED} (replay: SHARDFLOW_FAULT_SEED=${SEED})`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(VARIANTS)(
    `when seeded schedules redeliver, bisect, duplicate and republish between the stages (upstream $name), the downstream rows equal the DuckDB reference`,
    async (variant) => {
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      const totals = {
        copies: 0,
        published: 0,
        valid: 0,
        refused: 0,
        landedButFailed: 0,
        diedAfter: 0,
        failed: 0,
        huge: 0,
      };
      try {
        for (let s = 0; s < variant.schedules; s++) {
          const seed = SEED + s;
          const run = await runTwoStages(variant, seed);
          const file = join(dir, `clicks-${seed}.jsonl`);
          writeFileSync(file, run.input.map((c) => JSON.stringify(c)).join('\n'));
          const expected = (
            await connection.runAndReadAll(`
            SELECT "user", (epoch_ms(time_bucket(INTERVAL 1 minute, make_timestamp(ts * 1000)))) AS window_start,
                   count(*)::INTEGER AS views, sum(ms)::DOUBLE AS time_ms
            FROM (SELECT DISTINCT ON (id) * FROM read_json('${file}', format = 'newline_delimited'))
            WHERE ms >= 0 AND page <> '${HUGE_PAGE}'
            GROUP BY ALL ORDER BY window_start, "user"`)
          ).getRowObjectsJson();
          const actual = viewRows(run.rows);
          expect({ seed, rows: actual }).toEqual({ seed, rows: expected });
          totals.valid += new Set(
            run.input.filter((c) => c.ms >= 0 && c.page !== HUGE_PAGE).map((c) => c.id),
          ).size;
          totals.huge += run.input.filter((c) => c.page === HUGE_PAGE).length;
          totals.published += run.published;
          totals.refused += run.stream.refused;
          totals.landedButFailed += run.stream.landedButFailed;
          totals.diedAfter += run.up.diedAfter;
          totals.failed += run.up.failed + run.down.failed;
        }
      } finally {
        connection.closeSync();
        db.closeSync();
      }
      console.log(`two-stage faults (upstream ${variant.name}): ${JSON.stringify(totals)}`);
      // The faults happened: more copies were published than there are values, and every kind occurred.
      expect(totals.published).toBeGreaterThan(totals.valid);
      expect(totals.refused).toBeGreaterThan(0);
      expect(totals.landedButFailed).toBeGreaterThan(0);
      expect(totals.diedAfter).toBeGreaterThan(0);
      expect(totals.failed).toBeGreaterThan(0);
      if ('hugePages' in variant) expect(totals.huge).toBeGreaterThan(0);
    },
    120_000,
  );
});
