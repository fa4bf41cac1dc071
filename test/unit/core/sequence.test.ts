import fc from 'fast-check';
import { SEQUENCE_NUMBER_WIDTH } from '../../../functions/core/constants';
import { InvalidSequenceNumberError } from '../../../functions/core/errors';
import {
  normalizeSequence,
  padSequence,
  sequenceGreater,
  tableStreamSequence,
} from '../../../functions/core/sequence';

describe('padSequence', () => {
  it('when given a real 56-digit Kinesis sequence number, it pads it to the fixed width', () => {
    const seq = '49590338271490256608559692538361571095921575989136588898';
    const padded = padSequence(seq);
    expect(padded).toHaveLength(SEQUENCE_NUMBER_WIDTH);
    expect(padded.endsWith(seq)).toBe(true);
    expect(BigInt(padded)).toBe(BigInt(seq));
  });

  it('when two sequence numbers are padded, string order equals numeric order', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        (a, b) => {
          const pa = padSequence(a.toString());
          const pb = padSequence(b.toString());
          expect(pa < pb).toBe(a < b);
          expect(pa === pb).toBe(a === b);
        },
      ),
    );
  });

  it.each(['', '12a', '-1', '1e5', ' 1', '0x10'])('when given %p, it throws', (bad) => {
    expect(() => padSequence(bad)).toThrow(InvalidSequenceNumberError);
  });

  it('when given more digits than the width, it throws unless the excess is leading zeros', () => {
    expect(() => padSequence('1'.repeat(SEQUENCE_NUMBER_WIDTH + 1))).toThrow(InvalidSequenceNumberError);
    expect(padSequence(`00${'9'.repeat(SEQUENCE_NUMBER_WIDTH)}`)).toBe('9'.repeat(SEQUENCE_NUMBER_WIDTH));
  });
});

describe('normalizeSequence and sequenceGreater', () => {
  it('when sequence numbers are normalised, sequenceGreater equals numeric order and padding agrees', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        fc.nat(3),
        (a, b, zeros) => {
          const na = normalizeSequence('0'.repeat(zeros) + a.toString());
          const nb = normalizeSequence(b.toString());
          expect(sequenceGreater(na, nb)).toBe(a > b);
          expect(padSequence(na)).toBe(padSequence(a.toString()));
        },
      ),
    );
  });

  it('when given garbage or too many digits, it throws', () => {
    expect(() => normalizeSequence('12x')).toThrow(InvalidSequenceNumberError);
    expect(() => normalizeSequence('1'.repeat(SEQUENCE_NUMBER_WIDTH + 1))).toThrow(
      InvalidSequenceNumberError,
    );
    expect(normalizeSequence('000')).toBe('0');
  });
});

describe('tableStreamSequence', () => {
  it('when a stored sequence number is given back to a DynamoDB stream, it has at least 21 digits, the engine padding stripped', () => {
    expect(tableStreamSequence('150')).toBe('000000000000000000150');
    expect(tableStreamSequence(padSequence('150'))).toBe('000000000000000000150');
    const real = '4421584500000000017450439091';
    expect(tableStreamSequence(real)).toBe(real);
    expect(tableStreamSequence(padSequence(real))).toBe(real);
    expect(() => tableStreamSequence('15x')).toThrow(
      'Sequence number must be a decimal string (given "15x")',
    );
  });
});
