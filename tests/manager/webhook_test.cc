// Git provider webhooks (manager/webhook): provider detection, payload
// reading, authentication and GitRepo matching, following Rancher Fleet's
// pkg/webhook/webhook.go and parser.go (which parse with
// github.com/go-playground/webhooks v6.4.0).
//
// The payloads are written from the providers' documented formats:
//   GitHub  https://docs.github.com/en/webhooks/webhook-events-and-payloads#push (and #ping)
//   GitLab  https://docs.gitlab.com/ee/user/project/integrations/webhook_events.html
//   Gitea   https://docs.gitea.com/usage/webhooks; Gogs https://gogs.io/docs/features/webhook
//   Bitbucket Cloud   https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Push
//   Bitbucket Server  https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html
//   Azure DevOps      https://learn.microsoft.com/en-us/azure/devops/service-hooks/events#git.push
// Signatures are computed here with OpenSSL's HMAC, as the providers do.
#include "manager/webhook/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "common/hash.h"

namespace flotilla::manager {
namespace {

using Catch::Matchers::Contains;

constexpr char kCommit[] = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
constexpr char kBefore[] = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
constexpr char kZeros[] = "0000000000000000000000000000000000000000";
constexpr char kGitHubRepo[] = "https://github.com/octo-org/fleet-examples";

// ---------------------------------------------------------------------------
// Helpers

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

// Hex HMAC of `body` under `key`, as the providers sign.
std::string HmacHex(const EVP_MD* md, absl::string_view key, absl::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(HMAC(md, key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac,
               &len) != nullptr);
  return common::HexEncode(std::string(reinterpret_cast<const char*>(mac), len));
}

std::string Sha256Hmac(absl::string_view key, absl::string_view body) {
  return HmacHex(EVP_sha256(), key, body);
}

using Headers = std::vector<std::pair<std::string, std::string>>;

WebhookRequest Post(Headers headers, const std::string& body) {
  WebhookRequest request;
  request.method = "POST";
  request.headers = std::move(headers);
  request.body = body;
  return request;
}

WebhookGitRepo Repo(std::string name, std::string url, std::string branch = "main",
                    std::string revision = "", std::string webhook_secret = "") {
  WebhookGitRepo gitrepo;
  gitrepo.name = std::move(name);
  gitrepo.repo = std::move(url);
  gitrepo.branch = std::move(branch);
  gitrepo.revision = std::move(revision);
  gitrepo.webhook_secret = std::move(webhook_secret);
  return gitrepo;
}

// The manager's secret store as the webhook sees it: NotFound for an absent
// name, and a count of lookups per name.
class FakeSecretStore {
 public:
  void Put(const std::string& name, WebhookSecretData data) { secrets_[name] = std::move(data); }
  void FailWith(absl::Status status) { failure_ = std::move(status); }
  int lookups(const std::string& name) const {
    auto it = lookups_.find(name);
    return it == lookups_.end() ? 0 : it->second;
  }

  WebhookSecretLookup Lookup() {
    return [this](absl::string_view name) -> absl::StatusOr<WebhookSecretData> {
      ++lookups_[std::string(name)];
      if (failure_.has_value()) return *failure_;
      auto it = secrets_.find(std::string(name));
      if (it == secrets_.end()) {
        return absl::NotFoundError(absl::StrCat("secret \"", name, "\" not found"));
      }
      return it->second;
    };
  }

 private:
  std::map<std::string, WebhookSecretData> secrets_;
  std::map<std::string, int> lookups_;
  std::optional<absl::Status> failure_;
};

// ---------------------------------------------------------------------------
// Payloads

// GitHub "push" for octo-org/fleet-examples. $0 ref, $1 after, $2 deleted.
std::string GitHubPush(absl::string_view ref = "refs/heads/main", absl::string_view after = kCommit,
                       bool deleted = false) {
  return absl::Substitute(R"({
  "ref": "$0",
  "before": "$3",
  "after": "$1",
  "created": false,
  "deleted": $2,
  "forced": false,
  "base_ref": null,
  "compare": "https://github.com/octo-org/fleet-examples/compare/6113728f27ae...0d1a26e67d8f",
  "commits": [
    {
      "id": "$1",
      "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
      "distinct": true,
      "message": "simple: bump nginx to 1.27",
      "timestamp": "2024-05-02T12:00:00+02:00",
      "url": "https://github.com/octo-org/fleet-examples/commit/$1",
      "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "monalisa"},
      "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
      "added": [],
      "removed": [],
      "modified": ["simple/deployment.yaml"]
    }
  ],
  "head_commit": {"id": "$1", "message": "simple: bump nginx to 1.27"},
  "repository": {
    "id": 35129377,
    "node_id": "MDEwOlJlcG9zaXRvcnkzNTEyOTM3Nw==",
    "name": "fleet-examples",
    "full_name": "octo-org/fleet-examples",
    "private": false,
    "owner": {"name": "octo-org", "login": "octo-org", "id": 6811672, "type": "Organization"},
    "html_url": "https://github.com/octo-org/fleet-examples",
    "url": "https://github.com/octo-org/fleet-examples",
    "git_url": "git://github.com/octo-org/fleet-examples.git",
    "ssh_url": "git@github.com:octo-org/fleet-examples.git",
    "clone_url": "https://github.com/octo-org/fleet-examples.git",
    "svn_url": "https://github.com/octo-org/fleet-examples",
    "default_branch": "main",
    "master_branch": "main"
  },
  "pusher": {"name": "monalisa", "email": "mona@example.com"},
  "sender": {"login": "monalisa", "id": 583231, "type": "User"}
})",
                          ref, after, deleted ? "true" : "false", kBefore);
}

std::string GitHubPing() {
  return R"({
  "zen": "Keep it logically awesome.",
  "hook_id": 123456,
  "hook": {
    "type": "Repository",
    "id": 123456,
    "name": "web",
    "active": true,
    "events": ["push"],
    "config": {
      "content_type": "json",
      "insecure_ssl": "0",
      "url": "https://flotilla.example.com/webhooks"
    }
  },
  "repository": {
    "full_name": "octo-org/fleet-examples",
    "html_url": "https://github.com/octo-org/fleet-examples"
  },
  "sender": {"login": "monalisa", "type": "User"}
})";
}

