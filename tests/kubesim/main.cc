// kubesim: runs the in-memory Kubernetes API server as a process, for the sandbox, end-to-end
// tests and trying things with kubectl.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostclient/base/file.h"
#include "tests/kubesim/api_server.h"
#include "tests/kubesim/kubeconfig_writer.h"
#include "tests/kubesim/node_simulator.h"
#include "tests/kubesim/test_pki.h"

namespace {

using vk::Result;
using vk::kubesim::ApiServer;

constexpr char kUsage[] = R"(kubesim: an in-memory Kubernetes API server for tests and the sandbox.

Usage: kubesim [options]
  --port P                  port to listen on (default 6443; 0 picks a free one)
  --bind ADDRESS            address to bind (default 127.0.0.1)
  --tls | --no-tls          serve HTTPS (default) or plain HTTP
  --cert-dir DIR            where the CA, server and admin certificates live: ca.crt, ca.key,
                            server.crt, server.key, admin.crt, admin.key. Missing ones are
                            generated (a fresh CA when ca.crt/ca.key are absent)
  --write-kubeconfig FILE   write a kubeconfig for kubectl: the cluster with its CA, and the
                            admin client certificate (or the first --token with --no-tls;
                            kubectl sends credentials only over TLS, see --allow-anonymous)
  --token T[=USER[:GROUP,GROUP...]]
                            accept bearer token T for USER (default kubesim-admin, groups
                            system:masters); repeatable
  --allow-anonymous         serve requests without credentials as system:anonymous, with full
                            access (kube's anonymous auth with AlwaysAllow authorization)
  --bookmark-interval S     seconds between watch bookmarks (default 60)
  --nodes N                 simulate N kubelets: Nodes sim-node-1..N that run the pods bound
                            to them, serve their logs, and renew their Leases (default 0)
  --schedule                with --nodes: bind unscheduled pods (default-scheduler) to the
                            simulated nodes, round-robin
  --pod-start-delay MS      with --nodes: milliseconds from binding to Running (default 0)
  --controllers             run the deployment and replicaset controllers and the garbage
                            collector of their replica sets and pods (kube-controller-manager)
  --scheduler               bind unscheduled pods (default-scheduler) to the cluster's Ready
                            nodes that fit them, round-robin, for nodes registered by others
                            (vkubelet); use --schedule instead for the --nodes simulator's nodes
  --log-level LEVEL         trace, debug, info (default), warn, error
  --help                    this text

kubesim logs "kubesim listening on <url>" once it serves, and stops on SIGINT or SIGTERM.
)";

struct Flags {
  uint16_t port = 6443;
  std::string bind = "127.0.0.1";
  bool tls = true;
  std::string cert_dir;
  std::string kubeconfig;
  std::vector<std::string> tokens;
  bool allow_anonymous = false;
  int bookmark_seconds = 60;
  std::string log_level = "info";
  int nodes = 0;
  bool schedule = false;
  int pod_start_delay_ms = 0;
  bool controllers = false;
  bool scheduler = false;
};

bool ParseCount(const std::string& value, int& out) {
  char* end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || n < 0 || n > 1000000) return false;
  out = static_cast<int>(n);
  return true;
}

int Fail(const std::string& message) {
  std::cerr << "kubesim: " << message << "\n";
  return 2;
}

bool ParseFlags(int argc, char** argv, Flags& flags, std::string& error, bool& help) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto next = [&]() -> bool {
      if (has_inline) return true;
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      help = true;
      return true;
    } else if (arg == "--tls") {
      flags.tls = true;
    } else if (arg == "--no-tls") {
      flags.tls = false;
    } else if (arg == "--allow-anonymous") {
      flags.allow_anonymous = true;
    } else if (arg == "--schedule") {
      flags.schedule = true;
    } else if (arg == "--controllers") {
      flags.controllers = true;
    } else if (arg == "--scheduler") {
      flags.scheduler = true;
    } else if (arg == "--nodes" || arg == "--pod-start-delay") {
      if (!next()) return false;
      if (!ParseCount(value, arg == "--nodes" ? flags.nodes : flags.pod_start_delay_ms)) {
        error = "bad " + arg + " " + value;
        return false;
      }
    } else if (arg == "--port" || arg == "--bind" || arg == "--cert-dir" ||
               arg == "--write-kubeconfig" || arg == "--token" || arg == "--bookmark-interval" ||
               arg == "--log-level") {
      if (!next()) return false;
      if (arg == "--port") {
        char* end = nullptr;
        long port = std::strtol(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || port < 0 || port > 65535) {
          error = "bad --port " + value;
          return false;
        }
        flags.port = static_cast<uint16_t>(port);
      } else if (arg == "--bind") {
        flags.bind = value;
      } else if (arg == "--cert-dir") {
        flags.cert_dir = value;
      } else if (arg == "--write-kubeconfig") {
        flags.kubeconfig = value;
      } else if (arg == "--token") {
        flags.tokens.push_back(value);
      } else if (arg == "--bookmark-interval") {
        char* end = nullptr;
        long seconds = std::strtol(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || seconds < 0) {
          error = "bad --bookmark-interval " + value;
          return false;
        }
        flags.bookmark_seconds = static_cast<int>(seconds);
      } else {
        flags.log_level = value;
      }
    } else {
      error = "unknown argument " + arg + " (see --help)";
      return false;
    }
  }
  return true;
}

