/**
 * The exactly-once fault harness. One schedule = a seeded random input (page-activity events over 1–4
 * shards with out-of-order, very late, malformed and producer-duplicated records) delivered by a fake
 * Lambda event-source mapping (random batch sizes, whole-batch redelivery, bisection on error, retries
 * from the first failed record, warm and cold instances, interleaved ticks) through the real
 * `BatchProcessor` + `processKinesisBatch` (the operator handler's code path), with faults injected at
 * every state-store and object-store call. Afterwards the results are mirrored to a directory and
 * compared with a DuckDB SQL reference computed from the raw input.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { processKinesisBatch } from '../../functions/core/state/batchResponse';
import { SkippedBatchReplay } from '../../functions/core/state/SkippedBatchReplay';
import type {
  ObjectStore,
  ResultEncoder,
  StatefulPipeline,
  StateStore,
} from '../../functions/core/state/types';
import type { Clock, RawRecord, WindowSpec } from '../../functions/core/types';
import { FaultPlan, FaultyObjectStore, FaultyStateStore, NO_FAULTS, type FaultRates } from './faultyIo';
import { Prng } from './prng';

/** Where a schedule's state and objects live. */
export interface Backend {
  /** A new store instance (cold cache) over the schedule's shared state. */
  newStore(): StateStore;
  readonly objects: ObjectStore;
  /** Copies every object to `dir` under its key. */
  mirror(dir: string): Promise<void>;
  /** Requests made to the state backend so far (all instances). */
  stateRequests(): number;
  /** Throttled calls the stores retried themselves (injected inside the store's client), when counted. */
  storeThrottles?(): number;
  close(): Promise<void>;
}

export interface ScheduleOptions {
  readonly pipeline: StatefulPipeline;
  /** Whether the pipeline drops producer duplicates by event id (the reference then does too). */
  readonly dedupe: boolean;
  readonly encoder: ResultEncoder;
  readonly backend: () => Promise<Backend>;
}

export interface ScheduleReport {
  readonly seed: number;
  readonly records: number;
  readonly shards: number;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly injected: Readonly<Record<string, number>>;
  readonly resultRows: number;
  readonly mismatches: readonly string[];
}

const SEQUENCE_BASE = 49590338271490256608559692538361571095921575989136588898n;
export const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const PAGES = ['/', '/cart', '/checkout', '/p/1', '/p/2', '/search'];
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR'];

export interface Schedule {
  readonly shards: RawRecord[][];
  readonly maxBatch: number;
  readonly rates: FaultRates;
  readonly redeliver: number;
  readonly tick: number;
  readonly coldStart: number;
  readonly bisect: number;
  /** Probability that a batch is processed twice concurrently. */
  readonly race: number;
  /** Probability that a batch of another shard is delivered at the same time. */
  readonly parallel: number;
  /** Probability that a tick runs concurrently with a step's deliveries (not awaited before them). */
  readonly tickRace: number;
  /** Largest clock skew of an instance, ± milliseconds (idle detection and TTLs read the clock). */
  readonly skewMs: number;
  /** Probability that an instance closes at most 1–3 windows per pass. */
  readonly smallPasses: number;
  /**
   * Probability that a failed batch is given up (as Lambda does once its retries are exhausted: it moves on
   * and writes an on-failure record); such batches are replayed by `SkippedBatchReplay` at the end.
   */
  readonly discard: number;
}

function encode(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');
}

