// Original file: pprocd/v1/service.proto


export interface GetStatusRequest {
}

export interface GetStatusRequest__Output {
}
