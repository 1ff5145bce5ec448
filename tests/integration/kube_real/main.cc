// The kube_real suite runs only against a real cluster: without KUBECONFIG it
// exits 77, which ctest reports as skipped (SKIP_RETURN_CODE).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (kubeconfig == nullptr || *kubeconfig == '\0') {
    std::printf("kube_real: skipped, KUBECONFIG is not set (point it at a disposable cluster)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
