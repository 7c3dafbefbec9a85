/**
 * Metrics per group of items — per record (patient) in ECG datasets, whose `group` names each item's record —
 * so a report can say which patients the errors come from.
 */
import { ValueError } from '@ecgnn/core';
import { classificationMetrics, type Metrics, type MetricsOptions } from './metrics.js';

/** The metrics of one group's items. */
export interface GroupMetrics {
  /** Group name (e.g. the record). */
  group: string;
  /** Metrics of the group's items alone (see {@link classificationMetrics}). */
  metrics: Metrics;
}

/**
 * Metrics of the items of each group: item i belongs to `groups[i]`, has true class `truth[i]` and predicted
 * class `pred[i]` (indices into `classes`). Groups come in the order of their first item. Throws a ValueError
 * when the three arrays differ in length.
 */
export function metricsByGroup(
  groups: readonly string[],
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  classes: readonly string[],
  opts: MetricsOptions = {},
): GroupMetrics[] {
  if (truth.length !== groups.length || pred.length !== groups.length) {
    throw new ValueError(
      `metricsByGroup: ${groups.length} groups, ${truth.length} labels and ${pred.length} predictions; they must be as many`,
    );
  }
  const items = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const list = items.get(groups[i]);
    if (list) list.push(i);
    else items.set(groups[i], [i]);
  }
  return [...items].map(([group, idx]) => ({
    group,
    metrics: classificationMetrics(
      idx.map((i) => truth[i]),
      idx.map((i) => pred[i]),
      classes,
      opts,
    ),
  }));
}
