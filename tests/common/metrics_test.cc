#include "common/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/prom_text.h"

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;

// A declared counter with one series renders as the text exposition format
// 0.0.4 wants it: a HELP line, a TYPE line, then `name{labels} value`.
TEST_CASE("A declared counter renders its HELP and TYPE lines before its series", "[metrics]") {
  MetricsRegistry m;
  m.Declare("flotilla_acks_total", "counter", "ACKs received from agents.");
  m.Add("flotilla_acks_total", {{"cluster", "edge-1"}}, 3);

  CHECK(m.Render() ==
        "# HELP flotilla_acks_total ACKs received from agents.\n"
        "# TYPE flotilla_acks_total counter\n"
        "flotilla_acks_total{cluster=\"edge-1\"} 3\n");
}

// Several families and series: families come out sorted by name, label pairs
// inside a series sorted by label name whatever order they were given in, and
// a series without labels has no braces at all.
TEST_CASE("Families, series and label names render in sorted order", "[metrics]") {
  MetricsRegistry m;
  m.Declare("zeta_total", "counter", "Last family.");
  m.Declare("alpha", "gauge", "First family.");
  m.Set("alpha", {{"state", "ready"}, {"bundle", "web"}}, 2);
  m.Set("alpha", {{"bundle", "api"}, {"state", "ready"}}, 1);
  m.Add("zeta_total", {}, 7);

  CHECK(m.Render() ==
        "# HELP alpha First family.\n"
        "# TYPE alpha gauge\n"
        "alpha{bundle=\"api\",state=\"ready\"} 1\n"
        "alpha{bundle=\"web\",state=\"ready\"} 2\n"
        "# HELP zeta_total Last family.\n"
        "# TYPE zeta_total counter\n"
        "zeta_total 7\n");
}

// Label values come from users (cluster and bundle names, error text): a
// backslash, a double quote and a newline must be escaped as \\, \" and \n so
// the exposition stays one sample per line.
TEST_CASE("Backslash, double quote and newline in label values are escaped", "[metrics]") {
  MetricsRegistry m;
  m.Declare("flotilla_errors", "gauge", "Errors.");
  m.Set("flotilla_errors", {{"message", "C:\\dir \"quoted\"\nsecond line"}}, 1);

  CHECK(m.Render() ==
        "# HELP flotilla_errors Errors.\n"
        "# TYPE flotilla_errors gauge\n"
        "flotilla_errors{message=\"C:\\\\dir \\\"quoted\\\"\\nsecond line\"} 1\n");
  // Get finds the series by its unescaped labels.
  CHECK(m.Get("flotilla_errors", {{"message", "C:\\dir \"quoted\"\nsecond line"}}) == 1);
}

// Other characters (UTF-8, '=', ',', '}') are legal inside a quoted label
// value and pass through unchanged.
TEST_CASE("Label values without special characters are rendered verbatim", "[metrics]") {
  MetricsRegistry m;
  m.Declare("g", "gauge", "G.");
  m.Set("g", {{"v", "a=b,c}d héllo"}}, 1);

  CHECK_THAT(m.Render(), Contains("g{v=\"a=b,c}d héllo\"} 1\n"));
}

// Counters accumulate every Add per label set; different label sets are
// separate series.
TEST_CASE("Counter increments accumulate per label set", "[metrics]") {
  MetricsRegistry m;
  m.Declare("sent_total", "counter", "Sent.");
  m.Add("sent_total", {{"cluster", "a"}}, 1);
  m.Add("sent_total", {{"cluster", "a"}}, 2.5);
  m.Add("sent_total", {{"cluster", "b"}}, 4);
  m.Add("sent_total", {{"cluster", "a"}}, 0);

  CHECK(m.Get("sent_total", {{"cluster", "a"}}) == 3.5);
  CHECK(m.Get("sent_total", {{"cluster", "b"}}) == 4);
  CHECK(m.Render() ==
        "# HELP sent_total Sent.\n"
        "# TYPE sent_total counter\n"
        "sent_total{cluster=\"a\"} 3.5\n"
        "sent_total{cluster=\"b\"} 4\n");
}

