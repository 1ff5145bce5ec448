#include "manager/server/agent_service.h"

#include "absl/strings/str_cat.h"
#include "common/compress.h"
#include "common/grpc_status.h"
#include "common/hash.h"
#include "common/logging.h"

namespace flotilla::manager {

namespace v1 = flotilla::v1;

// One agent stream. State machine:
//   waiting-for-hello -> (Hello) -> live: every Kick computes the delta between
//   the cluster's published assignments and what this stream has sent, and
//   writes it if non-empty (one write in flight; a Kick during a write is
//   remembered in dirty_ and served from OnWriteDone).
//   Any read failure or Finish -> done; OnDone unregisters and deletes.
class AgentServiceImpl::Stream final
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ManagerMessage> {
 public:
  Stream(AgentServiceImpl* service, ClusterRecord cluster, uint64_t id)
      : service_(service),
        cluster_(std::move(cluster)),
        id_(id),
        log_(common::Logger("manager.stream")) {
    log_->info("cluster {} ({}) stream {}: connected", cluster_.name, cluster_.id, id_);
    StartRead(&in_);
  }

  const std::string& cluster_id() const { return cluster_.id; }

  void Kick() {
    absl::MutexLock lock(&mu_);
    dirty_ = true;
    MaybeWriteLocked();
  }

  void Close(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      FinishLocked(grpc::Status::OK);
      return;
    }
    const common::MetricsRegistry::LabelSet kind{{"kind", MessageKind(in_)}};
    service_->metrics_->Add("flotilla_stream_messages_received_total", kind, 1);
    service_->metrics_->Add("flotilla_stream_bytes_received_total", kind,
                            static_cast<double>(in_.ByteSizeLong()));
    Handle(in_);
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (finish_pending_) {
      FinishLocked(pending_status_);
      return;
    }
    MaybeWriteLocked();
  }

  void OnDone() override {
    log_->info("cluster {} ({}) stream {}: closed", cluster_.name, cluster_.id, id_);
    service_->controller_->SetConnected(cluster_.id, false, "");
    service_->Remove(this);
    delete this;
  }

 private:
  // The `kind` label of the stream message counters: a fixed set.
  static const char* MessageKind(const v1::AgentMessage& msg) {
    switch (msg.kind_case()) {
      case v1::AgentMessage::kHello:
        return "hello";
      case v1::AgentMessage::kAck:
        return "ack";
      case v1::AgentMessage::kStatus:
        return "status";
      case v1::AgentMessage::kHeartbeat:
        return "heartbeat";
      default:
        return "other";
    }
  }

  void Handle(const v1::AgentMessage& msg) {
    auto* metrics = service_->metrics_;
    switch (msg.kind_case()) {
      case v1::AgentMessage::kHello: {
        absl::MutexLock lock(&mu_);
        for (const auto& [bd, dep] : msg.hello().deployments()) sent_[bd] = dep;
        for (const auto& h : msg.hello().content_hashes()) sent_contents_.insert(h);
        hello_ = true;
        dirty_ = true;
        log_->info(
            "cluster {} stream {}: hello from agent {} holding {} deployment(s), {} content(s)",
            cluster_.name, id_, msg.hello().agent_version(), msg.hello().deployments_size(),
            msg.hello().content_hashes_size());
        service_->controller_->SetConnected(cluster_.id, true, msg.hello().agent_version());
        MaybeWriteLocked();
        break;
      }
      case v1::AgentMessage::kAck: {
        const auto& ack = msg.ack();
        metrics->Add(ack.ok() ? "flotilla_stream_acks_total" : "flotilla_stream_nacks_total", {},
                     1);
        if (ack.ok()) {
          log_->debug("cluster {} stream {} nonce {}: ACK {} {}", cluster_.name, id_, ack.nonce(),
                      ack.bundle_deployment_id(), ack.deployment_id());
        } else {
          log_->warn("cluster {} stream {} nonce {}: NACK {} {}: {}", cluster_.name, id_,
                     ack.nonce(), ack.bundle_deployment_id(), ack.deployment_id(), ack.error());
        }
        break;
      }
      case v1::AgentMessage::kStatus: {
        std::vector<v1::BundleDeploymentStatus> statuses(msg.status().statuses().begin(),
                                                         msg.status().statuses().end());
        common::ScopedTimer latency(metrics, "flotilla_status_report_latency_seconds");
        auto st = service_->controller_->ReportStatus(cluster_.id, statuses);
        latency.Stop();
        metrics->Add("flotilla_status_reports_total", {}, 1);
        if (!st.ok()) {
          log_->warn("cluster {} stream {}: cannot record status: {}", cluster_.name, id_,
                     st.message());
        }
        break;
      }
      case v1::AgentMessage::kHeartbeat:
        service_->controller_->Heartbeat(cluster_.id);
        break;
      default:
        break;
    }
  }