Headers GitHubHeaders(absl::string_view event, absl::string_view key, absl::string_view body) {
  Headers headers = {{"X-GitHub-Event", std::string(event)},
                     {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                     {"X-GitHub-Hook-ID", "123456"},
                     {"User-Agent", "GitHub-Hookshot/044aadd"},
                     {"Content-Type", "application/json"}};
  if (!key.empty()) {
    headers.emplace_back("X-Hub-Signature", "sha1=" + HmacHex(EVP_sha1(), key, body));
    headers.emplace_back("X-Hub-Signature-256", "sha256=" + Sha256Hmac(key, body));
  }
  return headers;
}

// GitLab "Push Hook" (object_kind push) or "Tag Push Hook" (tag_push) for
// platform/fleet/apps. $0 object_kind, $1 ref, $2 after, $3 checkout_sha (JSON).
std::string GitLabPush(
    absl::string_view kind = "push", absl::string_view ref = "refs/heads/main",
    absl::string_view after = kCommit,
    absl::string_view checkout_sha = "\"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c\"") {
  return absl::Substitute(R"({
  "object_kind": "$0",
  "event_name": "$0",
  "before": "$4",
  "after": "$2",
  "ref": "$1",
  "ref_protected": true,
  "checkout_sha": $3,
  "message": null,
  "user_id": 4,
  "user_name": "John Smith",
  "user_username": "jsmith",
  "user_email": "",
  "user_avatar": "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
  "project_id": 15,
  "project": {
    "id": 15,
    "name": "apps",
    "description": "Fleet bundles",
    "web_url": "https://gitlab.example.com/platform/fleet/apps",
    "avatar_url": null,
    "git_ssh_url": "git@gitlab.example.com:platform/fleet/apps.git",
    "git_http_url": "https://gitlab.example.com/platform/fleet/apps.git",
    "namespace": "fleet",
    "visibility_level": 0,
    "path_with_namespace": "platform/fleet/apps",
    "default_branch": "main",
    "ci_config_path": null,
    "homepage": "https://gitlab.example.com/platform/fleet/apps",
    "url": "git@gitlab.example.com:platform/fleet/apps.git",
    "ssh_url": "git@gitlab.example.com:platform/fleet/apps.git",
    "http_url": "https://gitlab.example.com/platform/fleet/apps.git"
  },
  "commits": [
    {
      "id": "$2",
      "message": "Update Catalan translation to e38cb41.\n",
      "title": "Update Catalan translation to e38cb41.",
      "timestamp": "2011-12-12T14:27:31+02:00",
      "url": "https://gitlab.example.com/platform/fleet/apps/-/commit/$2",
      "author": {"name": "Jordi Mallach", "email": "jordi@softcatala.org"},
      "added": ["CHANGELOG"],
      "modified": ["app/controller/application.rb"],
      "removed": []
    }
  ],
  "total_commits_count": 1,
  "repository": {
    "name": "apps",
    "url": "git@gitlab.example.com:platform/fleet/apps.git",
    "description": "Fleet bundles",
    "homepage": "https://gitlab.example.com/platform/fleet/apps",
    "git_http_url": "https://gitlab.example.com/platform/fleet/apps.git",
    "git_ssh_url": "git@gitlab.example.com:platform/fleet/apps.git",
    "visibility_level": 0
  }
})",
                          kind, ref, after, checkout_sha, kBefore);
}

Headers GitLabHeaders(absl::string_view event, absl::string_view token) {
  Headers headers = {{"X-Gitlab-Event", std::string(event)},
                     {"X-Gitlab-Instance", "https://gitlab.example.com"},
                     {"X-Gitlab-Webhook-UUID", "9cdcc2ac-ad61-4b12-a6be-2e5a6e2b0a8b"},
                     {"User-Agent", "GitLab/16.11.0"},
                     {"Content-Type", "application/json"}};
  if (!token.empty()) headers.emplace_back("X-Gitlab-Token", std::string(token));
  return headers;
}

// Gitea's (and Gogs') push payload for ops/fleet-config.
std::string GiteaPush() {
  return absl::Substitute(R"({
  "ref": "refs/heads/main",
  "before": "$1",
  "after": "$0",
  "compare_url": "https://gitea.example.com/ops/fleet-config/compare/6113728f27ae...0d1a26e67d8f",
  "commits": [
    {
      "id": "$0",
      "message": "helm: raise replicas\n",
      "url": "https://gitea.example.com/ops/fleet-config/commit/$0",
      "author": {"name": "ops", "email": "ops@example.com", "username": "ops"},
      "committer": {"name": "ops", "email": "ops@example.com", "username": "ops"},
      "verification": null,
      "timestamp": "2024-05-02T12:00:00Z",
      "added": [],
      "removed": [],
      "modified": ["helm/values.yaml"]
    }
  ],
  "total_commits": 1,
  "head_commit": {"id": "$0", "message": "helm: raise replicas\n"},
  "repository": {
    "id": 7,
    "owner": {"id": 2, "login": "ops", "email": "ops@example.com", "username": "ops"},
    "name": "fleet-config",
    "full_name": "ops/fleet-config",
    "description": "",
    "empty": false,
    "private": true,
    "fork": false,
    "html_url": "https://gitea.example.com/ops/fleet-config",
    "ssh_url": "ssh://git@gitea.example.com:2222/ops/fleet-config.git",
    "clone_url": "https://gitea.example.com/ops/fleet-config.git",
    "default_branch": "main"
  },
  "pusher": {"id": 2, "login": "ops", "username": "ops"},
  "sender": {"id": 2, "login": "ops", "username": "ops"}
})",
                          kCommit, kBefore);
}

// Gitea 1.21 sends its own, the Gogs and the GitHub headers together.
Headers GiteaHeaders(absl::string_view key, absl::string_view body) {
  std::string sig = Sha256Hmac(key, body);
  return {{"X-Gitea-Event", "push"},
          {"X-Gitea-Event-Type", "push"},
          {"X-Gitea-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"},
          {"X-Gitea-Signature", sig},
          {"X-Gogs-Event", "push"},
          {"X-Gogs-Event-Type", "push"},
          {"X-Gogs-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"},
          {"X-Gogs-Signature", sig},
          {"X-GitHub-Event", "push"},
          {"X-GitHub-Event-Type", "push"},
          {"X-GitHub-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"},
          {"X-Hub-Signature", "sha1=" + HmacHex(EVP_sha1(), key, body)},
          {"X-Hub-Signature-256", "sha256=" + sig},
          {"Content-Type", "application/json"}};
}

// Bitbucket Cloud repo:push for acme/fleet-config; `change` is the JSON of
// push.changes[0].
std::string BitbucketPush(absl::string_view change) {
  return absl::Substitute(R"({
  "actor": {
    "display_name": "Emma",
    "uuid": "{a54f16da-24e9-4d7f-a3a7-b1ba2cd98aa3}",
    "type": "user",
    "nickname": "emmap1",
    "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443"
  },
  "repository": {
    "type": "repository",
    "full_name": "acme/fleet-config",
    "name": "fleet-config",
    "uuid": "{b0a5a4a9-2f1a-4c1a-8b5e-2f3c5c0e7d11}",
    "is_private": true,
    "scm": "git",
    "links": {
      "self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/fleet-config"},
      "html": {"href": "https://bitbucket.org/acme/fleet-config"},
      "avatar": {"href": "https://bytebucket.org/ravatar/%7Bb0a5a4a9%7D?ts=default"}
    },
    "workspace": {"slug": "acme", "type": "workspace"},
    "project": {"key": "OPS", "type": "project"}
  },
  "push": {"changes": [$0]}
})",
                          change);
}

std::string BitbucketChange(absl::string_view type = "branch", absl::string_view name = "main") {
  return absl::Substitute(R"({
      "new": {
        "type": "$0",
        "name": "$1",
        "target": {
          "type": "commit",
          "hash": "$2",
          "message": "Bump chart\n",
          "date": "2024-05-02T10:00:00+00:00"
        },
        "links": {"html": {"href": "https://bitbucket.org/acme/fleet-config/branch/$1"}}
      },
      "old": {
        "type": "$0",
        "name": "$1",
        "target": {"type": "commit", "hash": "$3"}
      },
      "created": false,
      "forced": false,
      "closed": false,
      "truncated": false,
      "commits": [{"hash": "$2", "type": "commit", "message": "Bump chart\n"}]
    })",
                          type, name, kCommit, kBefore);
}

constexpr char kHookUuid[] = "cb4b3d54-3b3c-4d3f-9c2f-6a1f8a0e5d21";

Headers BitbucketHeaders(absl::string_view event = "repo:push",
                         absl::string_view uuid = kHookUuid) {
  return {{"X-Event-Key", std::string(event)},
          {"X-Hook-UUID", std::string(uuid)},
          {"X-Request-UUID", "afa5b8c1-7d7e-4b8a-9bfb-1a7e7a2fe5a0"},
          {"X-Attempt-Number", "1"},
          {"User-Agent", "Bitbucket-Webhooks/2.0"},
          {"Content-Type", "application/json"}};
}

