import fc from 'fast-check';
import { SEQUENCE_NUMBER_WIDTH } from '../../../functions/core/constants';
import { InvalidSequenceNumberError } from '../../../functions/core/errors';
import { padSequence } from '../../../functions/core/sequence';

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
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 60n }), fc.bigInt({ min: 0n, max: 10n ** 60n }), (a, b) => {
        const pa = padSequence(a.toString());
        const pb = padSequence(b.toString());
        expect(pa < pb).toBe(a < b);
        expect(pa === pb).toBe(a === b);
      }),
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