  void MaybeWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!hello_ || writing_ || finished_ || !dirty_) return;
    dirty_ = false;
    auto desired = service_->controller_->AssignmentsFor(cluster_.id);
    out_.Clear();
    v1::Assignments* delta = out_.mutable_assignments();
    size_t content_bytes = 0;
    int contents = 0;
    for (const auto& [bd, a] : desired->by_id) {
      std::string key = a.deployment_id() + "|" + a.options().SerializeAsString();
      auto it = sent_.find(bd);
      // A deployment id from Hello counts as sent with its current options.
      if (it != sent_.end() && (it->second == key || it->second == a.deployment_id())) {
        it->second = key;
        continue;
      }
      *delta->add_upserts() = a;
      sent_[bd] = key;
      if (!sent_contents_.count(a.content_hash())) {
        auto data = service_->controller_->Content(a.content_hash());
        if (!data.ok()) {
          log_->error("cluster {}: content {} for {} is missing: {}", cluster_.name,
                      a.content_hash(), bd, data.status().message());
          delta->mutable_upserts()->RemoveLast();
          sent_.erase(bd);
          continue;
        }
        v1::Content* c = delta->add_contents();
        c->set_hash(a.content_hash());
        c->set_zlib_data(common::ZlibCompress(*data));
        c->set_uncompressed_size(data->size());
        content_bytes += c->zlib_data().size();
        ++contents;
        sent_contents_.insert(a.content_hash());
      }
    }
    for (auto it = sent_.begin(); it != sent_.end();) {
      if (!desired->by_id.count(it->first)) {
        delta->add_removals(it->first);
        it = sent_.erase(it);
      } else {
        ++it;
      }
    }
    if (delta->upserts_size() == 0 && delta->removals_size() == 0) return;
    delta->set_nonce(common::RandomHex(8));
    delta->set_version(++version_);
    auto* metrics = service_->metrics_;
    metrics->Add("flotilla_stream_assignments_sent_total", {}, delta->upserts_size());
    metrics->Add("flotilla_stream_removals_sent_total", {}, delta->removals_size());
    metrics->Add("flotilla_stream_contents_sent_total", {}, contents);
    metrics->Add("flotilla_stream_content_bytes_sent_total", {},
                 static_cast<double>(content_bytes));
    const common::MetricsRegistry::LabelSet kind{{"kind", "assignments"}};
    metrics->Add("flotilla_stream_messages_sent_total", kind, 1);
    metrics->Add("flotilla_stream_bytes_sent_total", kind,
                 static_cast<double>(out_.ByteSizeLong()));
    log_->info(
        "cluster {} stream {} nonce {} version {}: sending {} upsert(s), {} removal(s), "
        "{} content(s) ({} bytes)",
        cluster_.name, id_, delta->nonce(), delta->version(), delta->upserts_size(),
        delta->removals_size(), contents, content_bytes);
    writing_ = true;
    StartWrite(&out_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (writing_) {
      finish_pending_ = true;
      pending_status_ = status;
      return;
    }
    finished_ = true;
    Finish(status);
  }

  AgentServiceImpl* const service_;
  const ClusterRecord cluster_;
  const uint64_t id_;
  std::shared_ptr<spdlog::logger> log_;
  v1::AgentMessage in_;  // only touched by the read chain

  absl::Mutex mu_;
  v1::ManagerMessage out_ ABSL_GUARDED_BY(mu_);
  bool hello_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status pending_status_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  // bundle deployment id -> deployment id + options sent
  std::map<std::string, std::string> sent_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> sent_contents_ ABSL_GUARDED_BY(mu_);
};

AgentServiceImpl::AgentServiceImpl(FleetController* controller, Registrar* registrar,
                                   common::MetricsRegistry* metrics)
    : controller_(controller), registrar_(registrar), metrics_(metrics) {
  DeclareMetrics(*metrics_);
}