// Bitbucket Server repo:refs_changed for project OPS, repository fleet-config.
std::string BitbucketServerPush(absl::string_view to_hash = kCommit,
                                absl::string_view type = "UPDATE") {
  return absl::Substitute(R"({
  "eventKey": "repo:refs_changed",
  "date": "2024-05-02T12:00:00+0200",
  "actor": {
    "name": "admin",
    "emailAddress": "admin@example.com",
    "id": 1,
    "displayName": "Administrator",
    "active": true,
    "slug": "admin",
    "type": "NORMAL"
  },
  "repository": {
    "slug": "fleet-config",
    "id": 84,
    "name": "fleet-config",
    "hierarchyId": "af05451fc6eb4bbfc7a0",
    "scmId": "git",
    "state": "AVAILABLE",
    "statusMessage": "Available",
    "forkable": true,
    "project": {"key": "OPS", "id": 84, "name": "Operations", "public": false, "type": "NORMAL"},
    "public": false,
    "links": {
      "clone": [
        {"href": "ssh://git@bitbucket.example.com:7999/ops/fleet-config.git", "name": "ssh"},
        {"href": "https://bitbucket.example.com/scm/ops/fleet-config.git", "name": "http"}
      ],
      "self": [{"href": "https://bitbucket.example.com/projects/OPS/repos/fleet-config/browse"}]
    }
  },
  "changes": [
    {
      "ref": {"id": "refs/heads/main", "displayId": "main", "type": "BRANCH"},
      "refId": "refs/heads/main",
      "fromHash": "$2",
      "toHash": "$0",
      "type": "$1"
    }
  ]
})",
                          to_hash, type, kBefore);
}

Headers BitbucketServerHeaders(absl::string_view event, absl::string_view key,
                               absl::string_view body) {
  Headers headers = {{"X-Event-Key", std::string(event)},
                     {"X-Request-Id", "b2b9a8b5-6a3b-4c2d-9f57-5d1f3e7c2a10"},
                     {"User-Agent", "Atlassian HttpClient 3.0.4 / Bitbucket-8.9.0"},
                     {"Content-Type", "application/json; charset=utf-8"}};
  if (!key.empty()) headers.emplace_back("X-Hub-Signature", "sha256=" + Sha256Hmac(key, body));
  return headers;
}

// Azure DevOps service hook git.push. $0 eventType, $1 remoteUrl.
std::string AzurePush(absl::string_view remote_url, absl::string_view event_type = "git.push") {
  return absl::Substitute(R"({
  "subscriptionId": "00000000-0000-0000-0000-000000000000",
  "notificationId": 3,
  "id": "03c164c2-8912-4d5e-8009-3707d5f83734",
  "eventType": "$0",
  "publisherId": "tfs",
  "message": {"text": "Jamal Hartnett pushed updates to Fabrikam-Fiber-Git:main."},
  "detailedMessage": {"text": "Jamal Hartnett pushed a commit to Fabrikam-Fiber-Git:main."},
  "resource": {
    "commits": [
      {
        "commitId": "$2",
        "author": {
          "name": "Jamal Hartnett",
          "email": "fabrikamfiber4@hotmail.com",
          "date": "2015-02-25T19:01:00Z"
        },
        "committer": {
          "name": "Jamal Hartnett",
          "email": "fabrikamfiber4@hotmail.com",
          "date": "2015-02-25T19:01:00Z"
        },
        "comment": "Fixed bug in web.config file",
        "url": "https://dev.azure.com/fabrikam/_git/Fabrikam-Fiber-Git/commit/$2"
      }
    ],
    "refUpdates": [{"name": "refs/heads/main", "oldObjectId": "$3", "newObjectId": "$2"}],
    "repository": {
      "id": "278d5cd2-584d-4b63-824a-2ba458937249",
      "name": "Fabrikam-Fiber-Git",
      "url": "https://dev.azure.com/fabrikam/_apis/git/repositories/278d5cd2",
      "project": {
        "id": "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
        "name": "Fiber",
        "state": "wellFormed",
        "visibility": "private"
      },
      "defaultBranch": "refs/heads/main",
      "remoteUrl": "$1"
    },
    "pushedBy": {
      "displayName": "Jamal Hartnett",
      "id": "00067FFED5C7AF52@Live.com",
      "uniqueName": "fabrikamfiber4@hotmail.com"
    },
    "pushId": 14,
    "date": "2014-05-02T19:17:13.3309587Z",
    "url": "https://dev.azure.com/fabrikam/_apis/git/repositories/278d5cd2/pushes/14"
  },
  "resourceVersion": "1.0",
  "resourceContainers": {
    "collection": {"id": "c12d0eb8", "baseUrl": "https://dev.azure.com/fabrikam/"},
    "account": {"id": "f844ec47", "baseUrl": "https://dev.azure.com/fabrikam/"},
    "project": {"id": "be9b3917", "baseUrl": "https://dev.azure.com/fabrikam/"}
  },
  "createdDate": "2024-05-02T12:00:00.0379153Z"
})",
                          event_type, remote_url, kCommit, kBefore);
}

Headers AzureHeaders(absl::string_view user, absl::string_view password) {
  Headers headers = {{"X-VSS-ActivityId", "0b3e8d1b-0b0e-4f2c-9a53-8f4b7e0d9a11"},
                     {"X-VSS-SubscriptionId", "00000000-0000-0000-0000-000000000000"},
                     {"Content-Type", "application/json; charset=utf-8"}};
  if (!user.empty() || !password.empty()) {
    headers.emplace_back("Authorization",
                         "Basic " + common::Base64Encode(absl::StrCat(user, ":", password)));
  }
  return headers;
}

// ---------------------------------------------------------------------------
// GitHub

// The GitRepo follows the pushed repository and branch and has its own
// secret; another GitRepo follows a different repository.
TEST_CASE("A signed GitHub push triggers the GitRepo that follows the pushed branch") {
  FakeSecretStore secrets;
  secrets.Put("examples-hook", {{"github", "s3cr3t-github"}});
  const std::string body = GitHubPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("examples", kGitHubRepo, "main", "", "examples-hook"),
      Repo("other", "https://github.com/octo-org/other-repo")};

  WebhookOutcome outcome = Unwrap(HandleWebhook(
      Post(GitHubHeaders("push", "s3cr3t-github", body), body), gitrepos, secrets.Lookup()));

  CHECK(outcome.event.provider == WebhookProvider::kGitHub);
  CHECK(outcome.event.event == "push");
  CHECK(outcome.event.ref == "refs/heads/main");
  CHECK(outcome.event.branch == "main");
  CHECK(outcome.event.tag.empty());
  CHECK(outcome.event.commit == kCommit);
  CHECK(outcome.event.repo_urls ==
        std::vector<std::string>{"https://github.com/octo-org/fleet-examples",
                                 "https://github.com/octo-org/fleet-examples.git",
                                 "git@github.com:octo-org/fleet-examples.git"});
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].gitrepo == "examples");
  CHECK(outcome.fetch[0].commit == kCommit);
  CHECK(outcome.fetch[0].verified);
  CHECK(outcome.fetch[0].secret == "examples-hook");
  CHECK_FALSE(outcome.AnyUnverified());
  CHECK(outcome.message == "fetching examples for refs/heads/main 0d1a26e67d8f");
}

