/**
 * A pod's linux.cgroup_parent in the form Docker's cgroup driver takes for --cgroup-parent. Pure.
 *
 * The kubelet sends its pod cgroup in its own driver's form (pkg/kubelet/cm, CgroupName.ToCgroupfs
 * and ToSystemd): cgroupfs "/kubepods/burstable/pod<uid>", systemd the expanded slice path
 * "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _ for ->.slice".
 *
 * - systemd: Docker wants one slice name ("xxx.slice"). A systemd-style path gives its last
 *   component, as cri-dockerd (GenerateExpectedCgroupParent: path.Base) and containerd
 *   (getCgroupsPath) take it. A cgroupfs-style path is converted as the kubelet's ToSystemd does:
 *   "-" in a component becomes "_" (systemd reads "-" as a step down), components are joined with
 *   "-", ".slice" is added; a ".slice" component among them stands for its own last step, as in
 *   the kubelet's former ConvertCgroupNameToSystemd.
 * - cgroupfs (and a driver not known yet): the path as it is. Neither cri-dockerd nor containerd
 *   turns a slice-style name into a path for cgroupfs (containerd reads one as a systemd slice).
 */
export function dockerCgroupParent(cgroupParent: string, driver: string): string {
  if (cgroupParent === '' || driver !== 'systemd') return cgroupParent;
  const components = cgroupParent.split('/').filter((part) => part !== '');
  const base = components.at(-1);
  if (base === undefined) return '-.slice'; // "/": systemd's root slice
  if (base.endsWith('.slice')) return base;
  const steps = components.map((part) => (part.endsWith('.slice') ? part.slice(0, -'.slice'.length).split('-').at(-1)! : part.replaceAll('-', '_')));
  return `${steps.filter((step) => step !== '').join('-')}.slice`;
}
