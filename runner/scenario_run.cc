#include "runner/scenario_run.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/algorithm/string/replace.hpp>

#include "client/defects/defective_client.hpp"
#include "client/tap_feed.hpp"
#include "scenario/mutation.hpp"
#include "mockserver/server.hpp"
#include "runner/child_process.hpp"
#include "runner/interrupt.hpp"

namespace tapharness::runner {
namespace {

using Clock = std::chrono::steady_clock;

// Quotes a word for /bin/sh.
std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Everything one run needs while the io_context turns.
class Run {
 public:
  // `checked` is what the client is held to: the scenario itself, or its mutation.
  Run(std::shared_ptr<const scenario::Scenario> scenario, std::shared_ptr<const scenario::Scenario> checked,
      const RunOptions& options, ScenarioResult& result)
      : scenario_(std::move(scenario)),
        checked_(std::move(checked)),
        options_(options),
        result_(result),
        check_(*checked_) {}

  void execute() {
    std::optional<scenario::MutationSpec> mutation;
    if (options_.mutation_seed) mutation = scenario::MutationSpec{*options_.mutation_seed, 1};
    auto listening = mockserver::MockServer::listen(
        io_, scenario_,
        {.connections = 1,
         .trace_dir = options_.trace_dir,
         .seed = options_.seed,
         .mutation = mutation,
         .limit = options_.limit});
    if (!listening) {
      result_.problem = listening.error().message();
      return;
    }
    server_ = std::move(*listening);
    server_->start([this](const mockserver::Report& r) { result_.server = r; }, [] {});

    const std::string port = std::to_string(server_->endpoint().port());
    if (options_.client_command) {
      std::string command = *options_.client_command;
      boost::algorithm::replace_all(command, "{addr}", "127.0.0.1:" + port);
      boost::algorithm::replace_all(command, "{args}", tail_flags(*scenario_));
      start_external(command);
    } else {
      start_builtin(port);
    }
    // The server always finishes (its waits are bounded, the whole run by its limit); the
    // client then gets the scenario's timeout to report its end. This deadline is a net.
    const auto limit = options_.limit.value_or(scenario_->limit.value_or(scenario::kDefaultLimit));
    auto deadline = Clock::now() + limit + scenario_->timeout + std::chrono::seconds(5);
    bool server_seen = false;
    while (!(result_.server && client_done_) && Clock::now() < deadline && !interrupt_requested()) {
      if (result_.server && !server_seen) {
        server_seen = true;
        deadline = std::min(deadline, Clock::now() + scenario_->timeout);
      }
      // In slices, so Ctrl-C (interrupt.hpp) is seen within a moment.
      io_.run_one_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
      if (io_.stopped()) break;
    }
    if (!(result_.server && client_done_)) {
      result_.interrupted = interrupt_requested();
      result_.problem = result_.interrupted ? "interrupted (Ctrl-C) before the run ended"
                        : result_.server    ? fmt::format("the client did not end within {}ms after the server finished",
                                                          scenario_->timeout.count())
                                            : fmt::format("the run did not finish within {}ms", limit.count());
      if (child_) child_->terminate();
      if (feed_) feed_->close();
      if (defective_) defective_->close();
      server_->stop();
      io_.restart();
      io_.run_for(std::chrono::seconds(1));
    }
    if (defective_) {  // what it left open (stay_connected_after_error) goes with the run
      defective_->close();
      io_.restart();
      io_.run_for(std::chrono::milliseconds(100));
    }
    check_.finish();
    result_.client_failures = check_.failures();
    result_.client_failures_dropped = check_.failures_dropped();
    result_.events = check_.events_seen();
  }

 private:
  void observe(client::ReportedItem item) {
    check_.observe(item);
    if (options_.keep_observed) result_.observed.push_back(std::move(item));
  }

  void start_builtin(const std::string& port) {
    if (options_.defects && !options_.defects->empty()) return start_defective(port);
    feed_.emplace(client::connect_feed(io_.get_executor(), "127.0.0.1", port, feed_options(*scenario_)));
    feed_->async_consume([this](const protocol::TapEventView& event) { observe(event.to_owned()); },
                         [this](const client::FeedEnd& end) {
                           observe(client::report_of(end));
                           client_done_ = true;
                         });
  }

  void start_defective(const std::string& port) {
    defective_ = client::DefectiveClient::start(
        io_.get_executor(), "127.0.0.1", port, feed_options(*scenario_), *options_.defects,
        {.item =
             [this](client::ReportedItem item) {
               const bool end = std::holds_alternative<client::ReportedEnd>(item);
               observe(std::move(item));
               if (end) client_done_ = true;
             },
         .crash =
             [this](const std::string& why) {
               result_.problem = fmt::format("the client crashed: {}", why);
               client_done_ = true;
             },
         .done = [] {}});
  }

  void start_external(const std::string& command) {
    auto spawned = ChildProcess::spawn(io_, command);
    if (!spawned) {
      result_.problem = fmt::format("cannot start the client: {}", spawned.error().message());
      client_done_ = true;
      return;
    }
    child_ = std::move(*spawned);
    read_line();
    read_stderr();
  }

