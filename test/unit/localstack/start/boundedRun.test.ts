import { pageActivity } from '../../../../functions/pipelines/pageActivity';
import { generateClickstream } from '../../../../localstack/generator/clickstream';
import { runInMemory } from '../../../../localstack/start/boundedRun';
import { shardIdOf, shardIndexOf } from '../../../../localstack/start/shardRouting';
import type { CompiledPipeline } from '../../../../functions/core/engine/CompiledPipeline';

describe('in-memory run of bounded input', () => {
  test("when the input holds records for a window that closed before they were sent, they are late, as on the stack's shards", async () => {
    const { records, totals } = generateClickstream({ events: 3_000, seed: 3 });
    expect(totals.injected.late).toBeGreaterThan(0);
    const run = await runInMemory(
      pageActivity as CompiledPipeline<unknown>,
      records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })),
      Date.parse('2026-01-02T00:00:00Z'),
    );
    expect(run.late).toBe(totals.injected.late);
    expect(run.rejected).toBe(totals.injected.malformed);
    expect(run.duplicates).toBe(totals.injected.duplicates);
    const events = run.result.columns.findIndex((c) => c.name === 'events');
    expect(run.result.rows.reduce((sum, row) => sum + Number(row[events]), 0)).toBe(totals.overall.count);
  });
});

describe('Kinesis shard routing', () => {
  test('when partition keys are routed, every key lands on one of the shards, the same one every time, spread evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) {
      const index = shardIndexOf(`user-${i}`, 4);
      expect(shardIndexOf(`user-${i}`, 4)).toBe(index);
      counts[index]! += 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(850);
    expect(shardIndexOf('anything', 1)).toBe(0);
    expect(shardIdOf(3)).toBe('shardId-000000000003');
  });

  test('when a key hashes into the top of the range, it goes to the last shard', () => {
    // MD5('') = d41d8cd9…: in the upper half of the 128-bit range.
    expect(shardIndexOf('', 2)).toBe(1);
    expect(shardIndexOf('', 3)).toBe(2);
  });

  test('when the shard count is not a positive integer, routing refuses it', () => {
    expect(() => shardIndexOf('k', 0)).toThrow('A stream has at least one shard (given 0)');
  });
});
