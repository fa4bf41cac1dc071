import { RingBuffer } from '../../../../localstack/console/ringBuffer';

describe('RingBuffer', () => {
  it('when fewer values than its capacity are pushed, it holds them all, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.last()).toBeUndefined();
    ring.push(1);
    ring.push(2);
    expect(ring.toArray()).toEqual([1, 2]);
    expect(ring.size).toBe(2);
    expect(ring.last()).toBe(2);
  });

  it('when pushed past its capacity, it keeps the newest values only', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 10; i++) ring.push(i);
    expect(ring.toArray()).toEqual([8, 9, 10]);
    expect(ring.size).toBe(3);
    expect(ring.last()).toBe(10);
  });

  it('when the capacity is not a positive integer, it names the value given', () => {
    expect(() => new RingBuffer(0)).toThrow('history capacity must be a positive integer (given 0)');
    expect(() => new RingBuffer(2.5)).toThrow('(given 2.5)');
  });
});
