// Original file: src/cri/api.proto


export interface RemoveImageResponse {
}

export interface RemoveImageResponse__Output {
}
