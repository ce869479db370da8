// The `dashboards:` section of pipeline.yaml: console dashboards declared with the stack and
// written by deploy to the lake's dashboards/NAME.json (QuickSight's dashboards as stack
// resources).
//
//   dashboards:
//     - name: sales-performance            # the dashboard id: [a-z0-9][a-z0-9_-]{0,63}
//       definition: |                      # the dashboard JSON, as the console saves it
//         {"title": "Sales performance", "tiles": [...]}
//
// The definition is checked as the console checks a save (stack/dashboard.h), with positions in
// pipeline.yaml's own lines. Only what the file declares is managed: deploy writes the declared
// dashboards and removes those a previous version declared and this one does not; one changed
// in the console since is replaced (when declared) or kept (when no longer declared), with a
// notice either way.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "io/object_store.h"

namespace saleslake::stack::internal {

struct DashboardSpec {
  std::string name;
  std::string definition;  // the JSON text, newline-terminated: what dashboards/NAME.json holds
};

// The section `dashboards` (a node of the file `path` whose lines are `lines`); every problem is
// appended to `errors` as "path:LINE:COL: why". Names declared twice are the stack's cross
// checks, not reported here.
std::vector<DashboardSpec> ReadDashboardsSection(const YAML::Node& section, std::string_view path,
                                                 const std::vector<std::string>& lines,
                                                 std::vector<std::string>* errors);

// A definition's fields for change sets: "title", "refresh_seconds", "filters", "tiles" (the
// tile ids in order) and "tiles.ID.FIELD" ("tiles.revenue.sql", "tiles.daily.forecast.horizon"),
// so a change names the tile and field that change. Text that is not a JSON object is one field,
// "definition".
std::map<std::string, std::string> DashboardFields(std::string_view definition);

// The dashboards of a pipeline text: empty when it has none or cannot be read.
std::vector<DashboardSpec> DashboardsOf(std::string_view text);

// Makes the lake's dashboards/ hold what `next` declares and removes what only `previous`
// declared (see above). Idempotent.
Status ApplyDashboards(io::ObjectStore& lake, const std::vector<DashboardSpec>& previous,
                       const std::vector<DashboardSpec>& next, std::vector<std::string>* notices);

}  // namespace saleslake::stack::internal
