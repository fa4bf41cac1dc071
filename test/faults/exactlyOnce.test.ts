/**
 * CI-sized run of the exactly-once fault suite (200 seeded schedules): 120 in process memory, 60 on the
 * embedded emulators (DynamoDB + S3) and 20 through the event-source-mapping runtime polling emulated Kinesis.
 * CI uses a fixed seed so that a landing is reproducible; set SHARDFLOW_FAULT_SEED to explore others (the
 * seed is printed), or run `npm run test:faults -- --schedules N --seed S` for longer explorations.
 */
import { z } from 'zod';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { processKinesisBatch } from '../../functions/core/state/batchResponse';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../functions/core/state/InMemoryStateStore';
import { LOCAL_REGION } from '../../localstack/emulators';
import { useLocalCloud } from '../helpers/localCloud';
import { runScheduleThroughEsm } from './esmHarness';
import { localCloudBackend, memoryBackend } from './backends';
import { runSchedule, type Backend, type ScheduleReport } from './harness';
import { FAULT_PIPELINES } from './pipelines';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('./esmInterop').hyparquetWriterCjs());

const SEED = Number(process.env.SHARDFLOW_FAULT_SEED ?? 20_261_124);
const MEMORY_SCHEDULES = Number(process.env.SHARDFLOW_FAULT_MEMORY_SCHEDULES ?? 120);
const LOCAL_SCHEDULES = Number(process.env.SHARDFLOW_FAULT_LOCAL_SCHEDULES ?? 60);
const ESM_SCHEDULES = Number(process.env.SHARDFLOW_FAULT_ESM_SCHEDULES ?? 20);

/**
 * A schedule slower than this is named in the output as it ends: CI once saw the emulator part pass its
 * 400 s timeout where it usually takes ~100 s, and a timeout alone does not say which seed was slow.
 */
const SLOW_SCHEDULE_MS = 15_000;

async function timed(
  seed: number,
  part: string,
  run: () => Promise<ScheduleReport>,
): Promise<ScheduleReport> {
  const started = performance.now();
  const report = await run();
  const ms = Math.round(performance.now() - started);
  if (ms > SLOW_SCHEDULE_MS) console.log(`slow schedule: ${part} seed ${seed} took ${ms} ms`);
  return report;
}

async function runMany(
  first: number,
  schedules: number,
  backend: () => Promise<Backend>,
  part: string,
): Promise<ScheduleReport[]> {
  const reports: ScheduleReport[] = [];
  for (let i = 0; i < schedules; i++) {
    const seed = first + i;
    const target = FAULT_PIPELINES[seed % FAULT_PIPELINES.length] ?? FAULT_PIPELINES[0]!;
    reports.push(
      await timed(seed, part, () =>
        runSchedule(seed, { ...target, encoder: new ParquetResultEncoder(), backend }),
      ),
    );
  }
  return reports;
}

