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
  int64_t max_body_mb = 64;
};

// The bucket name: --bucket, else pipeline.yaml's top-level `bucket:`, else the cloud set-up's.
std::string BucketName(const io::LocalStore& lake, const std::string& flag) {
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
  auto lake = ctx.OpenLocalLake();
  if (!lake.ok()) return Fail(lake.status());
  server::ServerOptions options = opts.server;
  // Many handlers write small objects at once (PUTs, multipart records, markers): one syncfs for
  // all of them instead of two fsyncs each.
  if (Status s = (*lake)->EnableGroupCommit(); !s.ok()) return Fail(s);
  options.lake = lake->get();
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
  std::fprintf(stderr, "saleslake: serving %s as s3://%s on %s://%s:%u%s\n", (*lake)->root().c_str(),
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
