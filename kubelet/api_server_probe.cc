#include "kubelet/api_server_probe.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "hostclient/base/object.h"
#include "hostclient/base/thread_name.h"
#include "hostclient/rest_client.h"

namespace vk::kubelet {

Result<ServerVersion> ParseServerVersion(std::string_view json) {
  auto document = obj::Parse(json);
  if (!document) return tl::unexpected(document.error());
  ServerVersion version;
  version.git_version = std::string(obj::String(*document, {"gitVersion"}));
  version.platform = std::string(obj::String(*document, {"platform"}));
  if (version.git_version.empty()) {
    return MakeError(ErrorCode::kDecode, "/version: no gitVersion in the answer");
  }
  return version;
}

ApiServerProbe::ApiServerProbe(hostclient::RestClient& client, ConditionPtr reachable,
                               prometheus::Registry* metrics, Options options)
    : client_(client), reachable_(std::move(reachable)), options_(options) {
  if (metrics != nullptr) {
    failures_ = &prometheus::BuildCounter()
                     .Name("vkubelet_api_server_probe_failures_total")
                     .Help("Failed attempts to reach an API server's /version at startup.")
                     .Register(*metrics)
                     .Add({{"cluster", client_.cluster_name()}});
  }
}

ApiServerProbe::ApiServerProbe(hostclient::RestClient& client, ConditionPtr reachable,
                               prometheus::Registry* metrics)
    : ApiServerProbe(client, std::move(reachable), metrics, Options{}) {}

ApiServerProbe::~ApiServerProbe() { Stop(); }

std::string ApiServerProbe::name() const { return client_.cluster_name() + "-api-probe"; }

Status ApiServerProbe::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("probe:" + client_.cluster_name());
    Loop();
  });
  return Ok();
}

void ApiServerProbe::RequestStop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void ApiServerProbe::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::optional<ServerVersion> ApiServerProbe::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

void ApiServerProbe::Loop() {
  const std::string& cluster = client_.cluster_name();
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  auto backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto body = client_.RawGet("/version");
    Result<ServerVersion> version =
        body ? ParseServerVersion(*body) : Result<ServerVersion>(tl::unexpected(body.error()));
    if (version) {
      spdlog::info("{} API server is reachable: {} ({})", cluster, version->git_version,
                   version->platform.empty() ? "unknown platform" : version->platform);
      {
        std::lock_guard lock(mutex_);
        version_ = *version;
      }
      reachable_->Set();
      return;
    }
    const Error& error = version.error();
    if (error.code() == ErrorCode::kCancelled) return;
    if (failures_ != nullptr) failures_->Increment();
    reachable_->Fail(error.ToString());
    const auto delay = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(random)));
    spdlog::warn("{} API server is not reachable (attempt {}), retrying in {} ms: {}", cluster,
                 attempt, delay.count(), error.ToString());
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace vk::kubelet
