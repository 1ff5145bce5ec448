// flotilla-render-bench: how long one native Helm render takes, median of many
// runs, next to a baseline measured in the same run: rendering the same
// objects as a plain-YAML bundle (parse, namespace rules, canonical YAML,
// hash), i.e. what the chart costs beyond the manifests it produces.
//
//   flotilla-render-bench CHART_DIR [RUNS]   (default 200 runs)
//
// Prints one line per measurement: name, median and p90 in microseconds,
// and the ratio to the baseline.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/render/manifest.h"
#include "common/yaml.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::map<std::string, std::string> ReadTree(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    auto data = flotilla::common::ReadFile(e.path().string());
    if (data.ok()) files[fs::relative(e.path(), root).generic_string()] = *data;
  }
  return files;
}

struct Stats {
  double median_us = 0;
  double p90_us = 0;
};

template <typename F>
Stats Measure(int runs, F&& f) {
  std::vector<double> us;
  us.reserve(runs);
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 9 / 10]};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CHART_DIR [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  namespace fc = flotilla::common;
  const auto files = ReadTree(dir);
  auto chart = fc::helm::LoadChart(files, "");
  if (!chart.ok()) {
    std::fprintf(stderr, "%s\n", std::string(chart.status().message()).c_str());
    return 1;
  }
  fc::helm::RenderOptions options;
  options.release_name = "bench";
  options.release_namespace = "bench";
  auto objects = fc::helm::RenderObjects(*chart, options);
  if (!objects.ok()) {
    std::fprintf(stderr, "%s\n", std::string(objects.status().message()).c_str());
    return 1;
  }
  // Baseline: the same objects as one plain-YAML bundle.
  fc::RenderInput plain;
  plain.bundle_name = "bench";
  plain.files["all.yaml"] = fc::ToYamlDocuments(*objects);
  plain.options = {{"defaultNamespace", "bench"}};
  fc::RenderInput helm_bundle;
  helm_bundle.bundle_name = "bench";
  helm_bundle.files = files;
  helm_bundle.options = {{"defaultNamespace", "bench"}};

  Stats baseline = Measure(runs, [&] { (void)fc::RenderBundle(plain); });
  Stats load = Measure(runs, [&] { (void)fc::helm::LoadChart(files, ""); });
  Stats render = Measure(runs, [&] { (void)fc::helm::RenderObjects(*chart, options); });
  Stats bundle = Measure(runs, [&] { (void)fc::RenderBundle(helm_bundle); });

  std::printf("chart %s: %zu files, %zu objects, %d runs\n", dir.c_str(), files.size(),
              objects->size(), runs);
  auto line = [&](const char* name, const Stats& s) {
    std::printf("%-34s median %9.1f us  p90 %9.1f us  x%.2f baseline\n", name, s.median_us,
                s.p90_us, s.median_us / baseline.median_us);
  };
  line("baseline: plain YAML RenderBundle", baseline);
  line("helm: LoadChart", load);
  line("helm: RenderObjects", render);
  line("helm: RenderBundle (load+render)", bundle);
  return 0;
}
