/**
 * Every error class of the package in one module: the `errors` namespace export, so
 * `error instanceof errors.TransactionError` works for the client's, the recipes' and the DI
 * layer's errors alike (README, "Errors").
 */
export * from './client/errors.js';
export { TransactionError } from './client/transaction.js';
export * from './recipes/errors.js';
export * from './di/errors.js';
