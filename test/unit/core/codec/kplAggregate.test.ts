import { createHash } from 'node:crypto';
import { deaggregate, isKplAggregate } from '../../../../functions/core/codec/kplAggregate';
import { PayloadFailure } from '../../../../functions/core/codec/payloadCodec';
import { kplAggregate } from '../../../helpers/records';

const bytesOf = (b64: string): Buffer => Buffer.from(b64, 'base64');

describe('KPL de-aggregation', () => {
  it('when given an aggregated record, it returns every user record with its partition key and index', () => {
    const agg = bytesOf(
      kplAggregate([
        { partitionKey: 'a', data: '{"n":1}' },
        { partitionKey: 'b', data: '{"n":2}' },
        { partitionKey: 'a', data: '{"n":3}' },
      ]),
    );
    expect(isKplAggregate(agg)).toBe(true);
    const subs = deaggregate(agg);
    expect(subs).not.toBeInstanceOf(PayloadFailure);
    expect(
      (subs as { partitionKey: string; data: Uint8Array; subSequenceNumber: number }[]).map((s) => [
        s.partitionKey,
        Buffer.from(s.data).toString(),
        s.subSequenceNumber,
      ]),
    ).toEqual([
      ['a', '{"n":1}', 0],
      ['b', '{"n":2}', 1],
      ['a', '{"n":3}', 2],
    ]);
  });

  it('when the MD5 trailer does not match, it returns INVALID_KPL_AGGREGATE', () => {
    const agg = bytesOf(kplAggregate([{ partitionKey: 'a', data: '{}' }]));
    agg[agg.length - 1] = agg[agg.length - 1]! ^ 0xff;
    expect((deaggregate(agg) as PayloadFailure).reason).toBe('INVALID_KPL_AGGREGATE');
  });

  it('when the protobuf body is garbage with a valid checksum, it returns INVALID_KPL_AGGREGATE', () => {
    const bodies = [
      Buffer.from([0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0xff]),
      Buffer.from([0x1a, 0x02, 0x08, 0x05]),
      Buffer.alloc(0),
    ];
    for (const body of bodies) {
      const md5 = createHash('md5').update(body).digest();
      const agg = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, md5]);
      const r = deaggregate(agg);
      expect(r).toBeInstanceOf(PayloadFailure);
      expect((r as PayloadFailure).reason).toBe('INVALID_KPL_AGGREGATE');
    }
  });

  it('when truncated to just the magic, it returns INVALID_KPL_AGGREGATE', () => {
    expect((deaggregate(Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 1, 2])) as PayloadFailure).reason).toBe(
      'INVALID_KPL_AGGREGATE',
    );
  });

  it('when a record refers to a partition key index that does not exist, it returns INVALID_KPL_AGGREGATE', () => {
    // AggregatedRecord { records: [ { partition_key_index: 5, data: "x" } ] } with an empty key table.
    const body = Buffer.from([0x1a, 0x05, 0x08, 0x05, 0x1a, 0x01, 0x78]);
    const agg = Buffer.concat([
      Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
      body,
      createHash('md5').update(body).digest(),
    ]);
    expect((deaggregate(agg) as PayloadFailure).detail).toMatch(/partition key index 5/);
  });
});
