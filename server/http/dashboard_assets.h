// The dashboard's files (server/http/dashboard/), embedded in the binary at
// build time (embed_assets.cmake writes dashboard_assets.cc).
#ifndef PPROCD_SERVER_HTTP_DASHBOARD_ASSETS_H_
#define PPROCD_SERVER_HTTP_DASHBOARD_ASSETS_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace pprocd {

struct DashboardAsset {
  // The file's name, such as "index.html".
  absl::string_view name;
  absl::string_view content;
  const char* content_type;
};

// Every file of the dashboard; static storage.
const std::vector<DashboardAsset>& DashboardAssets();

}  // namespace pprocd

#endif  // PPROCD_SERVER_HTTP_DASHBOARD_ASSETS_H_
