/**
 * Property: whatever the failures (thrown errors, partial batch responses), batch size, bisection
 * and parallelization, with infinite retries every record is acknowledged exactly once, the
 * acknowledgements of one partition key follow its sequence order, and the checkpoint ends on the
 * shard's last record.
 */
import fc from 'fast-check';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createHarness } from '../../../helpers/fixtures/esmHarness';

interface Scenario {
  readonly records: readonly number[];
  readonly batchSize: number;
  readonly parallelizationFactor: number;
  readonly bisect: boolean;
  readonly partial: boolean;
  readonly outcomes: readonly number[];
}

const scenario = fc.record<Scenario>({
  records: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
  batchSize: fc.integer({ min: 1, max: 12 }),
  parallelizationFactor: fc.integer({ min: 1, max: 4 }),
  bisect: fc.boolean(),
  partial: fc.boolean(),
  outcomes: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 50 }),
});

describe('delivery properties', () => {
  it('when invocations fail at random, every record is acknowledged once, in key order, and checkpointed', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const attempts = new Map<string, number>();
        const acked: { key: string; seq: bigint }[] = [];
        let call = 0;
        const handler = (event: KinesisStreamEvent): unknown => {
          const roll = s.outcomes[call++ % s.outcomes.length] as number;
          const seqs = event.Records.map((r) => r.kinesis.sequenceNumber);
          for (const seq of seqs) attempts.set(seq, (attempts.get(seq) ?? 0) + 1);
          // A record fails at most twice, so infinite retries always finish.
          const mayFail = seqs.some((seq) => (attempts.get(seq) ?? 0) <= 2);
          const ack = (upTo: number): void => {
            for (const r of event.Records.slice(0, upTo))
              acked.push({ key: r.kinesis.partitionKey, seq: BigInt(r.kinesis.sequenceNumber) });
          };
          if (mayFail && roll < 25) throw new Error('random failure');
          if (mayFail && s.partial && roll < 50 && seqs.length > 0) {
            const index = roll % seqs.length;
            ack(index);
            return { batchItemFailures: [{ itemIdentifier: seqs[index] }] };
          }
          ack(seqs.length);
          return { batchItemFailures: [] };
        };
        const harness = createHarness({
          handler,
          mapping: {
            batchSize: s.batchSize,
            parallelizationFactor: s.parallelizationFactor,
            bisectBatchOnFunctionError: s.bisect,
            maximumRetryAttempts: -1,
            ...(s.partial ? { functionResponseTypes: ['ReportBatchItemFailures'] } : {}),
          },
        });
        try {
          s.records.forEach((key, i) => harness.kinesis.put(harness.streamArn, `key-${key}`, `v${i}`));
          await harness.runtime.start();
          await harness.runtime.idle(10_000);
          const all = harness.kinesis.records(harness.streamArn);
          expect(acked.map((a) => a.seq).sort((a, b) => (a < b ? -1 : 1))).toEqual(
            all.map((r) => BigInt(r.sequenceNumber)),
          );
          for (const key of new Set(acked.map((a) => a.key))) {
            const seqs = acked.filter((a) => a.key === key).map((a) => a.seq);
            expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
          }
          expect(await harness.checkpoints.get(harness.checkpointKey, 'shardId-000000000000')).toEqual({
            sequenceNumber: all[all.length - 1]?.sequenceNumber,
            ended: false,
          });
        } finally {
          await harness.runtime.stop();
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