// Fleet answers GitHub's ping before reading the body or any secret.
TEST_CASE("GitHub's ping is answered without a signature and triggers nothing") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "global"}});
  const std::string body = GitHubPing();
  WebhookOutcome outcome = Unwrap(HandleWebhook(Post(GitHubHeaders("ping", "", body), body),
                                                {Repo("examples", kGitHubRepo)}, secrets.Lookup()));
  CHECK(outcome.event.ping);
  CHECK(outcome.fetch.empty());
  CHECK(outcome.message == "ping from GitHub received");
  CHECK(secrets.lookups(kGlobalWebhookSecretName) == 0);
}

// A sender that does not know the secret signs with another one.
TEST_CASE("A GitHub push signed with the wrong secret is Unauthenticated") {
  FakeSecretStore secrets;
  secrets.Put("examples-hook", {{"github", "s3cr3t-github"}});
  const std::string body = GitHubPush();
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post(GitHubHeaders("push", "guessed", body), body),
                    {Repo("examples", kGitHubRepo, "main", "", "examples-hook")}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(outcome.status().message()) ==
        "GitRepo \"examples\": GitHub webhook: X-Hub-Signature-256 does not match the body signed "
        "with key \"github\" of secret \"examples-hook\"");
}

// The signature covers the exact bytes: a forged body with a replayed
// signature fails.
TEST_CASE("A GitHub push whose body was changed after signing is Unauthenticated") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "s3cr3t-github"}});
  const std::string signed_body = GitHubPush();
  const std::string forged =
      GitHubPush("refs/heads/main", "1111111111111111111111111111111111111111");
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post(GitHubHeaders("push", "s3cr3t-github", signed_body), forged),
                    {Repo("examples", kGitHubRepo)}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(outcome.status().message()), Contains("does not match"));
}

// Fleet (go-playground/webhooks github.go) reads only X-Hub-Signature-256.
TEST_CASE("A GitHub push with only the SHA-1 signature is Unauthenticated") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "s3cr3t-github"}});
  const std::string body = GitHubPush();
  Headers headers = GitHubHeaders("push", "", body);
  headers.emplace_back("X-Hub-Signature", "sha1=" + HmacHex(EVP_sha1(), "s3cr3t-github", body));
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post(headers, body), {Repo("examples", kGitHubRepo)}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(outcome.status().message()) ==
        "GitRepo \"examples\": GitHub webhook: no X-Hub-Signature-256 header, but secret "
        "\"gitjob-webhook\" requires one (the SHA-1 X-Hub-Signature is not accepted)");
}

TEST_CASE("A malformed GitHub signature is Unauthenticated") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "s3cr3t-github"}});
  const std::string body = GitHubPush();
  const std::string good = Sha256Hmac("s3cr3t-github", body);
  for (const std::string& bad : {std::string("sha256=not-hex"), "sha256=" + good.substr(0, 40),
                                 "sha256=" + good + "00", std::string("sha256=")}) {
    INFO(bad);
    Headers headers = GitHubHeaders("push", "", body);
    headers.emplace_back("X-Hub-Signature-256", bad);
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(headers, body), {Repo("examples", kGitHubRepo)}, secrets.Lookup());
    REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(outcome.status().message()),
               Contains("X-Hub-Signature-256 is not a hex HMAC-SHA256"));
  }
  // Without the "sha256=" prefix and in upper case the same MAC still verifies
  // (go-playground/webhooks trims an optional prefix).
  Headers bare = GitHubHeaders("push", "", body);
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bare.emplace_back("X-Hub-Signature-256", upper);
  CHECK(HandleWebhook(Post(bare, body), {Repo("examples", kGitHubRepo)}, secrets.Lookup()).ok());
}

// Fleet still accepts hooks for GitRepos without any secret (deprecated,
// rancher/fleet#5297); the trigger says "unverified" so the caller can warn.
TEST_CASE("A push for a GitRepo without any secret is accepted and marked unverified") {
  FakeSecretStore secrets;  // no GitRepo secret, no gitjob-webhook
  const std::string body = GitHubPush();
  WebhookOutcome outcome = Unwrap(HandleWebhook(Post(GitHubHeaders("push", "", body), body),
                                                {Repo("examples", kGitHubRepo)}, secrets.Lookup()));
  REQUIRE(outcome.fetch.size() == 1);
  CHECK_FALSE(outcome.fetch[0].verified);
  CHECK(outcome.fetch[0].secret.empty());
  CHECK(outcome.AnyUnverified());
  CHECK(outcome.message == "fetching examples (unverified) for refs/heads/main 0d1a26e67d8f");
  CHECK(secrets.lookups(kGlobalWebhookSecretName) == 1);
}

// Fleet's getSecret: the GitRepo's webhookSecret, else the global secret.
TEST_CASE("The global secret verifies GitRepos without their own; a GitRepo secret wins") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "global-secret"}});
  secrets.Put("own", {{"github", "own-secret"}});
  const std::string body = GitHubPush();

  SECTION("global") {
    WebhookOutcome outcome = Unwrap(HandleWebhook(
        Post(GitHubHeaders("push", "global-secret", body), body),
        {Repo("a", kGitHubRepo), Repo("b", kGitHubRepo + std::string(".git"))}, secrets.Lookup()));
    REQUIRE(outcome.fetch.size() == 2);
    CHECK(outcome.fetch[0].secret == kGlobalWebhookSecretName);
    CHECK(outcome.fetch[1].secret == kGlobalWebhookSecretName);
    // One lookup however many GitRepos share the secret.
    CHECK(secrets.lookups(kGlobalWebhookSecretName) == 1);
  }
  SECTION("own") {
    WebhookOutcome outcome =
        Unwrap(HandleWebhook(Post(GitHubHeaders("push", "own-secret", body), body),
                             {Repo("a", kGitHubRepo, "main", "", "own")}, secrets.Lookup()));
    REQUIRE(outcome.fetch.size() == 1);
    CHECK(outcome.fetch[0].secret == "own");
    CHECK(secrets.lookups(kGlobalWebhookSecretName) == 0);
  }
  SECTION("a global-signed hook does not pass a GitRepo with its own secret") {
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(GitHubHeaders("push", "global-secret", body), body),
                      {Repo("a", kGitHubRepo, "main", "", "own")}, secrets.Lookup());
    CHECK(outcome.status().code() == absl::StatusCode::kUnauthenticated);
  }
  SECTION("the integrator can switch the global secret off") {
    WebhookOutcome outcome =
        Unwrap(HandleWebhook(Post(GitHubHeaders("push", "", body), body), {Repo("a", kGitHubRepo)},
                             secrets.Lookup(), /*global_secret_name=*/""));
    REQUIRE(outcome.fetch.size() == 1);
    CHECK_FALSE(outcome.fetch[0].verified);
  }
}

// Fleet: "when the secret has been defined in the GitRepo it must exist".
TEST_CASE("A GitRepo whose webhookSecret does not exist fails with FailedPrecondition") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post(GitHubHeaders("push", "whatever", body), body),
                    {Repo("examples", kGitHubRepo, "main", "", "missing-hook")}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(outcome.status().message()) ==
        "GitRepo \"examples\": webhookSecret \"missing-hook\" does not exist (create it with "
        "`flotilla secret create generic missing-hook --from-literal github=<secret>`)");
}

TEST_CASE("A secret without the provider's key, or with an empty one, is FailedPrecondition") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  SECTION("missing key") {
    secrets.Put("hook", {{"gitlab", "token"}});
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(GitHubHeaders("push", "token", body), body),
                      {Repo("examples", kGitHubRepo, "main", "", "hook")}, secrets.Lookup());
    REQUIRE(outcome.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(outcome.status().message()) ==
          "GitRepo \"examples\": secret \"hook\" has no key \"github\", which verifies GitHub "
          "hooks");
  }
  // go-playground/webhooks skips the check for an empty secret; Flotilla
  // treats it as a mistake instead.
  SECTION("empty key") {
    secrets.Put("hook", {{"github", ""}});
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(GitHubHeaders("push", "", body), body),
                      {Repo("examples", kGitHubRepo, "main", "", "hook")}, secrets.Lookup());
    REQUIRE(outcome.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(outcome.status().message()),
               Contains("key \"github\" of secret \"hook\" is empty"));
  }
}

