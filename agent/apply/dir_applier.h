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
  absl::Status Remove(const RemoveRequest& request) override;
  // Drift only: a missing file, or one whose object differs after
  // comparePatches (every field counts, a file being the whole object).
  // Files are always ready.
  absl::StatusOr<CheckResult> Check(const CheckRequest& request) override;

  // The file an object lives in.
  std::string PathFor(const ObjectRef& ref) const;

 private:
  std::string root_;
};

}  // namespace flotilla::agent
