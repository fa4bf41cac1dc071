/**
 * Two stages linked by a real (emulated) Kinesis stream, each run by the local event-source-mapping runtime
 * with Lambda's semantics (bisect on error, partial batch responses, unbounded retries) and injected
 * invocation faults: crashes before, crashes and timeouts after the handler ran (an upstream batch that
 * committed and published is delivered again and publishes again), duplicate deliveries. The upstream puts to
 * the stream with KinesisStreamPutter behind a layer that refuses some entries and fails some puts after they
 * landed. The downstream rows equal a DuckDB reference over the raw clicks.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createClients } from '../../functions/adapters/aws';
import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';
import { KinesisStreamPutter } from '../../functions/adapters/KinesisStreamPutter';
import type { PublishEntry } from '../../functions/core/engine/streamTap';
import { processKinesisBatch } from '../../functions/core/state/batchResponse';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';
import { StreamPublisher, type StreamPutter } from '../../functions/core/state/streamPublisher';
import type { StatefulPipeline } from '../../functions/core/state/types';
import type { ResultRow } from '../../functions/core/types';
import { LOCAL_REGION } from '../../localstack/emulators';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  type InjectedFault,
  type Invoker,
} from '../../localstack/eventSourceMapping';
import { Prng } from '../faults/prng';
import { useLocalCloud } from '../helpers/localCloud';
import { jsonEncoder } from '../helpers/jsonEncoder';
import { randomClick, twoStages, viewRows } from '../helpers/twoStageFixture';
import { createActiveStream } from '../helpers/streamRoundTrip';

useLocalCloud();

const SEED = Number(process.env.SHARDFLOW_FAULT_SEED ?? 20_261_206);
const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const { upstream, downstream } = twoStages('esm');

/** PutRecords through the real client, but refusing some entries and failing some puts after they landed. */
class FlakyPutter implements StreamPutter {
  public refused = 0;
  public landedButFailed = 0;
  public constructor(
    private readonly inner: StreamPutter,
    private readonly rng: Prng,
  ) {}

  public async putRecords(stream: string, entries: readonly PublishEntry[]): Promise<readonly number[]> {
    const refused = entries.map((_, i) => i).filter(() => this.rng.chance(0.1));
    const sent = entries.filter((_, i) => !refused.includes(i));
    this.refused += refused.length;
    const failed = sent.length === 0 ? [] : await this.inner.putRecords(stream, sent);
    // The first put always lands and fails: at least one publish is repeated whole.
    if (this.landedButFailed === 0 || this.rng.chance(0.1)) {
      this.landedButFailed += 1;
      throw new Error('injected: the put landed, its answer was lost');
    }
    const sentIndex = entries.map((_, i) => i).filter((i) => !refused.includes(i));
    return [...refused, ...failed.map((i) => sentIndex[i]!)];
  }
}

function createStream(name: string): Promise<void> {
  return createActiveStream(createClients().kinesis, name, 2);
}

