#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "hostclient/informer.h"
#include "hostclient/rest_client.h"

namespace vk::testing {

// Plays the kubelets of a cluster that has none (a control plane alone, given as a kubeconfig):
// registers one Ready Node (`node_name`, capacity for many pods) and renews its Lease in
// kube-node-lease every 10 s, so that schedulers and vkubelet see a host node; every pod of one
// namespace is reported Running at once (phase, pod IP, host IP, start time,
// conditions, a running status per container) through the status subresource, and a pod being
// deleted is removed with grace 0 and a UID precondition, as a kubelet confirms a deletion once
// its containers stopped. Watch-driven (one informer), `workers` threads write. Pods that finish
// (Succeeded/Failed) are left alone. Thread-safe; Stop (or the destructor) ends it.
class FakeKubelet {
 public:
  struct Options {
    std::string ns;
    int workers = 4;
    std::string host_ip = "192.0.2.10";  // TEST-NET-1: never a real address
    std::string node_name = "fake-kubelet-1";
  };

  FakeKubelet(hostclient::RestClient& client, Options options);
  ~FakeKubelet();
  FakeKubelet(const FakeKubelet&) = delete;
  FakeKubelet& operator=(const FakeKubelet&) = delete;

  // Registers the node (kept if it exists) and starts the watch and the writers.
  Status Start();
  void Stop();
  // Status writes and deletions that failed (each is retried when the pod changes again).
  uint64_t write_errors() const { return write_errors_.load(); }

 private:
  Status RegisterNode();
  void RenewLease();
  void Enqueue(const ObjectPtr& pod);
  void Work();
  void Handle(const std::string& key);
  std::string NextPodIp();

  hostclient::RestClient& client_;
  const Options options_;
  hostclient::SharedInformer informer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  bool stopping_ = false;
  uint32_t next_ip_ = 0;
  std::vector<std::thread> workers_;
  std::thread lease_renewer_;
  std::atomic<uint64_t> write_errors_{0};
};

}  // namespace vk::testing
