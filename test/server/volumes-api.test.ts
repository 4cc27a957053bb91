// Volumes over the native API (/v1/volumes) and E2B's content API (/e2b/volumecontent), with plain
// HTTP, real SQLite and the FAKE engine (test/support/fake-engine.ts: a volume is a plain host
// directory, no size limit): names, tenants, tokens, mounts at create and the refusals. Mounts in
// real gVisor sandboxes, sharing, the quota and the SDKs are test/e2b/volumes.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetchAny, startFakeServer, type FakeServer } from '../support/fake-server.ts';

let s: FakeServer;
let keyA: string;
let keyB: string;

before(async () => {
  s = await startFakeServer();
  keyA = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'vol-a' } })).json()).key;
  keyB = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'vol-b' } })).json()).key;
});
after(() => s.stop());

interface VolumeView { id: string; name: string; sizeMiB: number; token: string }

const createVolume = async (key: string, json: Record<string, unknown>) => s.api('/v1/volumes', { method: 'POST', key, json });

describe('native /v1/volumes', () => {
  test('create, list, get by id and by name, delete', async () => {
    const res = await createVolume(keyA, { name: 'data', sizeMiB: 64 });
    assert.equal(res.status, 201, await res.clone().text());
    const v = (await res.json()) as VolumeView;
    assert.match(v.id, /^[0-9a-f-]{36}$/);
    assert.equal(v.sizeMiB, 64);
    assert.deepEqual(((await (await s.api('/v1/volumes', { key: keyA })).json()) as { volumes: VolumeView[] }).volumes.map((x) => x.name), ['data']);
    for (const ref of [v.id, 'data']) assert.equal(((await (await s.api(`/v1/volumes/${ref}`, { key: keyA })).json()) as VolumeView).id, v.id);
    const dup = await createVolume(keyA, { name: 'data' });
    assert.equal(dup.status, 409);
    assert.equal((await dup.json()).code, 'already_exists');
    assert.equal((await s.api('/v1/volumes/data', { method: 'DELETE', key: keyA })).status, 204);
    assert.equal((await s.api('/v1/volumes/data', { key: keyA })).status, 404);
  });

  test('bad names are 400 and leave nothing behind', async () => {
    for (const name of ['', 'a b', '../x', 'a/b', 'x'.repeat(64)]) {
      const res = await createVolume(keyA, { name });
      assert.equal(res.status, 400, name);
      assert.equal((await res.json()).code, 'invalid_argument');
    }
    assert.equal(((await (await s.api('/v1/volumes', { key: keyA })).json()) as { volumes: unknown[] }).volumes.length, 0);
  });

  test('another tenant\'s volume is 404 by id and by name, and the same name is free for it', async () => {
    const v = (await (await createVolume(keyA, { name: 'mine' })).json()) as VolumeView;
    for (const ref of [v.id, 'mine']) {
      assert.equal((await s.api(`/v1/volumes/${ref}`, { key: keyB })).status, 404);
      assert.equal((await s.api(`/v1/volumes/${ref}`, { method: 'DELETE', key: keyB })).status, 404);
    }
    assert.equal((await createVolume(keyB, { name: 'mine' })).status, 201);
    const mount = await s.api('/v1/sandboxes', { method: 'POST', key: keyB, json: { template: 'busybox', volumes: [{ name: v.id, path: '/x' }] } });
    assert.equal(mount.status, 400, 'a volume id is not a name, and another tenant\'s is unknown anyway');
  });

  test('a mounted volume cannot be deleted until its sandbox is killed', async () => {
    await createVolume(keyA, { name: 'busy' });
    const sbx = await s.api('/v1/sandboxes', { method: 'POST', key: keyA, json: { template: 'busybox', volumes: [{ name: 'busy', path: '/mnt/busy' }] } });
    assert.equal(sbx.status, 201, await sbx.clone().text());
    const { id } = (await sbx.json()) as { id: string };
    const refused = await s.api('/v1/volumes/busy', { method: 'DELETE', key: keyA });
    assert.equal(refused.status, 409);
    assert.match((await refused.json()).message, /mounted by a sandbox/);
    assert.equal((await s.api(`/v1/sandboxes/${id}`, { method: 'DELETE', key: keyA })).status, 204);
    assert.equal((await s.api('/v1/volumes/busy', { method: 'DELETE', key: keyA })).status, 204);
  });

  test('a create naming an unknown volume is 400 naming every bad mount', async () => {
    const res = await s.api('/v1/sandboxes', { method: 'POST', key: keyA, json: { template: 'busybox', volumes: [{ name: 'nope', path: '/a' }, { name: 'nada', path: '/b' }] } });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.message, /volume mount #0: volume 'nope' not found; volume mount #1: volume 'nada' not found/);
  });
});

describe('E2B /volumecontent with the volume token', () => {
  const content = (v: VolumeView, route: string, init: { method?: string; token?: string; body?: string } = {}) =>
    fetchAny(`${s.server.url}/e2b/volumecontent/${v.id}/${route}`, {
      method: init.method ?? 'GET', ...(init.body !== undefined ? { body: init.body } : {}),
      headers: init.token === '' ? {} : { Authorization: `Bearer ${init.token ?? v.token}` },
    });

  test('files written, read, listed and removed', async () => {
    const v = (await (await createVolume(keyA, { name: 'files' })).json()) as VolumeView;
    const put = await content(v, 'file?path=/d/a.txt', { method: 'PUT', body: 'hello' });
    assert.equal(put.status, 201, await put.clone().text());
    assert.deepEqual(((await put.json()) as { path: string; size: number }).size, 5);
    assert.equal(await (await content(v, 'file?path=/d/a.txt')).text(), 'hello');
    assert.deepEqual(((await (await content(v, 'dir?path=/d')).json()) as { name: string }[]).map((e) => e.name), ['a.txt']);
    assert.equal((await content(v, 'path?path=/d', { method: 'DELETE' })).status, 204);
    assert.equal((await content(v, 'path?path=/d')).status, 404);
  });

  test('no token is 401, another volume\'s token is 404, `..` is 400', async () => {
    const v = (await (await createVolume(keyA, { name: 'guarded' })).json()) as VolumeView;
    const w = (await (await createVolume(keyB, { name: 'theirs' })).json()) as VolumeView;
    assert.equal((await content(v, 'dir?path=/', { token: '' })).status, 401);
    assert.equal((await content(v, 'dir?path=/', { token: 'e2b_' + '0'.repeat(40) })).status, 401, 'an API key is not a volume token');
    assert.equal((await content(v, 'dir?path=/', { token: w.token })).status, 404);
    const up = await content(v, 'file?path=../../etc/passwd');
    assert.equal(up.status, 400);
    assert.equal((await up.json()).code, 'invalid_argument');
    assert.equal((await fetchAny(`${s.server.url}/e2b/volumecontent/not-a-uuid/dir?path=/`, { headers: { Authorization: `Bearer ${v.token}` } })).status, 400);
  });
});
