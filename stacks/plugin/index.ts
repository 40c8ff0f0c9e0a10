/**
 * The component provider of the `meridian` package: serves `meridian:index:Workload` to Pulumi
 * programs in any language. Pulumi runs this file through its Node.js language host; the schema
 * comes from the component's declarations in the build output (`dist/stacks/*.d.ts`).
 */
import { componentProviderHost } from '@pulumi/pulumi/provider/experimental';
import { Workload } from '../../dist/stacks/index.js';

// Package name and type tokens are the stack's own: `meridian:index:Workload`.
componentProviderHost({ components: [Workload], name: 'meridian', dirname: __dirname }).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
