import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import {
  decodeBase64,
  decodeJson,
  decodeRecordData,
  UndecodedPayload,
  MAX_JSON_DEPTH,
  MAX_RECORD_BYTES,
  PayloadFailure,
} from '../../../../functions/core/codec/payloadCodec';

const twoStep = (b64: string): unknown => {
  const bytes = decodeBase64(b64);
  return bytes instanceof PayloadFailure ? bytes : decodeJson(bytes);
};
const b64 = (s: string | Buffer): string =>
  (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');

describe.each([
  ['decodeBase64 + decodeJson', twoStep],
  ['decodeRecordData', decodeRecordData],
])('payload codec (%s)', (_name, decode) => {
  it('when the payload is valid base64 JSON, it returns the parsed value', () => {
    expect(decode(b64('{"a":[1,2,{"b":"ü"}]}'))).toEqual({ a: [1, 2, { b: 'ü' }] });
  });

  it.each([
    ['empty', '', 'EMPTY_RECORD'],
    ['not a multiple of 4', 'abc', 'INVALID_BASE64'],
    ['outside the alphabet', 'ab!d', 'INVALID_BASE64'],
    ['with whitespace', 'e30 ', 'INVALID_BASE64'],
  ])('when the base64 is %s, it returns %s without throwing', (_label, input, reason) => {
    const r = decode(input);
    expect(r).toBeInstanceOf(PayloadFailure);
    expect((r as PayloadFailure).reason).toBe(reason);
  });

  it('when the bytes are not valid UTF-8, it rejects INVALID_UTF8 (no replacement characters)', () => {
    const r = decode(b64(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])));
    expect((r as PayloadFailure).reason).toBe('INVALID_UTF8');
    expect((decode(b64(Buffer.from([0xed, 0xa0, 0x80]))) as PayloadFailure).reason).toBe('INVALID_UTF8');
  });

  it('when the text is not JSON, it rejects INVALID_JSON', () => {
    expect((decode(b64('{"a":')) as PayloadFailure).reason).toBe('INVALID_JSON');
    expect((decode(b64('   ')) as PayloadFailure).reason).toBe('INVALID_JSON');
  });

  it('when the payload decodes to more than 1 MiB, it rejects OVERSIZE_RECORD', () => {
    const big = Buffer.alloc(MAX_RECORD_BYTES + 1, 0x20);
    expect((decode(b64(big)) as PayloadFailure).reason).toBe('OVERSIZE_RECORD');
    expect((decodeJson(big) as PayloadFailure).reason).toBe('OVERSIZE_RECORD');
  });

  it('when JSON nests deeper than 64, it rejects TOO_DEEPLY_NESTED; at exactly 64 it accepts', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(decode(b64(nest(MAX_JSON_DEPTH)))).not.toBeInstanceOf(PayloadFailure);
    expect((decode(b64(nest(MAX_JSON_DEPTH + 1))) as PayloadFailure).reason).toBe('TOO_DEEPLY_NESTED');
    expect((decode(b64(`{"a":${nest(100_000)}}`)) as PayloadFailure).reason).toBe('TOO_DEEPLY_NESTED');
  });

  it('when JSON has __proto__ or constructor keys, they are removed and no prototype is polluted', () => {
    const v = decode(
      b64('{"a":1,"__proto__":{"polluted":true},"b":{"constructor":{"prototype":{"polluted":true}}}}'),
    ) as Record<string, unknown>;
    expect(v).toEqual({ a: 1, b: {} });
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const copy = Object.assign({}, v);
    expect((copy as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('when __proto__ or constructor keys are written with JSON unicode escapes, they are removed too', () => {
    for (const json of [
      '{"a":{"\\u005f_proto__":{"polluted":1}}}',
      '{"a":{"__prot\\u006f__":{"polluted":1}},"b":{"\\u0063onstructor":{"polluted":1}}}',
    ]) {
      const v = decode(b64(json)) as { a: object; b?: object };
      expect(Object.prototype.hasOwnProperty.call(v.a, '__proto__')).toBe(false);
      expect((Object.assign({}, v.a) as Record<string, unknown>)['polluted']).toBeUndefined();
      if (v.b !== undefined) expect(Object.prototype.hasOwnProperty.call(v.b, 'constructor')).toBe(false);
    }
    // An escape that spells an ordinary key keeps it.
    expect(decode(b64('{"\\u0061":1}'))).toEqual({ a: 1 });
  });

  it('when the payload is a JSON primitive, it returns it', () => {
    expect(decode(b64('42'))).toBe(42);
    expect(decode(b64('null'))).toBeNull();
  });
});

describe('decodeRecordData', () => {
  const outcome = (r: unknown): unknown =>
    r instanceof PayloadFailure ? { reason: r.reason, detail: r.detail } : { value: r };

  it('when given arbitrary bytes (UTF-8 or not, JSON or not), it returns what decodeBase64 + decodeJson return', () => {
    const jsonish = fc
      .json()
      .map((s) => Buffer.from(s, 'utf8'))
      .chain((buf) =>
        fc.tuple(fc.nat(buf.length), fc.integer({ min: 0x80, max: 0xff })).map(([at, byte]) => {
          const out = Buffer.from(buf);
          if (at < out.length && out[0] !== 0xf3) out[at] = byte;
          return out;
        }),
      );
    const bytes = fc.oneof(
      jsonish,
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(bytes, (buf) => {
        if (buf[0] === 0xf3) return;
        const data = buf.toString('base64');
        const fused = decodeRecordData(data);
        expect(outcome(fused)).toEqual(outcome(twoStep(data)));
        if (fused instanceof PayloadFailure && fused.reason === 'INVALID_UTF8')
          expect(isUtf8(buf)).toBe(false);
        if (!isUtf8(buf)) expect((fused as PayloadFailure).reason).toBe('INVALID_UTF8');
      }),
      { numRuns: 2_000 },
    );
  });

  it('when given arbitrary strings as base64, it fails and succeeds exactly like decodeBase64 + decodeJson', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (data) => {
        const fused = decodeRecordData(data);
        if (fused instanceof UndecodedPayload) {
          expect(decodeBase64(data)).toEqual(Buffer.from(fused.bytes));
          return;
        }
        expect(outcome(fused)).toEqual(outcome(twoStep(data)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('when given base64 that is almost clean (URL-safe characters, whitespace, padding moved, stray bits), it answers exactly like decodeBase64 + decodeJson', () => {
    // The ASCII lane (atob) must hand every payload it does not decode exactly to the strict path.
    const ascii = fc.oneof(
      fc.json().map((s) => Buffer.from(s, 'utf8')),
      fc.uint8Array({ minLength: 1, maxLength: 48 }).map((a) => Buffer.from(a.map((b) => b & 0x7f))),
      fc.uint8Array({ minLength: 1, maxLength: 48 }).map((a) => Buffer.from(a)),
    );
    const mutation = fc.record({
      at: fc.nat(),
      char: fc.constantFrom('-', '_', ' ', '\n', '\t', '=', '+', '/', 'A', 'Q', 'w', '\u00e9', '\u0000'),
      mode: fc.constantFrom('none', 'replace', 'insert', 'delete', 'bits'),
    });
    fc.assert(
      fc.property(ascii, mutation, (buf, m) => {
        let data = buf.toString('base64');
        const at = data.length === 0 ? 0 : m.at % data.length;
        if (m.mode === 'replace') data = data.slice(0, at) + m.char + data.slice(at + 1);
        if (m.mode === 'insert') data = data.slice(0, at) + m.char + data.slice(at);
        if (m.mode === 'delete') data = data.slice(0, at) + data.slice(at + 1);
        if (m.mode === 'bits') {
          // Non-zero bits after the last byte: the last character before the padding, changed.
          const last = data.replace(/=+$/, '').length - 1;
          if (last >= 0) data = data.slice(0, last) + (data[last] === 'B' ? 'C' : 'B') + data.slice(last + 1);
        }
        const fused = decodeRecordData(data);
        if (fused instanceof UndecodedPayload) {
          expect(decodeBase64(data)).toEqual(Buffer.from(fused.bytes));
          return;
        }
        expect(outcome(fused)).toEqual(outcome(twoStep(data)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('when objects carry __proto__ or constructor keys (spelled out or escaped, flat or nested), it removes exactly those keys', () => {
    // The reference: parse, then delete the two keys everywhere by walking the whole value.
    const reference = (json: string): unknown => {
      const walk = (v: unknown): void => {
        if (typeof v !== 'object' || v === null) return;
        if (Array.isArray(v)) return v.forEach(walk);
        const o = v as Record<string, unknown>;
        if (Object.hasOwn(o, '__proto__')) delete o['__proto__'];
        if (Object.hasOwn(o, 'constructor')) delete o['constructor'];
        Object.values(o).forEach(walk);
      };
      const value: unknown = JSON.parse(json);
      walk(value);
      return value;
    };
    const key = fc.constantFrom(
      'a',
      'id',
      '__proto__',
      'constructor',
      '\\u005f_proto__',
      'constructo\\u0072',
      'prototype',
      '{',
      '[',
    );
    const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null), fc.constant('{['));
    const { value } = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf.map((l) => JSON.stringify(l)),
        fc
          .array(fc.tuple(key, tie('value')), { maxLength: 4 })
          .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
      ),
    }));
    fc.assert(
      fc.property(value, (json) => {
        const data = Buffer.from(json, 'utf8').toString('base64');
        const decoded = decodeRecordData(data);
        expect(decoded).toEqual(reference(json));
        expect(outcome(decoded)).toEqual(outcome(twoStep(data)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('when the text genuinely contains U+FFFD, it accepts it; with a malformed sequence as well, it rejects INVALID_UTF8', () => {
    expect(decodeRecordData(b64('{"a":"\uFFFD"}'))).toEqual({ a: '\uFFFD' });
    const mixed = Buffer.concat([
      Buffer.from('{"a":"\uFFFD', 'utf8'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expect((decodeRecordData(mixed.toString('base64')) as PayloadFailure).reason).toBe('INVALID_UTF8');
  });

  it('when the payload starts with 0xF3 (KPL magic), it returns a copy of the bytes undecoded', () => {
    const bytes = Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 1, 2, 3]);
    const r = decodeRecordData(bytes.toString('base64'));
    expect(r).toBeInstanceOf(UndecodedPayload);
    expect(Buffer.from((r as UndecodedPayload).bytes)).toEqual(bytes);
    decodeRecordData(b64('{"overwrites":"the scratch buffer"}'));
    expect(Buffer.from((r as UndecodedPayload).bytes)).toEqual(bytes);
  });

  it('when records of different sizes follow each other, each decodes on its own (scratch reuse and growth)', () => {
    const big = { s: 'x'.repeat(100_000) };
    expect(decodeRecordData(b64(JSON.stringify({ a: 1, long: 'yyyyyyyy' })))).toEqual({
      a: 1,
      long: 'yyyyyyyy',
    });
    expect(decodeRecordData(b64(JSON.stringify(big)))).toEqual(big);
    expect(decodeRecordData(b64('{"b":2}'))).toEqual({ b: 2 });
  });
});
