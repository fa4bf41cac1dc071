import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageActivity } from '../../../../functions/pipelines';
import { loadPipeline, UnknownPipelineError } from '../../../../localstack/start/loadPipeline';

describe('loadPipeline', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-pipeline-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when given a shipped name, it returns that pipeline', () => {
    expect(loadPipeline('page-activity')).toBe(pageActivity);
  });

  it('when given neither a shipped name nor a file, it names the shipped pipelines', () => {
    expect(() => loadPipeline('nope')).toThrow(
      new UnknownPipelineError(
        'Unknown pipeline "nope": not a shipped pipeline (page-activity) nor a .ts/.js pipeline file',
      ),
    );
  });

  it('when a module exports a pipeline, it loads it; when it exports none, it says how to', () => {
    const good = join(dir, 'good.js');
    writeFileSync(
      good,
      `module.exports = { mine: require(${JSON.stringify(require.resolve('../../../../functions/pipelines'))}).pageActivity };`,
    );
    expect(loadPipeline(good)).toBe(pageActivity);
    const empty = join(dir, 'empty.js');
    writeFileSync(empty, 'module.exports = { x: 1 };');
    expect(() => loadPipeline(empty)).toThrow(
      `${empty} exports no pipeline: export default pipeline('name')…sink({ table })`,
    );
  });
});