// A gauge takes the last value set, up or down.
TEST_CASE("Setting a gauge replaces its previous value", "[metrics]") {
  MetricsRegistry m;
  m.Declare("flotilla_clusters", "gauge", "Registered clusters.");
  m.Set("flotilla_clusters", {}, 5);
  m.Set("flotilla_clusters", {}, 2);

  CHECK(m.Get("flotilla_clusters", {}) == 2);
  CHECK(m.Render() ==
        "# HELP flotilla_clusters Registered clusters.\n"
        "# TYPE flotilla_clusters gauge\n"
        "flotilla_clusters 2\n");

  m.Set("flotilla_clusters", {}, -1.25);
  CHECK(m.Get("flotilla_clusters", {}) == -1.25);
  CHECK_THAT(m.Render(), Contains("flotilla_clusters -1.25\n"));
}

// A gauge family re-set from a snapshot: Clear drops the series of states no
// longer present, but the family keeps its HELP and TYPE lines, and other
// families are untouched.
TEST_CASE("Clear drops every series of a family but keeps its declaration", "[metrics]") {
  MetricsRegistry m;
  m.Declare("bd", "gauge", "BundleDeployments by state.");
  m.Declare("other", "gauge", "Other.");
  m.Set("bd", {{"state", "Ready"}}, 3);
  m.Set("bd", {{"state", "ErrApplied"}}, 1);
  m.Set("other", {}, 9);

  m.Clear("bd");

  CHECK(m.Get("bd", {{"state", "Ready"}}) == 0);
  CHECK(m.Get("other", {}) == 9);
  CHECK(m.Render() ==
        "# HELP bd BundleDeployments by state.\n"
        "# TYPE bd gauge\n"
        "# HELP other Other.\n"
        "# TYPE other gauge\n"
        "other 9\n");

  m.Set("bd", {{"state", "Ready"}}, 4);
  CHECK_THAT(m.Render(), Contains("bd{state=\"Ready\"} 4\n"));
  CHECK_THAT(m.Render(), !Contains("ErrApplied"));
}

// Get of a family or series that does not exist reads as 0 and creates
// nothing: the exposition stays empty.
TEST_CASE("Get of a missing family or series returns zero without creating it", "[metrics]") {
  MetricsRegistry m;
  CHECK(m.Get("nothing_total", {}) == 0);
  CHECK(m.Get("nothing_total", {{"cluster", "a"}}) == 0);
  CHECK(m.Render().empty());

  m.Declare("some_total", "counter", "Some.");
  m.Add("some_total", {{"cluster", "a"}}, 1);
  CHECK(m.Get("some_total", {{"cluster", "b"}}) == 0);
  CHECK(m.Get("some_total", {}) == 0);
  CHECK(m.Get("some_total", {{"cluster", "a"}, {"extra", "x"}}) == 0);
  CHECK(m.Render() ==
        "# HELP some_total Some.\n"
        "# TYPE some_total counter\n"
        "some_total{cluster=\"a\"} 1\n");
}

// A family used without Declare still renders validly: TYPE untyped, and no
// HELP line since there is no help text.
TEST_CASE("An undeclared family renders as untyped without a HELP line", "[metrics]") {
  MetricsRegistry m;
  m.Add("adhoc_total", {}, 2);

  CHECK(m.Render() ==
        "# TYPE adhoc_total untyped\n"
        "adhoc_total 2\n");
}

