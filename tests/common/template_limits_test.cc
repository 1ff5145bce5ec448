// Hostile templates: every limit ends execution with a clear
// ResourceExhausted error instead of a crash, a hang or unbounded memory.
#include <pthread.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/template/template.h"

namespace flotilla::common::tmpl {
namespace {

absl::StatusOr<std::string> Run(const std::string& text, const Options& options,
                                const Json& data = Json::object()) {
  TemplateSet set(options);
  absl::Status parsed = set.Parse("t", text);
  if (!parsed.ok()) return parsed;
  return set.Execute("t", data);
}

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

// A template that calls itself forever stops at the depth limit (Go:
// "exceeded maximum template depth (100000)").
TEST_CASE("infinite template recursion stops at the depth limit") {
  Options options;  // the default depth, to show the stack holds it
  auto out =
      Run("{{define \"loop\"}}x{{template \"loop\" .}}{{end}}{{template \"loop\" .}}", options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
#ifndef __SANITIZE_ADDRESS__
  // (Sanitizer frames are several times larger: there the stack guard
  // below stops it first.)
  CHECK(Contains(out.status().message(), "exceeded maximum template depth (1000)"));
  CHECK(Contains(out.status().message(), "executing \"loop\" at <{{template \"loop\" .}}>"));
#endif
}

// Branching recursion that terminates, but only after 2^30 calls, runs out
// of steps.
TEST_CASE("exponential template calls run out of steps") {
  Options options;
  options.limits.max_steps = 100'000;
  auto out =
      Run("{{define \"a\"}}{{if lt (len .) 30}}{{template \"a\" (printf \"%sx\" .)}}"
          "{{template \"a\" (printf \"%sx\" .)}}{{end}}{{end}}{{template \"a\" \"\"}}",
          options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(Contains(out.status().message(), "execution exceeded the limit of 100000 steps"));
}

TEST_CASE("huge output stops at the output limit") {
  Options options;
  options.limits.max_output_bytes = 1000;
  auto out = Run("{{range 100000}}0123456789{{end}}", options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(out.status().message() ==
        "template: t:1:16: executing \"t\" at <0123456789>: output exceeds the limit of 1000 "
        "bytes");
  // printf's width cannot build a giant string either.
  out = Run("{{printf \"%900000d\" 1}}", options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(Contains(out.status().message(), "error calling printf: formatted text exceeds the limit"));
}

TEST_CASE("range iterations are limited across nested loops") {
  Options options;
  options.limits.max_range_iterations = 10'000;
  auto out = Run("{{range 100}}{{range 100}}{{range 100}}{{end}}{{end}}{{end}}", options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(Contains(out.status().message(), "range iterations exceed the limit of 10000"));
  CHECK(Run("{{range 100}}{{range 99}}{{end}}{{end}}done", options).value() == "done");
}

TEST_CASE("a long loop runs out of steps") {
  Options options;
  options.limits.max_steps = 10'000;
  auto out = Run("{{range 1000000}}{{if eq 1 1}}{{end}}{{end}}", options);
  REQUIRE(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(Contains(out.status().message(), "execution exceeded the limit of 10000 steps"));
}

// Data nested deeper than the value limit is refused up front.
TEST_CASE("deeply nested data is refused") {
  Json deep = Json::array();
  for (int i = 0; i < 2000; ++i) deep = Json::array({deep});
  Options options;
  auto out = Run("{{.}}", options, deep);
  REQUIRE(out.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(out.status().message(), "value nested more than 1000 levels deep"));
}

// A thread with a small stack gets an error, not a crash, when templates
// nest deeper than its stack allows (the depth limit alone assumes a
// normal-sized stack).
TEST_CASE("deep template recursion on a small stack fails cleanly") {
  struct Job {
    absl::StatusOr<std::string> result = std::string();
  } job;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    Options options;
    options.limits.max_template_depth = 100'000;
    static_cast<Job*>(arg)->result =
        Run("{{define \"r\"}}{{if true}}{{with .}}{{template \"r\" .}}{{end}}{{end}}{{end}}"
            "{{template \"r\" 1}}",
            options);
    return nullptr;
  };
  REQUIRE(pthread_create(&thread, &attr, body, &job) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  REQUIRE(job.result.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(Contains(job.result.status().message(), "template nesting exceeds the thread's stack"));
}

// One set serves concurrent executions.
TEST_CASE("a parsed set executes concurrently") {
  TemplateSet set;
  REQUIRE(set.Parse("t", "{{range .}}{{.}}{{end}}").ok());
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 200; ++j) {
        auto out = set.Execute("t", Json::array({i, j % 3, 7}));
        results[static_cast<size_t>(i)] = out.ok() ? *out : "error";
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) CHECK(results[static_cast<size_t>(i)] == std::to_string(i) + "17");
}

}  // namespace
}  // namespace flotilla::common::tmpl
