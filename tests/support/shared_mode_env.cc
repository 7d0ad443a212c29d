#include "tests/support/shared_mode_env.h"

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "hostclient/cluster_config.h"
#include "hostclient/resource.h"
#include "tests/kubesim/kubeconfig_writer.h"
#include "tests/kubesim/sim_logs.h"
#include "tests/support/http_get.h"
#include "tests/support/wait_for.h"

namespace vk::testing {
namespace {

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + path);
  return Ok();
}

// Writes a kubeconfig that reaches the instance as its admin (token, CA embedded).
Result<std::string> WriteKubeconfig(const KubesimInstance& instance, const std::string& dir,
                                    const std::string& name) {
  const hostclient::ClusterConfig config = instance.TokenConfig(name);
  kubesim::KubeconfigSpec spec;
  spec.server_url = config.server;
  spec.ca_pem = config.ca_pem;
  spec.token = config.token;
  spec.name = name;
  const std::string path = dir + "/" + name + ".kubeconfig";
  if (auto s = WriteTextFile(path, kubesim::MakeKubeconfig(spec)); !s) {
    return tl::unexpected(s.error());
  }
  return path;
}

Result<std::unique_ptr<hostclient::RestClient>> ExternalClient(
    const std::string& kubeconfig, const std::string& name,
    const hostclient::RestClientOptions& options) {
  hostclient::KubeconfigOptions load;
  load.paths = {kubeconfig};
  load.cluster_name = name;
  auto config = hostclient::LoadKubeconfig(load);
  if (!config) return tl::unexpected(config.error());
  return hostclient::RestClient::Create(*config, options);
}

const Object* FindCondition(const Object& node, std::string_view type) {
  const auto* conditions = obj::Find(node, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const auto& c : conditions->get_array()) {
    if (c.is_object() && obj::String(c.get_object(), {"type"}) == type) return &c.get_object();
  }
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<SharedModeEnv>> SharedModeEnv::Start(Options options) {
  if (options.host_nodes < 1) {
    return MakeError(ErrorCode::kConfig, "shared mode env: host_nodes must be at least 1");
  }
  std::unique_ptr<SharedModeEnv> env(new SharedModeEnv(std::move(options)));
  if (auto s = env->Init(); !s) return tl::unexpected(s.error());
  return env;
}

Status SharedModeEnv::Init() {
  char pattern[] = "/tmp/vkubelet-e2e-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    return MakeError(ErrorCode::kInternal, "shared mode env: cannot create a temporary directory");
  }
  dir_ = pattern;
  if (!options_.external_virtual_kubeconfig.empty() || !options_.external_host_kubeconfig.empty()) {
    return InitExternal();
  }

  auto virtual_instance = KubesimInstance::Start();
  if (!virtual_instance) return tl::unexpected(virtual_instance.error());
  virtual_ = std::move(*virtual_instance);

  auto logs = std::make_shared<kubesim::SimLogs>();
  kubesim::ApiServer::Options host_options;
  host_options.pod_logs = kubesim::SimLogs::Provider(logs);
  host_options.pod_log_streams = kubesim::SimLogs::StreamProvider(logs);
  auto host_instance = KubesimInstance::Start(std::move(host_options));
  if (!host_instance) return tl::unexpected(host_instance.error());
  host_ = std::move(*host_instance);

  kubesim::NodeSimulator::Options sim;
  sim.nodes = options_.host_nodes;
  sim.schedule = true;
  sim.start_delay = options_.pod_start_delay;
  sim.logs = logs;
  simulator_ = std::make_unique<kubesim::NodeSimulator>(host_->server().storage(),
                                                        host_->server().catalog(), std::move(sim));
  if (auto s = simulator_->Start(); !s) return s;

  auto virtual_client =
      hostclient::RestClient::Create(virtual_->TokenConfig("virtual"), options_.client);
  if (!virtual_client) return tl::unexpected(virtual_client.error());
  virtual_client_ = std::move(*virtual_client);
  auto host_client = hostclient::RestClient::Create(host_->TokenConfig("host"), options_.client);
  if (!host_client) return tl::unexpected(host_client.error());
  host_client_ = std::move(*host_client);
  if (auto s = EnsureHostNamespace(); !s) return s;

  auto virtual_kubeconfig = WriteKubeconfig(*virtual_, dir_, "virtual");
  if (!virtual_kubeconfig) return tl::unexpected(virtual_kubeconfig.error());
  virtual_kubeconfig_ = std::move(*virtual_kubeconfig);
  auto host_kubeconfig = WriteKubeconfig(*host_, dir_, "host");
  if (!host_kubeconfig) return tl::unexpected(host_kubeconfig.error());
  host_kubeconfig_ = std::move(*host_kubeconfig);
  return Ok();
}

