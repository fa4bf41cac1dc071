/**
 * The fault suite through the local event-source-mapping runtime: the schedule's records are put on a
 * real (emulated) Kinesis stream, the runtime polls it and invokes an in-process operator (decode → apply
 * → partial batch response, the handler's code path) with Lambda's semantics (bisect on error, partial
 * batch failures, unbounded retries), its hooks inject invocation faults (crash before/after, timeout,
 * duplicate delivery) and the state and object stores inject I/O faults as in the in-process suite.
 */
import { PutRecordsCommand, UpdateShardCountCommand } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../../functions/adapters/aws';
import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';
import { listStreamShards, shardParentsLookup } from '../../functions/adapters/streamShards';
import { processKinesisBatch } from '../../functions/core/state/batchResponse';
import type { ResultEncoder, StatefulPipeline } from '../../functions/core/state/types';
import type { RawRecord } from '../../functions/core/types';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  type InjectedFault as EsmFault,
  type Invoker,
} from '../../localstack/eventSourceMapping';
import { localCloudBackend } from './backends';
import { FaultPlan, NO_FAULTS } from './faultyIo';
import { draw, operatorInstances, T0, verify, type ScheduleReport } from './harness';
import { Prng } from './prng';
import { createActiveStream, waitStreamActive } from '../helpers/streamRoundTrip';

let counter = 0;

export interface EsmScheduleOptions {
  readonly pipeline: StatefulPipeline;
  readonly dedupe: boolean;
  readonly encoder: ResultEncoder;
  /** Region of the local cloud (for the stream ARN). */
  readonly region: string;
}

export async function runScheduleThroughEsm(
  seed: number,
  options: EsmScheduleOptions,
): Promise<ScheduleReport> {
  const rng = new Prng(seed);
  const schedule = draw(rng);
  // Lambda backs off exponentially (up to 10 s here) between retries of a failing batch, so a third of
  // the in-process fault rates keeps a schedule within its time budget while every kind still occurs.
  const rates = {
    crashBefore: schedule.rates.crashBefore / 3,
    crashAfter: schedule.rates.crashAfter / 3,
    throttle: schedule.rates.throttle / 3,
    concurrentWriter: schedule.rates.concurrentWriter,
    stall: 0,
  };
  const plan = new FaultPlan(rng, rates);
  const clients = createClients();
  counter += 1;
  const stream = `esm-faults-${process.pid}-${counter}`;
  const mismatches: string[] = [];
  const input: RawRecord[] = [];
  let invocations = 0;
  let failedInvocations = 0;
  let resharded = false;
  const backend = await localCloudBackend();
  const started = Date.now();
  const clock = { now: () => T0 + (Date.now() - started) };
  const { newInstance, instance } = operatorInstances(
    rng,
    plan,
    backend,
    { ...options, shardParents: shardParentsLookup(() => listStreamShards(clients.kinesis, stream)) },
    clock,
    schedule.coldStart,
  );
  try {
    await createActiveStream(clients.kinesis, stream, schedule.shards.length);
    // Producers per generated shard, interleaved; Kinesis assigns the real shard and sequence number.
    const pending = schedule.shards.map((records) => [...records]);
    const total = pending.reduce((n, p) => n + p.length, 0);
    const reshardAt = rng.chance(0.5) ? Math.floor(total / 2) : Infinity;
    let sent = 0;
    while (pending.some((p) => p.length > 0)) {
      if (sent >= reshardAt) {
        // Resharding mid-stream: every shard splits; parents close and children take the rest.
        await clients.kinesis.send(
          new UpdateShardCountCommand({
            StreamName: stream,
            TargetShardCount: schedule.shards.length * 2,
            ScalingType: 'UNIFORM_SCALING',
          }),
        );
        await waitStreamActive(clients.kinesis, stream);
        resharded = true;
        sent = -Infinity;
      }
      const chunk = pending.flatMap((p, i) =>
        p.splice(0, rng.int(1, 20)).map((r) => ({ r, key: `producer-${i}` })),
      );
      const put = await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: chunk.map(({ r, key }) => ({ Data: Buffer.from(r.data, 'base64'), PartitionKey: key })),
        }),
      );
      put.Records?.forEach((entry, i) => {
        const source = chunk[i];
        if (
          entry.ErrorCode !== undefined ||
          entry.ShardId === undefined ||
          entry.SequenceNumber === undefined ||
          source === undefined
        )
          throw new Error(`PutRecords failed: ${entry.ErrorCode ?? 'no shard'}`);
        input.push({ ...source.r, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
      });
      sent += chunk.length;
    }
    const invoker: Invoker = {
      invoke: async ({ event }) => {
        invocations += 1;
        const { response } = await processKinesisBatch(instance(), decodeKinesisEvent(event));
        if (response.batchItemFailures.length > 0) failedInvocations += 1;
        return { ok: true, payload: response };
      },
      close: async () => undefined,
    };
    const faults: readonly EsmFault[] = ['crashBefore', 'crashAfter', 'timeout', 'duplicate'];
    const runtime = new EventSourceMappingRuntime({
      mappings: [
        {
          uuid: `faults-${seed}`,
          functionName: 'operator',
          eventSourceArn: `arn:aws:kinesis:${options.region}:000000000000:stream/${stream}`,
          startingPosition: 'TRIM_HORIZON',
          batchSize: schedule.maxBatch,
          bisectBatchOnFunctionError: true,
          functionResponseTypes: ['ReportBatchItemFailures'],
          maximumRetryAttempts: -1,
        },
      ],
      functions: [
        {
          functionName: 'operator',
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:operator',
          entryFile: '/dev/null',
          exportName: 'handler',
          timeoutSeconds: 30,
          memorySize: 256,
          environment: {},
          roleArn: 'arn:aws:iam::000000000000:role/operator',
          region: options.region,
        },
      ],
      kinesis: new SdkKinesisReader(clients.kinesis),
      invoker,
      checkpoints: new MemoryCheckpointStore(),
      hooks: {
        beforeInvoke: () =>
          rng.chance(Math.min(0.05, schedule.rates.crashBefore * 2)) ? rng.pick(faults) : undefined,
      },
      pollIntervalMs: 20,
      retryBackoffMs: 1,
    });
    let ticking = true;
    const ticker = (async () => {
      while (ticking) {
        await instance()
          .tick()
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await runtime.start();
    try {
      await runtime.idle(90_000);
    } finally {
      ticking = false;
      await ticker;
      await runtime.stop();
    }
    plan.rates = NO_FAULTS;
    await newInstance().tick(Number.POSITIVE_INFINITY);
    const dir = await mkdtemp(join(tmpdir(), `shardflow-esm-faults-${seed}-`));
    try {
      await backend.mirror(dir);
      const resultRows = await verify(dir, input, options.dedupe, mismatches, options.pipeline.spec.window);
      if (resharded) plan.injected['resharding'] = 1;
      return {
        seed,
        records: input.length,
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
      records: input.length,
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