// "T=USER:G1,G2" into the token and its user.
std::pair<std::string, vk::kubesim::UserInfo> ParseToken(const std::string& spec) {
  vk::kubesim::UserInfo user{"kubesim-admin", "", {"system:masters"}, {}};
  auto eq = spec.find('=');
  if (eq == std::string::npos) return {spec, user};
  std::string rest = spec.substr(eq + 1);
  auto colon = rest.find(':');
  user.name = rest.substr(0, colon);
  user.groups.clear();
  if (colon != std::string::npos) {
    std::string groups = rest.substr(colon + 1);
    size_t start = 0;
    while (start <= groups.size()) {
      size_t comma = groups.find(',', start);
      std::string g = groups.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!g.empty()) user.groups.push_back(g);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return {spec.substr(0, eq), user};
}

vk::Status WriteFile(const std::filesystem::path& path, const std::string& contents, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return vk::MakeError(vk::ErrorCode::kConfig, "cannot write " + path.string());
  out << contents;
  out.close();
  if (!out) return vk::MakeError(vk::ErrorCode::kConfig, "cannot write " + path.string());
  if (secret) {
    std::error_code ec;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  return vk::Ok();
}

struct Material {
  vk::kubesim::Pki pki;
  vk::kubesim::CertAndKey server;
  vk::kubesim::CertAndKey admin;
};

// Reads the certificates from dir, generating (and saving) whichever are missing.
Result<Material> LoadOrCreatePki(const std::string& dir) {
  namespace fs = std::filesystem;
  Material m;
  auto read = [&](const char* name) -> std::optional<std::string> {
    if (dir.empty() || !fs::exists(fs::path(dir) / name)) return std::nullopt;
    auto text = vk::ReadFileContents((fs::path(dir) / name).string());
    if (!text) return std::nullopt;
    return *text;
  };
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return vk::MakeError(vk::ErrorCode::kConfig, "cannot create " + dir + ": " + ec.message());
  }
  auto save = [&](const char* name, const std::string& text, bool secret) -> vk::Status {
    if (dir.empty()) return vk::Ok();
    return WriteFile(fs::path(dir) / name, text, secret);
  };
  auto ca_cert = read("ca.crt");
  auto ca_key = read("ca.key");
  bool fresh_ca = false;
  if (ca_cert && ca_key) {
    m.pki = {*ca_cert, *ca_key};
  } else {
    auto pki = vk::kubesim::MakeCa("kubesim-ca");
    if (!pki) return tl::unexpected(pki.error());
    m.pki = *pki;
    fresh_ca = true;
    if (auto s = save("ca.crt", m.pki.ca_cert_pem, false); !s) return tl::unexpected(s.error());
    if (auto s = save("ca.key", m.pki.ca_key_pem, true); !s) return tl::unexpected(s.error());
  }
  auto load_pair = [&](const char* cert_name, const char* key_name,
                       auto issue) -> Result<vk::kubesim::CertAndKey> {
    auto cert = read(cert_name);
    auto key = read(key_name);
    if (cert && key && !fresh_ca) return vk::kubesim::CertAndKey{*cert, *key};
    auto issued = issue();
    if (!issued) return tl::unexpected(issued.error());
    if (auto s = save(cert_name, issued->cert_pem, false); !s) return tl::unexpected(s.error());
    if (auto s = save(key_name, issued->key_pem, true); !s) return tl::unexpected(s.error());
    return *issued;
  };
  auto server = load_pair("server.crt", "server.key", [&] {
    return vk::kubesim::IssueServerCert(
        m.pki, {"kubernetes", "kubernetes.default", "kubernetes.default.svc"});
  });
  if (!server) return tl::unexpected(server.error());
  m.server = *server;
  auto admin = load_pair("admin.crt", "admin.key", [&] {
    return vk::kubesim::IssueClientCert(m.pki, "kubesim-admin", {"system:masters"});
  });
  if (!admin) return tl::unexpected(admin.error());
  m.admin = *admin;
  return m;
}

std::mutex g_mutex;
std::condition_variable g_cv;
bool g_stop = false;

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string error;
  bool help = false;
  if (!ParseFlags(argc, argv, flags, error, help)) return Fail(error);
  if (help) {
    std::cout << kUsage;
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  // Signals are waited for on a dedicated thread (sigwait), so no handler runs async code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ApiServer::Options options;
  options.bind_address = flags.bind;
  options.port = flags.port;
  options.allow_anonymous = flags.allow_anonymous;
  if (flags.allow_anonymous) {
    vk::kubesim::AuthzRule allow;
    allow.effect = vk::kubesim::AuthzRule::Effect::kAllow;
    allow.user_group = vk::kubesim::kUnauthenticatedGroup;
    options.authz_rules.push_back(allow);
    allow.path = "*";  // and the non-resource paths
    options.authz_rules.push_back(allow);
  }
  options.bookmark_interval = std::chrono::seconds(flags.bookmark_seconds);
  std::string first_token;
  for (const auto& spec : flags.tokens) {
    auto [token, user] = ParseToken(spec);
    if (token.empty()) return Fail("empty --token");
    if (first_token.empty()) first_token = token;
    options.tokens[token] = user;
  }
  std::optional<Material> material;
  if (flags.tls) {
    auto m = LoadOrCreatePki(flags.cert_dir);
    if (!m) return Fail(m.error().ToString());
    material = std::move(*m);
    options.tls_cert_pem = material->server.cert_pem;
    options.tls_key_pem = material->server.key_pem;
    options.client_ca_pem = material->pki.ca_cert_pem;
    // Pods see the cluster CA in kube-root-ca.crt, as with kube-controller-manager.
    options.storage.root_ca_pem = material->pki.ca_cert_pem;
  }

  if (flags.schedule && flags.nodes == 0) return Fail("--schedule needs --nodes");
  // Two schedulers would race for the same pods.
  if (flags.schedule && flags.scheduler) {
    return Fail("--schedule and --scheduler both schedule pods: use one");
  }
  options.workload_controllers = flags.controllers;
  options.scheduler = flags.scheduler;
  auto logs = std::make_shared<vk::kubesim::SimLogs>();
  if (flags.nodes > 0) {
    options.pod_logs = vk::kubesim::SimLogs::Provider(logs);
    options.pod_log_streams = vk::kubesim::SimLogs::StreamProvider(logs);
  }

  ApiServer server(std::move(options));
  auto port = server.Start();
  if (!port) return Fail(port.error().ToString());
  if (flags.controllers) spdlog::info("kubesim running the deployment and replicaset controllers");
  if (flags.scheduler) spdlog::info("kubesim scheduling pods onto the cluster's nodes");
  std::unique_ptr<vk::kubesim::NodeSimulator> simulator;
  if (flags.nodes > 0) {
    vk::kubesim::NodeSimulator::Options sim_options;
    sim_options.nodes = flags.nodes;
    sim_options.schedule = flags.schedule;
    sim_options.start_delay = std::chrono::milliseconds(flags.pod_start_delay_ms);
    sim_options.logs = logs;
    simulator = std::make_unique<vk::kubesim::NodeSimulator>(server.storage(), server.catalog(),
                                                             std::move(sim_options));
    if (auto s = simulator->Start(); !s) return Fail(s.error().ToString());
    spdlog::info("kubesim simulating {} node(s){}", flags.nodes,
                 flags.schedule ? ", scheduling pods" : "");
  }
  if (!flags.kubeconfig.empty()) {
    // With TLS the admin certificate authenticates; a token is used only for plain HTTP.
    vk::kubesim::KubeconfigSpec spec;
    spec.server_url = server.url();
    if (material) {
      spec.ca_pem = material->pki.ca_cert_pem;
      spec.client_cert_pem = material->admin.cert_pem;
      spec.client_key_pem = material->admin.key_pem;
    } else {
      spec.token = first_token;
    }
    auto s = WriteFile(flags.kubeconfig, vk::kubesim::MakeKubeconfig(spec), true);
    if (!s) return Fail(s.error().ToString());
    spdlog::info("kubesim wrote kubeconfig {}", flags.kubeconfig);
  }

  std::thread waiter([&signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::lock_guard lock(g_mutex);
    g_stop = true;
    g_cv.notify_all();
  });
  {
    std::unique_lock lock(g_mutex);
    g_cv.wait(lock, [] { return g_stop; });
  }
  waiter.join();
  spdlog::info("kubesim stopping");
  if (simulator) simulator->Stop();
  server.Stop();
  return 0;
}
