import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appFingerprint } from '../../../../localstack/start/synthesize';

describe('appFingerprint', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-fp-'));
    writeFileSync(join(dir, 'cdk.json'), '{"app":"npx tsx app.ts"}');
    writeFileSync(join(dir, 'app.ts'), '// app');
    mkdirSync(join(dir, 'pipelines'));
    writeFileSync(join(dir, 'pipelines', 'a.ts'), '// a');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('when a project laid out by shardflow init changes its app or a pipeline, the cached synth is not reused', () => {
    const before = appFingerprint(dir);
    expect(appFingerprint(dir)).toBe(before);
    writeFileSync(join(dir, 'app.ts'), '// app, changed');
    const afterApp = appFingerprint(dir);
    expect(afterApp).not.toBe(before);
    writeFileSync(join(dir, 'pipelines', 'b.ts'), '// b');
    expect(appFingerprint(dir)).not.toBe(afterApp);
  });

  test('when the synth context names other pipelines, the fingerprint differs', () => {
    expect(appFingerprint(dir, { pipelines: join(dir, 'pipelines', 'a.ts') })).not.toBe(appFingerprint(dir));
  });
});
