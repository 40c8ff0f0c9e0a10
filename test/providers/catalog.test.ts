import { strict as assert } from 'node:assert';
import {
  catalogData, findRegion, findSize, listRegions, listSizes, pricesAsOf, regionDenial, resolveSize, tryFindRegion, tryFindSize, tryResolveSize,
} from '../../providers/catalog';
import { bySizePreference } from '../../providers/catalog/rank';
import { CloudError } from '../../providers/errors';
import { CLOUD_IDS, PARTITIONS, type Arch, type CloudId, type SizeRequest } from '../../providers/types';

const CONTINENTS = new Set(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);

/** Independent reference: scan the raw table with the documented rule (price, then vCPU, then name). */
function bruteForce(cloud: CloudId, region: string, req: SizeRequest): { name: string; usdPerHour: number } | undefined {
  const data = catalogData(cloud);
  const factor = data.regions.find((r) => r.id === region)?.priceFactor;
  assert.ok(factor !== undefined, `test region ${region} exists`);
  const fits = data.sizes
    .filter((s) => s.vcpu >= req.vcpu && s.memoryGiB >= req.memoryGiB && (!req.arch || s.arch === req.arch))
    .filter((s) => !(s.unavailableIn ?? []).includes(region))
    .map((s) => ({ name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, usdPerHour: Math.round(s.usdPerHour * factor * 10_000) / 10_000 }));
  fits.sort((a, b) => a.usdPerHour - b.usdPerHour || a.vcpu - b.vcpu || a.memoryGiB - b.memoryGiB || (a.name < b.name ? -1 : 1));
  return fits[0];
}

