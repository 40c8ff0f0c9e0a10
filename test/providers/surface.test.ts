import { strict as assert } from 'node:assert';
import { CLOUD_SDK_PATTERN, loadInChild } from '../tools/modules';

describe('the providers entry points', function () {
  this.timeout(60_000);

  it('loads types, errors, the catalog and geography without any cloud SDK', async () => {
    const { modules } = await loadInChild('providers/index');
    const sdk = modules.filter((m) => CLOUD_SDK_PATTERN.test(m));
    assert.deepEqual(sdk, [], `providers/index loaded ${sdk.length} SDK modules, first ${sdk[0]}`);
    assert.ok(!modules.some((m) => /[\\/]node_modules[\\/]inversify[\\/]/.test(m)), 'the container is not loaded');
  });

  it('keeps the drivers and their container behind providers/drivers, which loads all three SDKs', async () => {
    const { modules } = await loadInChild('providers/drivers/index');
    for (const sdk of ['@aws-sdk', '@azure', '@alicloud', 'inversify']) {
      assert.ok(modules.some((m) => m.includes(`node_modules/${sdk}/`)), `${sdk} is loaded by the drivers entry`);
    }
  });
});
