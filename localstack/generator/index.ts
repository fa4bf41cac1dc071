/** Reproducible synthetic workloads with known answers (the `npm start` clickstream). */
export {
  CLICK_ACTIONS,
  DEVICES,
  RECORD_KINDS,
  generateClickstream,
  pageName,
  toJsonLines,
  windowStartIso,
  type ActivityTotals,
  type ClickAction,
  type ClickEvent,
  type ClickstreamDataset,
  type ClickstreamOptions,
  type ClickstreamTotals,
  type Device,
  type GeneratedRecord,
  type RecordKind,
} from './clickstream';
export { createRandom, zipfSampler, type Random } from './random';
