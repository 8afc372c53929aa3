// Original file: src/cri/api.proto


export interface GetEventsRequest {
}

export interface GetEventsRequest__Output {
}
