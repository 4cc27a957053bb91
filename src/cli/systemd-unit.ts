/**
 * The systemd unit `agentbox service install` writes (systemd.service(5), systemd.exec(5)).
 * Pure, so its content is tested without systemd.
 */

export interface UnitOptions {
  /** Absolute paths of node and the agentbox entry script. */
  node: string;
  script: string;
  /** AGENTBOX_HOME of the service. */
  home: string;
  host: string;
  port: number;
  runtime?: string;
}

export const UNIT_NAME = 'agentbox.service';
export const DEFAULT_SERVICE_HOME = '/var/lib/agentbox';

/** systemd's quoting for one ExecStart word: double quotes, with `\` and `"` escaped; `$` and `%` doubled so systemd substitutes nothing. */
const quote = (word: string) => `"${word.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;

export function serviceUnit(o: UnitOptions): string {
  const argv = [o.node, o.script, 'up', '--host', o.host, '--port', String(o.port), ...(o.runtime ? ['--runtime', o.runtime] : [])];
  // StateDirectory makes (and owns, 0700) a home under /var/lib; a home elsewhere is the admin's to make.
  const state = o.home.startsWith('/var/lib/') ? [`StateDirectory=${o.home.slice('/var/lib/'.length)}`, 'StateDirectoryMode=0700'] : [];
  return `# Written by \`agentbox service install\`; \`agentbox service uninstall\` stops and removes it.
[Unit]
Description=agentbox: isolated, stateful sandboxes for AI agents
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${argv.map(quote).join(' ')}
Environment=${quote(`AGENTBOX_HOME=${o.home}`)}
${state.join('\n')}${state.length ? '\n' : ''}# Logs: stdout and stderr to journald (journalctl -u agentbox).
StandardOutput=journal
StandardError=journal
SyslogIdentifier=agentbox
Restart=on-failure
RestartSec=2s
# Sandboxes outlive a server stop and the next start re-adopts them: stop the server's own
# process only, not everything in its cgroup.
KillMode=process
TimeoutStopSec=60s
# Sandboxes are the server's children: no systemd cap on their tasks or files.
TasksMax=infinity
LimitNOFILE=1048576
# Under memory pressure the kernel ends a sandbox before the server that manages them all.
OOMScoreAdjust=-500
# Hardening that still lets the server create namespaces, cgroups, mounts, loop devices,
# nftables rules and AppArmor profiles. No option that gives the service a mount namespace of
# its own (ProtectSystem, ProtectHome, PrivateTmp, PrivateDevices, ProtectKernel*,
# ProtectControlGroups): the sandboxes' overlay and disk mounts would be hidden from the host
# and lost to the next start's re-adoption. No NoNewPrivileges: it limits the AppArmor profile
# changes of runc sandboxes.
UMask=0077
RestrictRealtime=yes
CapabilityBoundingSet=~CAP_SYS_BOOT CAP_SYS_TIME CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_LEASE CAP_AUDIT_CONTROL

[Install]
WantedBy=multi-user.target
`;
}
