// Routes what gRPC and protobuf log into the server's log (base/log/log.h),
// so that every line the server writes on stderr has one format. Main
// thread, once, before the gRPC server or any request parser exists.
#ifndef PPROCD_SERVER_LIBRARY_LOGS_H_
#define PPROCD_SERVER_LIBRARY_LOGS_H_

namespace pprocd {

void RouteLibraryLogs();

}  // namespace pprocd

#endif  // PPROCD_SERVER_LIBRARY_LOGS_H_
