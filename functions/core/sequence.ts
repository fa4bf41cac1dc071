import { SEQUENCE_NUMBER_WIDTH } from './constants';
import { InvalidSequenceNumberError } from './errors';

const ZEROS = '0'.repeat(SEQUENCE_NUMBER_WIDTH);

/**
 * Zero-pads a Kinesis sequence number to {@link SEQUENCE_NUMBER_WIDTH} digits, so that string order (as
 * DynamoDB compares) equals numeric order.
 *
 * @example padSequence('42') // '000…00042' (SEQUENCE_NUMBER_WIDTH characters)
 * @throws InvalidSequenceNumberError when `seq` is not a decimal string of 1..WIDTH digits.
 */
export function padSequence(seq: string): string {
  if (typeof seq !== 'string' || !isDecimal(seq)) {
    throw new InvalidSequenceNumberError(
      `Sequence number must be a decimal string (given ${JSON.stringify(seq)})`,
    );
  }
  if (seq.length > SEQUENCE_NUMBER_WIDTH) {
    // Leading zeros beyond the width are harmless; real digits are not.
    const trimmed = seq.replace(/^0+(?=\d)/, '');
    if (trimmed.length > SEQUENCE_NUMBER_WIDTH) {
      throw new InvalidSequenceNumberError(
        `Sequence number has more than ${SEQUENCE_NUMBER_WIDTH} digits (given ${seq.length} digits)`,
      );
    }
    return ZEROS.slice(trimmed.length) + trimmed;
  }
  return seq.length === SEQUENCE_NUMBER_WIDTH ? seq : ZEROS.slice(seq.length) + seq;
}

/** Per-record hot path: a char-code loop is several times cheaper than a regular expression here. */
function isDecimal(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** True when `seq` is a sequence number `padSequence` accepts. */
export function isValidSequence(seq: unknown): seq is string {
  return (
    typeof seq === 'string' && isDecimal(seq) && seq.replace(/^0+(?=\d)/, '').length <= SEQUENCE_NUMBER_WIDTH
  );
}

/**
 * Validates a sequence number and strips leading zeros, without padding: the hot path keeps sequence
 * numbers in this form and compares them with {@link sequenceGreater}; padding happens once per group.
 *
 * @throws InvalidSequenceNumberError like {@link padSequence}.
 */
export function normalizeSequence(seq: string): string {
  if (typeof seq !== 'string' || !isDecimal(seq)) {
    throw new InvalidSequenceNumberError(
      `Sequence number must be a decimal string (given ${JSON.stringify(seq)})`,
    );
  }
  const s = seq.charCodeAt(0) === 48 && seq.length > 1 ? seq.replace(/^0+(?=\d)/, '') : seq;
  if (s.length > SEQUENCE_NUMBER_WIDTH) {
    throw new InvalidSequenceNumberError(
      `Sequence number has more than ${SEQUENCE_NUMBER_WIDTH} digits (given ${s.length} digits)`,
    );
  }
  return s;
}

/** Numeric `a > b` for two {@link normalizeSequence}d sequence numbers. */
export function sequenceGreater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
