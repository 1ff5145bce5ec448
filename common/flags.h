// Lets binaries accept --data-dir as well as --data_dir: Abseil flag names
// are identifiers, while operators expect kubectl-style dashes.
#pragma once

#include <string>
#include <vector>

namespace flotilla::common {

// Copies argv with '-' turned into '_' inside each "--flag-name" (up to '=');
// values are untouched. Keep the returned storage alive while argv is used.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv);
std::vector<char*> ArgvPointers(std::vector<std::string>& args);

// Splits a listen address "HOST:PORT" (HOST may be empty or a bracketed IPv6
// address; PORT 0-65535). False when it has no port or a bad one.
bool SplitHostPort(const std::string& addr, std::string* host, int* port);

}  // namespace flotilla::common
