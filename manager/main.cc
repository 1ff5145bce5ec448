// flotilla-manager: flags and wiring only; everything else is in the library.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/agent_service.h"
#include "manager/server/api_service.h"
#include "manager/server/fleet_metrics.h"
#include "manager/server/http_api.h"
#include "manager/server/http_server.h"
#include "manager/server/manager_pki.h"
#include "manager/server/registrar.h"
#include "manager/server/tokens.h"
#include "manager/store/sqlite_store.h"

ABSL_FLAG(std::string, data_dir, "./flotilla-data",
          "Directory for the SQLite store, the Git cache, the CA and the admin token.");
ABSL_FLAG(std::string, listen, "127.0.0.1:7443", "gRPC (TLS) address for agents and the CLI.");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:7080",
          "HTTP address for /healthz, /readyz and /metrics.");
ABSL_FLAG(std::string, server_names, "localhost,127.0.0.1",
          "Comma-separated DNS names and IPs for the server certificate.");
ABSL_FLAG(std::string, trust_domain, "flotilla", "SPIFFE trust domain of agent certificates.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn or error.");
ABSL_FLAG(std::vector<std::string>, chart_mirror, {},
          "PREFIX=REPLACEMENT[,...]: fetch Helm charts whose URL starts with PREFIX from "
          "REPLACEMENT instead (another URL prefix, or a local directory).");
ABSL_FLAG(std::string, kustomize, "",
          "Tool for kustomize.dir bundles: a kustomize or kubectl binary (default: kustomize, "
          "then kubectl, from PATH).");
ABSL_FLAG(absl::Duration, offline_after, absl::Minutes(10),
          "A cluster whose agent has had no stream and no contact for this long is reported "
          "Offline (bundles with rolloutStrategy.excludeOfflineClusters then roll out past it).");