function summary(reports: readonly ScheduleReport[]): string {
  const injected: Record<string, number> = {};
  for (const r of reports)
    for (const [k, v] of Object.entries(r.injected)) injected[k] = (injected[k] ?? 0) + v;
  const sum = (f: (r: ScheduleReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  return `${reports.length} schedules, ${sum((r) => r.records)} records, ${sum((r) => r.invocations)} invocations (${sum((r) => r.failedInvocations)} failed), ${sum((r) => r.resultRows)} windows; injected ${JSON.stringify(injected)}`;
}

const failures = (reports: readonly ScheduleReport[]): string[] =>
  reports
    .filter((r) => r.mismatches.length > 0)
    .map((r) => `seed ${r.seed}: ${r.mismatches.slice(0, 3).join('; ')}`);

describe('exactly-once under faults', () => {
  beforeAll(() => {
    console.log(
      `fault suite seed ${SEED} (replay: SHARDFLOW_FAULT_SEED=${SEED}, or npm run test:faults -- --schedules 1 --seed <failing seed>)`,
    );
  });

  test('when seeded fault schedules run in process, every schedule ends with results equal to the DuckDB reference', async () => {
    const reports = await runMany(SEED, MEMORY_SCHEDULES, memoryBackend, 'memory');
    console.log(`memory: ${summary(reports)}`);
    expect(failures(reports)).toEqual([]);
    expect(reports.reduce((s, r) => s + r.failedInvocations, 0)).toBeGreaterThan(0);
  }, 170_000);

  test('when schedules that once left orphaned side outputs run again, they are exact', async () => {
    // 7700: a stalled racing copy of a batch, split by state-limit refusals, wrote its halves after the
    // winning commit had removed what it found under their prefix, then failed before committing.
    // 7787: a stale attempt's rejected/ object was written while its clean/ one failed.
    const reports = await Promise.all(
      [7700, 7787].map(async (seed) => (await runMany(seed, 1, memoryBackend, 'memory'))[0]!),
    );
    expect(failures(reports)).toEqual([]);
  }, 30_000);

  describe('on the embedded emulators', () => {
    useLocalCloud();

    test('when seeded fault schedules run against DynamoDB and S3 emulators, every schedule is exact', async () => {
      const reports = await runMany(
        SEED + MEMORY_SCHEDULES,
        LOCAL_SCHEDULES,
        localCloudBackend,
        'local cloud',
      );
      console.log(`local cloud: ${summary(reports)}`);
      expect(failures(reports)).toEqual([]);
    }, 400_000);

    test('when seeded schedules run through the event-source-mapping runtime polling emulated Kinesis, every schedule is exact', async () => {
      const reports: ScheduleReport[] = [];
      for (let i = 0; i < ESM_SCHEDULES; i++) {
        const seed = SEED + MEMORY_SCHEDULES + LOCAL_SCHEDULES + i;
        const target = FAULT_PIPELINES[seed % FAULT_PIPELINES.length] ?? FAULT_PIPELINES[0]!;
        reports.push(
          await timed(seed, 'event-source mapping', () =>
            runScheduleThroughEsm(seed, {
              ...target,
              encoder: new ParquetResultEncoder(),
              region: LOCAL_REGION,
            }),
          ),
        );
      }
      console.log(`event-source mapping: ${summary(reports)}`);
      expect(failures(reports)).toEqual([]);
      expect(reports.reduce((s, r) => s + r.invocations, 0)).toBeGreaterThan(0);
    }, 400_000);
  });

  test('when a user map function throws on a poison record, the record is dead-lettered and the shard moves on', async () => {
    const T = Date.UTC(2026, 0, 1);
    const Event = z.object({ id: z.string(), page: z.string(), n: z.number(), ts: z.number() });
    const poisonable = pipeline('poisonable')
      .source({ stream: 'events', shards: 1 })
      .clean({ schema: Event, eventTime: (e) => e.ts })
      .map((e) => {
        if (e.page === '/poison') throw new Error('map exploded');
        return e;
      })
      .keyBy((e) => e.page, 'page')
      .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
      .aggregate({ events: count(), total: sum((e) => e.n) })
      .sink({ table: 'poisonable' });
    const objects = new InMemoryObjectStore();
    const store = new InMemoryStateStore();
    const processor = new BatchProcessor({
      pipeline: poisonable,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => T },
    });
    const record = (seq: number, value: unknown) => ({
      shardId: 'shardId-000000000000',
      sequenceNumber: String(seq),
      partitionKey: 'p',
      data: Buffer.from(JSON.stringify(value)).toString('base64'),
      approximateArrivalTimestamp: T + 60_000,
    });
    const first = await processKinesisBatch(processor, [
      record(1, { id: 'a', page: '/ok', n: 1, ts: T + 1_000 }),
      record(2, { id: 'b', page: '/poison', n: 5, ts: T + 2_000 }),
      record(3, { id: 'c', page: '/ok', n: 2, ts: T + 3_000 }),
    ]);
    expect(first.response).toEqual({ batchItemFailures: [] });
    const next = await processKinesisBatch(processor, [
      record(4, { id: 'd', page: '/ok', n: 4, ts: T + 61_000 }),
    ]);
    expect(next.response).toEqual({ batchItemFailures: [] });
    const rejected = [...objects.objects.keys()].filter((k) => k.startsWith('rejected/'));
    expect(rejected).toHaveLength(1);
    const lines = (objects.text(rejected[0] ?? '') ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        reason: 'OPERATOR_THREW',
        sequenceNumber: '2',
        shardId: 'shardId-000000000000',
      }),
    ]);
    expect(String(lines[0]?.detail)).toContain('map exploded');
    const emitted = [...objects.objects.keys()].filter((k) => k.startsWith('results/poisonable/'));
    expect(emitted).toEqual([
      `results/poisonable/dt=${new Date(T).toISOString().slice(0, 10)}/hour=${new Date(T).toISOString().slice(11, 13)}/${T}-${T + 60_000}.parquet`,
    ]);
    expect((await store.readProgress('poisonable')).pipeline?.emittedThrough).toBe(T + 60_000);
  });
});
