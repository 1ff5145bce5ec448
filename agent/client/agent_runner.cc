#include "agent/client/agent_runner.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/client/ca_discovery.h"
#include "agent/client/session.h"
#include "common/backoff.h"
#include "common/fs.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls/pki.h"
#include "flotilla/v1/agent.grpc.pb.h"

namespace flotilla::agent {

namespace v1 = flotilla::v1;

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const grpc::SslCredentialsOptions& ssl) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1'000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 120'000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

}  // namespace

AgentRunner::AgentRunner(AgentOptions options, AgentState* state, Applier* applier,
                         const common::Clock* clock)
    : options_(std::move(options)), state_(state), applier_(applier), clock_(clock) {}

absl::StatusOr<std::string> AgentRunner::TrustedCa() {
  ASSIGN_OR_RETURN(auto saved, state_->ReadFileIfExists("ca.crt"));
  if (!options_.ca_file.empty()) {
    auto pem = common::ReadFile(options_.ca_file);
    if (!pem.ok()) return common::Annotate(pem.status(), "--ca-file");
    return *pem;
  }
  if (saved) return *saved;
  if (options_.ca_pin.empty()) {
    return absl::InvalidArgumentError(
        "the manager's CA is unknown: pass --ca-file or --ca-pin sha256:<hex> (printed by "
        "`flotilla token create`)");
  }
  return DiscoverCaByPin(options_.manager, options_.ca_pin);
}

absl::Status AgentRunner::EnsureRegistered() {
  auto log = common::Logger("agent.register");
  ASSIGN_OR_RETURN(auto identity, state_->LoadIdentity());
  ASSIGN_OR_RETURN(auto cert, state_->ReadFileIfExists("cert.pem"));
  if (identity && cert) {
    // A key and certificate that do not belong together would make every
    // connection fail in the TLS handshake; say so once, at start-up.
    ASSIGN_OR_RETURN(auto key_pem, state_->ReadFileIfExists("key.pem"));
    if (!key_pem) {
      return absl::FailedPreconditionError(
          absl::StrCat(state_->dir(),
                       "/key.pem is missing while cert.pem is present: restore the key, or "
                       "remove the state directory and register again with a new token"));
    }
    if (auto st = common::CheckKeyMatchesCertificate(*key_pem, *cert); !st.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          state_->dir(), "/key.pem and cert.pem do not belong together (", st.message(),
          "): restore the matching pair, or remove the state directory and register again "
          "with a new token"));
    }
    log->info("registered as cluster {} ({})", identity->cluster_name, identity->cluster_id);
    return absl::OkStatus();
  }
  if (options_.token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this agent is not registered yet (no identity in ", state_->dir(),
                     "): pass --token or --token-file with a token from `flotilla token create`"));
  }
  ASSIGN_OR_RETURN(std::string ca, TrustedCa());
  // Reuse a key from an interrupted registration, so a retry is idempotent.
  ASSIGN_OR_RETURN(auto key_pem, state_->ReadFileIfExists("key.pem"));
  common::KeyPair key;
  if (key_pem) {
    ASSIGN_OR_RETURN(key, common::LoadKeyPair(*key_pem));
  } else {
    ASSIGN_OR_RETURN(key, common::GenerateKeyPair());
    RETURN_IF_ERROR(state_->WriteFile("key.pem", key.private_key_pem));
  }
  ASSIGN_OR_RETURN(std::string csr,
                   common::CreateCsr(key, options_.name.empty() ? "agent" : options_.name));
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca;
  auto stub = v1::AgentService::NewStub(MakeChannel(options_.manager, ssl));
  v1::RegisterRequest req;
  req.set_token(options_.token);
  req.set_csr_pem(csr);
  req.set_name(options_.name);
  req.set_agent_version(options_.version);
  for (const auto& [k, v] : options_.labels) {
    auto* l = req.add_labels();
    l->set_key(k);
    l->set_value(v);
  }
  v1::RegisterResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status st = stub->Register(&ctx, req, &resp);
  if (!st.ok()) {
    return common::Annotate(common::FromGrpcStatus(st),
                            absl::StrCat("registration with ", options_.manager, " failed"));
  }
  RETURN_IF_ERROR(state_->WriteFile("ca.crt", ca));
  RETURN_IF_ERROR(state_->WriteFile("agent-ca.crt", resp.agent_ca_pem()));
  RETURN_IF_ERROR(state_->WriteFile("cert.pem", resp.certificate_pem()));
  RETURN_IF_ERROR(state_->SaveIdentity(Identity{resp.cluster_id(), resp.cluster_name()}));
  log->info("registered as cluster {} ({})", resp.cluster_name(), resp.cluster_id());
  return absl::OkStatus();
}

