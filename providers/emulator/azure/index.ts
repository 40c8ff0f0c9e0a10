/** The Azure Resource Manager compute emulator. */
export { AzureEmulator, type AzureEmulatorOptions } from './emulator';
