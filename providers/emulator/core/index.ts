export { CloudEmulator, DROP, type CallStats, type EmuRequest, type EmuResponse, type EmulatorOptions } from './server';
export { InstanceStore, StoreError, fingerprintOf, type CreateRequest, type EmuInstance, type EmuState, type InstanceStoreSnapshot, type Page, type StoreRefusal } from './store';
export { NO_FAULTS, validateFaultsPatch, type FaultSettings, type GateDecision } from './faults';
export { EmulatorAdmin } from './admin-client';
export { TEST_CREDENTIALS, DEFAULT_EMULATOR_PORTS } from './credentials';
export { EmulatorCatalog } from './catalog';
