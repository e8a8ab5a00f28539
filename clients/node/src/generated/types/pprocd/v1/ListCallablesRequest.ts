// Original file: pprocd/v1/service.proto


export interface ListCallablesRequest {
}

export interface ListCallablesRequest__Output {
}
