/**
 * Writes Parquet fixtures with hyparquet-writer — the library the handlers use — in a child Node
 * process: hyparquet-writer is ESM-only and Jest's CommonJS runtime cannot load it, while plain Node
 * (≥ 20.19) can `require` it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FixtureColumn {
  readonly name: string;
  /** hyparquet-writer basic type, e.g. STRING, INT64, DOUBLE, TIMESTAMP (epoch ms in `data`). */
  readonly type: 'STRING' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
  readonly data: readonly (string | number | boolean | null)[];
}

const SCRIPT = `
const { parquetWriteFile } = require('hyparquet-writer');
const spec = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
parquetWriteFile({
  filename: spec.filename,
  columnData: spec.columns.map((c) => ({
    name: c.name,
    type: c.type,
    data: c.data.map((v) => v === null ? null : c.type === 'TIMESTAMP' ? new Date(v) : c.type === 'INT64' ? BigInt(v) : v),
  })),
});
`;

export function writeParquetFixture(filename: string, columns: readonly FixtureColumn[]): void {
  mkdirSync(dirname(filename), { recursive: true });
  execFileSync(process.execPath, ['-e', SCRIPT], {
    cwd: process.cwd(),
    input: JSON.stringify({ filename, columns }),
    stdio: ['pipe', 'inherit', 'inherit'],
  });
}
