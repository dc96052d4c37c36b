/**
 * Statistics as pure functions, each with its definition in its module (docs/report.md,
 * "Sections"). The report and the proxy's guardrails both import from here; nothing here imports
 * either of them.
 */
export * from './distributions.js';
export * from './descriptive.js';
export * from './auc.js';
export * from './proportions.js';
export * from './tests.js';
export * from './psi.js';
export * from './classification.js';
export * from './clustered.js';
export * from './sequential.js';
export * from './delong.js';