TEST_CASE("A secret store failure is passed on and triggers nothing") {
  FakeSecretStore secrets;
  secrets.FailWith(absl::UnavailableError("database is locked"));
  const std::string body = GitHubPush();
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post(GitHubHeaders("push", "", body), body), {Repo("examples", kGitHubRepo)},
                    secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(outcome.status().message()) ==
        "GitRepo \"examples\": looking up webhook secret \"gitjob-webhook\": database is locked");
}

// Two GitRepos follow the repository: one has no secret (would be accepted
// unverified), the other has one the unsigned hook cannot satisfy. Fleet would
// have patched the first before failing on the second; Flotilla triggers none.
TEST_CASE("When one matched GitRepo fails authentication no GitRepo is triggered") {
  FakeSecretStore secrets;
  secrets.Put("guarded-hook", {{"github", "s3cr3t"}});
  const std::string body = GitHubPush();
  absl::StatusOr<WebhookOutcome> outcome = HandleWebhook(
      Post(GitHubHeaders("push", "", body), body),
      {Repo("open", kGitHubRepo), Repo("guarded", kGitHubRepo, "main", "", "guarded-hook")},
      secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(outcome.status().message()), Contains("GitRepo \"guarded\""));
}

// ---------------------------------------------------------------------------
// GitLab

TEST_CASE("A GitLab push with the right X-Gitlab-Token triggers the GitRepo") {
  FakeSecretStore secrets;
  secrets.Put("apps-hook", {{"gitlab", "glwt-token-123"}});
  const std::string body = GitLabPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("apps", "git@gitlab.example.com:platform/fleet/apps.git", "main", "", "apps-hook")};

  WebhookOutcome outcome = Unwrap(HandleWebhook(
      Post(GitLabHeaders("Push Hook", "glwt-token-123"), body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kGitLab);
  CHECK(outcome.event.branch == "main");
  CHECK(outcome.event.commit == kCommit);
  CHECK(outcome.event.repo_urls ==
        std::vector<std::string>{"https://gitlab.example.com/platform/fleet/apps",
                                 "https://gitlab.example.com/platform/fleet/apps.git",
                                 "git@gitlab.example.com:platform/fleet/apps.git"});
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].verified);
}

TEST_CASE("A GitLab push with a wrong or missing X-Gitlab-Token is Unauthenticated") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"gitlab", "glwt-token-123"}});
  const std::string body = GitLabPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("apps", "https://gitlab.example.com/platform/fleet/apps")};

  SECTION("mismatch, including a prefix of the token") {
    for (const char* token : {"glwt-token-124", "glwt-token-12", "glwt-token-1234"}) {
      INFO(token);
      absl::StatusOr<WebhookOutcome> outcome =
          HandleWebhook(Post(GitLabHeaders("Push Hook", token), body), gitrepos, secrets.Lookup());
      REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
      CHECK(std::string(outcome.status().message()) ==
            "GitRepo \"apps\": GitLab webhook: X-Gitlab-Token does not match key \"gitlab\" of "
            "secret \"gitjob-webhook\"");
    }
  }
  SECTION("missing") {
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(GitLabHeaders("Push Hook", ""), body), gitrepos, secrets.Lookup());
    REQUIRE(outcome.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(outcome.status().message()), Contains("no X-Gitlab-Token header"));
  }
}

// Fleet compares only branches: a tag push leaves branch "" so GitRepos that
// follow a branch are skipped; one with an empty branch is triggered.
TEST_CASE("A GitLab tag push names the tag and triggers only branchless GitRepos") {
  FakeSecretStore secrets;
  const std::string body = GitLabPush("tag_push", "refs/tags/v1.4.0");
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("on-main", "https://gitlab.example.com/platform/fleet/apps"),
      Repo("any-branch", "https://gitlab.example.com/platform/fleet/apps", "")};
  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(GitLabHeaders("Tag Push Hook", ""), body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.tag == "v1.4.0");
  CHECK(outcome.event.branch.empty());
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].gitrepo == "any-branch");
  REQUIRE(outcome.skipped.size() == 1);
  CHECK(outcome.skipped[0].gitrepo == "on-main");
  CHECK(outcome.skipped[0].reason == "follows branch main; the push was to refs/tags/v1.4.0");
}

// ---------------------------------------------------------------------------
// Gitea and Gogs

// Gitea also sends X-GitHub-Event and X-Hub-Signature-256; like Fleet the Gogs
// headers are read first, so the gogs key verifies it (no github key needed).
TEST_CASE("A Gitea push is read as a Gogs hook and verified with the gogs key") {
  FakeSecretStore secrets;
  secrets.Put("config-hook", {{"gogs", "gitea-secret"}});
  const std::string body = GiteaPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("config", "ssh://git@gitea.example.com:2222/ops/fleet-config.git", "main", "",
           "config-hook")};

  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(GiteaHeaders("gitea-secret", body), body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kGitea);
  CHECK(outcome.event.commit == kCommit);
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].verified);

  absl::StatusOr<WebhookOutcome> forged =
      HandleWebhook(Post(GiteaHeaders("not-the-secret", body), body), gitrepos, secrets.Lookup());
  REQUIRE(forged.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(forged.status().message()),
             Contains("Gitea webhook: X-Gogs-Signature does not match"));
}

TEST_CASE("A Gogs push is verified by X-Gogs-Signature, a bare hex HMAC-SHA256") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"gogs", "gogs-secret"}});
  const std::string body = GiteaPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("config", "https://gitea.example.com/ops/fleet-config")};
  Headers headers = {{"X-Gogs-Event", "push"},
                     {"X-Gogs-Delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"},
                     {"X-Gogs-Signature", Sha256Hmac("gogs-secret", body)}};
  WebhookOutcome outcome = Unwrap(HandleWebhook(Post(headers, body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kGogs);
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].verified);

  headers.pop_back();
  absl::StatusOr<WebhookOutcome> unsigned_hook =
      HandleWebhook(Post(headers, body), gitrepos, secrets.Lookup());
  REQUIRE(unsigned_hook.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(unsigned_hook.status().message()),
             Contains("no X-Gogs-Signature or X-Gitea-Signature header"));
}

// ---------------------------------------------------------------------------
// Bitbucket

// Fleet (go-playground/webhooks bitbucket.go) checks only that X-Hook-UUID
// equals the bitbucket key; Bitbucket Cloud's payload carries no clone URLs.
TEST_CASE("A Bitbucket Cloud push is verified by its hook UUID") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"bitbucket", kHookUuid}});
  const std::string body = BitbucketPush(BitbucketChange());
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("config", "git@bitbucket.org:acme/fleet-config.git")};

  WebhookOutcome outcome =
      Unwrap(HandleWebhook(Post(BitbucketHeaders(), body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kBitbucket);
  CHECK(outcome.event.ref == "refs/heads/main");
  CHECK(outcome.event.commit == kCommit);
  CHECK(outcome.event.repo_urls ==
        std::vector<std::string>{"https://bitbucket.org/acme/fleet-config"});
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].verified);

  absl::StatusOr<WebhookOutcome> other_hook = HandleWebhook(
      Post(BitbucketHeaders("repo:push", "00000000-3b3c-4d3f-9c2f-6a1f8a0e5d21"), body), gitrepos,
      secrets.Lookup());
  REQUIRE(other_hook.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(other_hook.status().message()),
             Contains("Bitbucket Cloud webhook: X-Hook-UUID does not match key \"bitbucket\""));
}

