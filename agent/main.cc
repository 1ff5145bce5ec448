// flotilla-agent: flags and wiring only.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/apply/dir_applier.h"
#include "agent/apply/kube/kube_applier.h"
#include "agent/apply/kube/kube_config.h"
#include "agent/client/agent_runner.h"
#include "agent/client/health_server.h"
#include "agent/state/agent_state.h"
#include "common/flags.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/selector.h"

ABSL_FLAG(std::string, manager, "127.0.0.1:7443", "Manager gRPC address HOST:PORT.");
ABSL_FLAG(std::string, token, "", "Registration token (first start only).");
ABSL_FLAG(std::string, token_file, "", "File holding the registration token (first start only).");
ABSL_FLAG(std::string, ca_file, "", "The manager CA certificate (<data-dir>/ca.crt).");
ABSL_FLAG(std::string, ca_pin, "", "sha256:<hex> pin of the manager CA, instead of --ca-file.");
ABSL_FLAG(std::string, state_dir, "./flotilla-agent", "Key, certificate and applied state.");
ABSL_FLAG(std::string, name, "", "Proposed cluster name (first start only).");
ABSL_FLAG(std::string, target, "",
          "Where to apply: kube (the cluster the agent runs in, by its service account), "
          "kube:KUBECONFIG (that file's current context), or dir:PATH (a directory standing "
          "in for a cluster).");
ABSL_FLAG(std::string, kube_context, "", "With --target kube:KUBECONFIG: the context to use.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn or error.");
ABSL_FLAG(std::string, health_listen, "",
          "HOST:PORT for GET /healthz (the run loop makes progress) and /readyz (connected to "
          "the manager), for probes; off when empty.");
ABSL_FLAG(absl::Duration, check_interval, absl::Seconds(10),
          "How often applied bundles are checked for drift and readiness (polling).");
ABSL_FLAG(absl::Duration, settle_interval, absl::Seconds(2),
          "The check interval while a bundle is NotReady or waiting for its dependencies.");

