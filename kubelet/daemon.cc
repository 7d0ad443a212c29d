#include "kubelet/daemon.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hostclient/cluster_config.h"
#include "hostclient/rest_client.h"
#include "kubelet/api_server_probe.h"
#include "kubelet/http_server.h"
#include "kubelet/node_controller.h"
#include "kubelet/pod_sync.h"
#include "kubelet/process_metrics.h"
#include "kubelet/version.h"

namespace vk::kubelet {
namespace {

namespace asio = boost::asio;

Result<hostclient::ClusterConfig> LoadClusterConfig(const std::string& kubeconfig,
                                                    const std::string& cluster) {
  Result<hostclient::ClusterConfig> config =
      kubeconfig.empty() ? hostclient::InClusterConfig(cluster)
                         : hostclient::LoadKubeconfig({{kubeconfig}, "", cluster});
  if (!config) {
    Error error = config.error();
    error.Context(cluster + " cluster");
    return tl::unexpected(std::move(error));
  }
  return config;
}

Result<hostclient::RestClientPtr> CreateClient(const hostclient::ClusterConfig& cluster, double qps,
                                               int burst, prometheus::Registry& registry) {
  hostclient::RestClientOptions options;
  options.qps = qps;
  options.burst = burst;
  options.user_agent = std::string("vkubelet/") + kVersion;
  auto client = hostclient::RestClient::Create(cluster, options, &registry);
  if (!client) {
    Error error = client.error();
    error.Context(cluster.name + " cluster");
    return tl::unexpected(std::move(error));
  }
  return std::move(*client);
}

[[noreturn]] void ExitNow(int code) {
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

}  // namespace

struct Daemon::Impl {
  Config config;
  Options options;
  // Declared before everything that borrows them, so destroyed after.
  prometheus::Registry registry;
  ProcessCollector process_collector;
  HealthChecks liveness;
  HealthChecks readiness;
  ConditionPtr serving = std::make_shared<Condition>("starting");
  hostclient::RestClientPtr host_client;
  hostclient::RestClientPtr virtual_client;
  std::vector<ComponentPtr> components;
  std::unique_ptr<HttpServer> http;

  std::mutex mutex;
  bool stop_requested = false;
  std::function<void()> stop_hook;  // set while Run waits

