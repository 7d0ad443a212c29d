#include "tests/support/fake_kubelet.h"

#include <chrono>
#include <ctime>

#include "hostclient/lister_watcher.h"
#include "hostclient/resource.h"

namespace vk::testing {
namespace {

namespace json = boost::json;
using hostclient::resources::Pods;

std::string Now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Leases carry MicroTime: RFC 3339 with exactly six fractional digits.
std::string MicroNow() {
  const std::string whole = Now();
  return whole.substr(0, whole.size() - 1) + ".000000Z";
}

Object Condition(std::string_view type, const std::string& at) {
  Object condition;
  condition["type"] = type;
  condition["status"] = "True";
  condition["lastTransitionTime"] = at;
  return condition;
}

// The status a kubelet writes once every container of `pod` runs.
Object RunningStatus(const Object& pod, const std::string& pod_ip, const std::string& host_ip) {
  const std::string at = Now();
  Object status;
  status["phase"] = "Running";
  status["hostIP"] = host_ip;
  status["hostIPs"] = json::array{Object{{"ip", host_ip}}};
  status["podIP"] = pod_ip;
  status["podIPs"] = json::array{Object{{"ip", pod_ip}}};
  status["startTime"] = at;
  json::array conditions;
  for (const char* type :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    conditions.push_back(Condition(type, at));
  }
  status["conditions"] = std::move(conditions);
  json::array statuses;
  if (const json::value* containers = obj::Find(pod, {"spec", "containers"});
      containers != nullptr && containers->is_array()) {
    for (const auto& container : containers->get_array()) {
      if (!container.is_object()) continue;
      Object entry;
      entry["name"] = obj::String(container.get_object(), {"name"});
      entry["image"] = obj::String(container.get_object(), {"image"});
      entry["imageID"] = "";
      entry["ready"] = true;
      entry["started"] = true;
      entry["restartCount"] = 0;
      entry["state"] = Object{{"running", Object{{"startedAt", at}}}};
      statuses.push_back(std::move(entry));
    }
  }
  status["containerStatuses"] = std::move(statuses);
  return status;
}

}  // namespace

FakeKubelet::FakeKubelet(hostclient::RestClient& client, Options options)
    : client_(client),
      options_(std::move(options)),
      informer_(std::make_unique<hostclient::RestListerWatcher>(client_, Pods(), options_.ns)) {
  informer_.AddEventHandler({[this](const ObjectPtr& pod, bool) { Enqueue(pod); },
                             [this](const ObjectPtr&, const ObjectPtr& pod) { Enqueue(pod); },
                             nullptr});
}

FakeKubelet::~FakeKubelet() { Stop(); }

Status FakeKubelet::Start() {
  if (auto s = RegisterNode(); !s) return s;
  informer_.Start();
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
  lease_renewer_ = std::thread([this] { RenewLease(); });
  return Ok();
}

Status FakeKubelet::RegisterNode() {
  const std::string at = Now();
  Object resources{{"cpu", "1000"}, {"memory", "4Ti"}, {"pods", "100000"}};
  Object node{{"apiVersion", "v1"},
              {"kind", "Node"},
              {"metadata", Object{{"name", options_.node_name},
                                  {"labels", Object{{"kubernetes.io/hostname", options_.node_name},
                                                    {"kubernetes.io/os", "linux"}}}}},
              {"status", Object{{"capacity", resources},
                                {"allocatable", resources},
                                {"addresses", json::array{Object{{"type", "InternalIP"},
                                                                 {"address", options_.host_ip}}}},
                                {"conditions", json::array{Object{{"type", "Ready"},
                                                                  {"status", "True"},
                                                                  {"reason", "KubeletReady"},
                                                                  {"lastHeartbeatTime", at},
                                                                  {"lastTransitionTime", at}}}}}}};
  auto created = client_.Create(hostclient::resources::Nodes(), "", node);
  if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
    return tl::unexpected(created.error());
  }
  return Ok();
}

void FakeKubelet::RenewLease() {
  const auto interval = std::chrono::seconds(10);
  while (true) {
    Object lease{
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", Object{{"name", options_.node_name}, {"namespace", "kube-node-lease"}}},
        {"spec", Object{{"holderIdentity", options_.node_name},
                        {"leaseDurationSeconds", 40},
                        {"renewTime", MicroNow()}}}};
    // The renew time is all that changes: a merge patch, or a create the first time.
    auto patched = client_.Patch(hostclient::resources::Leases(), "kube-node-lease",
                                 options_.node_name, hostclient::PatchType::kMergePatch,
                                 obj::Serialize(Object{{"spec", lease["spec"]}}));
    if (!patched && patched.error().code() == ErrorCode::kNotFound) {
      auto created = client_.Create(hostclient::resources::Leases(), "kube-node-lease", lease);
      if (!created) ++write_errors_;
    } else if (!patched) {
      ++write_errors_;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, interval, [&] { return stopping_; })) return;
  }
}

void FakeKubelet::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  informer_.Stop();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  if (lease_renewer_.joinable()) lease_renewer_.join();
}

void FakeKubelet::Enqueue(const ObjectPtr& pod) {
  const std::string_view phase = obj::String(*pod, {"status", "phase"});
  const bool deleting = obj::IsBeingDeleted(*pod);
  if (!deleting && (phase == "Running" || phase == "Succeeded" || phase == "Failed")) return;
  const std::string key = obj::Key(*pod);
  {
    std::lock_guard lock(mutex_);
    if (!queued_.insert(key).second) return;
    queue_.push_back(key);
  }
  wake_.notify_one();
}

void FakeKubelet::Work() {
  while (true) {
    std::string key;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      key = std::move(queue_.front());
      queue_.pop_front();
      queued_.erase(key);
    }
    Handle(key);
  }
}

void FakeKubelet::Handle(const std::string& key) {
  ObjectPtr pod = informer_.store().Get(key);
  if (pod == nullptr) return;
  if (obj::IsBeingDeleted(*pod)) {
    hostclient::DeleteOptions now;
    now.grace_period_seconds = 0;
    now.precondition_uid = std::string(obj::Uid(*pod));
    auto deleted = client_.Delete(Pods(), obj::Namespace(*pod), obj::Name(*pod), now);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) ++write_errors_;
    return;
  }
  if (obj::String(*pod, {"status", "phase"}) == "Running") return;
  Object updated = *pod;
  updated["status"] = RunningStatus(*pod, NextPodIp(), options_.host_ip);
  auto written = client_.UpdateStatus(Pods(), obj::Namespace(*pod), updated);
  // A conflict means a newer version is on its way through the watch: it is handled then.
  if (!written && written.error().code() != ErrorCode::kConflict &&
      written.error().code() != ErrorCode::kNotFound) {
    ++write_errors_;
  }
}

std::string FakeKubelet::NextPodIp() {
  std::lock_guard lock(mutex_);
  const uint32_t n = next_ip_++;
  // 10.244.0.0/14 like the simulator, without .0 and .255 in the last octet.
  return "10." + std::to_string(244 + ((n / 254 / 256) % 4)) + "." +
         std::to_string((n / 254) % 256) + "." + std::to_string(n % 254 + 1);
}

}  // namespace vk::testing
