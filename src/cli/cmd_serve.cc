// `saleslake serve`: the HTTP endpoint over the lake (S3 API, metrics, health).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "cli/command.h"
#include "server/server.h"

namespace saleslake::cli {
namespace {

struct ServeOpts {
  server::ServerOptions server;
  std::string bucket;
  std::string state_dir = "saleslake-state";  // only for a lake that is not a local directory
  int64_t max_body_mb = 64;
};

// The bucket name: --bucket, else pipeline.yaml's top-level `bucket:`, else the cloud set-up's.
std::string BucketName(const io::ObjectStore& lake, const std::string& flag) {
  if (!flag.empty()) return flag;
  auto text = lake.Get("pipeline.yaml");
  if (text.ok()) {
    try {
      YAML::Node root = YAML::Load(*text);
      if (root.IsMap() && root["bucket"] && root["bucket"].IsScalar()) return root["bucket"].as<std::string>();
    } catch (const std::exception&) {
      // A broken pipeline.yaml is reported by the commands that need it; serving does not.
    }
  }
  return "my-analytics-bucket";
}

int RunServe(const Context& ctx, ServeOpts& opts) {
  auto lake = ctx.OpenLake();
  if (!lake.ok()) return Fail(lake.status());
  server::ServerOptions options = opts.server;
  // A local lake holds the server's own state (logs, staging, spooled results, stream shards);
  // a lake elsewhere (S3) gets a local state directory for it (docs/server.md).
  auto* local = dynamic_cast<io::LocalStore*>(lake->get());
  std::unique_ptr<io::LocalStore> state_dir;
  if (local == nullptr) {
    auto opened = io::LocalStore::Open(opts.state_dir, /*create=*/true);
    if (!opened.ok()) return Fail(opened.status().WithContext("--state-dir " + opts.state_dir));
    state_dir = std::move(*opened);
  }
  io::LocalStore* state = local != nullptr ? local : state_dir.get();
  // Many handlers write small objects at once (PUTs, multipart records, markers): one syncfs for
  // all of them instead of two fsyncs each.
  if (Status s = state->EnableGroupCommit(); !s.ok()) return Fail(s);
  options.lake = lake->get();
  options.state = state;
  options.bucket = BucketName(**lake, opts.bucket);
  options.max_body_bytes = static_cast<uint64_t>(opts.max_body_mb) << 20;
  options.test_job_pause_ms = ctx.test_job_pause_ms;

  // SIGTERM/SIGINT are taken by one thread that stops the server gracefully, SIGHUP by the same
  // thread to reload the configuration; every other thread (started below, so they inherit the
  // mask) never sees them. SIGPIPE is ignored: a client that goes away is a write error, not a
  // dead server.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file-size limit (RLIMIT_FSIZE) fails the write that passes it (EFBIG), as a full disk does;
  // the default action of SIGXFSZ would kill the server instead.
  signal(SIGXFSZ, SIG_IGN);

  auto srv = server::Server::Start(options);
  if (!srv.ok()) return Fail(srv.status());
  std::fprintf(stderr, "saleslake: serving %s%s%s as s3://%s on %s://%s:%u%s\n", (*lake)->uri().c_str(),
               state_dir ? " (state in " : "", state_dir ? (state_dir->root() + ")").c_str() : "",
               options.bucket.c_str(), options.tls_cert_file.empty() ? "http" : "https",
               options.host.c_str(), static_cast<unsigned>((*srv)->port()),
               options.no_auth ? " (no authentication)" : "");
  std::fflush(stderr);
  server::Server* s = srv->get();
  std::thread waiter([&set, s] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
      std::fprintf(stderr, "saleslake: SIGHUP, reloading the configuration\n");
      s->Reload();
    }
    std::fprintf(stderr, "saleslake: signal %d, stopping\n", sig);
    s->Stop();
  });
  s->Wait();
  waiter.join();
  std::fprintf(stderr, "saleslake: stopped\n");
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<ServeOpts>();
  auto* cmd = root.add_subcommand("serve", "Serve the lake over HTTP: the S3 API for AWS clients, /metrics, /healthz");
  auto& o = opts->server;
  cmd->add_option("--host", o.host, "Address to bind (default 127.0.0.1)");
  cmd->add_option("--port", o.port, "Port (default 8080; 0 = any free port)");
  cmd->add_option("--tls-cert", o.tls_cert_file, "PEM certificate chain (enables HTTPS)");
  cmd->add_option("--tls-key", o.tls_key_file, "PEM private key");
  cmd->add_flag("--allow-plain-http", o.allow_plain_http, "Allow plain HTTP off loopback");
  cmd->add_flag("--no-auth", o.no_auth, "No authentication (loopback only)");
  cmd->add_option("--state-dir", opts->state_dir,
                  "Local directory for the server's own logs, staging and spooled results when the lake "
                  "is on S3 (default ./saleslake-state; a local lake keeps them itself)");
  cmd->add_option("--bucket", opts->bucket, "Bucket name (default: pipeline.yaml's bucket, else my-analytics-bucket)");
  cmd->add_option("--workers", o.worker_threads, "Handler threads (default 8 x cores, at least 16)");
  cmd->add_option("--io-threads", o.io_threads, "I/O threads (default 1)");
  cmd->add_option("--access-log", o.access_log, "JSON access log: - (stdout, default), a file, or '' for none");
  cmd->add_option("--max-body-mb", opts->max_body_mb, "Largest request body in MiB (default 64)")->check(CLI::Range(1, 5120));
  cmd->add_option("--idle-timeout-ms", o.idle_timeout_ms, "Keep-alive idle and header timeout (default 60000)")->check(CLI::Range(10, 3600000));
  cmd->add_option("--body-timeout-ms", o.body_timeout_ms, "Timeout between body reads (default 60000)")->check(CLI::Range(10, 3600000));
  cmd->add_option("--shutdown-deadline-ms", o.shutdown_deadline_ms, "How long in-flight requests may finish at shutdown (default 20000)");
  cmd->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return RunServe(ctx, *opts); }; });
}

const CommandRegistrar kRegistrar(80, &Register);

}  // namespace
}  // namespace saleslake::cli