Status SharedModeEnv::InitExternal() {
  if (options_.external_virtual_kubeconfig.empty() || options_.external_host_kubeconfig.empty()) {
    return MakeError(ErrorCode::kConfig,
                     "shared mode env: give both the virtual and the host kubeconfig, or neither");
  }
  auto virtual_client =
      ExternalClient(options_.external_virtual_kubeconfig, "virtual", options_.client);
  if (!virtual_client) return tl::unexpected(virtual_client.error());
  virtual_client_ = std::move(*virtual_client);
  auto host_client = ExternalClient(options_.external_host_kubeconfig, "host", options_.client);
  if (!host_client) return tl::unexpected(host_client.error());
  host_client_ = std::move(*host_client);
  virtual_kubeconfig_ = options_.external_virtual_kubeconfig;
  host_kubeconfig_ = options_.external_host_kubeconfig;
  return EnsureHostNamespace();
}

Status SharedModeEnv::EnsureHostNamespace() {
  auto created =
      host_client_->Create(hostclient::resources::Namespaces(), "",
                           Object{{"apiVersion", "v1"},
                                  {"kind", "Namespace"},
                                  {"metadata", Object{{"name", options_.host_namespace}}}});
  if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
    return tl::unexpected(created.error());
  }
  return Ok();
}