namespace {
absl::Notification* g_stop = nullptr;
void OnSignal(int) {
  if (g_stop != nullptr && !g_stop->HasBeenNotified()) g_stop->Notify();
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Flotilla agent: registers with the manager, applies its bundles, reports status.\n"
      "Usage: flotilla-agent --manager HOST:PORT (--ca-file F | --ca-pin sha256:H) "
      "[--token T | --token-file F] --state-dir DIR --name NAME [--label k=v]... "
      "--target kube|kube:KUBECONFIG|dir:PATH");
  // --label may repeat; absl flags keep only the last value, so collect them first.
  std::map<std::string, std::string> labels;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    if (a == "--label" && i + 1 < argc) {
      value = argv[++i];
    } else if (absl::StartsWith(a, "--label=")) {
      value = a.substr(8);
    } else {
      rest.push_back(argv[i]);
      continue;
    }
    size_t eq = value.find('=');
    std::string k = value.substr(0, eq);
    std::string v = eq == std::string::npos ? "" : value.substr(eq + 1);
    auto st = eq == std::string::npos
                  ? absl::InvalidArgumentError(absl::StrCat("--label \"", value, "\" must be k=v"))
                  : flotilla::common::ValidateLabelKey(k);
    if (st.ok()) st = flotilla::common::ValidateLabelValue(k, v);
    if (!st.ok()) {
      std::fprintf(stderr, "flotilla-agent: %s\n", std::string(st.message()).c_str());
      return 2;
    }
    labels[k] = v;
  }
  auto args = flotilla::common::NormalizeFlagNames(static_cast<int>(rest.size()), rest.data());
  auto argp = flotilla::common::ArgvPointers(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), argp.data());
  namespace fa = flotilla::agent;
  namespace fk = flotilla::agent::kube;
  namespace fc = flotilla::common;
  if (!fc::SetLogLevel(absl::GetFlag(FLAGS_log_level))) {
    std::fprintf(stderr, "flotilla-agent: --log-level: unknown level\n");
    return 2;
  }
  const std::string target = absl::GetFlag(FLAGS_target);
  std::unique_ptr<fa::Applier> applier;
  if (target == "kube" || absl::StartsWith(target, "kube:")) {
    absl::StatusOr<fk::KubeConfig> config =
        target == "kube" ? fk::InClusterConfig()
                         : fk::LoadKubeconfig(target.substr(5), absl::GetFlag(FLAGS_kube_context));
    absl::StatusOr<std::unique_ptr<fk::KubeClient>> client =
        config.ok() ? fk::KubeClient::Create(*config) : config.status();
    if (!client.ok()) {
      std::fprintf(stderr, "flotilla-agent: --target %s: %s\n", target.c_str(),
                   std::string(client.status().message()).c_str());
      return 2;
    }
    applier = std::make_unique<fk::KubeApplier>(*std::move(client));
  } else if (absl::StartsWith(target, "dir:") && target.size() > 4) {
    applier = std::make_unique<fa::DirApplier>(target.substr(4));
  } else {
    std::fprintf(stderr, "flotilla-agent: --target must be kube, kube:KUBECONFIG or dir:PATH\n");
    return 2;
  }
  fa::AgentOptions opts;
  opts.manager = absl::GetFlag(FLAGS_manager);
  opts.token = absl::GetFlag(FLAGS_token);
  opts.ca_file = absl::GetFlag(FLAGS_ca_file);
  opts.ca_pin = absl::GetFlag(FLAGS_ca_pin);
  opts.name = absl::GetFlag(FLAGS_name);
  opts.labels = labels;
  opts.drift_check = absl::GetFlag(FLAGS_check_interval);
  opts.settle_check = absl::GetFlag(FLAGS_settle_interval);
  if (opts.drift_check < absl::Seconds(1) || opts.settle_check < absl::Seconds(1)) {
    std::fprintf(stderr, "flotilla-agent: --check-interval and --settle-interval must be >= 1s\n");
    return 2;
  }

  auto state = fa::AgentState::Open(absl::GetFlag(FLAGS_state_dir));
  if (!state.ok()) {
    std::fprintf(stderr, "flotilla-agent: %s\n", std::string(state.status().message()).c_str());
    return 1;
  }
  // The token is needed only to register: once registered, the file (a
  // bootstrap Secret, say) may be gone.
  auto identity = state->LoadIdentity();
  const bool registered = identity.ok() && identity->has_value();
  if (!absl::GetFlag(FLAGS_token_file).empty() && !registered) {
    auto t = fc::ReadFile(absl::GetFlag(FLAGS_token_file));
    if (!t.ok()) {
      std::fprintf(stderr, "flotilla-agent: --token-file: %s\n",
                   std::string(t.status().message()).c_str());
      return 2;
    }
    opts.token = std::string(absl::StripAsciiWhitespace(*t));
  }
  fa::AgentRunner runner(opts, &*state, applier.get(), fc::RealClock::Get());
  std::unique_ptr<fa::HealthServer> health;
  if (const std::string addr = absl::GetFlag(FLAGS_health_listen); !addr.empty()) {
    std::string host;
    int port = 0;
    if (!fc::SplitHostPort(addr, &host, &port)) {
      std::fprintf(stderr, "flotilla-agent: --health-listen must be HOST:PORT\n");
      return 2;
    }
    // Longer than the longest reconnect wait (2 min plus jitter) and any
    // sane apply: a loop that has not moved for that long is stuck.
    const absl::Duration stuck = std::max(absl::Minutes(5), 3 * opts.drift_check);
    health = std::make_unique<fa::HealthServer>([&runner, stuck] { return runner.Live(stuck); },
                                                [&runner] { return runner.Connected(); });
    absl::StatusOr<int> bound = health->Start(host.empty() ? "0.0.0.0" : host, port);
    if (!bound.ok()) {
      std::fprintf(stderr, "flotilla-agent: %s\n", std::string(bound.status().message()).c_str());
      return 1;
    }
    fc::Logger("agent")->info("serving /healthz and /readyz on {}:{}",
                              host.empty() ? "0.0.0.0" : host, *bound);
  }
  if (auto st = runner.EnsureRegistered(); !st.ok()) {
    std::fprintf(stderr, "flotilla-agent: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  absl::Notification stop;
  g_stop = &stop;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  runner.Run(&stop);
  return 0;
}
