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