/** Draws the input and the delivery/fault parameters of a schedule from its seed. */
export function draw(rng: Prng): Schedule {
  const shardCount = rng.int(1, 4);
  const shards: RawRecord[][] = [];
  for (let s = 0; s < shardCount; s++) {
    const shardId = `shardId-${String(s).padStart(12, '0')}`;
    const records: RawRecord[] = [];
    const count = rng.int(15, 70);
    let seq = SEQUENCE_BASE + BigInt(s) * 10n ** 30n;
    const push = (data: string, eventTime: number): void => {
      seq += BigInt(rng.int(1, 1_000_000));
      // Now and then a producer clock runs ahead of arrival: within maxEventTimeAhead (5 min) the record is
      // accepted (its shard's watermark stops at arrival), beyond it rejected as EVENT_TIME_AHEAD.
      const roll = rng.next();
      const arrival =
        roll < 0.04
          ? eventTime - rng.int(1, 240_000)
          : roll < 0.05
            ? eventTime - rng.int(300_001, 900_000)
            : eventTime;
      records.push({
        shardId,
        sequenceNumber: seq.toString(),
        partitionKey: `pk-${s}`,
        data,
        approximateArrivalTimestamp: arrival,
      });
    };
    for (let i = 0; i < count; i++) {
      const ts = T0 + i * 1_500 + rng.int(-4_000, 4_000) - (rng.chance(0.03) ? rng.int(60_000, 240_000) : 0);
      const roll = rng.next();
      if (roll < 0.02) {
        push(encode('{"eventId": broken'), ts);
        continue;
      }
      if (roll < 0.04) {
        push(encode({ eventId: rng.uuid(), page: '/x' }), ts);
        continue;
      }
      const event = {
        eventId: rng.uuid(),
        userId: `user-${rng.int(1, 9)}`,
        sessionId: `s-${rng.int(1, 3)}`,
        page: rng.pick(PAGES),
        action: rng.pick(['view', 'view', 'click', 'add_to_cart', 'purchase'] as const),
        country: rng.pick(COUNTRIES),
        device: rng.pick(['mobile', 'desktop', 'tablet'] as const),
        durationMs: rng.int(1, 5_000),
        revenue: rng.int(0, 400) / 4,
        ts: new Date(ts).toISOString(),
      };
      push(encode(event), ts);
      // A producer retry: the same event sent again a little later on the same shard.
      if (rng.chance(0.05)) push(encode(event), ts);
    }
    shards.push(records);
  }
  const faulty = rng.chance(0.9);
  const rate = faulty ? rng.next() * 0.06 : 0;
  return {
    shards,
    maxBatch: rng.int(1, 40),
    rates: {
      crashBefore: rate,
      crashAfter: rate,
      throttle: rate / 2,
      concurrentWriter: faulty ? rng.next() * 0.15 : 0,
      stall: rng.next() * 0.3,
    },
    redeliver: rng.next() * 0.3,
    tick: 0.05 + rng.next() * 0.2,
    coldStart: 0.1 + rng.next() * 0.3,
    bisect: rng.next(),
    race: rng.next() * 0.2,
    parallel: rng.next() * 0.5,
    tickRace: rng.next() * 0.3,
    discard: faulty ? rng.next() * 0.15 : 0,
    skewMs: rng.chance(0.5) ? rng.int(0, 60_000) : 0,
    smallPasses: rng.next() * 0.5,
  };
}

/** The Lambda instances of one schedule: each over its own faulty stores of the shared backend. */
export interface OperatorInstances {
  /** A cold instance. */
  readonly newInstance: () => BatchProcessor;
  /** The instance an invocation lands on: a new cold one with the schedule's cold-start probability, else a random existing one. */
  readonly instance: () => BatchProcessor;
}

/** Starts one warm instance and returns the pool (draws from `rng` in the same order wherever it is used). */
export function operatorInstances(
  rng: Prng,
  plan: FaultPlan,
  backend: Pick<Backend, 'newStore' | 'objects'>,
  options: {
    readonly pipeline: StatefulPipeline;
    readonly encoder: ResultEncoder;
    readonly shardParents?: (shardId: string) => Promise<readonly string[]>;
  },
  clock: Clock,
  coldStart: number,
  variety: Pick<Schedule, 'skewMs' | 'smallPasses'> = { skewMs: 0, smallPasses: 0 },
): OperatorInstances {
  const newInstance = (): BatchProcessor => {
    // Each instance has its own clock, off by up to ±skewMs, and some close at most a few windows per pass.
    const skew = variety.skewMs > 0 ? rng.int(-variety.skewMs, variety.skewMs) : 0;
    const maxEmitPerPass = rng.chance(variety.smallPasses) ? rng.int(1, 3) : 500;
    return new BatchProcessor(
      {
        pipeline: options.pipeline,
        store: new FaultyStateStore(backend.newStore(), plan, backend.newStore()),
        objects: new FaultyObjectStore(backend.objects, plan),
        encoder: options.encoder,
        clock: { now: () => clock.now() + skew },
      },
      {
        concurrency: rng.int(1, 8),
        maxEmitPerPass,
        // Every attempt of a step ends within the step (virtual time stands still meanwhile), so a lag just
        // past the instances' clock skew is the real one's "longer than any invocation": side outputs are
        // swept behind the log while faults hit, not only at the end.
        sweepLagMs: 2 * variety.skewMs + 1_000,
        ...(options.shardParents ? { shardParents: options.shardParents } : {}),
      },
    );
  };
  const instances = [newInstance()];
  const instance = (): BatchProcessor => {
    if (rng.chance(coldStart)) instances.push(newInstance());
    return rng.pick(instances);
  };
  return { newInstance, instance };
}

