#include "agent/apply/kube/kube_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace flotilla::agent::kube {
namespace {

constexpr size_t kMaxBody = size_t{64} << 20;

struct Received {
  std::string body;
  std::string retry_after;
  bool oversize = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* r = static_cast<Received*>(user);
  const size_t n = size * nmemb;
  if (r->body.size() + n > kMaxBody) {
    r->oversize = true;
    return 0;
  }
  r->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* r = static_cast<Received*>(user);
  const size_t n = size * nmemb;
  absl::string_view line(data, n);
  if (absl::StartsWithIgnoreCase(line, "retry-after:")) {
    r->retry_after = std::string(absl::StripAsciiWhitespace(line.substr(12)));
  }
  return n;
}

absl::StatusCode CodeFor(int status, const std::string& body) {
  switch (status) {
    case 400:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StrContains(body, "\"AlreadyExists\"") ? absl::StatusCode::kAlreadyExists
                                                          : absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

bool Retryable(int status) { return status == 429 || status >= 500; }

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

std::string StatusMessage(const std::string& body) {
  auto json = common::Json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    return json["message"].get<std::string>();
  }
  std::string cut = body.substr(0, 300);
  return std::string(absl::StripAsciiWhitespace(cut));
}

std::vector<std::string> ImpersonationHeaders(const Impersonation& as) {
  std::vector<std::string> lines;
  if (as.user.empty()) return lines;
  lines.push_back(absl::StrCat("Impersonate-User: ", as.user));
  if (!as.uid.empty()) lines.push_back(absl::StrCat("Impersonate-Uid: ", as.uid));
  // One header per group, as client-go sends them.
  for (const std::string& group : as.groups) {
    lines.push_back(absl::StrCat("Impersonate-Group: ", group));
  }
  return lines;
}

namespace {

absl::Status CheckImpersonation(const Impersonation& as, const std::string& source) {
  if (as.user.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": impersonation needs a user (groups: ", as.groups.size(), ")"));
  }
  std::vector<const std::string*> values = {&as.user, &as.uid};
  for (const std::string& g : as.groups) values.push_back(&g);
  for (const std::string* v : values) {
    if (v->find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": impersonation value \"",
                                                     absl::CEscape(*v), "\" has a line break"));
    }
  }
  return absl::OkStatus();
}

void* NewCurlHandle() {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return curl_easy_init();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubeClient>> KubeClient::Create(KubeConfig config,
                                                               KubeClientOptions options) {
  if (config.server.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(config.source, ": no API server address"));
  }
  if (config.impersonate.has_value()) {
    RETURN_IF_ERROR(CheckImpersonation(*config.impersonate, config.source));
  }
  if (!options.sleep) options.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  if (options.clock == nullptr) options.clock = common::RealClock::Get();
  std::shared_ptr<ExecCredentialSource> exec;
  if (config.token.empty() && config.token_file.empty() && config.client_cert_pem.empty() &&
      config.exec.has_value()) {
    exec = std::make_shared<ExecCredentialSource>(
        *config.exec,
        ExecClusterInfo{config.server, config.ca_pem, config.insecure_skip_tls_verify},
        options.clock, options.exec_limits);
    // Fail now rather than at the first request when the plugin cannot work.
    absl::StatusOr<ExecCredential> first = exec->Get();
    if (!first.ok()) return common::Annotate(first.status(), config.source);
  }
  std::unique_ptr<KubeClient> client(
      new KubeClient(std::move(config), std::move(options), std::move(exec)));
  client->curl_ = NewCurlHandle();
  if (client->curl_ == nullptr) return absl::InternalError("curl_easy_init failed");
  return client;
}

absl::StatusOr<std::unique_ptr<KubeClient>> KubeClient::Impersonating(Impersonation as) const {
  RETURN_IF_ERROR(CheckImpersonation(as, config_.source));
  KubeConfig config = config_;
  config.impersonate = std::move(as);
  std::unique_ptr<KubeClient> client(new KubeClient(std::move(config), options_, exec_));
  client->curl_ = NewCurlHandle();
  if (client->curl_ == nullptr) return absl::InternalError("curl_easy_init failed");
  return client;
}

KubeClient::KubeClient(KubeConfig config, KubeClientOptions options,
                       std::shared_ptr<ExecCredentialSource> exec)
    : config_(std::move(config)),
      options_(std::move(options)),
      token_(config_.token),
      exec_(std::move(exec)) {}

KubeClient::~KubeClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string KubeClient::Token() {
  if (config_.token_file.empty()) return token_;
  const int64_t mtime = MtimeNs(config_.token_file);
  if (mtime != token_mtime_ns_) {
    absl::StatusOr<std::string> text = common::ReadFile(config_.token_file);
    if (text.ok()) {
      token_ = std::string(absl::StripAsciiWhitespace(*text));
      token_mtime_ns_ = mtime;
    } else {
      common::Logger("agent.kube")
          ->warn("reading token {}: {} (keeping the previous token)", config_.token_file,
                 text.status().message());
    }
  }
  return token_;
}

