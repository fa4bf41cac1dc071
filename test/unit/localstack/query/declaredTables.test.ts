import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { GlueCatalog } from '../../../../lib/constructs/GlueCatalog';
import { ResultsBucket } from '../../../../lib/constructs/ResultsBucket';
import { ResultTable } from '../../../../lib/constructs/ResultTable';
import { declaredTables } from '../../../../localstack/query/declaredTables';

describe('declaredTables', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-declared-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("when the template has Glue tables, it gives each table's name and columns in order", () => {
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    const catalog = new GlueCatalog(stack, 'Catalog');
    const results = new ResultsBucket(stack, 'Results', { serverAccessLogs: false });
    new ResultTable(stack, 'Table', {
      catalog,
      bucket: results.bucket,
      tableName: 'page_activity_minutely',
      columns: [
        { name: 'page', type: 'string' },
        { name: 'window_start', type: 'timestamp' },
        { name: 'events', type: 'bigint' },
        { name: 'top', type: 'json' },
      ],
    });
    const file = join(dir, 'S.template.json');
    writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON()));
    expect(declaredTables(file)).toEqual([
      {
        name: 'page_activity_minutely',
        columns: [
          { name: 'page', type: 'string' },
          { name: 'window_start', type: 'timestamp' },
          { name: 'events', type: 'bigint' },
          { name: 'top', type: 'string' },
        ],
      },
    ]);
  });

  it('when there is no template, or it cannot be read, it declares no table', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(declaredTables(undefined)).toEqual([]);
    expect(declaredTables(join(dir, 'missing.json'))).toEqual([]);
    expect(declaredTables(broken)).toEqual([]);
  });
});
