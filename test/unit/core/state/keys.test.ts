import fc from 'fast-check';
import { SEQUENCE_NUMBER_WIDTH } from '../../../../functions/core/constants';
import { emissionId, padMillis, padSequenceNumber, windowSortKey } from '../../../../functions/core/state/keys';
import { advancesFence, isFenced, mergeFences } from '../../../../functions/core/state/fence';

describe('keys', () => {
  test('when sequence numbers are padded, string order equals numeric order', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 186n }), fc.bigInt({ min: 0n, max: 2n ** 186n }), (a, b) => {
        const pa = padSequenceNumber(a.toString());
        const pb = padSequenceNumber(b.toString());
        expect(pa.length).toBe(SEQUENCE_NUMBER_WIDTH);
        expect(pa < pb).toBe(a < b);
      }),
    );
  });

  test('when a sequence number is not decimal or too long, padding refuses it', () => {
    expect(() => padSequenceNumber('12a')).toThrow('decimal string');
    expect(() => padSequenceNumber('1'.repeat(SEQUENCE_NUMBER_WIDTH + 1))).toThrow(RangeError);
    expect(padSequenceNumber('0'.repeat(SEQUENCE_NUMBER_WIDTH + 3) + '7')).toBe('7'.padStart(SEQUENCE_NUMBER_WIDTH, '0'));
  });

  test('when windows are keyed, sort keys order by start time and reject negative bounds', () => {
    expect(windowSortKey({ start: 5, end: 60_000 }) < windowSortKey({ start: 10_000, end: 70_000 })).toBe(true);
    expect(() => padMillis(-1)).toThrow('(given -1)');
  });

  test('when the same window is emitted twice, the emission id is the same, and different windows differ', () => {
    const w = { start: 0, end: 60_000 };
    expect(emissionId('p', 'k', w)).toBe(emissionId('p', 'k', w));
    expect(emissionId('p', 'k', w)).toMatch(/^[0-9a-f]{32}$/);
    expect(emissionId('p', 'k#1', w)).not.toBe(emissionId('p#k', '1', w));
    expect(emissionId('p', 'k', { start: 0, end: 60_001 })).not.toBe(emissionId('p', 'k', w));
  });

  test('when fences are compared and merged, each shard is judged on its own mark', () => {
    const fence = { a: padSequenceNumber('10'), b: padSequenceNumber('5') };
    expect(isFenced(fence, 'a', padSequenceNumber('10'))).toBe(true);
    expect(isFenced(fence, 'a', padSequenceNumber('11'))).toBe(false);
    expect(isFenced(fence, 'c', padSequenceNumber('1'))).toBe(false);
    expect(advancesFence(fence, { a: padSequenceNumber('11'), c: padSequenceNumber('1') })).toBe(true);
    expect(advancesFence(fence, { a: padSequenceNumber('11'), b: padSequenceNumber('5') })).toBe(false);
    expect(mergeFences(fence, { b: padSequenceNumber('7'), c: padSequenceNumber('1') })).toEqual({ a: padSequenceNumber('10'), b: padSequenceNumber('7'), c: padSequenceNumber('1') });
  });
});
