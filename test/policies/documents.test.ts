import { strict as assert } from 'node:assert';
import { loadDocuments } from '../../policies';
import { REGIONS } from '../scheduler/placement/fixtures';

const opts = { regions: REGIONS };

const POLICY = `apiVersion: meridian/v1
kind: RegionPolicy
metadata: { name: eu }
spec:
  residency: { continents: [EU] }
  spread: { minRegions: 2, maxPerRegion: 50% }
`;

const WORKLOAD = `apiVersion: meridian/v1
kind: Workload
metadata: { name: web }
spec:
  replicas: 4
  size: { vcpu: 2, memoryGiB: 4 }
  image: { aws: ami-1, azure: "Canonical:ubuntu:22_04-lts:latest" }
  policy: eu
  dns: { name: web.meridian.test, ttl: 30 }
`;

describe('policies/loadDocuments', () => {
  it('sorts a multi-document stream into policies and flat workloads by kind', () => {
    const r = loadDocuments(`${POLICY}---\n${WORKLOAD}---\n`, opts);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.policies.map((p) => p.metadata.name), ['eu']);
    assert.equal(r.value.workloads.length, 1);
    assert.equal(r.value.workloads[0].name, 'web');
    assert.equal(r.value.workloads[0].replicas, 4);
    assert.deepEqual(r.value.workloads[0].dns, { name: 'web.meridian.test', ttl: 30 });
  });

  it('returns nothing for an empty stream or comment-only documents', () => {
    const r = loadDocuments('# nothing here\n---\n', opts);
    assert.ok(r.ok);
    assert.equal(r.value.policies.length + r.value.workloads.length, 0);
  });

  it('names the document index, key path and line of every error in every document', () => {
    const bad = WORKLOAD.replace('replicas: 4', 'replicas: many').replace('policy: eu', 'policy: EU');
    const r = loadDocuments(`${POLICY}---\n${bad}---\nkind: Gadget\n`, opts);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const replicas = r.errors.find((e) => e.path === '/spec/replicas');
    assert.equal(replicas?.document, 1);
    assert.match(replicas?.message ?? '', /integer from 0 to 10000, got "many"/);
    // Line numbers count from the start of the stream: the second document starts on line 8.
    assert.equal(replicas?.line, 12);
    assert.ok(r.errors.some((e) => e.document === 1 && e.path === '/spec/policy'));
    const gadget = r.errors.find((e) => e.document === 2 && e.path === '/kind');
    assert.match(gadget?.message ?? '', /expected kind RegionPolicy or Workload, got "Gadget"/);
    assert.ok(r.errors.some((e) => e.document === 2 && e.path === '/apiVersion'));
  });

  it('reports YAML syntax errors with their document and line', () => {
    const r = loadDocuments(`${POLICY}---\nkind: Workload\nspec: { replicas: [1, 2\n`, opts);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.ok(r.errors.every((e) => e.document === 1), JSON.stringify(r.errors));
    assert.match(r.errors[0].message, /^YAML syntax/);
    assert.ok((r.errors[0].line ?? 0) >= 8);
  });

  it('rejects two documents of the same kind and name', () => {
    const r = loadDocuments(`${POLICY}---\n${POLICY}`, opts);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors.map((e) => [e.document, e.path]), [[1, '/metadata/name']]);
    assert.match(r.errors[0].message, /duplicate RegionPolicy 'eu' \(first in document 0\)/);
  });

  it('rejects a document that is not a mapping, and duplicate keys', () => {
    const list = loadDocuments('- a\n- b\n', opts);
    assert.ok(!list.ok && /got a list/.test(list.errors[0].message));
    const dup = loadDocuments(`${POLICY}metadata: { name: again }\n`, opts);
    assert.ok(!dup.ok && /YAML syntax/.test(dup.errors[0].message));
  });
});