// Whole numbers render without a fraction, the special values as the format
// spells them (NaN, +Inf, -Inf).
TEST_CASE("Sample values render integers plainly and special values as NaN and Inf", "[metrics]") {
  MetricsRegistry m;
  m.Declare("v", "gauge", "Values.");
  m.Set("v", {{"k", "a_int"}}, 123456789);
  m.Set("v", {{"k", "b_neg"}}, -42);
  m.Set("v", {{"k", "c_zero"}}, 0);
  m.Set("v", {{"k", "d_frac"}}, 0.5);
  m.Set("v", {{"k", "e_nan"}}, std::numeric_limits<double>::quiet_NaN());
  m.Set("v", {{"k", "f_pinf"}}, std::numeric_limits<double>::infinity());
  m.Set("v", {{"k", "g_ninf"}}, -std::numeric_limits<double>::infinity());

  CHECK(m.Render() ==
        "# HELP v Values.\n"
        "# TYPE v gauge\n"
        "v{k=\"a_int\"} 123456789\n"
        "v{k=\"b_neg\"} -42\n"
        "v{k=\"c_zero\"} 0\n"
        "v{k=\"d_frac\"} 0.5\n"
        "v{k=\"e_nan\"} NaN\n"
        "v{k=\"f_pinf\"} +Inf\n"
        "v{k=\"g_ninf\"} -Inf\n");
}

// The registry is shared by every stream reactor: concurrent Adds from several
// threads, to the same series and to per-thread series, lose no increment.
TEST_CASE("Concurrent Adds from several threads sum exactly", "[metrics]") {
  MetricsRegistry m;
  m.Declare("shared_total", "counter", "Shared.");
  constexpr int kThreads = 8;
  constexpr int kAddsPerThread = 5000;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      const MetricsRegistry::LabelSet own{{"thread", std::to_string(t)}};
      for (int i = 0; i < kAddsPerThread; ++i) {
        m.Add("shared_total", {}, 1);
        m.Add("shared_total", own, 2);
        if (i % 500 == 0) (void)m.Render();
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(m.Get("shared_total", {}) == kThreads * kAddsPerThread);
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(m.Get("shared_total", {{"thread", std::to_string(t)}}) == 2 * kAddsPerThread);
  }
  CHECK_THAT(m.Render(), Contains("shared_total 40000\n"));
}

// Values print in the shortest form that reads back as the same double.
TEST_CASE("Metric values keep their precision", "[metrics]") {
  MetricsRegistry r;
  r.Declare("g", "gauge", "A gauge.");
  r.Set("g", {{"k", "a"}}, 1234567.5);
  r.Set("g", {{"k", "b"}}, 123456789012.25);
  r.Set("g", {{"k", "c"}}, 0.1);
  CHECK(r.Render() ==
        "# HELP g A gauge.\n"
        "# TYPE g gauge\n"
        "g{k=\"a\"} 1234567.5\n"
        "g{k=\"b\"} 123456789012.25\n"
        "g{k=\"c\"} 0.1\n");
}

// HELP escapes backslash and newline (text format 0.0.4).
TEST_CASE("HELP text escapes backslash and newline", "[metrics]") {
  MetricsRegistry r;
  r.Declare("h_total", "counter", "Line one\nback\\slash");
  CHECK(r.Render() == "# HELP h_total Line one\\nback\\\\slash\n# TYPE h_total counter\n");
}

// A histogram renders Prometheus' three sample kinds: cumulative buckets
// with `le` (after the series' own labels, +Inf last), then _sum and _count.
// An observation equal to a bound counts in that bucket (le is "<=").
TEST_CASE("A histogram renders cumulative buckets, +Inf, _sum and _count", "[metrics]") {
  MetricsRegistry m;
  m.DeclareHistogram("req_seconds", "Request time.", {1, 0.1, 0.5});
  m.Observe("req_seconds", {{"kind", "read"}}, 0.05);
  m.Observe("req_seconds", {{"kind", "read"}}, 0.1);
  m.Observe("req_seconds", {{"kind", "read"}}, 0.7);
  m.Observe("req_seconds", {{"kind", "read"}}, 3);

  CHECK(m.Render() ==
        "# HELP req_seconds Request time.\n"
        "# TYPE req_seconds histogram\n"
        "req_seconds_bucket{kind=\"read\",le=\"0.1\"} 2\n"
        "req_seconds_bucket{kind=\"read\",le=\"0.5\"} 2\n"
        "req_seconds_bucket{kind=\"read\",le=\"1\"} 3\n"
        "req_seconds_bucket{kind=\"read\",le=\"+Inf\"} 4\n"
        "req_seconds_sum{kind=\"read\"} 3.85\n"
        "req_seconds_count{kind=\"read\"} 4\n");
  MetricsRegistry::HistogramData h = m.GetHistogram("req_seconds", {{"kind", "read"}});
  CHECK(h.count == 4);
  CHECK(h.sum == Approx(3.85));
  CHECK(h.cumulative == std::vector<uint64_t>{2, 2, 3});
}

