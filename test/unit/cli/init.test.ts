import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InitConflictError, initProject } from '../../../localstack/cli/commands/init';

const own = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

describe('shardflow init', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-init-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the directory is new, it writes the scaffold with dependencies pinned to the versions shardflow is tested with', () => {
    const written = initProject(join(dir, 'My Pipelines'));
    expect(written).toEqual(
      expect.arrayContaining([
        'package.json',
        'cdk.json',
        'app.ts',
        'pipelines/pageClicks.ts',
        'test/pageClicks.test.ts',
        'README.md',
        'data/clicks.jsonl',
      ]),
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'My Pipelines', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: 'my-pipelines',
      private: true,
      scripts: { test: 'jest', start: 'shardflow run pipelines/pageClicks.ts --input data/clicks.jsonl' },
      dependencies: {
        shardflow: `^${own.version}`,
        'aws-cdk-lib': own.dependencies['aws-cdk-lib'],
        zod: own.dependencies.zod,
      },
      devDependencies: { jest: own.devDependencies.jest },
      allowScripts: own.allowScripts,
    });
    expect(readFileSync(join(dir, 'My Pipelines', 'README.md'), 'utf8')).toMatch(/npm start .*\nnpm test /);
  });

  it("when package.json exists, it keeps the project's fields, replaces npm init's placeholder test and honours --shardflow", () => {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'mine',
        version: '2.0.0',
        scripts: { test: 'echo "Error: no test specified" && exit 1', lint: 'eslint .' },
      }),
    );
    initProject(dir, { shardflow: 'file:../shardflow.tgz' });
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest).toMatchObject({
      name: 'mine',
      version: '2.0.0',
      scripts: { test: 'jest', lint: 'eslint .' },
    });
    expect(manifest.dependencies.shardflow).toBe('file:../shardflow.tgz');
  });

  it('when any scaffold file exists, it writes nothing and names the files', () => {
    writeFileSync(join(dir, 'app.ts'), '// mine');
    expect(() => initProject(dir)).toThrow(InitConflictError);
    expect(() => initProject(dir)).toThrow(/already has app\.ts: init writes only new files/);
    expect(readFileSync(join(dir, 'app.ts'), 'utf8')).toBe('// mine');
  });
});
