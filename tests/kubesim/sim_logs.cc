#include "tests/kubesim/sim_logs.h"

#include <fmt/format.h>

#include <algorithm>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/timestamps.h"
#include "tests/kubesim/watcher_impl.h"

namespace vk::kubesim {
namespace {

std::string PodKey(std::string_view ns, std::string_view pod) {
  std::string key(ns);
  key += '/';
  key += pod;
  return key;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

Error BadRequest(std::string message) { return BadRequestError(std::move(message)); }

}  // namespace

SimLogs::SimLogs(std::function<TimePoint()> wall_clock)
    : wall_clock_(wall_clock ? std::move(wall_clock)
                             : [] { return std::chrono::system_clock::now(); }) {}

SimLogs::~SimLogs() { CloseFollowers(); }

PodLogProvider SimLogs::Provider(std::shared_ptr<SimLogs> logs) {
  return [logs = std::move(logs)](const PodLogRequest& request) { return logs->Read(request); };
}

PodLogStreamProvider SimLogs::StreamProvider(std::shared_ptr<SimLogs> logs) {
  return [logs = std::move(logs)](const PodLogRequest& request) { return logs->Follow(request); };
}

void SimLogs::RegisterPod(std::string_view ns, std::string_view pod, std::string_view uid,
                          std::vector<std::string> init_containers,
                          std::vector<std::string> containers) {
  std::vector<std::shared_ptr<WatcherImpl>> closing;
  {
    std::lock_guard lock(mu_);
    PodLog& entry = pods_[PodKey(ns, pod)];
    if (entry.uid != uid) {
      for (auto& [name, log] : entry.logs) {
        for (auto& f : log.followers) closing.push_back(std::move(f.watcher));
      }
      entry = PodLog{};
      entry.uid = std::string(uid);
    }
    entry.init_containers = std::move(init_containers);
    entry.containers = std::move(containers);
  }
  for (auto& w : closing) w->Close();
}

void SimLogs::AddEphemeralContainer(std::string_view ns, std::string_view pod,
                                    std::string_view container) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(PodKey(ns, pod));
  if (it == pods_.end()) return;
  auto& names = it->second.ephemeral_containers;
  if (std::find(names.begin(), names.end(), container) == names.end()) {
    names.emplace_back(container);
  }
}

SimLogs::ContainerLog* SimLogs::FindLocked(std::string_view ns, std::string_view pod,
                                           std::string_view container) {
  auto it = pods_.find(PodKey(ns, pod));
  if (it == pods_.end()) return nullptr;
  auto log = it->second.logs.find(container);
  if (log == it->second.logs.end()) {
    log = it->second.logs.emplace(std::string(container), ContainerLog{}).first;
  }
  return &log->second;
}

void SimLogs::StartContainer(std::string_view ns, std::string_view pod,
                             std::string_view container) {
  std::vector<std::shared_ptr<WatcherImpl>> closing;
  {
    std::lock_guard lock(mu_);
    ContainerLog* log = FindLocked(ns, pod, container);
    if (log == nullptr) return;
    if (log->started) {
      log->previous = std::move(log->current);
      log->current.clear();
      log->has_previous = true;
    }
    log->started = true;
    log->running = true;
    for (auto& f : log->followers) closing.push_back(std::move(f.watcher));
    log->followers.clear();
  }
  for (auto& w : closing) w->Close();
}

void SimLogs::Append(std::string_view ns, std::string_view pod, std::string_view container,
                     std::string text) {
  std::vector<std::shared_ptr<WatcherImpl>> notify;
  {
    std::lock_guard lock(mu_);
    ContainerLog* log = FindLocked(ns, pod, container);
    if (log == nullptr) return;
    log->current.push_back(Line{wall_clock_(), std::move(text)});
    const Line& line = log->current.back();
    std::erase_if(log->followers, [](const Follower& f) { return f.watcher->closed(); });
    for (auto& f : log->followers) {
      auto event = std::make_shared<Object>();
      (*event)["text"] = FormatLine(line, f.timestamps);
      if (f.watcher->Push(WatchEventRecord{"LOG", std::move(event)})) notify.push_back(f.watcher);
    }
  }
  // Outside the lock: the callback belongs to the HTTP server.
  for (auto& w : notify) w->Notify();
}

void SimLogs::EndContainer(std::string_view ns, std::string_view pod, std::string_view container) {
  std::vector<std::shared_ptr<WatcherImpl>> closing;
  {
    std::lock_guard lock(mu_);
    ContainerLog* log = FindLocked(ns, pod, container);
    if (log == nullptr) return;
    log->running = false;
    for (auto& f : log->followers) closing.push_back(std::move(f.watcher));
    log->followers.clear();
  }
  for (auto& w : closing) w->Close();
}

void SimLogs::RemovePod(std::string_view ns, std::string_view pod) {
  std::vector<std::shared_ptr<WatcherImpl>> closing;
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(PodKey(ns, pod));
    if (it == pods_.end()) return;
    for (auto& [name, log] : it->second.logs) {
      for (auto& f : log.followers) closing.push_back(std::move(f.watcher));
    }
    pods_.erase(it);
  }
  for (auto& w : closing) w->Close();
}

