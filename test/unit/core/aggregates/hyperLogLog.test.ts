import fc from 'fast-check';
import {
  HLL_MAX_RANK,
  HLL_REGISTERS,
  hllCreate,
  hllDeserialize,
  hllSerialize,
} from '../../../../functions/core/aggregates/hyperLogLog';

/** The stored form written out the obvious way, to check the one-pass serializer against. */
function referenceSerialize(registers: Uint8Array): string {
  const set: number[] = [];
  for (let i = 0; i < HLL_REGISTERS; i++) if (registers[i] !== 0) set.push(i);
  if (set.length * 3 >= HLL_REGISTERS) return `d${Buffer.from(registers).toString('base64')}`;
  return `r${Buffer.from(set.flatMap((i) => [i >> 8, i & 0xff, registers[i]!])).toString('base64')}`;
}

const registersWith = (count: number, rank = 3): Uint8Array => {
  const r = hllCreate();
  for (let k = 0; k < count; k++) r[(k * 2_053) % HLL_REGISTERS] = rank;
  return r;
};

describe('hllSerialize', () => {
  it('when fewer than 1/3 of the registers are set it writes the sparse form, from 1/3 on the dense form', () => {
    const below = hllSerialize(registersWith(1_365));
    const at = hllSerialize(registersWith(1_366));
    expect(below.startsWith('r')).toBe(true);
    expect(Buffer.from(below.slice(1), 'base64')).toHaveLength(1_365 * 3);
    expect(at.startsWith('d')).toBe(true);
    expect(Buffer.from(at.slice(1), 'base64')).toHaveLength(HLL_REGISTERS);
    expect(hllSerialize(hllCreate())).toBe('r');
  });

  it('when given any registers, it writes exactly the reference form and hllDeserialize restores them', () => {
    const registers = fc
      .array(fc.tuple(fc.nat(HLL_REGISTERS - 1), fc.integer({ min: 1, max: HLL_MAX_RANK })), {
        maxLength: 3_000,
      })
      .map((entries) => {
        const r = hllCreate();
        for (const [i, rank] of entries) r[i] = rank;
        return r;
      });
    fc.assert(
      fc.property(registers, (r) => {
        const stored = hllSerialize(r);
        expect(stored).toBe(referenceSerialize(r));
        expect(hllDeserialize(stored)).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });

  it('when a register list has the `s` prefix of before exact counting, it is refused (it could read as > 512)', () => {
    const list = hllSerialize(registersWith(3)).slice(1);
    expect(hllDeserialize(`r${list}`)).toEqual(registersWith(3));
    expect(hllDeserialize(`s${list}`)).toBeUndefined();
  });

  it('when called for several sketches in turn, each result is independent of the previous (scratch reuse)', () => {
    const a = registersWith(10, 5);
    const b = registersWith(3, 7);
    const first = hllSerialize(a);
    hllSerialize(b);
    expect(hllSerialize(a)).toBe(first);
    expect(hllDeserialize(first)).toEqual(a);
  });
});
