import { createLiveLine } from '../../../../localstack/start/liveLine';

function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  const stream = { isTTY, columns, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('createLiveLine', () => {
  it('when the output is a terminal, it rewrites one line in place and keeps printed lines above it', () => {
    const { stream, writes } = fakeStream(true, 40);
    const live = createLiveLine(stream);
    live.update('sent 1/10');
    live.update('sent 2/10');
    live.print('answer');
    live.done();
    expect(writes).toEqual([
      '\r\x1b[2Ksent 1/10',
      '\r\x1b[2Ksent 2/10',
      '\r\x1b[2K',
      'answer\n',
      'sent 2/10',
      '\n',
    ]);
  });

  it('when the output is not a terminal, it prints plain lines at most once per interval and the last one at the end', () => {
    const { stream, writes } = fakeStream(false);
    const live = createLiveLine(stream, 60_000);
    live.update('sent 1/10');
    live.update('sent 2/10');
    live.update('sent 3/10');
    live.done();
    expect(writes).toEqual(['sent 1/10\n', 'sent 3/10\n']);
    expect(writes.join('')).not.toContain('\r');
  });

  it('when a terminal reports no width, it still shows a full line', () => {
    const { stream, writes } = fakeStream(true, 0);
    createLiveLine(stream).update('x'.repeat(100));
    expect(writes[0]).toBe(`\r\x1b[2K${'x'.repeat(100)}`);
  });
});
