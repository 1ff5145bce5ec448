// The strict Prometheus text-format parser the /metrics tests rely on
// (tests/support/prom_text.h): what it accepts and, as important, what it
// refuses and how it says so.
#include "tests/support/prom_text.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

namespace flotilla::testing {
namespace {

using Catch::Matchers::Contains;

// The refusal of `text`: InvalidArgument with a message naming the problem.
std::string ErrorOf(const std::string& text) {
  auto parsed = PromExposition::Parse(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

// A well-formed exposition with every family type, comments, empty lines,
// escaped label values, special values and a timestamp reads back family by
// family and series by series.
TEST_CASE("A valid exposition parses into families and samples", "[metrics]") {
  const std::string text =
      "# A plain comment.\n"
      "# HELP up_total Things that went up.\\nTwo lines, one \\\\ backslash.\n"
      "# TYPE up_total counter\n"
      "up_total{job=\"a\\\\b\",path=\"say \\\"hi\\\"\\n\"} 3 1700000000000\n"
      "up_total{job=\"c\"} +Inf\n"
      "\n"
      "# TYPE temp gauge\n"
      "temp -1.5e3\n"
      "temp{room=\"x\"} NaN\n"
      "# HELP lat_seconds Latency.\n"
      "# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{kind=\"r\",le=\"0.1\"} 1\n"
      "lat_seconds_bucket{kind=\"r\",le=\"1\"} 3\n"
      "lat_seconds_bucket{kind=\"r\",le=\"+Inf\"} 4\n"
      "lat_seconds_sum{kind=\"r\"} 6.5\n"
      "lat_seconds_count{kind=\"r\"} 4\n"
      "# TYPE rpc summary\n"
      "rpc{quantile=\"0.5\"} 0.2\n"
      "rpc_sum 10\n"
      "rpc_count 50\n";
  auto parsed = PromExposition::Parse(text);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());

  const PromFamily* up = parsed->Family("up_total");
  REQUIRE(up != nullptr);
  CHECK(up->type == "counter");
  CHECK(up->help == "Things that went up.\nTwo lines, one \\ backslash.");
  CHECK(parsed->Value("up_total", {{"job", "a\\b"}, {"path", "say \"hi\"\n"}}) == 3.0);
  CHECK(parsed->Value("up_total", {{"job", "c"}}) == std::numeric_limits<double>::infinity());
  CHECK(parsed->Value("temp") == -1500.0);
  CHECK(std::isnan(*parsed->Value("temp", {{"room", "x"}})));
  CHECK(parsed->Family("temp")->help.empty());
  CHECK(parsed->Family("lat_seconds")->type == "histogram");
  CHECK(parsed->Value("lat_seconds_bucket", {{"kind", "r"}, {"le", "+Inf"}}) == 4.0);
  CHECK(parsed->Value("lat_seconds_count", {{"kind", "r"}}) == 4.0);
  CHECK(parsed->Count("lat_seconds_bucket") == 3);
  CHECK(parsed->Value("rpc_count") == 50.0);
  CHECK(parsed->Family("rpc")->samples.size() == 3);
  CHECK(parsed->families().size() == 4);
}

// Sum adds every sample whose labels include the matcher, as PromQL's
// sum(name{...}) does; Value wants the labels exactly.
TEST_CASE("Sum adds the matching series and Value wants exact labels", "[metrics]") {
  auto parsed = PromExposition::Parse(
      "# TYPE clusters gauge\n"
      "clusters{connected=\"true\",state=\"Ready\"} 2\n"
      "clusters{connected=\"false\",state=\"Ready\"} 1\n"
      "clusters{connected=\"true\",state=\"ErrApplied\"} 4\n");
  REQUIRE(parsed.ok());
  CHECK(parsed->Sum("clusters") == 7);
  CHECK(parsed->Sum("clusters", {{"connected", "true"}}) == 6);
  CHECK(parsed->Sum("clusters", {{"state", "Ready"}}) == 3);
  CHECK(parsed->Sum("missing") == 0);
  CHECK_FALSE(parsed->Value("clusters", {{"state", "Ready"}}).has_value());
  CHECK(parsed->Value("clusters", {{"connected", "false"}, {"state", "Ready"}}) == 1.0);
}

// Every sample must belong to a family a TYPE line declared, of a type its
// name fits.
TEST_CASE("Samples outside a declared family of the right type are refused", "[metrics]") {
  CHECK_THAT(ErrorOf("orphan 1\n"),
             Contains("line 1: sample orphan has no TYPE line declaring its family"));
  CHECK_THAT(ErrorOf("# HELP only_help Help.\nonly_help 1\n"),
             Contains("line 2: sample only_help has no TYPE line"));
  CHECK_THAT(ErrorOf("# TYPE c_total counter\nc_total_bucket{le=\"1\"} 1\n"),
             Contains("line 2: sample c_total_bucket does not belong to counter c_total"));
  CHECK_THAT(ErrorOf("# TYPE h histogram\nh 1\n"),
             Contains("line 2: sample h of histogram without _bucket, _sum or _count"));
  CHECK_THAT(ErrorOf("# TYPE h histogram\nh_bucket 1\n"),
             Contains("line 2: histogram bucket h_bucket without an le label"));
  CHECK_THAT(ErrorOf("# TYPE h histogram\nh_sum{le=\"1\"} 1\n"),
             Contains("line 2: label \"le\" on h_sum"));
  CHECK_THAT(ErrorOf("# TYPE g gauge\ng{le=\"1\"} 1\n"), Contains("label \"le\" on gauge g"));
  CHECK_THAT(ErrorOf("# TYPE s summary\ns 1\n"),
             Contains("summary sample s without a quantile label"));
}

// HELP and TYPE: one each, TYPE before the samples, a known type, a valid
// name, and a family's lines kept together.
TEST_CASE("Misplaced, repeated or malformed HELP and TYPE lines are refused", "[metrics]") {
  CHECK_THAT(ErrorOf("# TYPE a counter\n# TYPE a gauge\n"),
             Contains("line 2: second TYPE line for a"));
  CHECK_THAT(ErrorOf("# HELP a x\n# HELP a y\n"), Contains("line 2: second HELP line for a"));
  CHECK_THAT(ErrorOf("# TYPE a gauge\na 1\n# TYPE a gauge\n"),
             Contains("line 3: second TYPE line for a"));
  CHECK_THAT(ErrorOf("# TYPE a gauges\n"), Contains("line 1: unknown metric type \"gauges\""));
  CHECK_THAT(ErrorOf("# TYPE 1a gauge\n"), Contains("line 1: invalid metric name \"1a\""));
  CHECK_THAT(ErrorOf("# TYPE\n"), Contains("line 1: TYPE without a name"));
  CHECK_THAT(ErrorOf("# HELP a bad \\t escape\n"), Contains("line 1: invalid escape \\t"));
  CHECK_THAT(ErrorOf("# TYPE a gauge\n# TYPE b gauge\na 1\n"),
             Contains("line 3: family a appears again after other families"));
  CHECK_THAT(ErrorOf("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"y\"} 2\n"),
             Contains("line 5: family a appears again"));
}

// Sample lines: names, label syntax, escapes, values and timestamps.
TEST_CASE("Malformed sample lines are refused with the line and the reason", "[metrics]") {
  const std::string head = "# TYPE m gauge\n";
  CHECK_THAT(ErrorOf(head + "m{a=\"1\"}\n"), Contains("line 2: expected a space and a value"));
  CHECK_THAT(ErrorOf(head + "m \n"), Contains("line 2: sample m has no value"));
  CHECK_THAT(ErrorOf(head + "m one\n"), Contains("line 2: invalid value \"one\" for m"));
  CHECK_THAT(ErrorOf(head + "m 0x10\n"), Contains("invalid value \"0x10\""));
  CHECK_THAT(ErrorOf(head + "m 1 soon\n"), Contains("line 2: invalid timestamp \"soon\""));
  CHECK_THAT(ErrorOf(head + "m 1 2 3\n"), Contains("line 2: trailing text after the sample m"));
  CHECK_THAT(ErrorOf(head + "m{a=1} 1\n"),
             Contains("line 2: expected '\"' to open the value of label a"));
  CHECK_THAT(ErrorOf(head + "m{a=\"1} 1\n"), Contains("line 2: unterminated value of label a"));
  CHECK_THAT(ErrorOf(head + "m{a=\"\\x\"} 1\n"),
             Contains("line 2: invalid escape \\x in the value of label a"));
  CHECK_THAT(ErrorOf(head + "m{a=\"1\" b=\"2\"} 1\n"),
             Contains("line 2: expected ',' or '}' after the value of label a"));
  CHECK_THAT(ErrorOf(head + "m{a=\"1\",a=\"2\"} 1\n"), Contains("line 2: label a given twice"));
  CHECK_THAT(ErrorOf(head + "m{1a=\"1\"} 1\n"), Contains("line 2: invalid label name"));
  CHECK_THAT(ErrorOf(head + "m{__name__=\"x\"} 1\n"), Contains("label name __name__ is reserved"));
  CHECK_THAT(ErrorOf(head + "-m 1\n"), Contains("line 2: invalid metric name"));
  CHECK_THAT(ErrorOf(head + "m 1\r\n"), Contains("line 2: carriage return"));
  CHECK_THAT(ErrorOf(head + "m 1"), Contains("does not end with a newline"));
}

// The same series twice, and counters going negative, are refused.
TEST_CASE("Duplicate series and negative counters are refused", "[metrics]") {
  CHECK_THAT(ErrorOf("# TYPE m gauge\nm{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 2\n"),
             Contains("line 3: duplicate series m{a=\"1\",b=\"2\"}"));
  CHECK_THAT(ErrorOf("# TYPE c_total counter\nc_total -1\n"),
             Contains("line 2: counter c_total has the value -1"));
  CHECK_THAT(ErrorOf("# TYPE c_total counter\nc_total NaN\n"), Contains("counter c_total"));
}

// A histogram must be internally consistent: +Inf present and equal to
// _count, buckets cumulative, _sum and _count present.
TEST_CASE("Inconsistent histograms are refused naming the series", "[metrics]") {
  const std::string head = "# TYPE h histogram\n";
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
             Contains("histogram h{} has no le=\"+Inf\" bucket"));
  CHECK_THAT(
      ErrorOf(head + "h_bucket{k=\"a\",le=\"1\"} 3\nh_bucket{k=\"a\",le=\"2\"} 2\n"
                     "h_bucket{k=\"a\",le=\"+Inf\"} 3\nh_sum{k=\"a\"} 1\nh_count{k=\"a\"} 3\n"),
      Contains("histogram h{k=\"a\"}: bucket counts decrease"));
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n"),
             Contains("histogram h{}: _count is 4 but the le=\"+Inf\" bucket is 3"));
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"+Inf\"} 3\nh_sum 1\n"),
             Contains("histogram h{} has no _count"));
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"+Inf\"} 3\nh_count 3\n"),
             Contains("histogram h{} has no _sum"));
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"soon\"} 3\n"),
             Contains("histogram h: invalid le=\"soon\""));
  CHECK_THAT(ErrorOf(head + "h_bucket{le=\"+Inf\"} -1\nh_sum 1\nh_count -1\n"),
             Contains("histogram count h_bucket has the value -1"));
}

// An empty body is a valid (empty) exposition.
TEST_CASE("An empty exposition parses to no families", "[metrics]") {
  auto parsed = PromExposition::Parse("");
  REQUIRE(parsed.ok());
  CHECK(parsed->families().empty());
  CHECK_FALSE(parsed->Value("anything").has_value());
}

}  // namespace
}  // namespace flotilla::testing
