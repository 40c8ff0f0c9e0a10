/**
 * The Pulumi program (`main` in Pulumi.yaml). Pulumi calls the exported function and uses its
 * result as the stack outputs:
 * `placements`, `dns`, `instances` and `usdPerHour`.
 */
import { runStack } from './program';

export = runStack;
