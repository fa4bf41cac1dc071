import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import { PipelineDefinitionError } from '../../../../functions/core/errors';

const Click = z.object({ id: z.string(), page: z.string(), ts: z.number() });
const W = { allowedLateness: '0s', maxOutOfOrderness: '0s' } as const;
const cleaned = () =>
  pipeline('clicks')
    .source({ stream: 'clickstream' })
    .clean({ schema: Click, eventTime: (c) => c.ts });

describe('toStream in the pipeline DSL', () => {
  it('when a pipeline publishes before keyBy, its spec names the stream and the chain goes on typed', () => {
    const p = cleaned()
      .map((c) => ({ ...c, section: c.page.split('/')[1] ?? '' }))
      .toStream('sessions', { partitionKey: (c) => c.section })
      .keyBy((c) => c.section, 'section')
      .window(tumbling('1m'), W)
      .aggregate({ clicks: count() })
      .sink({ table: 'clicks_by_section' });
    expect(p.spec.publish).toEqual({ stream: 'sessions' });
    expect(p.spec.source).toEqual({ stream: 'clickstream' });
  });

  it('when a pipeline does not publish, its spec has no publish entry', () => {
    const p = cleaned()
      .keyBy((c) => c.page)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    expect(p.spec).not.toHaveProperty('publish');
  });

  it.each([
    [
      '',
      'toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "")',
    ],
    [
      'a b',
      'toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "a b")',
    ],
    [
      'x'.repeat(129),
      `toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "${'x'.repeat(129)}")`,
    ],
    [
      'clickstream',
      'toStream stream must differ from the source stream (given "clickstream": the pipeline would read its own output)',
    ],
  ])('when the stream is %j, it throws naming it', (stream, message) => {
    expect(() => cleaned().toStream(stream, { partitionKey: (c) => c.page })).toThrow(
      new PipelineDefinitionError(`Pipeline "clicks": ${message}`),
    );
  });

  it('when partitionKey is not a function, it throws naming its type', () => {
    expect(() =>
      cleaned().toStream('out', { partitionKey: 'page' as unknown as (c: unknown) => string }),
    ).toThrow(
      new PipelineDefinitionError(
        'Pipeline "clicks": toStream partitionKey must be a function (given string)',
      ),
    );
    expect(() =>
      cleaned().toStream('out', undefined as unknown as { partitionKey: (c: unknown) => string }),
    ).toThrow('toStream partitionKey must be a function (given undefined)');
  });

  it('when toStream is out of place, it says where it belongs', () => {
    const order =
      'source/fromTable → clean → map/filter/flatMap → toStream → keyBy → window → aggregate → sink';
    expect(() =>
      pipeline('clicks')
        .source({ stream: 'clickstream' })
        .toStream('out', { partitionKey: () => 'k' }),
    ).toThrow(`Pipeline "clicks": toStream() is out of order (expected ${order})`);
    expect(() =>
      cleaned()
        .keyBy((c) => c.page)
        .toStream('out', { partitionKey: (c) => c.page }),
    ).toThrow(`toStream() is out of order (expected ${order})`);
    const tapped = cleaned().toStream('out', { partitionKey: (c) => c.page });
    expect(() => tapped.toStream('other', { partitionKey: (c) => c.page })).toThrow(
      'Pipeline "clicks": toStream() may appear once',
    );
    expect(() => tapped.map((c) => c)).toThrow('Pipeline "clicks": map() must come before toStream()');
    expect(() => tapped.window(tumbling('1m'), W)).toThrow('window() needs keyBy() before it');
  });
});
