// A test server process on a free loopback port (git daemon, sshd): started
// in its own process group, killed with the test binary, ready once the port
// accepts connections.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace flotilla::testing {

struct LoopbackServer {
  pid_t pid = -1;
  int port = 0;
};

// Runs `args_for_port(port)` (argv[0] found on PATH) with stdin and stdout on
// /dev/null and stderr appended to `stderr_path` ("" = /dev/null), and waits
// up to 10s for the port to accept connections. Tries five free ports;
// throws std::runtime_error naming `what` and the last failure otherwise.
LoopbackServer StartLoopbackServer(
    const std::string& what, const std::function<std::vector<std::string>(int)>& args_for_port,
    const std::string& stderr_path = "");

// SIGTERM to the server's whole group (its per-connection children too),
// SIGKILL after 5s; reaps it.
void StopLoopbackServer(const LoopbackServer& server);

}  // namespace flotilla::testing