describe('two stages through the event-source-mapping runtime under faults', () => {
  it('when invocations crash, time out and repeat on both stages and puts between them fail, the downstream rows equal the DuckDB reference', async () => {
    const rng = new Prng(SEED);
    const clicks = [];
    for (let i = 0; i < 300; i++) {
      const click = randomClick(rng, T0);
      clicks.push(click);
      if (rng.chance(0.05)) clicks.push({ ...click });
    }
    const streams = { clicks: `stage-clicks-${process.pid}`, views: `stage-views-${process.pid}` };
    await createStream(streams.clicks);
    await createStream(streams.views);
    const { kinesis } = createClients();
    for (let i = 0; i < clicks.length; i += 100)
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: streams.clicks,
          Records: clicks
            .slice(i, i + 100)
            .map((c) => ({ Data: Buffer.from(JSON.stringify(c)), PartitionKey: c.user })),
        }),
      );

    const putter = new FlakyPutter(new KinesisStreamPutter(kinesis), rng);
    const clock = { now: () => T0 + 3_600_000 };
    const tables = { up: new InMemoryStateTables(), down: new InMemoryStateTables() };
    const results = new InMemoryObjectStore();
    const processorOf = (p: StatefulPipeline, which: 'up' | 'down'): BatchProcessor => {
      const publisher = new StreamPublisher(putter, streams.views, {
        maxAttempts: 2,
        sleep: async () => undefined,
      });
      return new BatchProcessor({
        pipeline: p,
        store: new InMemoryStateStore({ tables: tables[which] }),
        objects: which === 'down' ? results : new InMemoryObjectStore(),
        encoder: jsonEncoder,
        clock,
        ...(which === 'up' ? { publisher: { stream: 'views', publish: (e) => publisher.publish(e) } } : {}),
      });
    };
    // A fresh instance after each injected fault: a cold start, as after a crash.
    const instances = { up: processorOf(upstream, 'up'), down: processorOf(downstream, 'down') };
    const faultsInjected: Record<string, number> = {};
    const invoker: Invoker = {
      invoke: async ({ fn, event }) => {
        const which = fn.functionName as 'up' | 'down';
        const { response } = await processKinesisBatch(instances[which], decodeKinesisEvent(event));
        return { ok: true, payload: response };
      },
      close: async () => undefined,
    };
    const faults: readonly InjectedFault[] = ['crashBefore', 'crashAfter', 'timeout', 'duplicate'];
    const mapping = (name: 'up' | 'down', stream: string) => ({
      uuid: `stages-${name}`,
      functionName: name,
      eventSourceArn: `arn:aws:kinesis:${LOCAL_REGION}:000000000000:stream/${stream}`,
      startingPosition: 'TRIM_HORIZON' as const,
      batchSize: 25,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures' as const],
      maximumRetryAttempts: -1,
    });
    const fn = (name: string) => ({
      functionName: name,
      functionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${name}`,
      entryFile: '/dev/null',
      exportName: 'handler',
      timeoutSeconds: 30,
      memorySize: 256,
      environment: {},
      roleArn: `arn:aws:iam::000000000000:role/${name}`,
      region: LOCAL_REGION,
    });
    const runtime = new EventSourceMappingRuntime({
      mappings: [mapping('up', streams.clicks), mapping('down', streams.views)],
      functions: [fn('up'), fn('down')],
      kinesis: new SdkKinesisReader(kinesis),
      invoker,
      checkpoints: new MemoryCheckpointStore(),
      hooks: {
        beforeInvoke: (info) => {
          // Each stage's first invocation dies after it ran (upstream: after it committed and published).
          const first = Object.keys(faultsInjected).every((k) => !k.startsWith(`${info.functionName} `));
          if (!first && !rng.chance(0.15)) return undefined;
          const fault = first ? 'crashAfter' : rng.pick(faults);
          const key = `${info.functionName} ${fault}`;
          faultsInjected[key] = (faultsInjected[key] ?? 0) + 1;
          const which = info.functionName as 'up' | 'down';
          instances[which] = processorOf(which === 'up' ? upstream : downstream, which);
          return fault;
        },
      },
      pollIntervalMs: 20,
      retryBackoffMs: 1,
    });
    await runtime.start();
    try {
      // `idle` sees each mapping quiet since its call: the downstream one may have been quiet before the
      // upstream one published its last records. A second call sees them read (one call per stage).
      await runtime.idle(60_000);
      await runtime.idle(60_000);
    } finally {
      await runtime.stop();
    }
    await processorOf(downstream, 'down').tick(Number.POSITIVE_INFINITY);
    const rows = viewRows(
      [...results.objects.keys()]
        .filter((key) => key.startsWith('results/'))
        .flatMap((key) => JSON.parse(results.text(key) ?? '[]') as ResultRow[]),
    );

    const dir = mkdtempSync(join(tmpdir(), 'sf-esm-stages-'));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const file = join(dir, 'clicks.jsonl');
      writeFileSync(file, clicks.map((c) => JSON.stringify(c)).join('\n'));
      const expected = (
        await connection.runAndReadAll(`
          SELECT "user", (epoch_ms(time_bucket(INTERVAL 1 minute, make_timestamp(ts * 1000)))) AS window_start,
                 count(*)::INTEGER AS views, sum(ms)::DOUBLE AS time_ms
          FROM (SELECT DISTINCT ON (id) * FROM read_json('${file}', format = 'newline_delimited')) WHERE ms >= 0
          GROUP BY ALL ORDER BY window_start, "user"`)
      ).getRowObjectsJson();
      expect(rows).toEqual(expected);
    } finally {
      connection.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(
      `two stages through the ESM runtime: faults ${JSON.stringify(faultsInjected)}, ${putter.refused} entries refused, ${putter.landedButFailed} puts landed and failed`,
    );
    expect(putter.refused).toBeGreaterThan(0);
    expect(putter.landedButFailed).toBeGreaterThan(0);
    expect(faultsInjected['up crashAfter'] ?? 0).toBeGreaterThan(0);
    expect(faultsInjected['down crashAfter'] ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
