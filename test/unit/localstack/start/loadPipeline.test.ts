import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageActivity } from '../../../../functions/pipelines';
import {
  deployedShippedPipelines,
  loadPipeline,
  UnknownPipelineError,
} from '../../../../localstack/start/loadPipeline';
import { statusCommand } from '../../../../localstack/start/keepCloud';

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

  it('when given a module path that names no file, it says the file is not found and where it looked', () => {
    const missing = join(dir, 'pipelines', 'nope.ts');
    expect(() => loadPipeline(missing)).toThrow(
      new UnknownPipelineError(
        `Pipeline module ${missing} not found (resolved to ${missing}): check the path, or use a shipped pipeline (page-activity)`,
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

  describe('deployedShippedPipelines (what status, console and replay-failures report when none is named)', () => {
    const usage = 'npx shardflow status pipelines/<module>.ts';

    it('when no deployment is recorded, or it has the shipped pipeline, it is the shipped pipeline', () => {
      expect(deployedShippedPipelines(undefined, usage)).toEqual([pageActivity]);
      expect(deployedShippedPipelines({ ResultsBucketName: 'b' }, usage)).toEqual([pageActivity]);
      expect(
        deployedShippedPipelines(
          { StreamNamePageActivity: 'clickstream', StreamNamePageClicks: 'page-clicks' },
          usage,
        ),
      ).toEqual([pageActivity]);
    });

    it('when the deployment has only pipelines of your own app, it names them and says to name the module', () => {
      expect(() =>
        deployedShippedPipelines(
          { StreamNamePageClicks: 'page-clicks', ResultsBucketName: 'b', StateTableName: 't' },
          usage,
        ),
      ).toThrow(
        new UnknownPipelineError(
          'The deployment has PageClicks (stream page-clicks), not the shipped page-activity: name the pipeline module, e.g. "npx shardflow status pipelines/<module>.ts"',
        ),
      );
    });
  });

  it('the status command a kept run prints names the pipeline modules it ran (not the shipped default)', () => {
    expect(statusCommand([])).toBe('npx shardflow status');
    expect(statusCommand(['page-activity'])).toBe('npx shardflow status');
    expect(statusCommand(['pipelines/pageClicks.ts'])).toBe('npx shardflow status pipelines/pageClicks.ts');
    expect(statusCommand(['a/one.ts', 'my stages/two.ts'])).toBe(
      'npx shardflow status a/one.ts "my stages/two.ts"',
    );
  });
});
