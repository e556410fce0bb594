#include "simulator/scenario/runner.hpp"

#include <exception>
#include <memory>

#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/expect.hpp"
#include "simulator/world/world.hpp"

namespace mailsim::sim::scenario {
namespace {

using core::duration_ms;

// Progress is reported per virtual hour: often enough for a person watching a long run,
// rarely enough to cost nothing.
constexpr duration_ms progress_step{3600'000};

// The sinks a run writes its transcript to; the digest always, the rest on request.
struct transcript_sinks {
  digest_sink digest;
  tail_sink tail;
  std::unique_ptr<memory_sink> whole;
  std::unique_ptr<file_sink> file;

  transcript_sinks(trace& tr, const run_options& options)
      : tail(options.transcript_tail_lines) {
    tr.add_sink(digest);
    tr.add_sink(tail);
    if (options.keep_transcript) {
      whole = std::make_unique<memory_sink>(SIZE_MAX);
      tr.add_sink(*whole);
    }
    if (!options.transcript_path.empty()) {
      file = std::make_unique<file_sink>(options.transcript_path);
      tr.add_sink(*file);
    }
  }
};

std::string reproduce_line(const scenario& s, const run_options& options,
                           std::uint64_t seed) {
  const std::string command = options.command.empty() ? "mailsim run" : options.command;
  return command + " " + s.file + " --seed " + std::to_string(seed);
}

// Runs the scheduler to the end of the scenario in progress steps. Returns an error text, or
// empty when the run reached its end.
std::string drive(scheduler& sched, core::time_point end, const run_options& options,
                  std::uint64_t& steps) {
  const core::time_point begin = sched.now();
  while (sched.now() < end) {
    const core::time_point next = std::min(end, sched.now() + progress_step);
    const run_report report = sched.run_until(next);
    steps += report.steps;
    if (report.status == run_status::step_limit) {
      return "the run hit steps_max (" + std::to_string(sched.limits().steps_per_run_max) +
             " scheduler callbacks) at " + format_time(sched.now());
    }
    if (options.progress) {
      options.progress(static_cast<double>((sched.now() - begin).count()) /
                       static_cast<double>((end - begin).count()));
    }
  }
  return {};
}

void judge(const scenario& s, run_result& result) {
  for (const expectation_spec& e : s.expect) {
    const metrics::expect_result r = metrics::evaluate_expectation(e.text, result.record);
    result.verdicts.push_back(verdict{e.text, e.where, r.passed, r.measured, r.error});
  }
  result.passed = result.error.empty();
  for (const verdict& v : result.verdicts) result.passed = result.passed && v.passed;
}

}  // namespace

run_result run_scenario(const scenario& s, const run_options& options) {
  run_result result;
  result.name = s.name;
  result.file = s.file;
  result.seed = options.seed.value_or(s.seed);
  result.duration = s.duration;
  result.reproduce = reproduce_line(s, options, result.seed);

  scheduler sched(default_start, scheduler_limits{s.steps_max});
  random_streams streams(result.seed);
  trace tr(sched.clock());
  transcript_sinks sinks(tr, options);
  result.record = metrics::recorder(sched.now());
  tr.record("run", "scenario \"" + s.name + "\" seed " + std::to_string(result.seed));
  try {
    world::world w(s.world, sched, streams, &tr, result.record);
    w.start();
    result.error = drive(sched, sched.now() + s.duration, options, result.steps);
    w.finish();
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  tr.record("run", "end");
  judge(s, result);
  result.transcript_digest = sinks.digest.digest();
  result.transcript_tail = sinks.tail.lines();
  if (sinks.whole) result.transcript = sinks.whole->text();
  return result;
}

}  // namespace mailsim::sim::scenario