TEST_CASE("A Bitbucket Server push is verified by X-Hub-Signature and matches both clone URLs") {
  FakeSecretStore secrets;
  secrets.Put("bbs-hook", {{"bitbucket-server", "bbs-secret"}});
  const std::string body = BitbucketServerPush();
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("over-https", "https://bitbucket.example.com/scm/ops/fleet-config.git", "main", "",
           "bbs-hook"),
      Repo("over-ssh", "ssh://git@bitbucket.example.com:7999/OPS/fleet-config.git", "main", "",
           "bbs-hook")};

  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(BitbucketServerHeaders("repo:refs_changed", "bbs-secret", body), body),
                    gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kBitbucketServer);
  CHECK(outcome.event.branch == "main");
  CHECK(outcome.event.commit == kCommit);
  CHECK(outcome.event.repo_urls ==
        std::vector<std::string>{"ssh://git@bitbucket.example.com:7999/ops/fleet-config.git",
                                 "https://bitbucket.example.com/scm/ops/fleet-config.git"});
  REQUIRE(outcome.fetch.size() == 2);
  CHECK(outcome.fetch[0].gitrepo == "over-https");
  CHECK(outcome.fetch[1].gitrepo == "over-ssh");

  SECTION("missing signature") {
    absl::StatusOr<WebhookOutcome> bad =
        HandleWebhook(Post(BitbucketServerHeaders("repo:refs_changed", "", body), body), gitrepos,
                      secrets.Lookup());
    REQUIRE(bad.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(bad.status().message()), Contains("no X-Hub-Signature header"));
  }
  SECTION("signature without the sha256= prefix") {
    Headers headers = BitbucketServerHeaders("repo:refs_changed", "", body);
    headers.emplace_back("X-Hub-Signature", Sha256Hmac("bbs-secret", body));
    absl::StatusOr<WebhookOutcome> bad =
        HandleWebhook(Post(headers, body), gitrepos, secrets.Lookup());
    REQUIRE(bad.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(bad.status().message()),
               Contains("X-Hub-Signature does not start with \"sha256=\""));
  }
}

TEST_CASE("Bitbucket Server's diagnostics:ping is answered and triggers nothing") {
  FakeSecretStore secrets;
  const std::string body = R"({"test": true})";
  WebhookOutcome outcome = Unwrap(HandleWebhook(
      Post(BitbucketServerHeaders("diagnostics:ping", "", body), body), {}, secrets.Lookup()));
  CHECK(outcome.event.ping);
  CHECK(outcome.message == "ping from Bitbucket Server received");
}

// ---------------------------------------------------------------------------
// Azure DevOps

TEST_CASE("An Azure DevOps git.push is verified by basic authentication") {
  FakeSecretStore secrets;
  secrets.Put("azure-hook", {{"azure-username", "fleet"}, {"azure-password", "pa55word"}});
  const std::string body =
      AzurePush("https://fabrikam@dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git");
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("https", "https://dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git", "main", "",
           "azure-hook"),
      Repo("ssh", "git@ssh.dev.azure.com:v3/fabrikam/Fiber/Fabrikam-Fiber-Git", "main", "",
           "azure-hook")};

  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(AzureHeaders("fleet", "pa55word"), body), gitrepos, secrets.Lookup()));
  CHECK(outcome.event.provider == WebhookProvider::kAzureDevOps);
  CHECK(outcome.event.event == "git.push");
  CHECK(outcome.event.branch == "main");
  CHECK(outcome.event.commit == kCommit);
  REQUIRE(outcome.fetch.size() == 2);
  CHECK(outcome.fetch[0].verified);
  CHECK(outcome.fetch[1].verified);

  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"fleet", "wrong"}, {"other", "pa55word"}, {"fleet", "pa55word2"}}) {
    INFO(user << ":" << password);
    absl::StatusOr<WebhookOutcome> bad =
        HandleWebhook(Post(AzureHeaders(user, password), body), gitrepos, secrets.Lookup());
    REQUIRE(bad.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(bad.status().message()),
               Contains("Azure DevOps webhook: basic authentication does not match"));
  }
  absl::StatusOr<WebhookOutcome> anonymous =
      HandleWebhook(Post(AzureHeaders("", ""), body), gitrepos, secrets.Lookup());
  REQUIRE(anonymous.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(anonymous.status().message()), Contains("no Authorization header"));
}

// Fleet rewrites https://ORG.visualstudio.com/... to https://dev.azure.com/ORG/...
TEST_CASE("An Azure DevOps push from a visualstudio.com URL matches the dev.azure.com GitRepo") {
  FakeSecretStore secrets;
  const std::string body =
      AzurePush("https://fabrikam.visualstudio.com/Fiber/_git/Fabrikam-Fiber-Git");
  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(AzureHeaders("", ""), body),
                    {Repo("fiber", "https://dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git")},
                    secrets.Lookup()));
  CHECK(outcome.event.repo_urls ==
        std::vector<std::string>{"https://fabrikam.visualstudio.com/Fiber/_git/Fabrikam-Fiber-Git",
                                 "https://dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git"});
  REQUIRE(outcome.fetch.size() == 1);
  CHECK_FALSE(outcome.fetch[0].verified);
}

// ---------------------------------------------------------------------------
// Matching

TEST_CASE("A push to another branch skips a GitRepo that follows a different branch") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush("refs/heads/feature/login");
  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(GitHubHeaders("push", "", body), body),
                    {Repo("prod", kGitHubRepo, "main"), Repo("dev", kGitHubRepo, "feature/login")},
                    secrets.Lookup()));
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].gitrepo == "dev");
  REQUIRE(outcome.skipped.size() == 1);
  CHECK(outcome.skipped[0].gitrepo == "prod");
  CHECK(outcome.skipped[0].reason ==
        "follows branch main; the push was to refs/heads/feature/login");
}

// Fleet skips GitRepos with spec.revision before anything else: a pinned
// GitRepo never moves because of a push.
TEST_CASE("A GitRepo pinned to a revision is never triggered") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  WebhookOutcome outcome =
      Unwrap(HandleWebhook(Post(GitHubHeaders("push", "", body), body),
                           {Repo("pinned", kGitHubRepo, "main", "v1.2.0")}, secrets.Lookup()));
  CHECK(outcome.fetch.empty());
  REQUIRE(outcome.skipped.size() == 1);
  CHECK(outcome.skipped[0].reason == "pinned to revision v1.2.0");
  CHECK(outcome.message == "no GitRepo to fetch: 1 follow the repository but were skipped");
  // Nothing to authenticate for: no secret was looked up.
  CHECK(secrets.lookups(kGlobalWebhookSecretName) == 0);
}

// Fleet: no update when status.webhookCommit already equals the commit
// (redelivered hooks).
TEST_CASE("A commit the GitRepo already knows triggers nothing") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  WebhookGitRepo gitrepo = Repo("examples", kGitHubRepo);
  gitrepo.known_commit = kCommit;
  WebhookOutcome outcome = Unwrap(
      HandleWebhook(Post(GitHubHeaders("push", "", body), body), {gitrepo}, secrets.Lookup()));
  CHECK(outcome.fetch.empty());
  REQUIRE(outcome.skipped.size() == 1);
  CHECK(outcome.skipped[0].reason == absl::StrCat("already at ", kCommit));
}

