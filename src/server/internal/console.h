// The web console (QuickSight dashboards and the Athena query editor in the browser): the pages
// under /console/ (embedded in the binary at build time) and their JSON API under /api/.
//
// Sign-in is a console password (IAM login profile) or an access key; it yields a session held
// in an HttpOnly, SameSite=Strict cookie (Secure over TLS) with an expiry, and a CSRF token the
// page sends back in X-CSRF-Token on every state-changing request. Every API call is
// authorized through the Gate with an IAM action (docs/console.md lists them); unauthenticated
// calls get 401, forbidden ones 403. Columns tagged as PII are replaced by NULL for principals
// not allowed saleslake:ReadPii before the statement runs, so no API returns their values.
// Thread safety: handlers run on many worker threads; shared state is locked.
#pragma once

#include <memory>

#include "server/internal/service.h"

namespace saleslake::server::internal {

class LakeSqlService;

// `lake_sql` (the shared catalog, engine and query manager) must outlive the service.
std::unique_ptr<Service> MakeConsoleService(const ServiceContext& context, LakeSqlService* lake_sql);

}  // namespace saleslake::server::internal
