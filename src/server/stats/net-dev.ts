/** Network counters of a network namespace, from /proc/<pid>/net/dev. Pure. */

export interface InterfaceCounters {
  name: string;
  rxBytes: bigint;
  rxPackets: bigint;
  rxErrors: bigint;
  rxDropped: bigint;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  txDropped: bigint;
}

/**
 * Parses /proc/net/dev: two header lines, then "  eth0: rxbytes rxpackets rxerrs rxdrop fifo frame
 * compressed multicast txbytes txpackets txerrs txdrop ...". Large counters may touch the colon.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (!name || fields.length < 12 || !fields.every((f) => /^\d+$/.test(f))) continue;
    const n = (i: number) => BigInt(fields[i]!);
    out.push({ name, rxBytes: n(0), rxPackets: n(1), rxErrors: n(2), rxDropped: n(3), txBytes: n(8), txPackets: n(9), txErrors: n(10), txDropped: n(11) });
  }
  return out;
}

/** The interfaces a pod's network is made of: all but loopback. */
export function podInterfaces(counters: InterfaceCounters[]): InterfaceCounters[] {
  return counters.filter((c) => c.name !== 'lo');
}

/** The pod's default interface: eth0 (what Docker and CNI plugins name it), else the first one. */
export function defaultInterface(interfaces: InterfaceCounters[]): InterfaceCounters | undefined {
  return interfaces.find((c) => c.name === 'eth0') ?? interfaces[0];
}