  void Shutdown();
};

void Daemon::Impl::Shutdown() {
  serving->Fail("shutting down");
  for (auto it = components.rbegin(); it != components.rend(); ++it) (*it)->RequestStop();
  host_client->Shutdown();
  virtual_client->Shutdown();
  for (auto it = components.rbegin(); it != components.rend(); ++it) {
    spdlog::debug("stopping {}", (*it)->name());
    (*it)->Stop();
  }
  http->Stop();
  spdlog::info("stopped");
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() {
  // Run() stops everything; a daemon that never ran still owns threads (HTTP server, clients).
  if (impl_->http) impl_->http->Stop();
  for (auto it = impl_->components.rbegin(); it != impl_->components.rend(); ++it) {
    (*it)->RequestStop();
  }
  if (impl_->host_client) impl_->host_client->Shutdown();
  if (impl_->virtual_client) impl_->virtual_client->Shutdown();
  for (auto it = impl_->components.rbegin(); it != impl_->components.rend(); ++it) (*it)->Stop();
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const Config& config) {
  return Create(config, Options{});
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const Config& config, Options options) {
  if (auto status = Validate(config); !status) return tl::unexpected(status.error());
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;

  auto virtual_cluster = LoadClusterConfig(config.virtual_kubeconfig, "virtual");
  if (!virtual_cluster) return tl::unexpected(virtual_cluster.error());
  auto host_cluster = LoadClusterConfig(config.host_kubeconfig, "host");
  if (!host_cluster) return tl::unexpected(host_cluster.error());
  auto virtual_client =
      CreateClient(*virtual_cluster, config.virtual_qps, config.virtual_burst, impl->registry);
  if (!virtual_client) return tl::unexpected(virtual_client.error());
  impl->virtual_client = std::move(*virtual_client);
  auto host_client =
      CreateClient(*host_cluster, config.host_qps, config.host_burst, impl->registry);
  if (!host_client) return tl::unexpected(host_client.error());
  impl->host_client = std::move(*host_client);
  spdlog::info("virtual cluster at {}, host cluster at {}{}", virtual_cluster->server,
               host_cluster->server, config.host_kubeconfig.empty() ? " (in-cluster)" : "");

  RegisterBuildInfo(impl->registry);
  impl->serving->Set();
  impl->readiness.Add("shutdown", impl->serving);
  for (auto* client : {impl->virtual_client.get(), impl->host_client.get()}) {
    auto reachable = std::make_shared<Condition>("not probed yet");
    impl->readiness.Add(client->cluster_name() + "-api-reachable", reachable);
    impl->components.push_back(
        std::make_unique<ApiServerProbe>(*client, std::move(reachable), &impl->registry));
  }

  // Shared mode: the virtual node(s) that pods of the virtual cluster are bound to.
  if (config.mode == "shared") {
    auto node_controller =
        std::make_unique<NodeController>(*impl->virtual_client, *impl->host_client,
                                         NodeControllerOptionsFromConfig(config), &impl->registry);
    impl->readiness.Add("node-registered",
                        [controller = node_controller.get()] { return controller->Check(); });
    impl->components.push_back(std::move(node_controller));

    auto pod_options = PodControllerOptionsFromConfig(config, virtual_cluster->ca_pem);
    auto recorder = std::make_shared<syncer::EventRecorder>(
        *impl->virtual_client, syncer::EventSource{"vkubelet", pod_options.node_name, ""},
        &impl->registry);
    pod_options.events = [recorder](const Object& involved, std::string_view type,
                                    std::string_view reason, std::string message) {
      recorder->Record(involved, type, reason, std::move(message));
    };
    impl->components.push_back(std::make_unique<EventRecorderComponent>(recorder));
    auto pod_controller = std::make_unique<syncer::shared::PodController>(
        *impl->virtual_client, *impl->host_client, std::move(pod_options), &impl->registry);
    impl->readiness.Add("pods-synced",
                        [controller = pod_controller.get()] { return controller->Check(); });
    syncer::shared::EventCopierOptions copier_options;
    copier_options.host_namespace = config.cluster_namespace;
    copier_options.virtual_node_name_for_unknown =
        NodeControllerOptionsFromConfig(config).node_name;
    auto copier = std::make_unique<syncer::shared::EventCopier>(
        *impl->host_client, *impl->virtual_client, std::move(copier_options),
        [controller = pod_controller.get()](const std::string& host_name) {
          return controller->CachedTwin(host_name);
        },
        [](const Object& twin) {
          return std::string(obj::Annotation(twin, syncer::shared::kAnnotationVirtualNodeName));
        },
        &impl->registry);
    impl->components.push_back(std::make_unique<PodSyncComponent>(std::move(pod_controller)));
    impl->components.push_back(std::make_unique<EventCopierComponent>(std::move(copier)));
  }

  auto address = ParseHostPort(config.http_addr);
  if (!address) return tl::unexpected(address.error());
  HttpServer::Options http_options;
  http_options.host = address->host;
  http_options.port = address->port;
  http_options.liveness = &impl->liveness;
  http_options.readiness = &impl->readiness;
  http_options.metrics = {&impl->registry, &impl->process_collector};
  auto http = HttpServer::Start(std::move(http_options));
  if (!http) return tl::unexpected(http.error());
  impl->http = std::move(*http);
  spdlog::info("serving /healthz, /livez, /readyz and /metrics on {}:{}",
               address->host.empty() ? "0.0.0.0" : address->host, impl->http->port());
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

const Config& Daemon::config() const { return impl_->config; }
hostclient::RestClient& Daemon::host_client() { return *impl_->host_client; }
hostclient::RestClient& Daemon::virtual_client() { return *impl_->virtual_client; }
prometheus::Registry& Daemon::metrics() { return impl_->registry; }
HealthChecks& Daemon::readiness() { return impl_->readiness; }
HealthChecks& Daemon::liveness() { return impl_->liveness; }
uint16_t Daemon::http_port() const { return impl_->http->port(); }

void Daemon::AddComponent(ComponentPtr component) {
  impl_->components.push_back(std::move(component));
}

void Daemon::RequestStop() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stop_hook) {
    impl_->stop_hook();
  } else {
    impl_->stop_requested = true;
  }
}

int Daemon::Run() {
  asio::io_context ioc(1);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer deadline(ioc);
  std::thread shutdown_thread;
  bool shutting_down = false;
  int exit_code = 0;

  // Runs on this thread only (directly, or from the io_context).
  auto begin_shutdown = [&](const std::string& reason) {
    if (shutting_down) return;
    shutting_down = true;
    spdlog::info("shutting down: {}", reason);
    deadline.expires_after(impl_->options.shutdown_timeout);
    deadline.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::critical("shutdown did not finish within {} ms; exiting now",
                       impl_->options.shutdown_timeout.count());
      ExitNow(1);
    });
    shutdown_thread = std::thread([&] {
      impl_->Shutdown();
      asio::post(ioc, [&] { ioc.stop(); });
    });
  };
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
      if (ec) return;
      if (shutting_down) {
        spdlog::warn("second signal ({}) during shutdown: exiting now", strsignal(signal_number));
        ExitNow(1);
      }
      begin_shutdown(std::string("received ") + strsignal(signal_number));
      wait_for_signal();
    });
  };
  wait_for_signal();

  bool stop_requested = false;
  {
    std::lock_guard lock(impl_->mutex);
    stop_requested = impl_->stop_requested;
    impl_->stop_hook = [&] { asio::post(ioc, [&] { begin_shutdown("stop requested"); }); };
  }

  spdlog::info(
      "vkubelet {} starting: cluster {}, host namespace {}, node {}, mode {}, node mode {}",
      kVersion, impl_->config.cluster_name, impl_->config.cluster_namespace,
      impl_->config.node_name, impl_->config.mode, impl_->config.node_mode);
  if (stop_requested) begin_shutdown("stop requested");
  for (size_t i = 0; i < impl_->components.size() && !shutting_down; ++i) {
    Component& component = *impl_->components[i];
    if (auto status = component.Start(); !status) {
      spdlog::error("cannot start {}: {}", component.name(), status.error().ToString());
      exit_code = 1;
      begin_shutdown("a component failed to start");
    }
  }

  ioc.run();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_hook = nullptr;
  }
  if (shutdown_thread.joinable()) shutdown_thread.join();
  return exit_code;
}

}  // namespace vk::kubelet
