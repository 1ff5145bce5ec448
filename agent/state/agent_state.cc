#include "agent/state/agent_state.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace flotilla::agent {
namespace {

using Json = nlohmann::json;

constexpr char kDeploymentsFile[] = "deployments.json";
constexpr char kIdentityFile[] = "identity.json";
constexpr char kKeyFile[] = "key.pem";
constexpr char kContentDir[] = "content";

absl::Status CorruptError(const std::string& path, absl::string_view problem) {
  return absl::DataLossError(absl::StrCat("state file ", path, " is corrupt: ", problem,
                                          "; move it away to resync from the manager"));
}

// A content hash becomes a file name, so it must be exactly a SHA-256 in
// lowercase hex and nothing else.
bool IsContentHash(absl::string_view hash) {
  return hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status CheckContentHash(absl::string_view hash) {
  if (IsContentHash(hash)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid content hash \"", hash, "\": want 64 lowercase hex characters"));
}

// State file names are chosen by the agent, never by a peer; still, keep them
// inside the state directory.
absl::Status CheckFileName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of(absl::string_view("/\0", 2)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid state file name \"", name, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ReadIfExists(const std::string& path) {
  absl::StatusOr<std::string> data = common::ReadFile(path);
  if (absl::IsNotFound(data.status())) return std::nullopt;
  if (!data.ok()) return data.status();
  return *std::move(data);
}

Json RefToJson(const ObjectRef& ref) {
  return {{"apiVersion", ref.api_version},
          {"kind", ref.kind},
          {"namespace", ref.namespace_},
          {"name", ref.name}};
}

ObjectRef RefFromJson(const Json& o) {
  ObjectRef ref;
  ref.api_version = o.at("apiVersion").get<std::string>();
  ref.kind = o.at("kind").get<std::string>();
  ref.namespace_ = o.value("namespace", "");
  ref.name = o.at("name").get<std::string>();
  return ref;
}

Json ProblemsToJson(const std::vector<ResourceProblem>& problems) {
  Json out = Json::array();
  for (const ResourceProblem& p : problems) {
    Json o = RefToJson(p.ref);
    o["message"] = p.message;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<ResourceProblem> ProblemsFromJson(const Json& list) {
  std::vector<ResourceProblem> out;
  for (const Json& o : list) out.push_back({RefFromJson(o), o.value("message", "")});
  return out;
}

Json RecordToJson(const DeploymentRecord& r) {
  Json objects = Json::array();
  for (const ObjectRef& ref : r.applied_objects) objects.push_back(RefToJson(ref));
  return {{"bundle_deployment_id", r.bundle_deployment_id},
          {"bundle_name", r.bundle_name},
          {"deployment_id", r.deployment_id},
          {"content_hash", r.content_hash},
          {"options_json", r.options_json},
          {"applied_deployment_id", r.applied_deployment_id},
          {"applied_content_hash", r.applied_content_hash},
          {"applied_options_json", r.applied_options_json},
          {"applied_objects", std::move(objects)},
          {"state", r.state},
          {"message", r.message},
          {"non_ready", ProblemsToJson(r.non_ready)},
          {"modified", ProblemsToJson(r.modified)}};
}

// `j` must be an object. Throws nlohmann::json::exception on a wrongly typed
// field. Absent fields keep their defaults, so a file written by an older
// agent still loads.
DeploymentRecord RecordFromJson(const std::string& id, const Json& j) {
  DeploymentRecord r;
  r.bundle_deployment_id = id;
  r.bundle_name = j.value("bundle_name", "");
  r.deployment_id = j.value("deployment_id", "");
  r.content_hash = j.value("content_hash", "");
  r.options_json = j.value("options_json", "");
  r.applied_deployment_id = j.value("applied_deployment_id", "");
  r.applied_content_hash = j.value("applied_content_hash", "");
  r.applied_options_json = j.value("applied_options_json", "");
  // Written before these two fields existed: what was applied is what was
  // assigned.
  if (r.applied_content_hash.empty() && !r.applied_deployment_id.empty() &&
      r.applied_deployment_id == r.deployment_id) {
    r.applied_content_hash = r.content_hash;
    r.applied_options_json = r.options_json;
  }
  r.state = j.value("state", 0);
  r.message = j.value("message", "");
  for (const Json& o : j.value("applied_objects", Json::array())) {
    r.applied_objects.push_back(RefFromJson(o));
  }
  r.non_ready = ProblemsFromJson(j.value("non_ready", Json::array()));
  r.modified = ProblemsFromJson(j.value("modified", Json::array()));
  return r;
}

// Creates `dir` with mode 0700 if it is missing (parents with the default
// mode); an existing directory is left as it is.
absl::Status MakePrivateDir(const std::string& dir) {
  if (common::PathExists(dir)) return absl::OkStatus();
  std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!parent.empty()) RETURN_IF_ERROR(common::MakeDirs(parent));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create state directory ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AgentState> AgentState::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("state directory is empty");
  RETURN_IF_ERROR(MakePrivateDir(dir));
  AgentState state(dir);
  std::string path = absl::StrCat(dir, "/", kDeploymentsFile);
  ASSIGN_OR_RETURN(std::optional<std::string> data, ReadIfExists(path));
  if (!data) return state;
  try {
    Json j = Json::parse(*data);
    if (!j.is_object()) return CorruptError(path, "not a JSON object");
    for (const auto& [id, value] : j.items()) {
      if (!value.is_object()) {
        return CorruptError(path, absl::StrCat("deployment ", id, " is not an object"));
      }
      state.deployments_.emplace(id, RecordFromJson(id, value));
    }
  } catch (const Json::exception& e) {
    return CorruptError(path, e.what());
  }
  return state;
}

absl::StatusOr<std::optional<std::string>> AgentState::ReadFileIfExists(
    const std::string& name) const {
  RETURN_IF_ERROR(CheckFileName(name));
  return ReadIfExists(absl::StrCat(dir_, "/", name));
}

absl::Status AgentState::WriteFile(const std::string& name, const std::string& data) {
  RETURN_IF_ERROR(CheckFileName(name));
  return common::WriteFileAtomic(absl::StrCat(dir_, "/", name), data,
                                 name == kKeyFile ? 0600 : 0644);
}

absl::StatusOr<std::optional<Identity>> AgentState::LoadIdentity() const {
  std::string path = absl::StrCat(dir_, "/", kIdentityFile);
  ASSIGN_OR_RETURN(std::optional<std::string> data, ReadIfExists(path));
  if (!data) return std::nullopt;
  try {
    Json j = Json::parse(*data);
    if (!j.is_object()) return CorruptError(path, "not a JSON object");
    Identity id;
    id.cluster_id = j.at("cluster_id").get<std::string>();
    id.cluster_name = j.value("cluster_name", "");
    return id;
  } catch (const Json::exception& e) {
    return CorruptError(path, e.what());
  }
}

absl::Status AgentState::SaveIdentity(const Identity& id) {
  Json j = {{"cluster_id", id.cluster_id}, {"cluster_name", id.cluster_name}};
  return WriteFile(kIdentityFile, j.dump(2) + "\n");
}

std::optional<DeploymentRecord> AgentState::Deployment(const std::string& bd_id) const {
  auto it = deployments_.find(bd_id);
  if (it == deployments_.end()) return std::nullopt;
  return it->second;
}

absl::Status AgentState::PutDeployment(const DeploymentRecord& r) {
  if (r.bundle_deployment_id.empty()) {
    return absl::InvalidArgumentError("deployment record has no bundle_deployment_id");
  }
  // Memory follows the disk: on a failed save the old record stays.
  std::optional<DeploymentRecord> old = Deployment(r.bundle_deployment_id);
  deployments_[r.bundle_deployment_id] = r;
  absl::Status st = SaveDeployments();
  if (!st.ok()) {
    if (old) {
      deployments_[r.bundle_deployment_id] = *std::move(old);
    } else {
      deployments_.erase(r.bundle_deployment_id);
    }
  }
  return st;
}

absl::Status AgentState::RemoveDeployment(const std::string& bd_id) {
  auto node = deployments_.extract(bd_id);
  if (node.empty()) return absl::OkStatus();
  absl::Status st = SaveDeployments();
  if (!st.ok()) deployments_.insert(std::move(node));
  return st;
}

absl::Status AgentState::SaveDeployments() {
  Json j = Json::object();
  for (const auto& [id, record] : deployments_) j[id] = RecordToJson(record);
  return WriteFile(kDeploymentsFile, j.dump(2) + "\n");
}

bool AgentState::HasContent(const std::string& hash) const {
  return IsContentHash(hash) && common::PathExists(absl::StrCat(dir_, "/", kContentDir, "/", hash));
}

absl::Status AgentState::PutContent(const std::string& hash, const std::string& data) {
  RETURN_IF_ERROR(CheckContentHash(hash));
  std::string actual = common::Sha256Hex(data);
  if (actual != hash) {
    return absl::InvalidArgumentError(
        absl::StrCat("content hash mismatch: expected ", hash, ", got ", actual));
  }
  std::string content_dir = absl::StrCat(dir_, "/", kContentDir);
  RETURN_IF_ERROR(MakePrivateDir(content_dir));
  return common::WriteFileAtomic(absl::StrCat(content_dir, "/", hash), data, 0644);
}

absl::StatusOr<std::string> AgentState::GetContent(const std::string& hash) const {
  RETURN_IF_ERROR(CheckContentHash(hash));
  std::string path = absl::StrCat(dir_, "/", kContentDir, "/", hash);
  ASSIGN_OR_RETURN(std::string data, common::ReadFile(path));
  // The name promises the content; a disk that broke the promise must not
  // have its bytes applied to a cluster.
  std::string actual = common::Sha256Hex(data);
  if (actual != hash) return CorruptError(path, absl::StrCat("its sha256 is ", actual));
  return data;
}

std::vector<std::string> AgentState::ContentHashes() const {
  std::vector<std::string> hashes;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(absl::StrCat(dir_, "/", kContentDir), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (IsContentHash(name) && it->is_regular_file(ec)) hashes.push_back(std::move(name));
  }
  std::sort(hashes.begin(), hashes.end());
  return hashes;
}

absl::Status AgentState::PruneContent() {
  std::set<std::string> referenced;
  for (const auto& [id, record] : deployments_) {
    referenced.insert(record.content_hash);
    if (!record.applied_content_hash.empty()) referenced.insert(record.applied_content_hash);
  }
  std::string content_dir = absl::StrCat(dir_, "/", kContentDir);
  if (!common::PathExists(content_dir)) return absl::OkStatus();
  // Collect first: removing while iterating a directory is unspecified.
  std::vector<std::string> unreferenced;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(content_dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    // Anything else in content/ (such as a temp file left by a crash) is
    // garbage too.
    std::string name = it->path().filename().string();
    if (!referenced.contains(name) && it->is_regular_file(ec)) unreferenced.push_back(name);
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot list ", content_dir, ": ", ec.message()));
  }
  for (const std::string& name : unreferenced) {
    RETURN_IF_ERROR(common::RemoveFile(absl::StrCat(content_dir, "/", name)));
  }
  return absl::OkStatus();
}

}  // namespace flotilla::agent