absl::StatusOr<KubeClient::Answer> KubeClient::Send(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body,
                                                    const std::string& content_type) {
  const std::string where = absl::StrCat(method, " ", path);
  std::string token;
  const std::string* cert_pem = &config_.client_cert_pem;
  const std::string* key_pem = &config_.client_key_pem;
  if (exec_ != nullptr) {
    absl::StatusOr<ExecCredential> cred = exec_->Get();
    if (!cred.ok()) return common::Annotate(cred.status(), where);
    exec_used_ = *std::move(cred);
    token = exec_used_.token;
    if (!exec_used_.client_cert_pem.empty()) {
      cert_pem = &exec_used_.client_cert_pem;
      key_pem = &exec_used_.client_key_pem;
    }
  } else {
    token = Token();
  }
  // A renewed client certificate must not ride on a connection whose TLS
  // handshake presented the old one: a new handle drops the kept connection.
  if (*cert_pem != last_cert_pem_) {
    if (!last_cert_pem_.empty()) {
      void* fresh = NewCurlHandle();
      if (fresh == nullptr) return absl::InternalError("curl_easy_init failed");
      curl_easy_cleanup(static_cast<CURL*>(curl_));
      curl_ = fresh;
    }
    last_cert_pem_ = *cert_pem;
  }
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  Received received;
  char error[CURL_ERROR_SIZE] = {0};
  const std::string url = config_.server + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &received);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  }
  curl_blob ca{};
  if (!config_.ca_pem.empty()) {
    ca.data = const_cast<char*>(config_.ca_pem.data());
    ca.len = config_.ca_pem.size();
    ca.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // The certificate and key stay in memory (curl blobs), never in a file.
  curl_blob cert{}, key{};
  if (!cert_pem->empty()) {
    cert.data = const_cast<char*>(cert_pem->data());
    cert.len = cert_pem->size();
    cert.flags = CURL_BLOB_NOCOPY;
    key.data = const_cast<char*>(key_pem->data());
    key.len = key_pem->size();
    key.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string auth = absl::StrCat("Authorization: Bearer ", token);
  if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
  if (config_.impersonate.has_value()) {
    for (const std::string& line : ImpersonationHeaders(*config_.impersonate)) {
      headers = curl_slist_append(headers, line.c_str());
    }
  }
  const std::string type = absl::StrCat("Content-Type: ", content_type);
  if (!content_type.empty()) headers = curl_slist_append(headers, type.c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  ++requests_;
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (received.oversize) {
    return absl::ResourceExhaustedError(
        absl::StrCat(where, ": answer larger than ", kMaxBody, " bytes"));
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat(where, ": no answer from ", config_.server,
                                                    " within ",
                                                    absl::FormatDuration(options_.timeout)));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(where, ": ", config_.server, ": ",
                                               error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return Answer{static_cast<int>(status), std::move(received.body),
                std::move(received.retry_after)};
}

absl::StatusOr<common::Json> KubeClient::Call(const std::string& method, const std::string& path,
                                              const std::string& body,
                                              const std::string& content_type) {
  absl::Duration backoff = options_.initial_backoff;
  bool renewed_credentials = false;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Answer> answer = Send(method, path, body, content_type);
    const bool last = attempt >= options_.max_attempts;
    if (!answer.ok()) {
      if (last || answer.status().code() != absl::StatusCode::kUnavailable) {
        return answer.status();
      }
    } else if (answer->status >= 200 && answer->status < 300) {
      if (answer->body.empty()) return common::Json();
      common::Json json = common::Json::parse(answer->body, nullptr, false);
      if (json.is_discarded()) {
        return absl::InternalError(
            absl::StrCat(method, " ", path, ": the API server's answer is not JSON"));
      }
      return json;
    } else if (answer->status == 401 && !renewed_credentials &&
               (exec_ != nullptr || !config_.token_file.empty())) {
      // A rotated token may not have a new mtime yet: read it again once. An
      // exec plugin's credentials may have been revoked before their expiry:
      // run it again once (client-go does the same).
      renewed_credentials = true;
      if (exec_ != nullptr) {
        exec_->Invalidate(exec_used_);
      } else {
        token_mtime_ns_ = -1;
      }
      continue;
    } else if (!Retryable(answer->status) || last) {
      const std::string message = StatusMessage(answer->body);
      return absl::Status(
          CodeFor(answer->status, answer->body),
          absl::StrCat(
              method, " ", path, ": HTTP ", answer->status, message.empty() ? "" : ": ", message,
              Retryable(answer->status) ? absl::StrCat(" (after ", attempt, " attempts)") : ""));
    }
    absl::Duration wait = backoff;
    int seconds = 0;
    if (answer.ok() && absl::SimpleAtoi(answer->retry_after, &seconds) && seconds >= 0) {
      wait = absl::Seconds(seconds);
    }
    wait = std::min(wait, options_.max_backoff);
    options_.sleep(wait);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace flotilla::agent::kube
