#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"
#include "tests/kubesim/authn.h"
#include "tests/kubesim/authz.h"
#include "tests/kubesim/fault_injector.h"
#include "tests/kubesim/request_handler.h"
#include "tests/kubesim/resource_catalog.h"
#include "tests/kubesim/storage.h"

namespace vk::kubesim {

// kubesim's HTTP(S) front: an in-memory Kubernetes API server that speaks kube-apiserver's wire
// protocol (HTTP/1.1 keep-alive, TLS 1.2+, bearer-token and client-certificate authentication,
// discovery, CRUD, chunked watch streams, Table output, subresources, reviews) over a Storage it
// owns. Requests run on a few I/O threads as coroutines, so thousands of concurrent watches need
// no thread each.
//
// Lifetime: Start() binds and serves until Stop() (or destruction). The Storage, catalog,
// authenticator, authorizer and fault injector outlive Start/Stop cycles, so a Stop() + Start()
// behaves like an API server restart on the same port: watches break, data stays. The optional
// workload controllers and scheduler start with the first Start() and run, like a controller
// manager beside the API server, until destruction.
// Threading: every public method is thread-safe, except that Stop() (and the destructor) must not
// be called from a request's own thread (a PodLogProvider, a Watcher callback).
class ApiServer {
 public:
  struct Options {
    std::string bind_address = "127.0.0.1";
    uint16_t port = 0;  // 0: an ephemeral port, kept across restarts
    // PEM; both empty: plain HTTP.
    std::string tls_cert_pem;
    std::string tls_key_pem;
    // PEM bundle of CAs for client certificates (CN = user, O = groups). Empty: none accepted.
    // Certificates are requested but optional, so bearer tokens work on the same port.
    std::string client_ca_pem;
    std::map<std::string, UserInfo> tokens;  // static bearer tokens
    bool allow_anonymous = false;
    std::vector<AuthzRule> authz_rules;
    bool authz_default_allow = true;
    // Interval of BOOKMARK events on watches that allow them.
    std::chrono::milliseconds bookmark_interval{std::chrono::seconds(60)};
    // Watches without timeoutSeconds are closed after 1x..2x this, as in kube-apiserver.
    std::chrono::seconds min_request_timeout{1800};
    std::chrono::seconds idle_timeout{120};  // keep-alive connections without a request
    size_t max_request_body_bytes = 3 * 1024 * 1024;
    int io_threads = 2;
    FaultInjectorPtr fault_injector;  // null: the server makes its own
    // Clock of service-account token expiry (tests use a FakeClock).
    const Clock* clock = &Clock::Real();
    PodLogProvider pod_logs;
    // Streams pods/log?follow=true (NodeSimulator's logs supply both); optional.
    PodLogStreamProvider pod_log_streams;
    ResourceCatalog catalog = ResourceCatalog::Default();
    Storage::Options storage;
    // kube-controller-manager's deployment and replicaset controllers and the garbage collector
    // of their dependents (workload_controllers.h).
    bool workload_controllers = false;
    // A kube-scheduler for nodes that kubesim does not simulate (scheduler.h). Not together with
    // a NodeSimulator that schedules (NodeSimulator::Options::schedule).
    bool scheduler = false;
  };

  explicit ApiServer(Options options);
  ApiServer();
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving; returns the port. kConfig for bad TLS material, kNetwork when the
  // address cannot be bound, kUnavailableLocally when already running.
  Result<uint16_t> Start();
  // Closes the listener and every connection (watches end without their final chunk, as when an
  // API server dies), then joins the I/O threads. Idempotent.
  void Stop();
  bool running() const;

  uint16_t port() const;
  // "https://127.0.0.1:<port>" or "http://..."; the address clients use.
  std::string url() const;
  const Options& options() const;

  Storage& storage();
  const ResourceCatalog& catalog() const;
  Authenticator& authenticator();
  Authorizer& authorizer();
  FaultInjector& faults();

  void AddToken(const std::string& token, UserInfo user);
  void AddAuthzRule(AuthzRule rule);
  // A token for an existing service account, as a TokenRequest would mint (kNotFound when the
  // service account does not exist).
  Result<std::string> IssueServiceAccountToken(
      const std::string& ns, const std::string& name,
      std::chrono::seconds expiration = std::chrono::seconds(3600));

  // Watch streams open right now, and requests answered so far: for tests and benchmarks.
  size_t active_watches() const;
  uint64_t requests_served() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vk::kubesim
