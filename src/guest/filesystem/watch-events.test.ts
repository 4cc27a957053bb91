import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNetworkFsType } from './watch-events.ts';

test('network mounts are what envd refuses to watch by default: NFS, CIFS, SMB, SMB2, FUSE', () => {
  for (const magic of [0x6969, 0xff534d42, 0x517b, 0xfe534d42, 0x65735546, 0x65735546n]) assert.equal(isNetworkFsType(magic), true, magic.toString(16));
  // ext4, tmpfs, overlayfs and gVisor's gofer root (9p) are local.
  for (const magic of [0xef53, 0x01021994, 0x794c7630, 0x01021997]) assert.equal(isNetworkFsType(magic), false, magic.toString(16));
});
