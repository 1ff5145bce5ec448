// FleetController: Git push webhooks (docs/webhooks.md).
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {

absl::StatusOr<WebhookOutcome> FleetController::HandleWebhook(const WebhookRequest& request) {
  std::vector<WebhookGitRepo> gitrepos;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, st] : repos_) {
      WebhookGitRepo g;
      g.name = name;
      g.repo = st.spec.repo;
      g.branch = st.spec.branch;
      g.revision = st.spec.revision;
      g.webhook_secret = st.spec.webhook_secret;
      g.known_commit = st.record.commit;
      gitrepos.push_back(std::move(g));
    }
  }
  auto lookup = [this](absl::string_view name) -> absl::StatusOr<WebhookSecretData> {
    std::optional<SecretRecord> secret;
    RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
      ASSIGN_OR_RETURN(secret, tx.GetSecret(std::string(name)));
      return absl::OkStatus();
    }));
    if (!secret) return absl::NotFoundError(absl::StrCat("secret \"", name, "\" not found"));
    return secret->data;
  };
  auto log = common::Logger("manager.webhook");
  ASSIGN_OR_RETURN(WebhookOutcome outcome, manager::HandleWebhook(request, gitrepos, lookup));
  if (outcome.AnyUnverified()) {
    log->warn(
        "{} push accepted without a signature check: no webhook secret is configured "
        "(set spec.webhookSecret or create the secret \"{}\")",
        WebhookProviderName(outcome.event.provider), kGlobalWebhookSecretName);
  }
  if (!outcome.fetch.empty()) {
    absl::MutexLock lock(&mu_);
    for (const auto& t : outcome.fetch) {
      auto it = repos_.find(t.gitrepo);
      if (it != repos_.end()) it->second.next_poll = absl::InfinitePast();
      log->info("gitrepo {}: {} push of {} ({}): fetching now", t.gitrepo,
                WebhookProviderName(outcome.event.provider), t.commit.substr(0, 12),
                t.verified ? "verified" : "unverified");
    }
  }
  if (!outcome.fetch.empty()) {
    absl::MutexLock lock(&wake_mu_);
    wake_ = true;
  }
  return outcome;
}

}  // namespace flotilla::manager