  // Reads the client's output in large pieces and takes every whole line from them: a
  // 100,000-event stream is 100,000 lines. A partial line is searched for its end only in
  // what is new, and a line longer than the longest an event can be is refused, not held.
  static constexpr std::size_t kReadSize = 64 * 1024;
  static constexpr std::size_t kMaxLine = 64 * 1024 * 1024;  // a 21 MiB value in base64, and room

  void read_line() {
    const std::size_t old = stdout_buffer_.size();
    stdout_buffer_.resize(old + kReadSize);
    child_->out().async_read_some(
        asio::buffer(stdout_buffer_.data() + old, kReadSize), [this, old](const boost::system::error_code& ec, std::size_t n) {
          stdout_buffer_.resize(old + n);
          std::size_t begin = 0;
          for (std::size_t end = stdout_buffer_.find('\n', old); end != std::string::npos;
               end = stdout_buffer_.find('\n', begin)) {
            take_line(std::string_view(stdout_buffer_).substr(begin, end - begin));
            begin = end + 1;
          }
          stdout_buffer_.erase(0, begin);
          if (stdout_buffer_.size() > kMaxLine) {
            check_.bad_output(line_number_ + 1, fmt::format("a line longer than {} bytes", kMaxLine),
                              stdout_buffer_.substr(0, 80) + "...");
            stdout_buffer_.clear();
          }
          if (ec) return client_exited();
          read_line();
        });
  }

  void take_line(std::string_view line) {
    ++line_number_;
    auto parsed = client::parse_json_line(line);
    if (parsed) {
      observe(std::move(*parsed));
    } else {
      check_.bad_output(line_number_, parsed.error().message(), std::string(line));
    }
  }

  void read_stderr() {
    child_->err().async_read_some(asio::buffer(stderr_chunk_), [this](const boost::system::error_code& ec,
                                                                      std::size_t n) {
      if (ec) return;
      if (result_.client_stderr.size() < 64 * 1024) result_.client_stderr.append(stderr_chunk_.data(), n);
      read_stderr();
    });
  }

  void client_exited() {
    const int status = child_->wait();
    if (!stdout_buffer_.empty()) {
      check_.bad_output(line_number_ + 1, "no newline at the end of the output", stdout_buffer_);
    }
    // 0 and 1 are tap_tail's statuses for an end it reported; anything else (a signal
    // included) is a crash, unless the runner killed it for overrunning.
    if (status != 0 && status != 1 && result_.problem.empty()) {
      result_.problem = fmt::format("the client exited with status {}", status);
    }
    client_done_ = true;
  }