// A series without labels gets `{le="..."}` on its buckets and no braces on
// _sum and _count; InitSeries exports an all-zero series before any event.
TEST_CASE("A histogram without labels can be exported at zero before its first observation",
          "[metrics]") {
  MetricsRegistry m;
  m.DeclareHistogram("fetch_seconds", "Fetch time.", {0.5});
  CHECK(m.Render() == "# HELP fetch_seconds Fetch time.\n# TYPE fetch_seconds histogram\n");
  m.InitSeries("fetch_seconds", {});
  CHECK(m.Render() ==
        "# HELP fetch_seconds Fetch time.\n"
        "# TYPE fetch_seconds histogram\n"
        "fetch_seconds_bucket{le=\"0.5\"} 0\n"
        "fetch_seconds_bucket{le=\"+Inf\"} 0\n"
        "fetch_seconds_sum 0\n"
        "fetch_seconds_count 0\n");
  m.Observe("fetch_seconds", {}, 0.25);
  CHECK_THAT(m.Render(), Contains("fetch_seconds_bucket{le=\"0.5\"} 1\n"));
  CHECK_THAT(m.Render(), Contains("fetch_seconds_count 1\n"));
}

// A histogram declared twice keeps the buckets its series were counted in;
// Add and Set on it, and Observe on a counter, change nothing (a type mix-up
// must not produce an exposition a scraper rejects).
TEST_CASE("Histograms and counters ignore operations of the other type", "[metrics]") {
  MetricsRegistry m;
  m.DeclareHistogram("h_seconds", "H.", {1});
  m.Observe("h_seconds", {}, 0.5);
  m.DeclareHistogram("h_seconds", "H again.", {2, 3});
  m.Add("h_seconds", {}, 5);
  m.Set("h_seconds", {}, 5);
  m.Declare("c_total", "counter", "C.");
  m.Observe("c_total", {}, 1);

  CHECK(m.GetHistogram("h_seconds", {}).cumulative == std::vector<uint64_t>{1});
  CHECK(m.Get("c_total", {}) == 0);
  auto parsed = flotilla::testing::PromExposition::Parse(m.Render());
  INFO(parsed.status().ToString() << "\n" << m.Render());
  REQUIRE(parsed.ok());
  CHECK(parsed->Value("h_seconds_bucket", {{"le", "1"}}) == 1.0);
  CHECK(parsed->Family("h_seconds")->help == "H again.");
}

// Observe on a family never declared makes it a histogram with Prometheus'
// default buckets (5ms .. 10s).
TEST_CASE("An undeclared histogram gets the default buckets", "[metrics]") {
  MetricsRegistry m;
  m.Observe("adhoc_seconds", {}, 0.003);
  MetricsRegistry::HistogramData h = m.GetHistogram("adhoc_seconds", {});
  REQUIRE(h.cumulative.size() == MetricsRegistry::DefaultBuckets().size());
  CHECK(h.cumulative.front() == 1);
  CHECK_THAT(m.Render(), Contains("# TYPE adhoc_seconds histogram\n"));
  CHECK_THAT(m.Render(), Contains("adhoc_seconds_bucket{le=\"0.005\"} 1\n"));
  CHECK_THAT(m.Render(), Contains("adhoc_seconds_bucket{le=\"10\"} 1\n"));
}

