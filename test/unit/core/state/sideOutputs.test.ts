import fc from 'fast-check';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { commitOutputs, writeSideOutputs } from '../../../../functions/core/state/sideOutputs';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';

const SHARD = 'shardId-000000000001';

function raw(sequenceNumber: string): RawRecord {
  return {
    shardId: SHARD,
    sequenceNumber,
    partitionKey: 'p',
    data: '',
    approximateArrivalTimestamp: 1_767_225_600_000,
  };
}

describe('writeSideOutputs', () => {
  test('for any cleaned values, the clean/ object is one JSON.stringify line per record of {shardId, sequenceNumber, eventTime, value}', async () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.record({
        s: fc.string({ unit: 'binary', maxLength: 6 }),
        n: fc.double(),
        d: fc.date({ noInvalidDate: true }),
      }),
    );
    const record = fc.record({
      sequenceNumber: fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
      eventTime: fc.oneof(
        fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
      ),
      value,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), async (records) => {
        const objects = new InMemoryObjectStore();
        const cleaned = records.map((r) => ({ shardId: SHARD, partitionKey: 'p', ...r }));
        const fresh = records.map((r) => raw(r.sequenceNumber));
        await writeSideOutputs(
          objects,
          pageActivity as unknown as StatefulPipeline,
          fresh,
          commitOutputs(fresh, -Infinity),
          { groups: [], rejected: [], late: [], cleaned, published: [], shards: {}, operators: [] },
          [],
        );
        const [key, stored] = [...objects.objects][0]!;
        expect(key).toMatch(/^clean\//);
        const expected =
          records
            .map((r) =>
              JSON.stringify({
                shardId: SHARD,
                sequenceNumber: r.sequenceNumber,
                eventTime: r.eventTime,
                value: r.value,
              }),
            )
            .join('\n') + '\n';
        expect(Buffer.from(stored!.body).toString('utf8')).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