  asio::io_context io_;
  std::shared_ptr<const scenario::Scenario> scenario_;
  std::shared_ptr<const scenario::Scenario> checked_;
  const RunOptions& options_;
  ScenarioResult& result_;
  ClientCheck check_;
  std::unique_ptr<mockserver::MockServer> server_;
  std::optional<client::TapFeed> feed_;
  std::shared_ptr<client::DefectiveClient> defective_;
  std::unique_ptr<ChildProcess> child_;
  std::string stdout_buffer_;
  std::array<char, 4096> stderr_chunk_{};
  std::size_t line_number_ = 0;
  bool client_done_ = false;
};

}  // namespace

client::FeedOptions feed_options(const scenario::Scenario& scenario) {
  client::FeedOptions options;
  if (scenario.client.args) {
    options.args = scenario.client.args->args;
    options.idle_timeout = scenario.client.args->idle_timeout;
  }
  return options;
}

std::string tail_flags(const scenario::Scenario& scenario) {
  const auto options = feed_options(scenario);
  const auto& a = options.args;
  std::string out;
  if (!a.client_name.empty()) out += " --name " + shell_quote(a.client_name);
  out += a.backfill == protocol::kNoBackfill ? " --backfill none" : fmt::format(" --backfill {}", a.backfill);
  if (a.dump) out += " --dump";
  if (!a.vbuckets.empty()) out += fmt::format(" --vbuckets {}", fmt::join(a.vbuckets, ","));
  if (a.takeover) out += " --takeover";
  if (a.support_ack) out += " --ack";
  if (a.keys_only) out += " --keys-only";
  if (a.checkpoint) out += " --checkpoint";
  if (a.registered_client) out += " --registered";
  if (options.idle_timeout) out += fmt::format(" --timeout {}", options.idle_timeout->count() / 1000.0);
  return out.empty() ? out : out.substr(1);
}

std::chrono::duration<double> deliberate_delay(const scenario::Scenario& scenario) {
  using Seconds = std::chrono::duration<double>;
  auto step_delay = [&](const scenario::Step& step) -> Seconds {
    if (const auto* d = std::get_if<scenario::Delay>(&step.action)) return d->duration;
    // A stall waits for the client's idle timeout on purpose (or for the scenario's).
    if (const auto* c = std::get_if<scenario::Close>(&step.action); c && c->how == scenario::Close::How::stall) {
      const auto idle = scenario.client.args ? scenario.client.args->idle_timeout : std::nullopt;
      return idle.value_or(scenario.timeout);
    }
    if (const auto* s = std::get_if<scenario::Send>(&step.action); s && s->fault().bytewise) {
      return s->fault().gap * static_cast<double>(s->frame().fixed_length().value_or(1) - 1);
    }
    return Seconds{0};
  };
  Seconds total{0};
  for (const auto& step : scenario.steps) {
    if (const auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
      Seconds body{0};
      for (const auto& inner : repeat->body) body += step_delay(inner);
      total += body * static_cast<double>(repeat->count);
    } else {
      total += step_delay(step);
    }
  }
  return total;
}

ScenarioResult run_scenario(std::shared_ptr<const scenario::Scenario> scenario, const RunOptions& options) {
  auto checked = scenario;
  if (options.mutation_seed) {
    checked = std::make_shared<const scenario::Scenario>(scenario::mutate(*scenario, *options.mutation_seed));
  }
  ScenarioResult result;
  result.name = checked->name;
  result.path = scenario->path;
  result.deliberate_delay = deliberate_delay(*scenario);
  const auto start = Clock::now();
  Run(scenario, checked, options, result).execute();
  result.elapsed = Clock::now() - start;
  const bool server_ok = result.server && result.server->passed();
  const bool ok = server_ok && result.client_failures.empty() && result.client_failures_dropped == 0 &&
                  result.problem.empty();
  result.verdict = result.interrupted ? Verdict::interrupted : ok ? Verdict::passed : Verdict::failed;
  return result;
}

ScenarioResult run_scenario_file(const std::string& path, const RunOptions& options) {
  auto parsed = scenario::load_scenario(path);
  if (!parsed) {
    ScenarioResult result;
    result.path = path;
    result.name = std::filesystem::path(path).stem().string();
    result.verdict = Verdict::invalid;
    result.parse_error = parsed.error();
    return result;
  }
  return run_scenario(std::make_shared<const scenario::Scenario>(std::move(parsed).value()), options);
}

namespace {

// "file:line", or just the file for what no line stands for (the whole file, a mutation's
// added ending).
std::string where(const scenario::SourceLocation& l) {
  return l.line > 0 ? fmt::format("{}:{}", l.file(), l.line) : l.file();
}

}  // namespace

std::string format_result(const ScenarioResult& r) {
  std::string notes;
  for (const auto& d : r.diagnostics) notes += fmt::format("  {}\n", d.text());
  if (r.more_errors > 0) notes += fmt::format("  ... and {} more errors\n", r.more_errors);
  if (r.verdict == Verdict::invalid) {
    return fmt::format("INVALID {}\n  {}\n{}", r.path, r.parse_error ? r.parse_error->text() : "", notes);
  }
  if (r.verdict == Verdict::interrupted) return fmt::format("INTERRUPTED {} ({:.2f}s)\n", r.name, r.elapsed.count());
  std::string out = fmt::format("{} {} ({:.2f}s)\n{}", r.verdict == Verdict::passed ? "PASS" : "FAIL", r.name,
                                r.elapsed.count(), notes);
  if (r.verdict == Verdict::passed) return out;
  if (!r.problem.empty()) out += fmt::format("  {}\n", r.problem);
  if (!r.server) {
    out += "  server: no report\n";
  } else {
    for (const auto& s : r.server->steps()) {
      if (s.failed == 0) continue;
      out += fmt::format("  {}: {}{} (server)\n    expected: {}\n    observed: {}\n", where(s.location), s.step,
                         s.failure->index ? fmt::format(" (repeat index {})", *s.failure->index) : "", s.failure->expected,
                         s.failure->observed);
    }
  }
  for (const auto& f : r.client_failures) {
    out += fmt::format("  {}: {} (client)\n    expected: {}\n    observed: {}\n", where(f.location), f.what,
                       f.expected, f.observed);
  }
  if (r.client_failures_dropped > 0) out += fmt::format("  ... and {} more client failures\n", r.client_failures_dropped);
  if (!r.client_stderr.empty()) out += fmt::format("  client stderr:\n{}", r.client_stderr);
  return out;
}

std::string first_failure_line(const ScenarioResult& r) {
  if (r.verdict == Verdict::invalid) return r.parse_error ? r.parse_error->text() : "invalid";
  if (r.verdict == Verdict::interrupted) return r.problem;
  if (r.server) {
    for (const auto& s : r.server->steps()) {
      if (s.failed == 0) continue;
      return fmt::format("{}: {}: expected {}; observed {}", where(s.location), s.step, s.failure->expected,
                         s.failure->observed);
    }
  }
  if (!r.client_failures.empty()) {
    const auto& f = r.client_failures.front();
    return fmt::format("{}: {}: expected {}; observed {}", where(f.location), f.what, f.expected, f.observed);
  }
  if (!r.problem.empty()) return r.problem.substr(0, r.problem.find('\n'));
  return "passed";
}

}  // namespace tapharness::runner
