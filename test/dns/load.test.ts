import { strict as assert } from 'node:assert';
import { CLOUD_SDK_PATTERN, loadInChild } from '../tools/modules';

describe('loading the GeoDNS server', function () {
  this.timeout(60_000);

  it('loads no cloud SDK, though it measures distances with the catalog\'s great-circle function', async () => {
    const { modules } = await loadInChild('dns/index');
    const sdk = modules.filter((m) => CLOUD_SDK_PATTERN.test(m));
    assert.deepEqual(sdk, [], `dns/ loaded ${sdk.length} SDK modules, first ${sdk[0]}`);
    assert.ok(modules.some((m) => /[\\/]providers[\\/]geo\.js$/.test(m)), 'providers/geo is the one distance function');
  });
});