// html_url, clone_url and ssh_url all name the GitRepo: it is triggered once.
TEST_CASE("A GitRepo matched by several payload URLs is triggered once") {
  const std::string body = GitHubPush();
  WebhookEvent event = Unwrap(ParseWebhookEvent(Post(GitHubHeaders("push", "", body), body)));
  std::vector<WebhookGitRepo> gitrepos = {
      Repo("examples", "git@github.com:octo-org/fleet-examples.git"),
      Repo("elsewhere", "https://github.com/octo-org/other")};
  WebhookMatch match = MatchWebhookGitRepos(event, gitrepos);
  REQUIRE(match.fetch.size() == 1);
  CHECK(match.fetch[0] == &gitrepos[0]);
  CHECK(match.skipped.empty());
}

TEST_CASE("No GitRepo following the repository is a quiet OK") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  WebhookOutcome outcome = Unwrap(HandleWebhook(
      Post(GitHubHeaders("push", "", body), body),
      {Repo("other", "https://github.com/octo-org/fleet-examples-2")}, secrets.Lookup()));
  CHECK(outcome.fetch.empty());
  CHECK(outcome.skipped.empty());
  CHECK(outcome.message == "no GitRepo follows https://github.com/octo-org/fleet-examples");
}

// Fleet's regex (pkg/webhook/webhook.go) from the payload URL's host and path:
// (?i)(http://|https://|\w+@|ssh://(\w+@)?|git@(ssh\.)?)HOST(:[0-9]+|)[:/](v\d/)?PATH(\.git)?$
TEST_CASE("Repository URLs match across schemes, users, ports, .git, trailing slash and case") {
  const std::string payload = kGitHubRepo;
  for (const char* gitrepo : {
           "https://github.com/octo-org/fleet-examples",
           "https://github.com/octo-org/fleet-examples.git",
           "https://github.com/octo-org/fleet-examples/",
           "https://github.com/octo-org/fleet-examples.git/",
           "https://GitHub.COM/Octo-Org/Fleet-Examples.GIT",
           "http://github.com/octo-org/fleet-examples",
           "https://github.com:443/octo-org/fleet-examples",
           "https://x-access-token:ghs_abc@github.com/octo-org/fleet-examples.git",
           "git@github.com:octo-org/fleet-examples.git",
           "git@github.com:octo-org/fleet-examples",
           "ssh://git@github.com/octo-org/fleet-examples.git",
           "ssh://git@github.com:22/octo-org/fleet-examples",
           "git://github.com/octo-org/fleet-examples.git",
       }) {
    INFO(gitrepo);
    CHECK(WebhookRepoUrlMatches(payload, gitrepo));
  }
  for (const char* gitrepo : {
           "https://github.com/octo-org/fleet-examples-2",
           "https://github.com/octo-org/fleet",
           "https://github.com/fork/octo-org/fleet-examples",
           "https://github.com/octo-org/fleet-examples/tree/main",
           "https://gitlab.com/octo-org/fleet-examples",
           "https://evilgithub.com/octo-org/fleet-examples",
           "https://github.com.evil.example/octo-org/fleet-examples",
           "git@ssh.github.example:octo-org/fleet-examples",
           "ftp://github.com/octo-org/fleet-examples",
           "file:///github.com/octo-org/fleet-examples",
           "/srv/git/github.com/octo-org/fleet-examples",
           // Fleet's regex is not anchored at the start and would match this.
           "https://evil.example/https://github.com/octo-org/fleet-examples",
           "",
       }) {
    INFO(gitrepo);
    CHECK_FALSE(WebhookRepoUrlMatches(payload, gitrepo));
  }
}

TEST_CASE("Payload URLs in SSH form, with .git or a trailing slash name the same repository") {
  for (const char* payload : {"git@github.com:octo-org/fleet-examples.git",
                              "ssh://git@github.com/octo-org/fleet-examples.git",
                              "https://github.com/octo-org/fleet-examples.git",
                              "https://github.com/octo-org/fleet-examples/",
                              "HTTPS://GITHUB.COM/octo-org/fleet-examples"}) {
    INFO(payload);
    CHECK(WebhookRepoUrlMatches(payload, "https://github.com/octo-org/fleet-examples"));
    CHECK(WebhookRepoUrlMatches(payload, "git@github.com:octo-org/fleet-examples.git"));
  }
  // Fleet skips payload URLs without a path.
  CHECK_FALSE(WebhookRepoUrlMatches("https://github.com", "https://github.com/"));
  CHECK_FALSE(WebhookRepoUrlMatches("not a url", "not a url"));
}

// Azure DevOps: "/_git/" is optional and SSH remotes are
// git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO.
TEST_CASE("Azure DevOps HTTPS and SSH remote forms name the same repository") {
  const char* payload = "https://dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git";
  CHECK(
      WebhookRepoUrlMatches(payload, "git@ssh.dev.azure.com:v3/fabrikam/Fiber/Fabrikam-Fiber-Git"));
  CHECK(WebhookRepoUrlMatches(payload,
                              "ssh://git@ssh.dev.azure.com/v3/fabrikam/Fiber/Fabrikam-Fiber-Git"));
  CHECK(WebhookRepoUrlMatches(
      payload, "https://fabrikam@dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git"));
  CHECK(WebhookRepoUrlMatches("https://dev.azure.com/fleet/git%20test/_git/git%20test",
                              "https://dev.azure.com/fleet/git%20test/_git/git%20test"));
  CHECK_FALSE(
      WebhookRepoUrlMatches(payload, "git@ssh.dev.azure.com:v3/fabrikam/Other/Fabrikam-Fiber-Git"));
  // "ssh." is allowed only after the git@ user, as in Fleet's regex.
  CHECK_FALSE(WebhookRepoUrlMatches(
      payload, "https://ssh.dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git"));
}

// ---------------------------------------------------------------------------
// Events that ask for nothing

TEST_CASE("Non-push events are answered OK with a reason and trigger nothing") {
  FakeSecretStore secrets;
  const std::vector<WebhookGitRepo> gitrepos = {Repo("examples", kGitHubRepo)};
  const std::string body = R"({"action": "opened"})";
  struct Case {
    Headers headers;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {GitHubHeaders("pull_request", "", body), "GitHub event \"pull_request\" is not a push"},
           {GitLabHeaders("Merge Request Hook", ""),
            "GitLab event \"Merge Request Hook\" is not a push"},
           {GitLabHeaders("System Hook", ""), "GitLab event \"System Hook\" is not a push"},
           {{{"X-Gitea-Event", "create"}, {"X-Gogs-Event", "create"}},
            "Gitea event \"create\" is not a push"},
           {BitbucketHeaders("pullrequest:created"),
            "Bitbucket Cloud event \"pullrequest:created\" is not a push"},
           {BitbucketServerHeaders("pr:opened", "", body),
            "Bitbucket Server event \"pr:opened\" is not a push"},
       }) {
    INFO(c.reason);
    WebhookOutcome outcome =
        Unwrap(HandleWebhook(Post(c.headers, body), gitrepos, secrets.Lookup()));
    CHECK(outcome.event.ignored == c.reason);
    CHECK(outcome.message == "ignored: " + c.reason);
    CHECK(outcome.fetch.empty());
  }
  // Azure DevOps names the event in the body.
  const std::string pr = AzurePush("https://dev.azure.com/fabrikam/Fiber/_git/Fabrikam-Fiber-Git",
                                   "git.pullrequest.created");
  WebhookOutcome azure =
      Unwrap(HandleWebhook(Post(AzureHeaders("", ""), pr), gitrepos, secrets.Lookup()));
  CHECK(azure.event.ignored == "Azure DevOps event \"git.pullrequest.created\" is not a push");
}

