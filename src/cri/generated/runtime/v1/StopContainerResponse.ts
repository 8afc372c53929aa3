// Original file: src/cri/api.proto


export interface StopContainerResponse {
}

export interface StopContainerResponse__Output {
}