namespace {

absl::Notification* g_stop = nullptr;
void OnSignal(int) {
  if (g_stop != nullptr && !g_stop->HasBeenNotified()) g_stop->Notify();
}

int Fail(const std::string& what, const absl::Status& st) {
  std::fprintf(stderr, "flotilla-manager: %s: %s\n", what.c_str(),
               std::string(st.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Flotilla manager: scans Git, targets bundles to clusters and serves agents.\n"
      "Usage: flotilla-manager [--data-dir DIR] [--listen ADDR] [--http-listen ADDR]");
  auto args = flotilla::common::NormalizeFlagNames(argc, argv);
  auto argp = flotilla::common::ArgvPointers(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), argp.data());
  namespace fm = flotilla::manager;
  namespace fc = flotilla::common;
  if (!fc::SetLogLevel(absl::GetFlag(FLAGS_log_level))) {
    std::fprintf(stderr, "flotilla-manager: --log-level: unknown level\n");
    return 2;
  }
  auto log = fc::Logger("manager");
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::string grpc_host, http_host;
  int grpc_port = 0, http_port = 0;
  if (!flotilla::common::SplitHostPort(absl::GetFlag(FLAGS_listen), &grpc_host, &grpc_port)) {
    std::fprintf(stderr, "flotilla-manager: --listen must be HOST:PORT\n");
    return 2;
  }
  if (!flotilla::common::SplitHostPort(absl::GetFlag(FLAGS_http_listen), &http_host, &http_port)) {
    std::fprintf(stderr, "flotilla-manager: --http-listen must be HOST:PORT\n");
    return 2;
  }
  if (auto st = fc::MakeDirs(data_dir, 0700); !st.ok()) return Fail("data dir", st);
  fc::Clock* clock = fc::RealClock::Get();

  auto store = fm::SqliteStore::Open(data_dir + "/flotilla.db");
  if (!store.ok()) return Fail("store", store.status());
  std::vector<std::string> hosts =
      absl::StrSplit(absl::GetFlag(FLAGS_server_names), ',', absl::SkipEmpty());
  auto pki = fm::LoadOrCreatePki(data_dir, hosts, *clock);
  if (!pki.ok()) return Fail("pki", pki.status());
  auto created = fm::EnsureAdminToken(**store, *clock, data_dir + "/admin.token");
  if (!created.ok()) return Fail("admin token", created.status());
  if (*created)
    log->info("wrote the first admin API token to {}/admin.token (mode 0600)", data_dir);

  fm::ControllerOptions copts;
  copts.git_cache_dir = data_dir + "/git";
  copts.kustomize.binary = absl::GetFlag(FLAGS_kustomize);
  copts.offline_after = absl::GetFlag(FLAGS_offline_after);
  if (copts.offline_after <= absl::ZeroDuration()) {
    std::fprintf(stderr, "flotilla-manager: --offline-after must be positive, got %s\n",
                 absl::FormatDuration(copts.offline_after).c_str());
    return 2;
  }
  for (const std::string& flag : absl::GetFlag(FLAGS_chart_mirror)) {
    auto mirror = flotilla::common::helm::ParseChartMirror(flag);
    if (!mirror.ok()) {
      std::fprintf(stderr, "flotilla-manager: --chart-mirror: %s\n",
                   std::string(mirror.status().message()).c_str());
      return 2;
    }
    copts.chart_source.mirrors.push_back(*mirror);
  }
  fm::FleetController controller(store->get(), clock, copts);
  if (auto st = controller.Load(); !st.ok()) return Fail("loading state", st);

  // The process-wide registry: the controller and the store record into it.
  fc::MetricsRegistry& metrics = fc::DefaultMetrics();
  fm::RegistrarOptions ropts;
  ropts.trust_domain = absl::GetFlag(FLAGS_trust_domain);
  fm::Registrar registrar(store->get(), &controller, &pki->agent_ca, clock, ropts);
  fm::AgentServiceImpl agent_service(&controller, &registrar, &metrics);
  fm::FleetApi api(&controller, store->get(), clock, pki->ca_pin);
  api.SetClusterRevokedHook(
      [&agent_service](const std::string& id) { agent_service.CloseCluster(id); });
  fm::FleetServiceImpl api_service(&api);
  controller.SetAssignmentListener(
      [&agent_service](const std::vector<std::string>& ids) { agent_service.Kick(ids); });

  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = pki->agent_ca.cert_pem();
  ssl.pem_key_cert_pairs.push_back({pki->server_key_pem, pki->server_cert_pem});
  grpc::ServerBuilder builder;
  int bound_grpc = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::SslServerCredentials(ssl),
                           &bound_grpc);
  builder.RegisterService(&agent_service);
  builder.RegisterService(&api_service);
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_grpc == 0) {
    std::fprintf(stderr, "flotilla-manager: cannot listen on %s (address in use?)\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }

  fm::FleetMetrics fleet_metrics(&controller, &metrics, "0.1.0");
  std::atomic<bool> serving{true};
  fm::HttpServer http([&] { return fleet_metrics.Scrape(); }, [&] { return serving.load(); });
  http.SetApiHandler([&api](const std::string& path,
                            const std::map<std::string, std::string>& query,
                            const std::string& authorization) {
    return fm::ServeHttpApi(api, path, query, authorization);
  });
  http.SetWebhookHandler(
      [&](const std::vector<std::pair<std::string, std::string>>& headers,
          const std::string& body) -> fm::HttpServer::WebhookReply {
        fm::WebhookRequest request;
        request.headers = headers;
        request.body = body;
        auto outcome = controller.HandleWebhook(request);
        if (outcome.ok()) return {200, outcome->message};
        // The reason is logged; a sender with a bad signature learns no more.
        fc::Logger("manager.webhook")->warn("webhook refused: {}", outcome.status().message());
        switch (outcome.status().code()) {
          case absl::StatusCode::kInvalidArgument:
            return {400, std::string(outcome.status().message())};
          case absl::StatusCode::kUnauthenticated:
            return {401, "unauthorized"};
          default:
            return {500, "internal error (see the manager's log)"};
        }
      },
      fm::kMaxWebhookBodyBytes);
  auto bound_http = http.Start(http_host, http_port);
  if (!bound_http.ok()) return Fail("http", bound_http.status());

  std::string grpc_addr = absl::StrCat(grpc_host, ":", bound_grpc);
  std::string http_addr = absl::StrCat(http_host, ":", *bound_http);
  auto st = fc::WriteFileAtomic(
      data_dir + "/endpoints.json",
      absl::StrCat("{\"grpc\": \"", grpc_addr, "\", \"http\": \"", http_addr, "\"}\n"));
  if (!st.ok()) return Fail("endpoints.json", st);
  log->info("serving agents and the API on {} (TLS), HTTP on {}", grpc_addr, http_addr);
  log->info("agents and the CLI trust {}/ca.crt, pin {}", data_dir, pki->ca_pin);
  std::printf("flotilla-manager: listening on %s; CA %s/ca.crt (pin %s)\n", grpc_addr.c_str(),
              data_dir.c_str(), pki->ca_pin.c_str());
  std::fflush(stdout);

  absl::Notification stop;
  g_stop = &stop;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // The poller: fetches GitRepos as they come due.
  std::thread poller([&] {
    while (!stop.HasBeenNotified()) {
      controller.PollDue();
      controller.CheckOffline();
      controller.WaitForPollWork(
          std::clamp(controller.NextPollIn(), absl::Milliseconds(100), absl::Seconds(1)));
    }
  });
  stop.WaitForNotification();
  log->info("shutting down");
  serving = false;
  poller.join();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  http.Stop();
  return 0;
}
