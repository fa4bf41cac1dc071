export { DuckDbQueryEngine, type DuckDbQueryEngineOptions } from './DuckDbQueryEngine';
export { COMPAT_MACROS } from './compatMacros';
export { declaredTables, type DeclaredTable } from './declaredTables';
export { AthenaQueryError, QueryError, SqlError } from './errors';
export { formatResult } from './format';
export { mirrorBucket, type MirrorOptions } from './mirrorBucket';
export { queryResults, type MirrorReport, type QueryResultsOptions } from './queryResults';
export { buildStartQueryExecutionInput, runAthenaQuery, type AthenaQueryOptions } from './athenaQuery';
export { OUTPUT_FORMATS, type Cell, type OutputFormat, type QueryColumn, type QueryResult } from './types';
