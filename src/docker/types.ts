/** The parts of Docker's JSON output that mascri reads (Docker Engine API 1.41 and newer). */

export interface DockerImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Config: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
  } | null;
  Architecture?: string;
  Os?: string;
}

export interface DockerInfo {
  ID?: string;
  ServerVersion?: string;
  DockerRootDir?: string;
  Driver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  SecurityOptions?: string[] | null;
  OperatingSystem?: string;
  KernelVersion?: string;
  NCPU?: number;
  MemTotal?: number;
  ServerErrors?: string[] | null;
  [key: string]: unknown;
}

export interface DockerVersion {
  Client?: { Version?: string; ApiVersion?: string };
  Server?: { Version?: string; ApiVersion?: string; MinAPIVersion?: string } | null;
}

export interface DockerContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: {
    Status: string;
    Running: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    OOMKilled: boolean;
    Dead?: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: {
    Hostname?: string;
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Image?: string;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    Tty?: boolean;
    OpenStdin?: boolean;
    StdinOnce?: boolean;
  };
  HostConfig: {
    NetworkMode?: string;
    PidMode?: string;
    IpcMode?: string;
    Privileged?: boolean;
    CgroupParent?: string;
    CpuPeriod?: number;
    CpuQuota?: number;
    CpuShares?: number;
    Memory?: number;
    MemorySwap?: number;
    CpusetCpus?: string;
    CpusetMems?: string;
    OomScoreAdj?: number;
    PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
    MaskedPaths?: string[] | null;
    ReadonlyPaths?: string[] | null;
    [key: string]: unknown;
  };
  NetworkSettings: {
    IPAddress?: string;
    GlobalIPv6Address?: string;
    Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }> | null;
  };
  ResolvConfPath?: string;
  LogPath?: string;
  HostnamePath?: string;
  HostsPath?: string;
  Mounts?: Array<{ Type: string; Source: string; Destination: string; RW: boolean; Propagation?: string }>;
}