/** Runs one schedule and checks the outcome. Never throws for a mismatch: it reports it. */
export async function runSchedule(seed: number, options: ScheduleOptions): Promise<ScheduleReport> {
  const rng = new Prng(seed);
  const schedule = draw(rng);
  const plan = new FaultPlan(rng, schedule.rates);
  // Drawn from a stream of its own so that the other draws of a seed stay what they were.
  const limitDraws = new Prng(seed * 31 + 7);
  plan.segmentLimit = limitDraws.chance(0.3) ? limitDraws.int(150, 1_500) : undefined;
  const backend = await options.backend();
  let now = T0;
  const clock = { now: () => now };
  const { newInstance, instance } = operatorInstances(
    rng,
    plan,
    backend,
    options,
    clock,
    schedule.coldStart,
    schedule,
  );

  const positions = schedule.shards.map(() => 0);
  const limits = schedule.shards.map(() => schedule.maxBatch);
  let invocations = 0;
  let failedInvocations = 0;
  const mismatches: string[] = [];
  /** Batches given up after a failure, as their on-failure records would name them. */
  const skipped: RawRecord[][] = [];
  try {
    for (let step = 0; positions.some((p, s) => p < (schedule.shards[s]?.length ?? 0)); step++) {
      if (step === 20_000) {
        plan.rates = NO_FAULTS; // a schedule so hostile it cannot progress: finish it clean
      }
      if (step > 40_000) throw new Error('delivery loop did not terminate');
      now += 50;
      if (rng.chance(schedule.tick))
        await instance()
          .tick()
          .catch(() => undefined);
      // One shard's batch is delivered; now and then another shard's at the same time, so that its
      // progress can close a window while the first batch is in flight.
      const deliver = async (s: number): Promise<void> => {
        // The delivery's draws happen before its first await. The fault plan draws at each I/O call, so with
        // two deliveries in flight a schedule replays exactly in memory; on the emulators I/O timing can
        // reorder those draws.
        const records = schedule.shards[s] ?? [];
        const start = positions[s] ?? 0;
        const size = rng.int(1, limits[s] ?? 1);
        const batch = records.slice(start, start + size);
        const racer = rng.chance(schedule.race) ? instance() : undefined;
        const first = instance();
        const redeliverTo = rng.chance(schedule.redeliver) ? instance() : undefined;
        const bisect = rng.chance(schedule.bisect);
        const discard = rng.chance(schedule.discard);
        invocations += 1;
        // Now and then a second instance processes the same batch at the same time (a retry racing a
        // slow first attempt); the first instance's response drives the delivery.
        const racing = racer === undefined ? undefined : processKinesisBatch(racer, batch);
        const { response } = await processKinesisBatch(first, batch);
        if (racing !== undefined) {
          invocations += 1;
          await racing;
        }
        const failed = response.batchItemFailures[0];
        if (failed === undefined) {
          positions[s] = start + batch.length;
          limits[s] = schedule.maxBatch;
          // The checkpoint was lost after success (or the producer's batch was read twice): deliver again.
          if (redeliverTo !== undefined) {
            invocations += 1;
            await processKinesisBatch(redeliverTo, batch);
          }
        } else {
          failedInvocations += 1;
          const from = batch.findIndex((r) => r.sequenceNumber === failed.itemIdentifier);
          if (from < 0)
            throw new Error(`batchItemFailures names a record outside the batch (${failed.itemIdentifier})`);
          if (discard) {
            // Retries exhausted: Lambda skips the rest of the batch and records it for a later replay.
            skipped.push(batch.slice(from));
            positions[s] = start + batch.length;
            limits[s] = schedule.maxBatch;
          } else {
            positions[s] = start + from;
            // BisectBatchOnFunctionError: the retry carries the first half only.
            if (bisect) limits[s] = Math.max(1, Math.floor(batch.length / 2));
          }
        }
      };
      const pending = positions.flatMap((p, s) => (p < (schedule.shards[s]?.length ?? 0) ? [s] : []));
      const s = rng.pick(pending);
      const others = pending.filter((other) => other !== s);
      const second = others.length > 0 && rng.chance(schedule.parallel) ? rng.pick(others) : undefined;
      // Now and then the schedule's tick fires while the deliveries are in flight (its writes race theirs).
      const tick = rng.chance(schedule.tickRace)
        ? instance()
            .tick()
            .then(
              () => undefined,
              () => undefined,
            )
        : undefined;
      await Promise.all([deliver(s), second === undefined ? undefined : deliver(second), tick]);
    }
    // The operator replays the skipped batches (`shardflow replay-failures`), under faults: a failed replay is
    // run again, as an operator would, until it succeeds.
    for (const batch of skipped) {
      const first = batch[0]!;
      const last = batch[batch.length - 1]!;
      let lastError: unknown;
      for (let attempt = 1; ; attempt++) {
        if (attempt === 50) plan.rates = NO_FAULTS;
        const store = new FaultyStateStore(backend.newStore(), plan, backend.newStore());
        const objects = new FaultyObjectStore(backend.objects, plan);
        const processor = new BatchProcessor({
          pipeline: options.pipeline,
          store,
          objects,
          encoder: options.encoder,
          clock,
        });
        const replayed = await new SkippedBatchReplay({
          processor,
          store,
          objects,
          pipeline: options.pipeline,
        })
          .replay(first.shardId, first.sequenceNumber, last.sequenceNumber, schedule.shards.flat())
          .then(
            () => true,
            (error: unknown) => ((lastError = error), false),
          );
        if (replayed) break;
        if (attempt > 60)
          throw new Error(
            `a skipped batch could not be replayed: ${String(lastError)} (cause: ${(lastError as { cause?: { stack?: string } } | undefined)?.cause?.stack})`,
            { cause: lastError },
          );
      }
    }
    if (skipped.length > 0) plan.injected['skipped batch'] = skipped.length;
    // A few more ticks under faults (tick crash mid-emission), then end of bounded input: everything closes.
    for (let i = 0; i < 3; i++)
      await instance()
        .tick()
        .catch(() => undefined);
    plan.rates = NO_FAULTS;
    await newInstance().tick(Number.POSITIVE_INFINITY);
    const storeThrottles = backend.storeThrottles?.() ?? 0;
    if (storeThrottles > 0) plan.injected['store throttle'] = storeThrottles;
    const dir = await mkdtemp(join(tmpdir(), `shardflow-faults-${seed}-`));
    try {
      await backend.mirror(dir);
      const resultRows = await verify(
        dir,
        schedule.shards.flat(),
        options.dedupe,
        mismatches,
        options.pipeline.spec.window,
      );
      return {
        seed,
        records: schedule.shards.flat().length,
        shards: schedule.shards.length,
        invocations,
        failedInvocations,
        injected: plan.injected,
        resultRows,
        mismatches,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } catch (error) {
    mismatches.push(`schedule crashed: ${(error as Error).stack ?? String(error)}`);
    return {
      seed,
      records: schedule.shards.flat().length,
      shards: schedule.shards.length,
      invocations,
      failedInvocations,
      injected: plan.injected,
      resultRows: 0,
      mismatches,
    };
  } finally {
    await backend.close();
  }
}

async function rows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

async function hasFiles(dir: string, prefix: string): Promise<boolean> {
  const { readdir } = await import('node:fs/promises');
  try {
    return (await readdir(join(dir, prefix), { recursive: true })).some(
      (f) => String(f).endsWith('.jsonl') || String(f).endsWith('.parquet'),
    );
  } catch {
    return false;
  }
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/**
 * The reference's windows as SQL over `events` (columns `page`, `ts` and the aggregate inputs): one row per
 * (event, window) with `ws` and `we`. Tumbling and sliding windows by arithmetic; sessions by gaps and
 * islands (a record joins its key's session when it is within the gap of the previous one).
 */
function windowedEvents(window: WindowSpec): string {
  if (window.kind === 'tumbling')
    return `SELECT *, (ts // ${window.sizeMs}) * ${window.sizeMs} AS ws, (ts // ${window.sizeMs}) * ${window.sizeMs} + ${window.sizeMs} AS we FROM events`;
  if (window.kind === 'sliding') {
    const last = `(ts // ${window.slideMs}) * ${window.slideMs}`;
    const starts = Array.from(
      { length: Math.ceil(window.sizeMs / window.slideMs) },
      (_, i) => `${last} - ${i * window.slideMs}`,
    );
    return `SELECT * EXCLUDE (s), s AS ws, s + ${window.sizeMs} AS we FROM (SELECT *, UNNEST([${starts.join(', ')}]) AS s FROM events) WHERE ts >= s AND ts < s + ${window.sizeMs}`;
  }
  const gap = window.gapMs;
  return `WITH o AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY page ORDER BY ts, eventId) <= ${gap} THEN 0 ELSE 1 END AS brk FROM events),
    g AS (SELECT *, sum(brk) OVER (PARTITION BY page ORDER BY ts, eventId ROWS UNBOUNDED PRECEDING) AS sid FROM o)
    SELECT * EXCLUDE (brk, sid), min(ts) OVER (PARTITION BY page, sid) AS ws, max(ts) OVER (PARTITION BY page, sid) + ${gap} AS we FROM g`;
}

/** Compares the mirrored bucket with a DuckDB reference over `input`; appends every difference. */
export async function verify(
  dir: string,
  input: readonly RawRecord[],
  dedupe: boolean,
  mismatches: string[],
  window: WindowSpec = { kind: 'tumbling', sizeMs: 60_000 },
): Promise<number> {
  const inputFile = join(dir, 'input.jsonl');
  await mkdir(dirname(inputFile), { recursive: true });
  await writeFile(
    inputFile,
    input
      .map((r) =>
        JSON.stringify({
          shardId: r.shardId,
          seq: r.sequenceNumber,
          payload: Buffer.from(r.data, 'base64').toString('utf8'),
        }),
      )
      .join('\n') + '\n',
  );
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const q = (p: string): string => join(dir, p).replace(/'/g, "''");
  try {
    await c.run("SET TimeZone = 'UTC'");
    await c.run(
      `CREATE TABLE input AS SELECT * FROM read_json('${q('input.jsonl')}', format = 'newline_delimited', columns = {shardId: 'VARCHAR', seq: 'VARCHAR', payload: 'VARCHAR'})`,
    );
    // late/ holds one entry per (record, window) it was late for: a sliding window record may be late for
    // one of its windows and on time for another.
    const sideTable = async (name: string, prefix: string): Promise<void> => {
      if (await hasFiles(dir, prefix)) {
        // A replayed record keeps its sequence number under the replay shard `<shard>.replay-<first>`.
        await c.run(
          `CREATE TABLE ${name} AS SELECT regexp_replace(shardId, '[.]replay-[0-9a-f]{12}$', '') AS shardId, ltrim(sequenceNumber, '0') AS seq, ${name === 'late' ? 'windowStart' : '0'} AS ws FROM read_json('${q(prefix)}/**/*.jsonl', format = 'newline_delimited', columns = {shardId: 'VARCHAR', sequenceNumber: 'VARCHAR'${name === 'late' ? ", windowStart: 'BIGINT'" : ''}})`,
        );
      } else {
        await c.run(`CREATE TABLE ${name} (shardId VARCHAR, seq VARCHAR, ws BIGINT)`);
      }
    };
    await sideTable('rejected', 'rejected');
    await sideTable('late', 'late');
    await sideTable('clean', 'clean');
    for (const side of ['rejected', 'late', 'clean']) {
      const [dup] = await rows(
        c,
        `SELECT count(*) AS n, count(DISTINCT (shardId, seq, ws)) AS d FROM ${side}`,
      );
      if (num(dup?.n) !== num(dup?.d))
        mismatches.push(`${side}/ holds ${num(dup?.n) - num(dup?.d)} duplicate records`);
      const [unknown] = await rows(
        c,
        `SELECT count(*) AS n FROM ${side} x WHERE NOT EXISTS (SELECT 1 FROM input i WHERE i.shardId = x.shardId AND ltrim(i.seq, '0') = x.seq)`,
      );
      if (num(unknown?.n) !== 0)
        mismatches.push(`${side}/ holds ${num(unknown?.n)} records that are not in the input`);
    }
    const [both] = await rows(c, `SELECT count(*) AS n FROM rejected r JOIN late l USING (shardId, seq)`);
    if (num(both?.n) !== 0) mismatches.push(`${num(both?.n)} records are both rejected and late`);
    const parsed = (
      from: string,
    ): string => `SELECT shardId, ltrim(seq, '0') AS seq, j->>'eventId' AS eventId, j->>'page' AS page, j->>'action' AS action, CAST(j->>'revenue' AS DOUBLE) AS revenue,
             CAST(j->>'durationMs' AS DOUBLE) AS d, j->>'userId' AS userId, epoch_ms(CAST(j->>'ts' AS TIMESTAMPTZ)) AS ts
      FROM (SELECT shardId, seq, CAST(payload AS JSON) AS j FROM ${from})`;
    await c.run(
      `CREATE TABLE accepted AS SELECT * FROM input i WHERE NOT EXISTS (SELECT 1 FROM rejected r WHERE r.shardId = i.shardId AND r.seq = ltrim(i.seq, '0'))`,
    );
    if (window.kind === 'sliding') {
      // Per (record, window): a pair in late/ is out, every other pair of an accepted record counts.
      await c.run(
        `CREATE TABLE events AS SELECT * FROM (${windowedEvents(window).replace('FROM events', `FROM (${parsed('accepted')})`)})`,
      );
      await c.run(
        `CREATE TABLE kept AS SELECT * FROM events e WHERE NOT EXISTS (SELECT 1 FROM late l WHERE l.shardId = e.shardId AND l.seq = e.seq AND l.ws = e.ws)`,
      );
      await c.run(
        `CREATE OR REPLACE TABLE events AS SELECT ${dedupe ? 'DISTINCT ON (eventId, ws)' : ''} * FROM kept`,
      );
      await c.run(`CREATE TABLE windowed AS SELECT * FROM events`);
    } else {
      // Per record: late/ records are out (a session's shape depends on which records are in).
      await c.run(
        `CREATE TABLE kept AS SELECT * FROM accepted i WHERE NOT EXISTS (SELECT 1 FROM late l WHERE l.shardId = i.shardId AND l.seq = ltrim(i.seq, '0'))`,
      );
      await c.run(
        `CREATE TABLE events AS SELECT ${dedupe ? 'DISTINCT ON (eventId)' : ''} * FROM (${parsed('kept')})`,
      );
      await c.run(`CREATE TABLE windowed AS ${windowedEvents(window)}`);
    }
    // In (record, window) pairs for sliding windows, records otherwise.
    const [counts] = await rows(
      c,
      `SELECT (SELECT count(*) FROM input) AS n, (SELECT count(*) FROM rejected) AS r, (SELECT count(*) FROM late) AS l, (SELECT count(*) FROM kept) AS k, (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM clean) AS a`,
    );
    const reference = await rows(
      c,
      `SELECT page, ws, we, count(*) AS events, count(*) FILTER (WHERE action = 'purchase') AS purchases, sum(revenue) AS revenue, avg(d) AS avg_d, max(d) AS max_d, count(DISTINCT userId) AS users, list(d ORDER BY d) AS ds FROM windowed GROUP BY ALL ORDER BY ALL`,
    );
    const results = (await hasFiles(dir, 'results'))
      ? await rows(
          c,
          `SELECT page, epoch_ms(window_start) AS ws, epoch_ms(window_end) AS we, events, purchases, revenue, avg_duration_ms, max_duration_ms, p95_duration_ms, users, CAST(dt AS VARCHAR) AS dt, CAST(hour AS INTEGER) AS hour, typeof(window_start) AS tstype FROM read_parquet('${q('results')}/**/*.parquet', hive_partitioning = true)`,
        )
      : [];
    // A record counts in every sliding window that holds it (accounted in pairs), in one window otherwise.
    const perRecord = window.kind === 'sliding' ? Math.ceil(window.sizeMs / window.slideMs) : 1;
    const emitted = results.reduce((sum, row) => sum + num(row.events), 0);
    const accounted =
      emitted + num(counts?.r) * perRecord + num(counts?.l) + (num(counts?.k) - num(counts?.e));
    if (num(counts?.n) * perRecord !== accounted) {
      mismatches.push(
        `accounting: input ${num(counts?.n)}${perRecord > 1 ? ` × ${perRecord} windows` : ''} ≠ results ${emitted} + rejected ${num(counts?.r)} + late ${num(counts?.l)} + duplicates ${num(counts?.k) - num(counts?.e)}`,
      );
    }
    if (num(counts?.a) !== num(counts?.n) - num(counts?.r))
      mismatches.push(
        `clean/ archive holds ${num(counts?.a)} records, expected ${num(counts?.n) - num(counts?.r)}`,
      );
    const byKey = new Map<string, Record<string, unknown>>();
    for (const row of results) {
      const key = `${String(row.page)}@${num(row.ws)}`;
      if (byKey.has(key)) mismatches.push(`window ${key} emitted twice`);
      byKey.set(key, row);
    }
    for (const ref of reference) {
      const key = `${String(ref.page)}@${num(ref.ws)}`;
      const got = byKey.get(key);
      byKey.delete(key);
      if (got === undefined) {
        mismatches.push(`window ${key} missing (reference ${num(ref.events)} events)`);
        continue;
      }
      const exact: [string, unknown, unknown][] = [
        ['events', got.events, ref.events],
        ['purchases', got.purchases, ref.purchases],
        ['revenue', got.revenue, ref.revenue],
        ['max', got.max_duration_ms, ref.max_d],
        ['window_end', got.we, num(ref.we)],
        ['dt', got.dt, new Date(num(ref.ws)).toISOString().slice(0, 10)],
        ['hour', num(got.hour), Number(new Date(num(ref.ws)).toISOString().slice(11, 13))],
        ['window_start type', got.tstype, 'TIMESTAMP'],
      ];
      for (const [what, actual, expected] of exact) {
        if (num(actual) !== num(expected) && actual !== expected)
          mismatches.push(`window ${key}: ${what} ${String(actual)} ≠ ${String(expected)}`);
      }
      const avg = num(got.avg_duration_ms);
      if (Math.abs(avg - num(ref.avg_d)) > 1e-9 * Math.max(1, Math.abs(num(ref.avg_d))))
        mismatches.push(`window ${key}: avg ${avg} ≠ ${num(ref.avg_d)}`);
      // DDSketch: relative error ≤ 1% of a value at the 95th percentile rank (±1 rank for the rank convention).
      const ds = ref.ds as { items: unknown[] } | unknown[] as unknown;
      const sorted = (Array.isArray(ds) ? ds : (ds as { items: unknown[] }).items).map(num);
      const n = sorted.length;
      const lo = sorted[Math.max(0, Math.floor(0.95 * (n - 1)) - 1)] ?? 0;
      const hi = sorted[Math.min(n - 1, Math.ceil(0.95 * n))] ?? 0;
      const p95 = num(got.p95_duration_ms);
      if (p95 < lo * 0.99 - 1e-9 || p95 > hi * 1.01 + 1e-9)
        mismatches.push(`window ${key}: p95 ${p95} outside [${lo}·0.99, ${hi}·1.01]`);
      // HyperLogLog p=12: ±4.9% at 3σ (plus rounding of the integer estimate).
      const users = num(got.users);
      if (Math.abs(users - num(ref.users)) > 0.049 * num(ref.users) + 0.5)
        mismatches.push(`window ${key}: users ${users} vs exact ${num(ref.users)} beyond ±4.9%`);
    }
    for (const key of byKey.keys()) mismatches.push(`window ${key} emitted but not in the reference`);
    return results.length;
  } catch (error) {
    mismatches.push(`verification failed: ${(error as Error).message}`);
    return 0;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
