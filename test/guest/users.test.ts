/** The guest's user database sees every change to /etc/passwd and /etc/group, however it is made. */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createUserDb } from '../../src/guest/users.ts';

const etc = mkdtempSync(join(tmpdir(), 'agentbox-users-'));
after(() => rmSync(etc, { recursive: true, force: true }));

describe('user database', () => {
  it('sees a file replaced, one edited in place to the same size, and a file removed', () => {
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/bash\n');
    writeFileSync(join(etc, 'group'), 'root:x:0:\nuser:x:1000:\n');
    const db = createUserDb(etc);
    assert.equal(db.byName('user')?.uid, 1000);
    assert.equal(db.byName('dev'), undefined);

    // useradd writes a new file and renames it over the old one.
    writeFileSync(join(etc, 'passwd.new'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/bash\ndev:x:1001:1001::/home/dev:/bin/sh\n');
    renameSync(join(etc, 'passwd.new'), join(etc, 'passwd'));
    assert.deepEqual(db.byName('dev'), { name: 'dev', uid: 1001, gid: 1001, home: '/home/dev', shell: '/bin/sh' });

    // Written in place: same inode, same size.
    writeFileSync(join(etc, 'group'), 'root:x:0:\nuser:x:1001:\n');
    assert.equal(db.groupId('user'), 1001);

    rmSync(join(etc, 'passwd'));
    assert.equal(db.byName('user'), undefined);
    assert.equal(db.userName(1000), '1000');
  });
});
