import {
  decodeBase64,
  decodeJson,
  MAX_JSON_DEPTH,
  MAX_RECORD_BYTES,
  PayloadFailure,
} from '../../../../functions/core/codec/payloadCodec';

const decode = (b64: string): unknown => {
  const bytes = decodeBase64(b64);
  return bytes instanceof PayloadFailure ? bytes : decodeJson(bytes);
};
const b64 = (s: string | Buffer): string =>
  (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');

describe('payload codec', () => {
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

  it('when the payload is a JSON primitive, it returns it', () => {
    expect(decode(b64('42'))).toBe(42);
    expect(decode(b64('null'))).toBeNull();
  });
});
