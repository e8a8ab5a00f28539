// Original file: pprocd/v1/service.proto


export interface DeleteJobResponse {
}

export interface DeleteJobResponse__Output {
}