/** A small deterministic PRNG so the sweep covers many requests yet always the same ones. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function invalidError(code: string, ...fragments: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof CloudError, 'throws a CloudError');
    assert.equal(e.kind, 'invalid');
    assert.equal(e.retryable, false);
    assert.equal(e.code, code);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' mentions '${f}'`);
    return true;
  };
}

describe('providers/catalog', () => {
  describe('data integrity', () => {
    for (const cloud of CLOUD_IDS) {
      it(`gives every ${cloud} region a unique id, a valid continent, country code and coordinates`, () => {
        const data = catalogData(cloud);
        assert.equal(data.cloud, cloud);
        const ids = data.regions.map((r) => r.id);
        assert.equal(new Set(ids).size, ids.length, `duplicate region ids in ${cloud}`);
        for (const r of data.regions) {
          assert.match(r.id, /^[a-z0-9-]+$/, `${cloud} region id ${r.id}`);
          assert.ok(r.name.length > 0, `${r.id} has a display name`);
          assert.match(r.country, /^[A-Z]{2}$/, `${r.id} country ${r.country}`);
          assert.ok(CONTINENTS.has(r.continent), `${r.id} continent ${r.continent}`);
          assert.ok(Number.isFinite(r.lat) && r.lat >= -90 && r.lat <= 90, `${r.id} lat ${r.lat}`);
          assert.ok(Number.isFinite(r.lon) && r.lon >= -180 && r.lon <= 180, `${r.id} lon ${r.lon}`);
          assert.ok(r.priceFactor > 0.5 && r.priceFactor < 3, `${r.id} price factor ${r.priceFactor} is plausible`);
        }
      });

      it(`gives every ${cloud} size a unique name, positive shape and price, and a dated price list`, () => {
        const data = catalogData(cloud);
        const names = data.sizes.map((s) => s.name);
        assert.equal(new Set(names).size, names.length, `duplicate type names in ${cloud}`);
        const regionIds = new Set(data.regions.map((r) => r.id));
        for (const s of data.sizes) {
          assert.ok(s.vcpu > 0 && Number.isInteger(s.vcpu), `${s.name} vcpu ${s.vcpu}`);
          assert.ok(s.memoryGiB > 0, `${s.name} memory ${s.memoryGiB}`);
          assert.ok(s.usdPerHour > 0 && s.usdPerHour < 100, `${s.name} price ${s.usdPerHour}`);
          assert.ok(s.arch === 'x86_64' || s.arch === 'arm64', `${s.name} arch ${s.arch}`);
          for (const r of s.unavailableIn ?? []) assert.ok(regionIds.has(r), `${s.name} unavailableIn names known region ${r}`);
        }
        assert.match(data.pricesAsOf, /^\d{4}-\d{2}-\d{2}$/);
        assert.ok(!Number.isNaN(Date.parse(data.pricesAsOf)));
        assert.equal(pricesAsOf(cloud), data.pricesAsOf);
      });

      it(`prices the ${cloud} reference region at factor 1`, () => {
        const data = catalogData(cloud);
        assert.equal(data.regions.find((r) => r.id === data.referenceRegion)?.priceFactor, 1);
      });

      it(`offers ${cloud} sizes from at most 2 vCPU up to at least 64 vCPU on both architectures`, () => {
        const sizes = listSizes(cloud);
        for (const arch of ['x86_64', 'arm64'] as const) {
          const cpus = sizes.filter((s) => s.arch === arch).map((s) => s.vcpu);
          assert.ok(cpus.length > 0, `${cloud} has ${arch} types`);
          assert.ok(Math.min(...cpus) <= 2, `${cloud} ${arch} smallest ${Math.min(...cpus)} vCPU`);
          assert.ok(Math.max(...cpus) >= 64, `${cloud} ${arch} largest ${Math.max(...cpus)} vCPU`);
        }
      });
    }

    it('spreads AWS and Azure over at least 4 continents and Alibaba Cloud over at least 3', () => {
      // Alibaba Cloud closed its only Oceania region (Sydney) and Mumbai; it has no region in SA, AF or OC.
      const minimum: Record<CloudId, number> = { aws: 4, azure: 4, alibaba: 3 };
      for (const cloud of CLOUD_IDS) {
        const continents = new Set(listRegions(cloud).map((r) => r.continent));
        assert.ok(continents.size >= minimum[cloud], `${cloud} spans ${[...continents].join(',')}`);
      }
      const aws = new Set(listRegions('aws').map((r) => r.continent));
      for (const c of ['AF', 'AS', 'EU', 'NA', 'OC', 'SA'] as const) assert.ok(aws.has(c), `aws has a region in ${c}`);
    });

    it('includes the mainland China regions of Alibaba Cloud, AWS and Azure China', () => {
      const alibabaCn = listRegions('alibaba').filter((r) => r.country === 'CN').map((r) => r.id);
      for (const id of ['cn-hangzhou', 'cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'cn-qingdao', 'cn-zhangjiakou',
        'cn-huhehaote', 'cn-wulanchabu', 'cn-heyuan', 'cn-guangzhou', 'cn-chengdu']) {
        assert.ok(alibabaCn.includes(id), `alibaba ${id} present and located in CN`);
      }
      assert.ok(listRegions('alibaba').filter((r) => r.id.startsWith('cn-') && r.id !== 'cn-hongkong').every((r) => r.country === 'CN'));
      assert.equal(tryFindRegion('alibaba', 'cn-hongkong')?.country, 'HK');
      assert.equal(tryFindRegion('aws', 'cn-north-1')?.country, 'CN');
      assert.equal(tryFindRegion('aws', 'cn-northwest-1')?.country, 'CN');
      assert.equal(tryFindRegion('azure', 'chinanorth3')?.country, 'CN');
    });

    it('includes the AWS opt-in and GovCloud regions and keeps the long-standing region ids', () => {
      for (const id of ['us-east-1', 'eu-central-1', 'eu-west-1', 'ap-northeast-1', 'af-south-1', 'ap-east-1', 'me-south-1',
        'il-central-1', 'mx-central-1', 'ap-southeast-7', 'us-gov-east-1', 'us-gov-west-1']) {
        assert.ok(tryFindRegion('aws', id), `aws ${id}`);
      }
      for (const id of ['eastus', 'westeurope', 'germanywestcentral']) assert.ok(tryFindRegion('azure', id), `azure ${id}`);
      for (const id of ['cn-hangzhou', 'us-west-1', 'eu-central-1']) assert.ok(tryFindRegion('alibaba', id), `alibaba ${id}`);
    });

    it('keeps the instance type names other code already uses', () => {
      for (const [cloud, name] of [['aws', 't3.micro'], ['aws', 'm6i.large'], ['aws', 'm6g.large'], ['azure', 'Standard_B1s'],
        ['azure', 'Standard_D2s_v5'], ['alibaba', 'ecs.t6-c1m1.large'], ['alibaba', 'ecs.g7.large']] as const) {
        assert.ok(tryFindSize(cloud, catalogData(cloud).referenceRegion, name), `${cloud} ${name}`);
      }
    });

    it('returns frozen regions whose fields match the data rows', () => {
      const r = findRegion('aws', 'eu-central-1');
      assert.ok(Object.isFrozen(r));
      assert.deepEqual(r, {
        cloud: 'aws', id: 'eu-central-1', name: 'Europe (Frankfurt)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, partition: 'aws', access: 'default',
      });
      assert.equal(listRegions().length, CLOUD_IDS.reduce((n, c) => n + catalogData(c).regions.length, 0));
    });
  });

  describe('the widened families', () => {
    const families: ReadonlyArray<readonly [CloudId, readonly string[]]> = [
      ['aws', ['t3', 't4g', 'm6i', 'm7i', 'c7i', 'r7i']],
      ['azure', ['Standard_B2s', 'Standard_D2s_v5', 'Standard_D2as_v5', 'Standard_E2s_v5', 'Standard_F2s_v2']],
      ['alibaba', ['ecs.g6', 'ecs.g7', 'ecs.g8i', 'ecs.c6', 'ecs.c7', 'ecs.r6', 'ecs.r7']],
    ];
    for (const [cloud, prefixes] of families) {
      it(`holds ${prefixes.join(', ')} on ${cloud}, each priced and offered somewhere`, () => {
        for (const p of prefixes) {
          const rows = catalogData(cloud).sizes.filter((s) => s.name === p || s.name.startsWith(`${p}.`));
          assert.ok(rows.length >= 1, `${cloud} has ${p}`);
          for (const r of rows) {
            assert.ok(r.usdPerHour > 0, `${r.name} has a price`);
            assert.ok(listRegions(cloud).some((reg) => tryFindSize(cloud, reg.id, r.name)), `${r.name} is offered in some region`);
          }
        }
      });
    }

    it('offers the newer families only where the cloud sells them', () => {
      assert.ok(tryFindSize('alibaba', 'cn-hangzhou', 'ecs.g6.large'));
      assert.ok(tryFindSize('alibaba', 'cn-hangzhou', 'ecs.g8i.xlarge'));
      assert.equal(tryFindSize('alibaba', 'cn-nanjing', 'ecs.g8i.large'), undefined, 'not in a local region');
      assert.ok(tryFindSize('aws', 'eu-central-1', 'm7i.large'));
      assert.ok(tryFindSize('aws', 'eu-central-1', 'c7i.2xlarge'));
      assert.equal(tryFindSize('aws', 'cn-north-1', 'r7i.large'), undefined);
      assert.ok(tryFindSize('azure', 'westeurope', 'Standard_D2as_v5'));
    });
  });

  describe('resolveSize', () => {
    it('picks the cheapest fitting type, the same one a brute-force scan of the table picks', () => {
      const rand = lcg(7);
      const cpus = [0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
      const mems = [0.5, 1, 2, 3, 4, 8, 12, 16, 32, 64, 96, 128, 256, 384, 512];
      const arches: (Arch | undefined)[] = [undefined, 'x86_64', 'arm64'];
      let checked = 0;
      for (const cloud of CLOUD_IDS) {
        const regions = catalogData(cloud).regions.map((r) => r.id);
        for (let i = 0; i < 400; i++) {
          const region = regions[Math.floor(rand() * regions.length)];
          const req: SizeRequest = { vcpu: cpus[Math.floor(rand() * cpus.length)], memoryGiB: mems[Math.floor(rand() * mems.length)], arch: arches[Math.floor(rand() * 3)] };
          const expected = bruteForce(cloud, region, req);
          const got = tryResolveSize(cloud, region, req);
          assert.equal(got?.name, expected?.name, `${cloud} ${region} ${JSON.stringify(req)}`);
          if (got && expected) {
            assert.equal(got.usdPerHour, expected.usdPerHour);
            assert.ok(got.vcpu >= req.vcpu && got.memoryGiB >= req.memoryGiB);
            assert.deepEqual(resolveSize(cloud, region, req), got);
            checked++;
          }
        }
      }
      assert.ok(checked > 600, `most random requests fit something (${checked})`);
    });

    it('resolves well-known requests to the expected types', () => {
      assert.equal(resolveSize('aws', 'us-east-1', { vcpu: 2, memoryGiB: 8, arch: 'x86_64' }).name, 't3.large');
      assert.equal(resolveSize('aws', 'us-east-1', { vcpu: 2, memoryGiB: 8, arch: 'arm64' }).name, 't4g.large');
      assert.equal(resolveSize('aws', 'us-east-1', { vcpu: 64, memoryGiB: 128, arch: 'arm64' }).name, 'c7g.16xlarge');
      assert.equal(resolveSize('azure', 'eastus', { vcpu: 1, memoryGiB: 1 }).name, 'Standard_B1s');
      assert.equal(resolveSize('azure', 'eastus', { vcpu: 32, memoryGiB: 128, arch: 'arm64' }).name, 'Standard_D32ps_v5');
      // The sixth generation lists cheaper where it is sold; the newest sites have only the seventh.
      assert.equal(resolveSize('alibaba', 'us-west-1', { vcpu: 16, memoryGiB: 128 }).name, 'ecs.r6.4xlarge');
      assert.equal(resolveSize('alibaba', 'na-south-1', { vcpu: 16, memoryGiB: 128 }).name, 'ecs.r7.4xlarge');
    });

    it('breaks price ties by the smaller machine, then by name, whatever the table order', () => {
      const row = (name: string, vcpu: number, memoryGiB: number, usdPerHour: number) =>
        ({ cloud: 'aws' as const, region: 'us-east-1', name, vcpu, memoryGiB, arch: 'x86_64' as const, usdPerHour });
      const rows = [row('z.big', 8, 32, 0.1), row('b.mid', 4, 32, 0.1), row('a.mid', 4, 32, 0.1), row('c.lowmem', 4, 16, 0.1), row('y.cheap', 16, 64, 0.05)];
      const expected = ['y.cheap', 'c.lowmem', 'a.mid', 'b.mid', 'z.big'];
      assert.deepEqual([...rows].sort(bySizePreference).map((r) => r.name), expected);
      assert.deepEqual([...rows].reverse().sort(bySizePreference).map((r) => r.name), expected);
      // Resolution is a pure function of its input: repeated calls agree.
      const req = { vcpu: 4, memoryGiB: 16 };
      assert.deepEqual(resolveSize('azure', 'westeurope', req), resolveSize('azure', 'westeurope', req));
    });

    it('honours the arch filter and returns only types of that architecture', () => {
      for (const cloud of CLOUD_IDS) {
        const region = catalogData(cloud).referenceRegion;
        for (const arch of ['x86_64', 'arm64'] as const) {
          for (const vcpu of [1, 2, 8, 32, 64]) {
            const got = resolveSize(cloud, region, { vcpu, memoryGiB: vcpu * 2, arch });
            assert.equal(got.arch, arch, `${cloud} ${vcpu} vCPU on ${arch} -> ${got.name}`);
          }
        }
      }
    });

    it('applies each region\'s price factor to the reference price', () => {
      for (const cloud of CLOUD_IDS) {
        const data = catalogData(cloud);
        const row = data.sizes.find((s) => s.vcpu === 2 && s.memoryGiB === 8 && s.arch === 'x86_64');
        assert.ok(row, `${cloud} has a 2 vCPU / 8 GiB type`);
        for (const r of data.regions) {
          const priced = findSize(cloud, r.id, row.name);
          assert.equal(priced.usdPerHour, Math.round(row.usdPerHour * r.priceFactor * 10_000) / 10_000, `${cloud} ${r.id}`);
          assert.equal(priced.region, r.id);
        }
      }
      const frankfurt = findSize('aws', 'eu-central-1', 'm6i.large').usdPerHour;
      const virginia = findSize('aws', 'us-east-1', 'm6i.large').usdPerHour;
      assert.equal(virginia, 0.096);
      assert.ok(frankfurt > virginia, 'Frankfurt lists above N. Virginia');
      assert.ok(findSize('alibaba', 'cn-hangzhou', 'ecs.g7.large').usdPerHour < findSize('alibaba', 'ap-northeast-1', 'ecs.g7.large').usdPerHour);
    });

    it('rejects an unknown region with an invalid error that lists the known regions', () => {
      assert.throws(() => resolveSize('aws', 'mars-north-1', { vcpu: 2, memoryGiB: 4 }),
        invalidError('UnknownRegion', "unknown aws region 'mars-north-1'", 'us-east-1', 'eu-central-1'));
      assert.throws(() => findRegion('azure', 'eu-central-1'), invalidError('UnknownRegion', "unknown azure region 'eu-central-1'", 'westeurope'));
      assert.equal(tryFindRegion('azure', 'eu-central-1'), undefined);
      assert.equal(tryResolveSize('alibaba', 'nowhere', { vcpu: 1, memoryGiB: 1 }), undefined);
    });

    it('rejects an unknown instance type, and says so rather than blaming the region', () => {
      assert.throws(() => findSize('aws', 'us-east-1', 'm99.huge'), invalidError('UnknownInstanceType', "unknown aws instance type 'm99.huge'"));
      assert.throws(() => findSize('aws', 'nowhere-1', 'm6i.large'), invalidError('UnknownRegion', "'nowhere-1'"));
      assert.equal(tryFindSize('azure', 'eastus', 'm6i.large'), undefined);
      assert.equal(findSize('azure', 'eastus', 'Standard_D2s_v5').usdPerHour, 0.096);
    });

    it('rejects a size nothing can hold with an error naming the request and the largest types offered', () => {
      assert.throws(() => resolveSize('aws', 'us-east-1', { vcpu: 1024, memoryGiB: 4 }),
        invalidError('NoFittingInstanceType', '1024 vCPU', 'us-east-1', 'largest offered there', '192 vCPU'));
      assert.throws(() => resolveSize('azure', 'eastus', { vcpu: 96, memoryGiB: 400, arch: 'arm64' }),
        invalidError('NoFittingInstanceType', 'on arm64', '64 vCPU'));
      assert.equal(tryResolveSize('alibaba', 'us-west-1', { vcpu: 2, memoryGiB: 100_000 }), undefined);
    });

    it('rejects a malformed request, reporting every bad field', () => {
      const bad = { vcpu: -1, memoryGiB: Number.NaN, arch: 'sparc' } as unknown as SizeRequest;
      assert.throws(() => resolveSize('aws', 'us-east-1', bad), invalidError('InvalidSize', 'vcpu must be a positive number', 'memoryGiB must be', 'arch must be'));
      assert.equal(tryResolveSize('aws', 'us-east-1', bad), undefined);
      assert.equal(tryResolveSize('aws', 'us-east-1', { vcpu: Number.NaN, memoryGiB: 1 }), undefined);
    });
  });

  describe('partitions and region access', () => {
    const keysWhere = (pred: (r: ReturnType<typeof listRegions>[number]) => boolean) =>
      listRegions().filter(pred).map((r) => `${r.cloud}:${r.id}`).sort();

    it('gives every region a partition of its own cloud and an access level', () => {
      for (const r of listRegions()) {
        assert.ok((PARTITIONS[r.cloud] as readonly string[]).includes(r.partition), `${r.cloud}:${r.id} ${r.partition}`);
        assert.ok(['default', 'opt-in', 'restricted'].includes(r.access), `${r.cloud}:${r.id} ${r.access}`);
      }
    });

    it('puts GovCloud, AWS China, Azure China and Azure Government in their own partitions, and all of Alibaba in its public one', () => {
      assert.deepEqual(keysWhere((r) => r.partition === 'aws-us-gov'), ['aws:us-gov-east-1', 'aws:us-gov-west-1']);
      assert.deepEqual(keysWhere((r) => r.partition === 'aws-cn'), ['aws:cn-north-1', 'aws:cn-northwest-1']);
      assert.deepEqual(keysWhere((r) => r.partition === 'azure-china'), ['azure:chinaeast2', 'azure:chinaeast3', 'azure:chinanorth2', 'azure:chinanorth3']);
      assert.deepEqual(keysWhere((r) => r.partition === 'azure-us-gov'), ['azure:usgovarizona', 'azure:usgovtexas', 'azure:usgovvirginia']);
      assert.ok(listRegions('alibaba').every((r) => r.partition === 'alibaba' && r.access === 'default'));
    });

    it('marks the AWS regions launched since 2019 opt-in and Azure\'s access-restricted regions restricted', () => {
      assert.deepEqual(keysWhere((r) => r.access === 'opt-in'), [
        'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6',
        'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
      ].map((id) => `aws:${id}`).sort());
      assert.deepEqual(keysWhere((r) => r.access === 'restricted'), [
        'australiacentral2', 'brazilsoutheast', 'francesouth', 'germanynorth', 'jioindiacentral', 'jioindiawest', 'norwaywest',
        'southafricawest', 'swedensouth', 'switzerlandwest', 'uaecentral', 'westindia',
      ].map((id) => `azure:${id}`).sort());
      for (const id of ['us-east-1', 'eu-north-1', 'ap-northeast-3', 'ap-southeast-1']) assert.equal(findRegion('aws', id).access, 'default', id);
    });

    it('lets a public account use default regions, and opt-in ones only once enabled', () => {
      assert.equal(regionDenial({}, findRegion('aws', 'eu-west-1')), undefined);
      assert.deepEqual(regionDenial({}, findRegion('aws', 'af-south-1')), { code: 'not-enabled', reason: 'opt-in region not enabled' });
      assert.equal(regionDenial({ enabled: ['aws:af-south-1'] }, findRegion('aws', 'af-south-1')), undefined);
      assert.deepEqual(regionDenial({}, findRegion('azure', 'switzerlandwest')), { code: 'not-enabled', reason: 'access-restricted region not enabled' });
      assert.equal(regionDenial({ enabled: ['aws:cn-north-1'] }, findRegion('aws', 'cn-north-1'))?.code, 'partition', 'enabling does not cross partitions');
      assert.equal(regionDenial({ partitions: { aws: 'aws-cn' } }, findRegion('aws', 'cn-north-1')), undefined);
      assert.equal(regionDenial({ partitions: { aws: 'aws-cn' } }, findRegion('aws', 'us-east-1'))?.code, 'partition');
    });
  });
});
