import { strict as assert } from 'node:assert';
import { CLOUD_SDK_PATTERN, loadInChild } from '../tools/modules';

describe('loading the policy language', function () {
  this.timeout(60_000);

  it('loads no cloud SDK, and a few hundred modules at most', async () => {
    const { modules } = await loadInChild('policies');
    const sdk = modules.filter((m) => CLOUD_SDK_PATTERN.test(m));
    assert.deepEqual(sdk, [], `policies/ loaded ${sdk.length} SDK modules, first ${sdk[0]}`);
    // TypeBox and yaml are most of them; the three SDKs alone are about 2,000.
    assert.ok(modules.length < 600, `${modules.length} modules`);
  });
});
