// DirApplier: a local directory stands in for a cluster, one file per object at
// <root>/<namespace or _cluster>/<kind lowercased>/<name>.yaml, written
// atomically. The embedded default that lets a new user run the whole system
// on one machine, and the target of the fleet simulator.
#pragma once

#include <string>

#include "agent/apply/applier.h"

namespace flotilla::agent {

class DirApplier : public Applier {
 public:
  // `root` is created if missing.
  explicit DirApplier(std::string root);

  absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) override;
  absl::Status Remove(const std::vector<ObjectRef>& objects, bool keep_resources) override;
  absl::StatusOr<std::vector<ObjectRef>> Drifted(
      const std::vector<nlohmann::json>& desired) override;

  // The file an object lives in.
  std::string PathFor(const ObjectRef& ref) const;

 private:
  std::string root_;
};

}  // namespace flotilla::agent