// ScopedTimer observes once: at Stop() or at destruction, with the labels
// set last; Cancel observes nothing.
TEST_CASE("ScopedTimer observes the elapsed time exactly once", "[metrics]") {
  MetricsRegistry m;
  m.DeclareHistogram("op_seconds", "Op.", {60});
  {
    ScopedTimer timer(&m, "op_seconds", {{"kind", "pending"}});
    timer.SetLabels({{"kind", "write"}});
  }
  {
    ScopedTimer timer(&m, "op_seconds", {{"kind", "read"}});
    const double seconds = timer.Stop();
    CHECK(seconds >= 0);
    CHECK(seconds < 60);
    CHECK(timer.Stop() == seconds);
  }
  {
    ScopedTimer timer(&m, "op_seconds", {{"kind", "cancelled"}});
    timer.Cancel();
  }
  CHECK(m.GetHistogram("op_seconds", {{"kind", "write"}}).count == 1);
  CHECK(m.GetHistogram("op_seconds", {{"kind", "read"}}).count == 1);
  CHECK(m.GetHistogram("op_seconds", {{"kind", "pending"}}).count == 0);
  CHECK(m.GetHistogram("op_seconds", {{"kind", "cancelled"}}).count == 0);
}

// Concurrent observations from several threads lose none, and every render
// taken meanwhile is a valid exposition (+Inf bucket equal to _count).
TEST_CASE("Concurrent observations sum exactly and every render parses", "[metrics]") {
  MetricsRegistry m;
  m.DeclareHistogram("lat_seconds", "Latency.", {0.5, 1});
  constexpr int kThreads = 4;
  constexpr int kObservations = 2000;
  std::vector<std::thread> threads;
  std::vector<std::string> renders(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, &renders, t] {
      for (int i = 0; i < kObservations; ++i) {
        m.Observe("lat_seconds", {}, (i % 3) * 0.5);
        if (i == kObservations / 2) renders[t] = m.Render();
      }
    });
  }
  for (auto& th : threads) th.join();

  MetricsRegistry::HistogramData h = m.GetHistogram("lat_seconds", {});
  CHECK(h.count == kThreads * kObservations);
  for (const std::string& text : renders) {
    auto parsed = flotilla::testing::PromExposition::Parse(text);
    INFO(parsed.status().ToString());
    CHECK(parsed.ok());
  }
}

// DefaultMetrics is one registry for the whole process.
TEST_CASE("DefaultMetrics returns the same process-wide registry every time", "[metrics]") {
  MetricsRegistry& a = DefaultMetrics();
  MetricsRegistry& b = DefaultMetrics();
  CHECK(&a == &b);
  a.Declare("flotilla_test_default_registry_total", "counter", "Test.");
  a.Add("flotilla_test_default_registry_total", {}, 1);
  CHECK(b.Get("flotilla_test_default_registry_total", {}) >= 1);
}

// Everything the registry renders (escaped labels, special values, every
// family type) is accepted by the strict parser and reads back the same.
TEST_CASE("The registry's exposition parses back to the values recorded", "[metrics]") {
  MetricsRegistry m;
  m.Declare("g", "gauge", "A \\ gauge\nwith two lines.");
  m.Set("g", {{"v", "a\\b \"q\"\nz"}}, -2.5);
  m.Set("g", {{"v", "inf"}}, std::numeric_limits<double>::infinity());
  m.Declare("c_total", "counter", "C.");
  m.Add("c_total", {}, 7);
  m.DeclareHistogram("h_seconds", "H.", {0.1});
  m.Observe("h_seconds", {{"kind", "x"}}, 0.05);

  auto parsed = flotilla::testing::PromExposition::Parse(m.Render());
  INFO(parsed.status().ToString() << "\n" << m.Render());
  REQUIRE(parsed.ok());
  CHECK(parsed->Family("g")->help == "A \\ gauge\nwith two lines.");
  CHECK(parsed->Value("g", {{"v", "a\\b \"q\"\nz"}}) == -2.5);
  CHECK(parsed->Value("g", {{"v", "inf"}}) == std::numeric_limits<double>::infinity());
  CHECK(parsed->Value("c_total") == 7.0);
  CHECK(parsed->Value("h_seconds_count", {{"kind", "x"}}) == 1.0);
  CHECK(parsed->Value("h_seconds_sum", {{"kind", "x"}}) == 0.05);
}

}  // namespace
}  // namespace flotilla::common
