/**
 * The named phases of a report. Each runs through a {@link PhaseRunner}: by default at once, the
 * independent ones side by side; bench/report/phases.ts passes one that runs them one at a time and
 * times each (docs/report.md, "Performance").
 */

export type ReportPhase =
  | 'load pairs'
  | 'load events and outcomes'
  | 'label join'
  | 'cells'
  | 'both-scored scan'
  | 'percentiles'
  | 'spearman'
  | 'label figures'
  | 'paired and clustered figures'
  | 'maturity'
  | 'segments'
  | 'window and traffic'
  | 'agreement and psi'
  | 'timeline'
  | 'charts';

/**
 * Runs one phase: must call `run` once and settle as its promise does. A phase may wait for one
 * started before it, never for one started after it.
 */
export type PhaseRunner = <T>(phase: ReportPhase, run: () => Promise<T>) => Promise<T>;

export const runNow: PhaseRunner = (_phase, run) => run();
