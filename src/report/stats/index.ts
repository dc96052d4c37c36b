/** The report's statistics: pure functions, each with its SPEC 8 definition in its module. */
export * from './distributions.js';
export * from './descriptive.js';
export * from './auc.js';
export * from './proportions.js';
export * from './tests.js';
export * from './psi.js';
export * from './classification.js';
