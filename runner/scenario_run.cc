#include "runner/scenario_run.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/algorithm/string/replace.hpp>

#include "client/defects/defective_client.hpp"
#include "client/nack_rule.hpp"
#include "client/reconnecting_feed.hpp"
#include "client/tap_feed.hpp"
#include "runner/chain_check.hpp"
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

// The connections of the client that makes connection block `head`: it, and each reconnect
// after it.
std::vector<const scenario::Scenario*> chain_of(const scenario::Scenario& s, std::size_t head) {
  std::vector<const scenario::Scenario*> chain{s.connections[head].script.get()};
  std::size_t at = head;
  for (std::size_t hops = 0; hops < s.connections.size(); ++hops) {
    std::optional<std::size_t> next;
    for (std::size_t i = 0; i < s.connections.size(); ++i) {
      if (s.connections[i].after == at) next = i;
    }
    if (!next) break;
    chain.push_back(s.connections[*next].script.get());
    at = *next;
  }
  return chain;
}

// One client of a run: the built-in feed, a defective one, or an external program, and what
// it reported, checked connection by connection.
struct Participant {
  Participant(std::shared_ptr<const scenario::Scenario> connects_as, std::vector<const scenario::Scenario*> chain)
      : head(std::move(connects_as)), check(std::move(chain)) {}

  std::shared_ptr<const scenario::Scenario> head;  // whose `client args` it connects with
  ChainCheck check;
  std::shared_ptr<client::ReconnectingFeed> feed;
  std::shared_ptr<client::DefectiveClient> defective;
  std::unique_ptr<ChildProcess> child;
  std::string stdout_buffer;
  std::array<char, 4096> stderr_chunk{};
  std::size_t line_number = 0;
  bool done = false;
};

// Everything one run needs while the io_context turns.
class Run {
 public:
  // `checked` is what the client is held to: the scenario itself, or its mutation.
  Run(std::shared_ptr<const scenario::Scenario> scenario, std::shared_ptr<const scenario::Scenario> checked,
      const RunOptions& options, ScenarioResult& result)
      : scenario_(std::move(scenario)), checked_(std::move(checked)), options_(options), result_(result) {
    if (checked_->connections.empty()) {
      clients_.push_back(std::make_unique<Participant>(checked_, std::vector<const scenario::Scenario*>{checked_.get()}));
      return;
    }
    for (std::size_t i = 0; i < checked_->connections.size(); ++i) {
      if (checked_->connections[i].after) continue;
      clients_.push_back(std::make_unique<Participant>(checked_->connections[i].script, chain_of(*checked_, i)));
    }
  }

