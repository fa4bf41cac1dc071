import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import { isPipeline, pipelineOfModule } from '../../../../functions/core/engine/pipelineModule';
import { PipelineDefinitionError } from '../../../../functions/core/errors';

const Click = z.object({ id: z.string(), page: z.string(), ts: z.number() });
const W = { allowedLateness: '0s', maxOutOfOrderness: '0s' } as const;
const publishOnly = () =>
  pipeline('clean-clicks')
    .source({ stream: 'clickstream' })
    .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
    .map((c) => ({ ...c, section: c.page.split('/')[1] ?? '' }))
    .toStream('clicks-clean', { partitionKey: (c) => c.section });

describe('a publish-only pipeline (one that ends in toStream())', () => {
  it('is a pipeline a module can export: its spec publishes and has no window, sink or columns', () => {
    const p = publishOnly();
    expect(isPipeline(p)).toBe(true);
    expect(pipelineOfModule({ default: p }, 'clean.ts')).toBe(p);
    expect(p.spec.publish).toEqual({ stream: 'clicks-clean' });
    expect(p.spec).not.toHaveProperty('window');
    expect(p.spec).not.toHaveProperty('sink');
    expect(p.spec.columns).toEqual([]);
    expect(p.spec.errorBounds).toEqual({});
  });

  it('when a module exports a publish-only base and the windowed pipeline built on it, without a default, the windowed one is its pipeline', () => {
    const cleaned = publishOnly();
    const perPage = cleaned
      .keyBy((c) => c.page)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 'clicks_per_page' });
    expect(pipelineOfModule({ cleaned, perPage }, 'clicks.ts')).toBe(perPage);
    // Two unrelated publish-only pipelines are still two.
    const other = pipeline('other')
      .source({ stream: 'clickstream' })
      .clean({ schema: Click, eventTime: (c) => c.ts })
      .toStream('x', { partitionKey: (c) => c.page });
    expect(() => pipelineOfModule({ cleaned, other }, 'two.ts')).toThrow(
      'two.ts exports 2 pipelines: make the one to run the default export',
    );
  });

  it('nothing of it is late: its time spec has no lateness and no out-of-orderness', () => {
    expect(publishOnly().spec.time).toEqual({
      allowedLatenessMs: 0,
      maxOutOfOrdernessMs: 0,
      idleTimeoutMs: 60_000,
      maxEventTimeAheadMs: 300_000,
    });
  });

  it('can still go on to keyBy → window → aggregate → sink, which makes it a windowed pipeline that publishes', () => {
    const p = publishOnly()
      .keyBy((c) => c.section, 'section')
      .window(tumbling('1m'), W)
      .aggregate({ clicks: count() })
      .sink({ table: 'clicks_by_section' });
    expect(p.spec.publish).toEqual({ stream: 'clicks-clean' });
    expect(p.spec.sink).toEqual({ table: 'clicks_by_section' });
    expect(p.spec.window).toEqual(tumbling('1m'));
  });

  it('sink() right after toStream() throws: a publish-only pipeline has no result table', () => {
    expect(() => publishOnly().sink({ table: 'clicks' })).toThrow(
      new PipelineDefinitionError(
        'Pipeline "clean-clicks": sink() must come after aggregate(); a pipeline that only publishes ends at toStream() (export it as it is), one with a result table goes on with keyBy → window → aggregate → sink',
      ),
    );
  });

  it('the window steps out of order, operators after it and a second toStream() throw one-line errors', () => {
    const p = publishOnly();
    const order =
      'source/fromTable → clean → map/filter/flatMap → toStream → keyBy → window → aggregate → sink';
    expect(() => p.aggregate({ n: count() })).toThrow(
      new PipelineDefinitionError(`Pipeline "clean-clicks": aggregate() is out of order (expected ${order})`),
    );
    expect(() => p.window(tumbling('1m'), W)).toThrow(
      'Pipeline "clean-clicks": window() needs keyBy() before it (windows are per key)',
    );
    expect(() => p.map((c) => c)).toThrow('Pipeline "clean-clicks": map() must come before toStream()');
    expect(() => p.filter(() => true)).toThrow('filter() must come before toStream()');
    expect(() => p.flatMap((c) => [c])).toThrow('flatMap() must come before toStream()');
    expect(() => p.toStream('other', { partitionKey: (c) => c.page })).toThrow(
      'Pipeline "clean-clicks": toStream() may appear once',
    );
  });

  it('sink({ toStream }) after a toStream() chain still throws: one publish stream', () => {
    expect(() =>
      publishOnly()
        .keyBy((c) => c.page)
        .window(tumbling('1m'), W)
        .aggregate({ n: count() })
        .sink({ table: 't', toStream: 'minutes' }),
    ).toThrow('sink toStream cannot be used with toStream()');
  });

  it('its topology ends at the stream it publishes to', () => {
    const t = publishOnly().topology();
    expect(t.window).toBeUndefined();
    expect(t.sink).toBeUndefined();
    expect(t.publish).toEqual({ stream: 'clicks-clean' });
  });
});
