import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../../../functions/core/dsl';
import { PipelineDefinitionError } from '../../../../functions/core/errors';

const Click = z.object({ id: z.string(), page: z.string(), ts: z.number() });
const W = { allowedLateness: '0s', maxOutOfOrderness: '0s' } as const;
const aggregated = () =>
  pipeline('clicks')
    .source({ stream: 'clickstream' })
    .clean({ schema: Click, eventTime: (c) => c.ts })
    .keyBy((c) => c.page, 'page')
    .window(tumbling('1m'), W)
    .aggregate({ clicks: count() });

describe('sink toStream in the pipeline DSL (results published to a stream)', () => {
  it('when the sink names a stream, the spec carries it beside the table', () => {
    expect(aggregated().sink({ table: 'clicks_by_page', toStream: 'minutes' }).spec.sink).toEqual({
      table: 'clicks_by_page',
      toStream: 'minutes',
    });
  });

  it('when a session pipeline names a stream, the spec carries it too', () => {
    const p = pipeline('visits')
      .source({ stream: 'clickstream' })
      .clean({ schema: Click, eventTime: (c) => c.ts })
      .keyBy((c) => c.page, 'page')
      .window(session('5m'), W)
      .aggregate({ clicks: count() })
      .sink({ table: 'visits', toStream: 'visit-results' });
    expect(p.spec.sink).toEqual({ table: 'visits', toStream: 'visit-results' });
  });

  it('when the sink names no stream, the spec has only the table', () => {
    expect(aggregated().sink({ table: 't' }).spec.sink).toEqual({ table: 't' });
  });

  it.each([
    [
      '',
      'sink toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "")',
    ],
    [
      'a/b',
      'sink toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "a/b")',
    ],
    [
      'x'.repeat(129),
      `sink toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given "${'x'.repeat(129)}")`,
    ],
    [
      'clickstream',
      'sink toStream stream must differ from the source stream (given "clickstream": the pipeline would read its own output)',
    ],
  ])('when the stream is %j, it throws naming it', (stream, message) => {
    expect(() => aggregated().sink({ table: 't', toStream: stream })).toThrow(
      new PipelineDefinitionError(`Pipeline "clicks": ${message}`),
    );
  });

  it('when the stream is not a string, it throws naming it', () => {
    expect(() => aggregated().sink({ table: 't', toStream: 7 as unknown as string })).toThrow(
      new PipelineDefinitionError(
        'Pipeline "clicks": sink toStream stream name must be 1..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given 7)',
      ),
    );
  });

  it('when the pipeline already publishes its records with toStream(), it throws: one publish stream', () => {
    expect(() =>
      pipeline('clicks')
        .source({ stream: 'clickstream' })
        .clean({ schema: Click, eventTime: (c) => c.ts })
        .toStream('views', { partitionKey: (c) => c.page })
        .keyBy((c) => c.page, 'page')
        .window(tumbling('1m'), W)
        .aggregate({ clicks: count() })
        .sink({ table: 't', toStream: 'minutes' }),
    ).toThrow(
      new PipelineDefinitionError(
        'Pipeline "clicks": sink toStream cannot be used with toStream() (it publishes to "views"): a pipeline has one publish stream; publish the results from a second pipeline reading "views"',
      ),
    );
  });
});