void AgentServiceImpl::DeclareMetrics(common::MetricsRegistry& registry) {
  registry.Declare("flotilla_stream_assignments_sent_total", "counter",
                   "BundleDeployment assignments sent to agents.");
  registry.Declare("flotilla_stream_removals_sent_total", "counter",
                   "BundleDeployment removals sent to agents.");
  registry.Declare("flotilla_stream_contents_sent_total", "counter",
                   "Rendered manifests sent to agents (each at most once per agent).");
  registry.Declare("flotilla_stream_content_bytes_sent_total", "counter",
                   "Compressed manifest bytes sent to agents.");
  registry.Declare("flotilla_stream_acks_total", "counter", "ACKs received from agents.");
  registry.Declare("flotilla_stream_nacks_total", "counter", "NACKs received from agents.");
  registry.Declare("flotilla_status_reports_total", "counter",
                   "Status report messages received from agents.");
  registry.Declare("flotilla_registrations_total", "counter",
                   "Agent registration attempts by outcome.");
  registry.Declare("flotilla_agent_streams", "gauge", "Open agent Connect streams.");
  registry.Declare("flotilla_stream_messages_sent_total", "counter",
                   "Messages written to agent streams, by kind.");
  registry.Declare("flotilla_stream_bytes_sent_total", "counter",
                   "Serialized size of the messages written to agent streams, by kind.");
  registry.Declare("flotilla_stream_messages_received_total", "counter",
                   "Messages read from agent streams, by kind.");
  registry.Declare("flotilla_stream_bytes_received_total", "counter",
                   "Serialized size of the messages read from agent streams, by kind.");
  // A status batch is one SQLite write transaction plus the controller's
  // bookkeeping: milliseconds, more under load.
  registry.DeclareHistogram("flotilla_status_report_latency_seconds",
                            "Time from receiving an agent's status report to its store write "
                            "finishing.",
                            {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  for (const char* name :
       {"flotilla_stream_assignments_sent_total", "flotilla_stream_removals_sent_total",
        "flotilla_stream_contents_sent_total", "flotilla_stream_content_bytes_sent_total",
        "flotilla_stream_acks_total", "flotilla_stream_nacks_total",
        "flotilla_status_reports_total", "flotilla_agent_streams"}) {
    registry.InitSeries(name, {});
  }
  registry.InitSeries("flotilla_stream_messages_sent_total", {{"kind", "assignments"}});
  registry.InitSeries("flotilla_stream_bytes_sent_total", {{"kind", "assignments"}});
  for (const char* kind : {"hello", "ack", "status", "heartbeat"}) {
    registry.InitSeries("flotilla_stream_messages_received_total", {{"kind", kind}});
    registry.InitSeries("flotilla_stream_bytes_received_total", {{"kind", kind}});
  }
  registry.InitSeries("flotilla_status_report_latency_seconds", {});
  registry.InitSeries("flotilla_registrations_total", {{"outcome", "ok"}});
}

AgentServiceImpl::~AgentServiceImpl() = default;

absl::StatusOr<ClusterRecord> AgentServiceImpl::PeerCluster(grpc::CallbackServerContext* ctx) {
  auto auth = ctx->auth_context();
  if (!auth) return absl::UnauthenticatedError("no TLS peer");
  auto pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) {
    return absl::UnauthenticatedError("a client certificate is required: register the agent first");
  }
  std::string pem(pems.front().data(), pems.front().size());
  auto id = registrar_->ClusterIdFromCertificate(pem);
  if (!id.ok()) return id.status();
  auto cluster = controller_->GetCluster(*id);
  if (!cluster)
    return absl::PermissionDeniedError(absl::StrCat("cluster ", *id, " is not registered"));
  if (cluster->revoked)
    return absl::PermissionDeniedError(absl::StrCat("cluster ", *id, " is revoked"));
  return *cluster;
}

grpc::ServerUnaryReactor* AgentServiceImpl::Register(grpc::CallbackServerContext* ctx,
                                                     const v1::RegisterRequest* req,
                                                     v1::RegisterResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto result = registrar_->Register(*req);
  metrics_->Add(
      "flotilla_registrations_total",
      {{"outcome", result.ok() ? "ok" : absl::StatusCodeToString(result.status().code())}}, 1);
  if (result.ok()) *resp = std::move(*result);
  reactor->Finish(common::ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* AgentServiceImpl::Renew(grpc::CallbackServerContext* ctx,
                                                  const v1::RenewRequest* req,
                                                  v1::RenewResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto cluster = PeerCluster(ctx);
  if (!cluster.ok()) {
    reactor->Finish(common::ToGrpcStatus(cluster.status()));
    return reactor;
  }
  auto result = registrar_->Renew(cluster->id, *req);
  if (result.ok()) *resp = std::move(*result);
  reactor->Finish(common::ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerBidiReactor<v1::AgentMessage, v1::ManagerMessage>* AgentServiceImpl::Connect(
    grpc::CallbackServerContext* ctx) {
  auto cluster = PeerCluster(ctx);
  if (!cluster.ok()) {
    // A reactor that refuses at once.
    class Refuse : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ManagerMessage> {
     public:
      explicit Refuse(const absl::Status& s) { Finish(common::ToGrpcStatus(s)); }
      void OnDone() override { delete this; }
    };
    common::Logger("manager.stream")->warn("refused a stream: {}", cluster.status().message());
    return new Refuse(cluster.status());
  }
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_stream_id_++;
  }
  auto* s = new Stream(this, *cluster, id);
  Add(s);
  return s;
}

void AgentServiceImpl::Add(Stream* s) {
  absl::MutexLock lock(&mu_);
  streams_[s->cluster_id()].insert(s);
  metrics_->Add("flotilla_agent_streams", {}, 1);
}

void AgentServiceImpl::Remove(Stream* s) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(s->cluster_id());
  if (it == streams_.end()) return;
  if (it->second.erase(s) > 0) metrics_->Add("flotilla_agent_streams", {}, -1);
  if (it->second.empty()) streams_.erase(it);
}

void AgentServiceImpl::Kick(const std::vector<std::string>& cluster_ids) {
  absl::MutexLock lock(&mu_);
  for (const auto& id : cluster_ids) {
    auto it = streams_.find(id);
    if (it == streams_.end()) continue;
    for (Stream* s : it->second) s->Kick();
  }
}

void AgentServiceImpl::CloseCluster(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(cluster_id);
  if (it == streams_.end()) return;
  for (Stream* s : it->second) {
    s->Close(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "cluster revoked"));
  }
}

size_t AgentServiceImpl::StreamCount() {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [id, set] : streams_) n += set.size();
  return n;
}

}  // namespace flotilla::manager
