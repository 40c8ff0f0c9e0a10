/**
 * A Pulumi program of another project that uses Meridian as an installed package: it imports the
 * component by the package name, which resolves (through package.json `exports`) to the build
 * output, never to the sources.
 */
import * as pulumi from '@pulumi/pulumi';
import { Workload } from 'meridian';

/** The consumer's stack outputs. */
export interface ConsumerOutputs {
  readonly placement: pulumi.Output<Array<{ cloud: string; region: string; count: number }>>;
  readonly addresses: pulumi.Output<string[]>;
  readonly usdPerHour: pulumi.Output<number>;
}

/** The consumer's program: one workload of three replicas under an EU-only, two-cloud policy. */
export function program(): ConsumerOutputs {
  const web = new Workload('web', {
    workload: {
      name: 'web', replicas: 3, size: { vcpu: 2, memoryGiB: 8 }, policy: 'eu-two-clouds',
      image: { aws: 'ami-0a1b2c3d4e5f67890', azure: 'Canonical:ubuntu-24_04-lts:server:latest' },
      dns: { name: 'web.example.com', ttl: 60 },
    },
    policy: {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'eu-two-clouds' },
      spec: { clouds: { allow: ['aws', 'azure'] }, residency: { continents: ['EU'] }, spread: { minClouds: 2 }, objective: 'cost' },
    },
    tags: { team: 'storefront' },
  });
  return {
    placement: web.placement,
    addresses: web.dns.apply((d) => d?.addresses ?? []),
    usdPerHour: web.usdPerHour,
  };
}