  void execute() {
    std::optional<scenario::MutationSpec> mutation;
    if (options_.mutation_seed) mutation = scenario::MutationSpec{*options_.mutation_seed, 1};
    auto listening = mockserver::MockServer::listen(
        io_, scenario_,
        {.connections = 1,
         .trace_dir = options_.trace_dir,
         .seed = options_.seed,
         .mutation = mutation,
         .limit = options_.limit,
         .on_assigned =
             [this](std::size_t index) {
               if (!checked_->connections[index].after) start_next_client();
             },
         .observe = options_.observe});
    if (!listening) {
      result_.problem = listening.error().message();
      return;
    }
    server_ = std::move(*listening);
    server_->start([this](const mockserver::Report& r) { take_report(r); }, [this] { server_done_ = true; });
    port_ = std::to_string(server_->endpoint().port());
    // Clients start one after another, each once the server has taken the one before, so
    // concurrent connections arrive in file order whatever their names.
    start_next_client();

    // The server always finishes (its waits are bounded, each connection by its limit); the
    // clients then get the scenario's timeout to report their ends. This deadline is a net.
    const auto limit = options_.limit.value_or(scenario_->limit.value_or(scenario::kDefaultLimit));
    const auto connections = static_cast<std::int64_t>(std::max<std::size_t>(1, scenario_->connections.size()));
    Clock::time_point deadline = Clock::now() + limit * connections + scenario_->timeout + std::chrono::seconds(5);
    bool server_seen = false;
    while (!(server_done_ && clients_done()) && Clock::now() < deadline && !interrupt_requested()) {
      if (server_done_ && !server_seen) {
        server_seen = true;
        deadline = std::min(deadline, Clock::now() + scenario_->timeout);
      }
      // In slices, so Ctrl-C (interrupt.hpp) is seen within a moment.
      io_.run_one_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
      if (io_.stopped()) break;
    }
    if (!(server_done_ && clients_done())) {
      result_.interrupted = interrupt_requested();
      result_.problem = result_.interrupted ? "interrupted (Ctrl-C) before the run ended"
                        : server_done_      ? fmt::format("the client did not end within {}ms after the server finished",
                                                          scenario_->timeout.count())
                                            : fmt::format("the run did not finish within {}ms", limit.count());
      for (auto& c : clients_) {
        if (c->child) c->child->terminate();
        if (c->feed) c->feed->close();
        if (c->defective) c->defective->close();
      }
      server_->stop();
      io_.restart();
      io_.run_for(std::chrono::seconds(1));
    }
    bool defective = false;
    for (auto& c : clients_) {
      if (c->defective) {  // what it left open (stay_connected_after_error) goes with the run
        c->defective->close();
        defective = true;
      }
    }
    if (defective) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(100));
    }
    for (auto& c : clients_) {
      c->check.finish();
      const auto failures = c->check.failures();
      result_.client_failures.insert(result_.client_failures.end(), failures.begin(), failures.end());
      result_.client_failures_dropped += c->check.failures_dropped();
      result_.events += c->check.events_seen();
    }
  }

 private:
  bool clients_done() const {
    return started_ == clients_.size() &&
           std::all_of(clients_.begin(), clients_.end(), [](const auto& c) { return c->done; });
  }

  // The server's reports, one per connection, judged together.
  void take_report(const mockserver::Report& report) {
    if (result_.server) {
      result_.server->absorb(report);
    } else {
      result_.server = report;
    }
  }

  void start_next_client() {
    if (started_ == clients_.size()) return;
    Participant& c = *clients_[started_++];
    if (options_.client_command) {
      std::string command = *options_.client_command;
      boost::algorithm::replace_all(command, "{addr}", "127.0.0.1:" + port_);
      boost::algorithm::replace_all(command, "{args}", tail_flags(*c.head));
      start_external(c, command);
    } else {
      start_builtin(c);
    }
    // A scenario of one connection has nobody after it; a planned session moves on when the
    // server assigns this client's connection (on_assigned).
  }

  void observe(Participant& c, client::ReportedItem item) {
    c.check.observe(item);
    if (options_.keep_observed) result_.observed.push_back(std::move(item));
  }

  void start_builtin(Participant& c) {
    if (options_.defects && !options_.defects->empty()) return start_defective(c);
    client::ReconnectHandlers handlers;
    handlers.on_connection = [this, &c](std::uint32_t n) {
      if (n > 1) observe(c, client::ReportedConnection{n});
    };
    handlers.on_event = [this, &c](const protocol::TapEventView& event) {
      observe(c, event.to_owned());
      return protocol::Status::success;  // the NACK rule of `client args nack=` is FeedOptions::ack_status
    };
    handlers.on_end = [this, &c](const client::FeedEnd& end, bool last) {
      observe(c, client::report_of(end));
      if (last) c.done = true;
    };
    c.feed = client::ReconnectingFeed::start(io_.get_executor(), "127.0.0.1", port_, feed_options(*c.head),
                                             std::move(handlers));
  }

  void start_defective(Participant& c) {
    c.defective = client::DefectiveClient::start(
        io_.get_executor(), "127.0.0.1", port_, feed_options(*c.head), *options_.defects,
        {.item = [this, &c](client::ReportedItem item) { observe(c, std::move(item)); },
         .crash =
             [this, &c](const std::string& why) {
               result_.problem = fmt::format("the client crashed: {}", why);
               c.done = true;
             },
         .done = [&c] { c.done = true; }});
  }

  void start_external(Participant& c, const std::string& command) {
    auto spawned = ChildProcess::spawn(io_, command);
    if (!spawned) {
      result_.problem = fmt::format("cannot start the client: {}", spawned.error().message());
      c.done = true;
      return;
    }
    c.child = std::move(*spawned);
    read_line(c);
    read_stderr(c);
  }

  // Reads the client's output in large pieces and takes every whole line from them: a
  // 100,000-event stream is 100,000 lines. A partial line is searched for its end only in
  // what is new, and a line longer than the longest an event can be is refused, not held.
  static constexpr std::size_t kReadSize = 64 * 1024;
  static constexpr std::size_t kMaxLine = 64 * 1024 * 1024;  // a 21 MiB value in base64, and room

  void read_line(Participant& c) {
    const std::size_t old = c.stdout_buffer.size();
    c.stdout_buffer.resize(old + kReadSize);
    c.child->out().async_read_some(
        asio::buffer(c.stdout_buffer.data() + old, kReadSize),
        [this, &c, old](const boost::system::error_code& ec, std::size_t n) {
          std::string& buffer = c.stdout_buffer;
          buffer.resize(old + n);
          std::size_t begin = 0;
          for (std::size_t end = buffer.find('\n', old); end != std::string::npos; end = buffer.find('\n', begin)) {
            take_line(c, std::string_view(buffer).substr(begin, end - begin));
            begin = end + 1;
          }
          buffer.erase(0, begin);
          if (buffer.size() > kMaxLine) {
            c.check.bad_output(c.line_number + 1, fmt::format("a line longer than {} bytes", kMaxLine),
                               buffer.substr(0, 80) + "...");
            buffer.clear();
          }
          if (ec) return client_exited(c);
          read_line(c);
        });
  }

  void take_line(Participant& c, std::string_view line) {
    ++c.line_number;
    auto parsed = client::parse_json_line(line);
    if (parsed) {
      observe(c, std::move(*parsed));
    } else {
      c.check.bad_output(c.line_number, parsed.error().message(), std::string(line));
    }
  }

  void read_stderr(Participant& c) {
    c.child->err().async_read_some(asio::buffer(c.stderr_chunk), [this, &c](const boost::system::error_code& ec,
                                                                           std::size_t n) {
      if (ec) return;
      if (result_.client_stderr.size() < 64 * 1024) result_.client_stderr.append(c.stderr_chunk.data(), n);
      read_stderr(c);
    });
  }

  void client_exited(Participant& c) {
    const int status = c.child->wait();
    if (!c.stdout_buffer.empty()) {
      c.check.bad_output(c.line_number + 1, "no newline at the end of the output", c.stdout_buffer);
    }
    // 0 and 1 are tap_tail's statuses for an end it reported; anything else (a signal
    // included) is a crash, unless the runner killed it for overrunning.
    if (status != 0 && status != 1 && result_.problem.empty()) {
      result_.problem = fmt::format("the client exited with status {}", status);
    }
    c.done = true;
  }

  asio::io_context io_;
  std::shared_ptr<const scenario::Scenario> scenario_;
  std::shared_ptr<const scenario::Scenario> checked_;
  const RunOptions& options_;
  ScenarioResult& result_;
  std::unique_ptr<mockserver::MockServer> server_;
  std::vector<std::unique_ptr<Participant>> clients_;
  std::size_t started_ = 0;
  std::string port_;
  bool server_done_ = false;
};

}  // namespace

