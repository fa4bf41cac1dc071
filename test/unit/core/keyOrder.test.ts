import fc from 'fast-check';
import { compareKeys } from '../../../functions/core/keyOrder';

/** The order SQL engines give text: its UTF-8 bytes. */
const byUtf8 = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('key order', () => {
  it('when one key has a character beyond U+FFFF and the other one in U+E000..U+FFFF, the first sorts last, as in SQL', () => {
    // JavaScript's < puts '😀' (a surrogate pair) before '｡' (U+FF61).
    expect('😀' < '｡').toBe(true);
    expect(['😀', '｡', 'é', 'a', '', 'ab'].sort(compareKeys)).toEqual(['', 'a', 'ab', 'é', '｡', '😀']);
    expect(compareKeys('x😀', 'x\uffff')).toBeGreaterThan(0);
    expect(compareKeys('\u{10000}', '\u{10FFFF}')).toBeLessThan(0);
    expect(compareKeys('same', 'same')).toBe(0);
  });

  it('when keys are any well-formed strings, the order is that of their UTF-8 bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 8 }),
        (a, b) => {
          expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(byUtf8(a, b)));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
