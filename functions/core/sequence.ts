import * as constants from './constants';
import { InvalidSequenceNumberError } from './errors';

// Bound once: under CommonJS interop (tsx, jest) a named import is a getter call per use, and
// normalizeSequence runs for every record.
const SEQUENCE_NUMBER_WIDTH = constants.SEQUENCE_NUMBER_WIDTH;
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

const DECIMAL = /^[0-9]+$/;

/**
 * Per-record hot path (every record's sequence number is checked): on real 56-digit sequence numbers
 * V8's compiled regular expression is about twice as fast as a `charCodeAt` loop (10 vs 6 ms per 100k
 * flat strings, 15 vs 6 ms for concatenated ones).
 */
function isDecimal(s: string): boolean {
  return DECIMAL.test(s);
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

/** Digits of a DynamoDB stream's sequence numbers at least (DynamoDB Local pads them with zeros to this). */
export const TABLE_SEQUENCE_DIGITS = 21;

/**
 * `seq` (as stored, with or without the engine's padding) as a DynamoDB stream's GetShardIterator takes it:
 * leading zeros stripped, then padded to {@link TABLE_SEQUENCE_DIGITS}.
 *
 * @example tableStreamSequence(padSequence('150')) // '000000000000000000150'
 * @throws InvalidSequenceNumberError like {@link normalizeSequence}.
 */
export function tableStreamSequence(seq: string): string {
  return normalizeSequence(seq).padStart(TABLE_SEQUENCE_DIGITS, '0');
}