client::FeedOptions feed_options(const scenario::Scenario& scenario) {
  client::FeedOptions options;
  if (!scenario.client.args) return options;
  const scenario::ClientArgs& a = *scenario.client.args;
  options.args = a.args;
  options.idle_timeout = a.idle_timeout;
  if (a.user) options.auth = client::Credentials{*a.user, a.password.value_or("")};
  options.reconnect.attempts = a.reconnect;
  if (a.backoff) options.reconnect.backoff = *a.backoff;
  if (!a.nack.empty()) {
    client::NackRule rule{.keys = a.nack};
    if (a.nack_status) rule.status = *a.nack_status;
    options.ack_status = client::make_ack_status(std::move(rule));
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
  const scenario::ClientArgs* args = scenario.client.args ? &*scenario.client.args : nullptr;
  if (args && args->user) out += " --user " + shell_quote(*args->user);
  if (args && args->password) out += " --password " + shell_quote(*args->password);
  if (args && args->reconnect > 0) out += fmt::format(" --reconnect {}", args->reconnect);
  if (args && args->backoff) out += fmt::format(" --reconnect-backoff {}", args->backoff->count() / 1000.0);
  if (args) {
    for (const auto& [key, times] : args->nack) out += fmt::format(" --nack {}:{}", shell_quote(key), times);
  }
  if (args && args->nack_status) {
    out += fmt::format(" --nack-status {:#06x}", static_cast<unsigned>(*args->nack_status));
  }
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
    if (const auto* s = std::get_if<scenario::Send>(&step.action); s && s->fault().paced_size() > 0) {
      const std::size_t length = s->frame().fixed_length().value_or(1);
      const std::size_t step_size = s->fault().paced_size();
      return s->fault().gap * static_cast<double>((length + step_size - 1) / step_size - 1);
    }
    return Seconds{0};
  };
  Seconds total{0};
  for (const auto& planned : scenario.connections) total += deliberate_delay(*planned.script);
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

namespace {

ScenarioResult invalid_result(const std::string& path, scenario::Diagnostic error) {
  ScenarioResult result;
  result.path = path;
  result.name = path == "-" ? "stdin" : std::filesystem::path(path).stem().string();
  result.verdict = Verdict::invalid;
  result.parse_error = std::move(error);
  return result;
}

}  // namespace

ScenarioResult run_scenario_file(const std::string& path, const RunOptions& options) {
  auto parsed = scenario::load_scenario(path);
  if (!parsed) return invalid_result(path, parsed.error());
  return run_scenario(std::make_shared<const scenario::Scenario>(std::move(parsed).value()), options);
}

std::vector<ScenarioResult> run_scenario_cases(const std::string& path, const RunOptions& options,
                                               const std::function<bool(const std::string&)>& wanted) {
  auto cases = scenario::load_scenario_cases(path);
  if (!cases) return {invalid_result(path, cases.error())};
  std::vector<ScenarioResult> results;
  for (scenario::Scenario& one : *cases) {
    if (!wanted(one.name)) continue;
    results.push_back(run_scenario(std::make_shared<const scenario::Scenario>(std::move(one)), options));
    if (interrupt_requested()) break;
  }
  return results;
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
  if (!r.trace_note.empty()) out += fmt::format("  {}\n", r.trace_note);
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