void SimLogs::CloseFollowers() {
  std::vector<std::shared_ptr<WatcherImpl>> closing;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, pod] : pods_) {
      for (auto& [name, log] : pod.logs) {
        for (auto& f : log.followers) closing.push_back(std::move(f.watcher));
        log.followers.clear();
      }
    }
  }
  for (auto& w : closing) w->Close();
}

Result<const SimLogs::ContainerLog*> SimLogs::ResolveLocked(const PodLogRequest& request,
                                                            std::string& container) const {
  auto it = pods_.find(PodKey(request.ns, request.pod));
  if (it == pods_.end()) {
    return tl::unexpected(BadRequest("pod \"" + request.pod + "\" in namespace \"" + request.ns +
                                     "\" is not running on a simulated node"));
  }
  const PodLog& pod = it->second;
  container = request.container;
  if (container.empty()) {
    if (pod.containers.size() != 1) {
      std::string message = "a container name must be specified for pod " + request.pod +
                            ", choose one of: [" + JoinNames(pod.containers) + "]";
      if (!pod.init_containers.empty()) {
        message += " or one of the init containers: [" + JoinNames(pod.init_containers) + "]";
      }
      if (!pod.ephemeral_containers.empty()) {
        message +=
            " or one of the ephemeral containers: [" + JoinNames(pod.ephemeral_containers) + "]";
      }
      return tl::unexpected(BadRequest(std::move(message)));
    }
    container = pod.containers.front();
  }
  auto listed = [&](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), container) != names.end();
  };
  const bool known =
      listed(pod.containers) || listed(pod.init_containers) || listed(pod.ephemeral_containers);
  if (!known) {
    return tl::unexpected(
        BadRequest("container " + container + " is not valid for pod " + request.pod));
  }
  auto log = pod.logs.find(container);
  if (log == pod.logs.end() || !log->second.started) {
    return tl::unexpected(BadRequest("container \"" + container + "\" in pod \"" + request.pod +
                                     "\" is waiting to start: ContainerCreating"));
  }
  if (request.previous && !log->second.has_previous) {
    return tl::unexpected(BadRequest("previous terminated container \"" + container +
                                     "\" in pod \"" + request.pod + "\" not found"));
  }
  return &log->second;
}

std::string SimLogs::FormatLine(const Line& line, bool timestamps) const {
  std::string out;
  if (timestamps) {
    // RFC 3339 with nanoseconds, as the kubelet prefixes lines.
    std::string whole = FormatTime(line.time);
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(line.time.time_since_epoch() %
                                                                      std::chrono::seconds(1))
                     .count();
    whole.pop_back();  // 'Z'
    out = fmt::format("{}.{:09d}Z ", whole, nanos);
  }
  out += line.text;
  out += '\n';
  return out;
}

std::string SimLogs::RenderLocked(const PodLogRequest& request, const ContainerLog& log) const {
  const auto& lines = request.previous ? log.previous : log.current;
  size_t first = 0;
  if (request.since_seconds && *request.since_seconds >= 0) {
    const auto since = wall_clock_() - std::chrono::seconds(*request.since_seconds);
    while (first < lines.size() && lines[first].time < since) ++first;
  }
  if (request.tail_lines && *request.tail_lines >= 0) {
    const auto tail = static_cast<size_t>(*request.tail_lines);
    if (lines.size() - first > tail) first = lines.size() - tail;
  }
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += FormatLine(lines[i], request.timestamps);
  if (request.limit_bytes && *request.limit_bytes >= 0 &&
      out.size() > static_cast<size_t>(*request.limit_bytes)) {
    out.resize(static_cast<size_t>(*request.limit_bytes));
  }
  return out;
}

Result<std::string> SimLogs::Read(const PodLogRequest& request) const {
  std::lock_guard lock(mu_);
  std::string container;
  auto log = ResolveLocked(request, container);
  if (!log) return tl::unexpected(log.error());
  return RenderLocked(request, **log);
}

Result<PodLogStream> SimLogs::Follow(const PodLogRequest& request) {
  std::lock_guard lock(mu_);
  std::string container;
  auto resolved = ResolveLocked(request, container);
  if (!resolved) return tl::unexpected(resolved.error());
  PodLogStream stream;
  stream.initial = RenderLocked(request, **resolved);
  // Only the running instance grows; previous or ended logs are answered whole.
  ContainerLog& log =
      pods_.find(PodKey(request.ns, request.pod))->second.logs.find(container)->second;
  if (!request.previous && log.running) {
    auto watcher = std::make_shared<WatcherImpl>(ObjectFilter{}, false, nullptr);
    log.followers.push_back(Follower{watcher, request.timestamps});
    stream.watcher = std::move(watcher);
  }
  return stream;
}

}  // namespace vk::kubesim
