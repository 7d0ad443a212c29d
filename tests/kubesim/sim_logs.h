#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/request_handler.h"

namespace vk::kubesim {

class WatcherImpl;

// The container logs that NodeSimulator "produces", served through ApiServer's pods/log
// (PodLogProvider and PodLogStreamProvider): per container the lines of the current instance and
// of the previous one (previous=true), with tailLines, timestamps, sinceSeconds and limitBytes,
// and followers that receive each new line until the instance ends.
//
// It exists apart from the simulator because the ApiServer (which owns the Storage the simulator
// needs) takes the providers at construction: create SimLogs first, hand its providers to the
// server, then give it to the simulator. Thread-safe. The providers hold a shared_ptr to it.
class SimLogs {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit SimLogs(std::function<TimePoint()> wall_clock = {});
  ~SimLogs();
  SimLogs(const SimLogs&) = delete;
  SimLogs& operator=(const SimLogs&) = delete;

  static PodLogProvider Provider(std::shared_ptr<SimLogs> logs);
  static PodLogStreamProvider StreamProvider(std::shared_ptr<SimLogs> logs);

  // Declares a pod's containers (the order is the pod's); a new uid forgets the old pod's logs.
  void RegisterPod(std::string_view ns, std::string_view pod, std::string_view uid,
                   std::vector<std::string> init_containers, std::vector<std::string> containers);
  // An ephemeral container was added to a running pod (kubectl debug): its logs can be read.
  void AddEphemeralContainer(std::string_view ns, std::string_view pod, std::string_view container);
  // A new instance of the container starts: its current lines become the previous ones.
  void StartContainer(std::string_view ns, std::string_view pod, std::string_view container);
  void Append(std::string_view ns, std::string_view pod, std::string_view container,
              std::string line);
  // The current instance ended: followers' streams end.
  void EndContainer(std::string_view ns, std::string_view pod, std::string_view container);
  void RemovePod(std::string_view ns, std::string_view pod);
  // Ends every follower's stream (the simulator stops).
  void CloseFollowers();

  Result<std::string> Read(const PodLogRequest& request) const;
  Result<PodLogStream> Follow(const PodLogRequest& request);

 private:
  struct Line {
    TimePoint time;
    std::string text;
  };
  struct Follower {
    std::shared_ptr<WatcherImpl> watcher;
    bool timestamps = false;
  };
  struct ContainerLog {
    std::vector<Line> current;
    std::vector<Line> previous;
    bool started = false;
    bool has_previous = false;
    bool running = false;
    std::vector<Follower> followers;
  };
  struct PodLog {
    std::string uid;
    std::vector<std::string> init_containers;
    std::vector<std::string> ephemeral_containers;
    std::vector<std::string> containers;
    std::map<std::string, ContainerLog, std::less<>> logs;
  };

  ContainerLog* FindLocked(std::string_view ns, std::string_view pod, std::string_view container);
  // Resolves the request's container (the only one when none is named) or the kube-worded error.
  Result<const ContainerLog*> ResolveLocked(const PodLogRequest& request,
                                            std::string& container) const;
  std::string RenderLocked(const PodLogRequest& request, const ContainerLog& log) const;
  std::string FormatLine(const Line& line, bool timestamps) const;

  const std::function<TimePoint()> wall_clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, PodLog> pods_;  // "ns/pod"
};

}  // namespace vk::kubesim
