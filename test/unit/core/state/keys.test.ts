import { InvalidSequenceNumberError } from '../../../../functions/core/errors';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SEQUENCE_NUMBER_WIDTH } from '../../../../functions/core/constants';
import {
  DEDUPE_HASH_BYTES,
  dedupeHash,
  parseSegmentSortKey,
  progressPartitionKey,
  segmentPartitionKey,
  segmentSortKey,
  MAX_SEGMENT_ATTEMPT,
  segmentSortKeyRange,
  shardSortKey,
} from '../../../../functions/core/state/keys';
import { padSequence } from '../../../../functions/core/sequence';

describe('keys', () => {
  test('when an id is hashed for dedupe, the hash is the first 64 bits of its UTF-8 SHA-256, one Latin-1 character per byte, as stored segments hold it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (id) => {
        const hash = dedupeHash(id);
        expect(hash).toHaveLength(DEDUPE_HASH_BYTES);
        expect(Buffer.from(hash, 'latin1').toString('hex')).toBe(
          createHash('sha256').update(Buffer.from(id, 'utf8')).digest('hex').substring(0, 16),
        );
      }),
    );
    expect(Buffer.from(dedupeHash('evt-1'), 'latin1').toString('hex')).toBe('7b409f932d2c88e9');
  });

  test('when sequence numbers are padded, string order equals numeric order', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 186n }),
        fc.bigInt({ min: 0n, max: 2n ** 186n }),
        (a, b) => {
          const pa = padSequence(a.toString());
          const pb = padSequence(b.toString());
          expect(pa.length).toBe(SEQUENCE_NUMBER_WIDTH);
          expect(pa < pb).toBe(a < b);
        },
      ),
    );
  });

  test('when a sequence number is not decimal or too long, padding refuses it', () => {
    expect(() => padSequence('12a')).toThrow('decimal string');
    expect(() => padSequence('1'.repeat(SEQUENCE_NUMBER_WIDTH + 1))).toThrow(InvalidSequenceNumberError);
    expect(padSequence('0'.repeat(SEQUENCE_NUMBER_WIDTH + 3) + '7')).toBe(
      '7'.padStart(SEQUENCE_NUMBER_WIDTH, '0'),
    );
  });

  test('when segment sort keys are compared, string order is commit, attempt, then chunk order, and a range holds every attempt and chunk of its commits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 11 }),
        fc.integer({ min: 1, max: 10 ** 11 }),
        fc.nat(MAX_SEGMENT_ATTEMPT),
        fc.nat(MAX_SEGMENT_ATTEMPT),
        fc.nat(9999),
        fc.nat(9999),
        (a, b, ta, tb, ca, cb) => {
          expect(segmentSortKey(a, ta, ca) < segmentSortKey(b, tb, cb)).toBe(
            a < b || (a === b && (ta < tb || (ta === tb && ca < cb))),
          );
          expect(parseSegmentSortKey(segmentSortKey(a, ta, ca))).toEqual({
            commit: a,
            attempt: ta,
            chunk: ca,
          });
        },
      ),
    );
    const { low, high } = segmentSortKeyRange(3, 5);
    expect(
      [segmentSortKey(3, 0, 0), segmentSortKey(5, MAX_SEGMENT_ATTEMPT, 9999)].every(
        (k) => k >= low && k <= high,
      ),
    ).toBe(true);
    expect(segmentSortKey(2, MAX_SEGMENT_ATTEMPT, 9999) < low && segmentSortKey(6, 0, 0) > high).toBe(true);
    expect(() => segmentSortKey(0, 0, 0)).toThrow('(given 0, 0, 0)');
    expect(() => segmentSortKey(1, MAX_SEGMENT_ATTEMPT + 1, 0)).toThrow(
      `attempt an integer in 0..${MAX_SEGMENT_ATTEMPT}`,
    );
  });

  test('when keys of different item types are built, their partition keys never collide, whatever the names', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (pipeline, shard, other) => {
        expect(progressPartitionKey(pipeline)).not.toBe(segmentPartitionKey(other, shard));
        expect(shardSortKey(shard)).not.toBe('#pipeline');
      }),
    );
  });
});
