/**
 * Traffic access tokens (E2B `network.allowPublicTraffic: false`): a sandbox listed here serves
 * its ports, other than the guest daemon's, only to anonymous requests that carry its token in
 * `e2b-traffic-access-token`. Kept in the state database, so a restart does not make private
 * ports public. Its own table, created here: nothing else reads it.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

export class TrafficTokens {
  constructor(private readonly db: Db) {
    db.exec('CREATE TABLE IF NOT EXISTS traffic_tokens (sandbox_id TEXT PRIMARY KEY, token TEXT NOT NULL)');
  }

  /** Makes the sandbox's ports private and returns the token that opens them. */
  mint(sandboxId: string): string {
    const token = randomBytes(24).toString('hex');
    this.db.prepare('INSERT OR REPLACE INTO traffic_tokens (sandbox_id, token) VALUES (?, ?)').run(sandboxId, token);
    return token;
  }

  /** The token, or undefined when the sandbox's ports are public. */
  get(sandboxId: string): string | undefined {
    const row = this.db.prepare('SELECT token FROM traffic_tokens WHERE sandbox_id = ?').get(sandboxId) as { token: string } | undefined;
    return row?.token;
  }

  delete(sandboxId: string): void {
    this.db.prepare('DELETE FROM traffic_tokens WHERE sandbox_id = ?').run(sandboxId);
  }
}
