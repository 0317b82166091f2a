/** Test support for stores built on the core: real engines, isolated per test. */
export { announceSkip, createIsolatedSchema, type StoreEngine, storeEngines } from './store-engines';
