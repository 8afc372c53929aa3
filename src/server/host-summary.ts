/** What the host grants, summed up for Status, `mascri info` and the log; src/docker/host.ts finds it out (HostProbe asks it once), src/docker/host-grants.ts holds the facts. */
import { SANDBOX_OOM_SCORE_ADJ, type HostCapabilities } from '../docker/host-grants.js';

/** A summary for Status verbose info and `mascri info`. */
export function hostSummary(host: HostCapabilities): Record<string, unknown> {
  return {
    privilegedAllowed: host.privilegedAllowed,
    missingCapabilities: host.missingCapabilities,
    minOomScoreAdj: host.minOomScoreAdj,
    sandboxOomScoreAdj: Math.max(SANDBOX_OOM_SCORE_ADJ, host.minOomScoreAdj),
    cgroupVersion: host.cgroupVersion,
    cgroupDriver: host.cgroupDriver,
    seccomp: host.seccomp,
    apparmor: host.apparmor,
    selinux: host.selinux,
    privilegedSubstitute: host.privilegedAllowed
      ? 'none needed: --privileged is used'
      : 'privileged requests get every capability in the bounding set, unconfined seccomp/apparmor, unmasked /proc and /sys, and the host devices, instead of --privileged',
  };
}