SharedModeEnv::~SharedModeEnv() {
  // vkubelet first, so that it does not log the servers going away; then whatever writes to them.
  vkubelet_.reset();
  if (virtual_client_) virtual_client_->Shutdown();
  if (host_client_) host_client_->Shutdown();
  if (simulator_) simulator_->Stop();
  simulator_.reset();
  virtual_client_.reset();
  host_client_.reset();
  host_.reset();
  virtual_.reset();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

Status SharedModeEnv::StartVkubelet(std::vector<std::string> extra_args) {
  if (VkubeletRunning()) {
    return MakeError(ErrorCode::kUnavailableLocally, "vkubelet is already running");
  }
  const std::string log_path = dir_ + "/vkubelet.log";
  // Only what this start writes tells its port: the log holds the earlier runs too.
  std::error_code ec;
  const auto log_start = std::filesystem::exists(log_path, ec)
                             ? static_cast<size_t>(std::filesystem::file_size(log_path, ec))
                             : size_t{0};

  if (options_.vkubelet_binary.empty()) {
    return MakeError(ErrorCode::kConfig, "shared mode env: no vkubelet binary given");
  }
  DaemonProcess::Options process;
  process.binary = options_.vkubelet_binary;
  process.args = {
      "--cluster-name",    options_.cluster_name, "--cluster-namespace",  options_.host_namespace,
      "--host-kubeconfig", host_kubeconfig_,      "--virtual-kubeconfig", virtual_kubeconfig_,
      "--virtual-pod-ip",  "127.0.0.1",           "--http-addr",          "127.0.0.1:0"};
  process.args.insert(process.args.end(), extra_args.begin(), extra_args.end());
  process.log_path = log_path;
  auto started = DaemonProcess::Start(std::move(process));
  if (!started) return tl::unexpected(started.error());
  vkubelet_ = std::move(*started);
  http_port_ = 0;

  static const std::regex kServing("/metrics on [^ :]+:([0-9]+)");
  std::smatch match;
  std::string log;
  const bool reported = WaitFor(
      [&] {
        const std::string all = VkubeletLog();
        log = all.size() > log_start ? all.substr(log_start) : "";
        return std::regex_search(log, match, kServing) || !vkubelet_->Running();
      },
      std::chrono::seconds(15));
  if (!reported || match.empty()) {
    const auto code = vkubelet_->WaitExit(std::chrono::milliseconds(0));
    return MakeError(ErrorCode::kInternal, (code ? "vkubelet exited with " + std::to_string(*code)
                                                 : std::string("vkubelet reported no HTTP port")) +
                                               "; its log:\n" + log);
  }
  http_port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
  return Ok();
}

void SharedModeEnv::KillVkubelet() {
  if (vkubelet_) vkubelet_->Kill();
}

Status SharedModeEnv::StopVkubelet(std::chrono::milliseconds timeout) {
  if (!VkubeletRunning())
    return MakeError(ErrorCode::kUnavailableLocally, "vkubelet is not running");
  if (auto s = vkubelet_->Signal(SIGTERM); !s) return s;
  const auto code = vkubelet_->WaitExit(timeout);
  if (!code) {
    vkubelet_->Kill();
    return MakeError(ErrorCode::kTimeout, "vkubelet still ran " + std::to_string(timeout.count()) +
                                              " ms after SIGTERM; killed");
  }
  if (*code != 0) {
    return MakeError(ErrorCode::kInternal,
                     "vkubelet exited with " + std::to_string(*code) + " after SIGTERM");
  }
  return Ok();
}

bool SharedModeEnv::VkubeletRunning() { return vkubelet_ && vkubelet_->Running(); }

std::string SharedModeEnv::VkubeletLog() const {
  std::ifstream in(dir_ + "/vkubelet.log", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Status SharedModeEnv::WaitForNodeReady(const std::string& node, std::chrono::milliseconds timeout) {
  // Read from the virtual server's storage rather than over HTTP where it runs here: this polls
  // every millisecond.
  auto read = [&]() -> Result<ObjectPtr> {
    if (external()) {
      auto got = virtual_client_->Get(hostclient::resources::Nodes(), "", node);
      if (!got) return tl::unexpected(got.error());
      return std::make_shared<const Object>(std::move(*got));
    }
    kubesim::ApiServer& server = virtual_->server();
    const kubesim::ResourceInfo* nodes = server.catalog().Find("", "v1", "nodes");
    return server.storage().GetShared(*nodes, "", node);
  };
  std::string seen = "not found";
  const bool ready = WaitFor(
      [&] {
        auto got = read();
        if (!got) {
          seen = got.error().ToString();
          return false;
        }
        const Object* condition = FindCondition(**got, "Ready");
        if (condition == nullptr) {
          seen = "no Ready condition";
          return false;
        }
        seen = "Ready=" + std::string(obj::String(*condition, {"status"})) + " (" +
               std::string(obj::String(*condition, {"reason"})) + ": " +
               std::string(obj::String(*condition, {"message"})) + ")";
        return obj::String(*condition, {"status"}) == "True";
      },
      timeout);
  if (ready) return Ok();
  return MakeError(ErrorCode::kTimeout, "virtual node " + node + " not ready after " +
                                            std::to_string(timeout.count()) + " ms: " + seen);
}

Status SharedModeEnv::WaitForReadyz(std::chrono::milliseconds timeout) {
  if (http_port_ == 0) return MakeError(ErrorCode::kUnavailableLocally, "vkubelet never started");
  std::string seen = "no answer";
  const bool ready = WaitFor(
      [&] {
        auto response = HttpGet(http_port_, "/readyz?verbose");
        if (!response) {
          seen = response.error().ToString();
          return false;
        }
        seen = std::to_string(response->status) + ": " + response->body;
        return response->status == 200;
      },
      timeout);
  if (ready) return Ok();
  return MakeError(ErrorCode::kTimeout,
                   "vkubelet not ready after " + std::to_string(timeout.count()) + " ms: " + seen);
}

Result<std::string> SharedModeEnv::Metrics() {
  if (http_port_ == 0) return MakeError(ErrorCode::kUnavailableLocally, "vkubelet never started");
  auto response = HttpGet(http_port_, "/metrics");
  if (!response) return tl::unexpected(response.error());
  if (response->status != 200) {
    return MakeError(ErrorCode::kUnknownStatus,
                     "GET /metrics answered " + std::to_string(response->status));
  }
  return std::move(response->body);
}

}  // namespace vk::testing