absl::Status AgentRunner::RenewIfDue() {
  ASSIGN_OR_RETURN(auto cert, state_->ReadFileIfExists("cert.pem"));
  if (!cert) return absl::FailedPreconditionError("no certificate");
  ASSIGN_OR_RETURN(auto info, common::ParseCertificate(*cert));
  absl::Time now = clock_->Now();
  if (now >= info.not_after) {
    return absl::FailedPreconditionError(
        "the agent certificate has expired; register again with a new token (the last applied "
        "state keeps running meanwhile)");
  }
  // Renew at a jittered 70-90% of the lifetime.
  absl::Duration life = info.not_after - info.not_before;
  absl::BitGen gen;
  absl::Time due = info.not_before + life * absl::Uniform(gen, 0.7, 0.9);
  if (now < due) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto key_pem, state_->ReadFileIfExists("key.pem"));
  ASSIGN_OR_RETURN(std::string ca, TrustedCa());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca;
  ssl.pem_private_key = key_pem.value_or("");
  ssl.pem_cert_chain = *cert;
  ASSIGN_OR_RETURN(auto fresh, common::GenerateKeyPair());
  ASSIGN_OR_RETURN(std::string csr, common::CreateCsr(fresh, "agent"));
  auto stub = v1::AgentService::NewStub(MakeChannel(options_.manager, ssl));
  v1::RenewRequest req;
  req.set_csr_pem(csr);
  v1::RenewResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status st = stub->Renew(&ctx, req, &resp);
  if (!st.ok()) return common::Annotate(common::FromGrpcStatus(st), "certificate renewal failed");
  RETURN_IF_ERROR(state_->WriteFile("key.pem", fresh.private_key_pem));
  RETURN_IF_ERROR(state_->WriteFile("cert.pem", resp.certificate_pem()));
  common::Logger("agent.register")->info("renewed the client certificate");
  return absl::OkStatus();
}

bool AgentRunner::Live(absl::Duration within) const {
  const int64_t last = progress_unix_ms_.load();
  // Not started yet (registering) counts as alive.
  return last == 0 || clock_->Now() - absl::FromUnixMillis(last) <= within;
}

void AgentRunner::Run(absl::Notification* stop) {
  auto log = common::Logger("agent.stream");
  common::Backoff backoff;
  absl::Mutex session_mu;  // serialises the session between reader and ticker
  AgentSession session(state_, applier_, options_.version);
  absl::Time last_drift_check = absl::InfinitePast();
  absl::Time last_heartbeat = absl::InfinitePast();
  int failures = 0;
  while (!stop->HasBeenNotified()) {
    Progress();
    auto renew = RenewIfDue();
    if (!renew.ok()) log->warn("{}", renew.message());
    auto ca = TrustedCa();
    auto key = state_->ReadFileIfExists("key.pem");
    auto cert = state_->ReadFileIfExists("cert.pem");
    if (!ca.ok() || !key.ok() || !cert.ok() || !*key || !*cert) {
      log->error("cannot load credentials from {}", state_->dir());
      stop->WaitForNotificationWithTimeout(backoff.Next());
      continue;
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *ca;
    ssl.pem_private_key = **key;
    ssl.pem_cert_chain = **cert;
    auto stub = v1::AgentService::NewStub(MakeChannel(options_.manager, ssl));
    grpc::ClientContext ctx;
    auto stream = stub->Connect(&ctx);
    absl::Mutex write_mu;
    auto write = [&](const v1::AgentMessage& m) {
      absl::MutexLock lock(&write_mu);
      return stream->Write(m);
    };
    {
      absl::MutexLock lock(&session_mu);
      auto pruned = state_->PruneContent();
      if (!pruned.ok()) log->warn("pruning the content cache: {}", pruned.message());
      // Written means the TLS handshake and the call went through: connected,
      // even if the manager has nothing to send yet.
      if (write(session.Hello())) connected_.store(true);
    }
    // Ticker: heartbeats, drift checks, stop and renewal.
    absl::Notification stream_done;
    std::thread ticker([&] {
      while (!stream_done.WaitForNotificationWithTimeout(absl::Seconds(1))) {
        if (stop->HasBeenNotified()) {
          ctx.TryCancel();
          return;
        }
        absl::Time now = clock_->Now();
        absl::MutexLock lock(&session_mu);
        Progress();
        // Sooner while something is rolling out or waiting for dependencies.
        const absl::Duration interval = session.Settling()
                                            ? std::min(options_.settle_check, options_.drift_check)
                                            : options_.drift_check;
        if (now - last_drift_check >= interval) {
          last_drift_check = now;
          if (auto report = session.CheckDeployments()) write(*report);
        }
        if (now - last_heartbeat >= options_.heartbeat) {
          last_heartbeat = now;
          v1::AgentMessage hb;
          hb.mutable_heartbeat()->set_unix_millis(absl::ToUnixMillis(now));
          write(hb);
        }
      }
    });
    v1::ManagerMessage msg;
    bool got_any = false;
    while (stream->Read(&msg)) {
      if (!got_any) {
        got_any = true;
        connected_.store(true);
        if (failures > 0) log->info("connected to {} again", options_.manager);
        failures = 0;
        backoff.Reset();
      }
      if (msg.has_assignments()) {
        absl::MutexLock lock(&session_mu);
        for (const auto& out : session.HandleAssignments(msg.assignments())) write(out);
      }
    }
    connected_.store(false);
    stream_done.Notify();
    ticker.join();
    grpc::Status st = stream->Finish();
    if (stop->HasBeenNotified()) break;
    ++failures;
    absl::Duration wait = backoff.Next();
    // Retryable disconnects stay at debug until they persist.
    if (failures >= 3 || st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        st.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      log->warn("stream to {} ended ({}: {}); retrying in {}", options_.manager,
                static_cast<int>(st.error_code()), st.error_message(), absl::FormatDuration(wait));
    } else {
      log->debug("stream to {} ended ({}: {}); retrying in {}", options_.manager,
                 static_cast<int>(st.error_code()), st.error_message(), absl::FormatDuration(wait));
    }
    // Keep the last applied state correct while disconnected.
    {
      absl::MutexLock lock(&session_mu);
      (void)session.CheckDeployments();
    }
    stop->WaitForNotificationWithTimeout(wait);
  }
}

}  // namespace flotilla::agent