// A deleted ref arrives with an all-zero commit (GitHub, Bitbucket Server,
// Azure), a null checkout_sha (GitLab) or a null "new" (Bitbucket Cloud).
TEST_CASE("Deleting a branch triggers nothing") {
  FakeSecretStore secrets;
  const std::vector<WebhookGitRepo> gitrepos = {
      Repo("examples", kGitHubRepo), Repo("apps", "https://gitlab.example.com/platform/fleet/apps"),
      Repo("bbs", "https://bitbucket.example.com/scm/ops/fleet-config.git"),
      Repo("bb", "https://bitbucket.org/acme/fleet-config")};

  const std::string github = GitHubPush("refs/heads/main", kZeros, true);
  const std::string gitlab = GitLabPush("push", "refs/heads/main", kZeros, "null");
  const std::string bbs = BitbucketServerPush(kZeros, "DELETE");
  const std::string bb = BitbucketPush(
      R"({"new": null,
          "old": {"type": "branch", "name": "main", "target": {"hash": "6113728f27ae"}},
          "closed": true})");
  for (const auto& [headers, body] : std::vector<std::pair<Headers, std::string>>{
           {GitHubHeaders("push", "", github), github},
           {GitLabHeaders("Push Hook", ""), gitlab},
           {BitbucketServerHeaders("repo:refs_changed", "", bbs), bbs},
           {BitbucketHeaders(), bb}}) {
    WebhookOutcome outcome = Unwrap(HandleWebhook(Post(headers, body), gitrepos, secrets.Lookup()));
    INFO(outcome.message);
    CHECK(outcome.event.ignored == "refs/heads/main was deleted");
    CHECK(outcome.event.commit.empty());
    CHECK(outcome.fetch.empty());
  }
}

// ---------------------------------------------------------------------------
// Bad requests

TEST_CASE("A request from an unknown provider is InvalidArgument naming the headers looked for") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(Post({{"Content-Type", "application/json"}, {"X-Custom-Event", "push"}}, body),
                    {Repo("examples", kGitHubRepo)}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(outcome.status().message()) ==
        "not a webhook from a known Git provider: none of the headers X-Gogs-Event or "
        "X-Gitea-Event (Gogs, Gitea), X-GitHub-Event (GitHub), X-Gitlab-Event (GitLab), "
        "X-Hook-UUID (Bitbucket Cloud), X-Event-Key (Bitbucket Server), X-Vss-ActivityId or "
        "X-Vss-SubscriptionId (Azure DevOps) is present");
}

// HTTP/2 and many proxies deliver header names in lower case.
TEST_CASE("Header names are matched case-insensitively") {
  FakeSecretStore secrets;
  secrets.Put(kGlobalWebhookSecretName, {{"github", "s3cr3t"}});
  const std::string body = GitHubPush();
  Headers headers = {{"x-github-event", "push"},
                     {"x-hub-signature-256", "sha256=" + Sha256Hmac("s3cr3t", body)}};
  WebhookOutcome outcome =
      Unwrap(HandleWebhook(Post(headers, body), {Repo("examples", kGitHubRepo)}, secrets.Lookup()));
  REQUIRE(outcome.fetch.size() == 1);
  CHECK(outcome.fetch[0].verified);
}

TEST_CASE("Only POST requests are webhooks") {
  FakeSecretStore secrets;
  const std::string body = GitHubPush();
  WebhookRequest request = Post(GitHubHeaders("push", "", body), body);
  request.method = "GET";
  absl::StatusOr<WebhookOutcome> outcome =
      HandleWebhook(request, {Repo("examples", kGitHubRepo)}, secrets.Lookup());
  REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(outcome.status().message()) == "webhooks are sent with POST, not GET");
}

// The cap applies before parsing or authentication; a body of exactly the
// limit is still read.
TEST_CASE("Bodies over 10 MiB are refused before they are parsed") {
  FakeSecretStore secrets;
  std::string body = GitHubPush();
  body.resize(kMaxWebhookBodyBytes, ' ');
  WebhookOutcome at_limit =
      Unwrap(HandleWebhook(Post(GitHubHeaders("push", "", body), body),
                           {Repo("examples", kGitHubRepo)}, secrets.Lookup()));
  CHECK(at_limit.fetch.size() == 1);

  body.push_back(' ');
  absl::StatusOr<WebhookOutcome> over =
      HandleWebhook(Post(GitHubHeaders("push", "", body), body), {Repo("examples", kGitHubRepo)},
                    secrets.Lookup());
  REQUIRE(over.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(over.status().message()) ==
        "webhook body is 10485761 bytes; the limit is 10485760");
}

TEST_CASE("Malformed payloads are InvalidArgument and name the problem") {
  FakeSecretStore secrets;
  const std::vector<WebhookGitRepo> gitrepos = {Repo("examples", kGitHubRepo)};
  auto github = [&](const std::string& body) {
    return HandleWebhook(Post(GitHubHeaders("push", "", body), body), gitrepos, secrets.Lookup());
  };

  SECTION("truncated JSON") {
    const std::string full = GitHubPush();
    absl::StatusOr<WebhookOutcome> outcome = github(full.substr(0, full.size() / 2));
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(outcome.status().message()), Contains("webhook body is not valid JSON"));
  }
  SECTION("invalid UTF-8") {
    absl::StatusOr<WebhookOutcome> outcome = github("{\"ref\": \"refs/heads/\xff\"}");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(outcome.status().message()), Contains("not valid JSON"));
  }
  SECTION("empty body") {
    absl::StatusOr<WebhookOutcome> outcome = github("");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) == "webhook body is empty");
  }
  SECTION("not an object") {
    absl::StatusOr<WebhookOutcome> outcome = github("[1, 2]");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) ==
          "webhook body is a JSON array, expected an object");
  }
  SECTION("nesting deeper than the limit, however deep") {
    for (int depth : {kMaxWebhookJsonDepth + 1, 100000}) {
      std::string body = "{\"ref\": \"refs/heads/main\", \"x\": " + std::string(depth - 1, '[') +
                         std::string(depth - 1, ']') + "}";
      absl::StatusOr<WebhookOutcome> outcome = github(body);
      REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(outcome.status().message()) ==
            "webhook body nests JSON deeper than 64 levels");
    }
    // Brackets inside strings are not nesting.
    std::string payload = GitHubPush();
    payload.insert(1, "\"note\": \"" + std::string(200, '[') + "\",");
    CHECK(github(payload).ok());
  }
  SECTION("a field of the wrong type") {
    absl::StatusOr<WebhookOutcome> outcome =
        github(R"({"ref": 42, "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) ==
          "payload field ref is a JSON number, expected a string");
    outcome = github(R"({"ref": "refs/heads/main", "repository": "octo-org/fleet-examples"})");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) ==
          "payload field repository is a JSON string, expected an object");
  }
  SECTION("no repository URL") {
    absl::StatusOr<WebhookOutcome> outcome = github(
        R"({"ref": "refs/heads/main", "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"})");
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) ==
          "GitHub push payload names no repository (looked at repository.html_url, "
          "repository.clone_url, repository.ssh_url)");
  }
  SECTION("a Bitbucket Server payload whose clone links are not a list") {
    const std::string body =
        R"({"repository": {"links": {"clone": {"href": "x"}}}, "changes": []})";
    absl::StatusOr<WebhookOutcome> outcome =
        HandleWebhook(Post(BitbucketServerHeaders("repo:refs_changed", "", body), body), gitrepos,
                      secrets.Lookup());
    REQUIRE(outcome.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(outcome.status().message()) ==
          "payload field repository.links.clone is a JSON object, expected an array");
  }
}

}  // namespace
}  // namespace flotilla::manager
