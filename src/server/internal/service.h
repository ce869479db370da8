// The services the server hosts beside S3 (Kinesis, SNS and the event bus, Glue/Athena, the
// Trino protocol, the web console): each adds its operations to the dispatcher's tables before
// the server starts and may run background work (delivery loops, schedules) between Start and
// Stop. services.cc holds the list, so a new service is one file and one line there.
// Thread safety: Register runs once before any request; Start/Stop run on the server's control
// thread; handlers run on many worker threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "io/local_store.h"
#include "server/internal/dispatch.h"
#include "server/internal/gate.h"
#include "server/server.h"

namespace saleslake::server::internal {

class Metrics;

// What every service may use; all pointers outlive the service.
struct ServiceContext {
  const ServerOptions* options = nullptr;
  // The lake; over a lake that is not local, keys of the serving machine's state are routed to
  // the state directory (served_lake.h), so services use one store for both.
  io::ObjectStore* lake = nullptr;
  Gate* gate = nullptr;        // authentication and IAM for routes that are not AWS operations
  Metrics* metrics = nullptr;
  Clock* clock = nullptr;      // "now" for expiry, schedules and alarms (tests inject one)
  // The local state directory, for what needs a path (spool files, stream shard logs, staging):
  // the lake itself when it is local.
  io::LocalStore* state = nullptr;
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string name() const = 0;
  // Adds the service's operations and routes. An error stops the server from starting.
  virtual Status Register(Dispatcher& dispatcher) = 0;
  // After the socket is bound: recover state, start background threads.
  virtual Status Start() { return Status::OK(); }
  // After in-flight requests have finished (or the deadline passed): stop background work and
  // make everything acknowledged durable. Called once, also when Start failed.
  virtual void Stop() {}
  // SIGHUP: re-read the configuration the service keeps. Must not block on slow work (it runs
  // on the signal thread); a refused configuration is logged and the old one stays.
  virtual void Reload() {}
};

// The services of this build, in start order (stopped in reverse).
std::vector<std::unique_ptr<Service>> MakeServices(const ServiceContext& context);

}  // namespace saleslake::server::internal
