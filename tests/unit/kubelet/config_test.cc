#include "kubelet/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace vk::kubelet {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vkubelet-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  EnvLookup Env() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }

  Result<Config> Load(std::vector<std::string> args) { return LoadConfigFromArgs(args, Env()); }

  // The flags that make a minimal valid configuration.
  static std::vector<std::string> Required(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--cluster-name",       "demo",
                                     "--cluster-namespace",  "demo-host",
                                     "--virtual-kubeconfig", "/v.kubeconfig"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  std::string LoadError(std::vector<std::string> args) {
    auto config = Load(std::move(args));
    if (config) return "(loaded)";
    EXPECT_EQ(config.error().code(), ErrorCode::kConfig);
    return config.error().message();
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, DefaultsFillEverythingButTheRequiredFields) {
  auto config = Load(Required());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->cluster_name, "demo");
  EXPECT_EQ(config->cluster_namespace, "demo-host");
  EXPECT_EQ(config->virtual_kubeconfig, "/v.kubeconfig");
  EXPECT_EQ(config->host_kubeconfig, "");
  EXPECT_EQ(config->node_name, "vkubelet-demo");
  EXPECT_EQ(config->mode, "shared");
  EXPECT_EQ(config->node_mode, "single");
  EXPECT_EQ(config->kubelet_port, 10250);
  EXPECT_EQ(config->http_addr, "0.0.0.0:10255");
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->log_format, "text");
  EXPECT_EQ(config->host_qps, 50);
  EXPECT_EQ(config->host_burst, 100);
  EXPECT_EQ(config->virtual_qps, 50);
  EXPECT_EQ(config->virtual_burst, 100);
  EXPECT_EQ(config->workers, 10);
  EXPECT_EQ(config->node.max_pods, 110);
  EXPECT_TRUE(config->node.labels.empty());
  EXPECT_TRUE(config->node.taints.empty());
}

TEST_F(ConfigTest, MissingRequiredFieldSaysHowToSetIt) {
  EXPECT_EQ(LoadError({"--cluster-name", "demo", "--virtual-kubeconfig", "v"}),
            "invalid config: cluster_namespace: required (set --cluster-namespace, "
            "CLUSTER_NAMESPACE or cluster_namespace in the config file)");
  EXPECT_EQ(LoadError({"--cluster-namespace", "ns", "--virtual-kubeconfig", "v"}),
            "invalid config: cluster_name: required (set --cluster-name, CLUSTER_NAME or "
            "cluster_name in the config file)");
  EXPECT_THAT(LoadError({"--cluster-name", "demo", "--cluster-namespace", "ns"}),
              HasSubstr("virtual_kubeconfig: required (set --virtual-kubeconfig, VIRT_KUBECONFIG"));
}

TEST_F(ConfigTest, ReadsEveryOptionFromYaml) {
  const std::string path = WriteFile("config.yaml", R"(
cluster_name: demo
cluster_namespace: demo-host
host_kubeconfig: /h.kubeconfig
virtual_kubeconfig: /v.kubeconfig
virtual_pod_ip: 10.0.0.7
node_name: my-node
mode: virtual
node_mode: per-host-node
kubelet_port: 11250
http_addr: 127.0.0.1:9090
log_level: debug
log_format: json
host_qps: 20.5
host_burst: 40
virtual_qps: 0
virtual_burst: 7
workers: 3
node:
  labels:
    tier: gpu
    example.com/team: ml
  taints:
    - key: dedicated
      value: ml
      effect: NoSchedule
    - example.com/spot:NoExecute
  max_pods: 250
  host_node_selector:
    pool: tenants
)");
  auto config = Load({"--config", path});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->host_kubeconfig, "/h.kubeconfig");
  EXPECT_EQ(config->virtual_pod_ip, "10.0.0.7");
  EXPECT_EQ(config->node_name, "my-node");
  EXPECT_EQ(config->mode, "virtual");
  EXPECT_EQ(config->node_mode, "per-host-node");
  EXPECT_EQ(config->kubelet_port, 11250);
  EXPECT_EQ(config->http_addr, "127.0.0.1:9090");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->log_format, "json");
  EXPECT_DOUBLE_EQ(config->host_qps, 20.5);
  EXPECT_EQ(config->host_burst, 40);
  EXPECT_EQ(config->virtual_qps, 0);
  EXPECT_EQ(config->virtual_burst, 7);
  EXPECT_EQ(config->workers, 3);
  EXPECT_EQ(config->node.labels,
            (std::map<std::string, std::string>{{"tier", "gpu"}, {"example.com/team", "ml"}}));
  EXPECT_EQ(config->node.taints, (std::vector<Taint>{{"dedicated", "ml", "NoSchedule"},
                                                     {"example.com/spot", "", "NoExecute"}}));
  EXPECT_EQ(config->node.max_pods, 250);
  EXPECT_EQ(config->node.host_node_selector,
            (std::map<std::string, std::string>{{"pool", "tenants"}}));
}

TEST_F(ConfigTest, ConfigFileMayComeFromTheEnvironment) {
  env_["VKUBELET_CONFIG"] = WriteFile("c.yaml", "workers: 4\n");
  auto config = Load(Required());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->workers, 4);
}

TEST_F(ConfigTest, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  const std::string path = WriteFile("c.yaml",
                                     "cluster_name: from-file\n"
                                     "cluster_namespace: ns-file\n"
                                     "virtual_kubeconfig: /file\n"
                                     "kubelet_port: 1001\n"
                                     "workers: 5\n");
  env_["CLUSTER_NAME"] = "from-env";
  env_["VKUBELET_KUBELET_PORT"] = "1002";
  env_["VIRT_POD_IP"] = "10.1.1.1";
  auto config = Load({"--config", path, "--kubelet-port=1003", "--virtual-pod-ip", "fd00::1"});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->cluster_name, "from-env");      // env > file
  EXPECT_EQ(config->cluster_namespace, "ns-file");  // file > default
  EXPECT_EQ(config->workers, 5);
  EXPECT_EQ(config->kubelet_port, 1003);         // flag > env > file
  EXPECT_EQ(config->virtual_pod_ip, "fd00::1");  // flag > env
  EXPECT_EQ(config->node_name, "vkubelet-from-env");
}

TEST_F(ConfigTest, K3kEnvironmentVariablesAreHonoured) {
  env_["CLUSTER_NAME"] = "k3k";
  env_["CLUSTER_NAMESPACE"] = "k3k-ns";
  env_["HOST_KUBECONFIG"] = "/host";
  env_["VIRT_KUBECONFIG"] = "/virt";
  env_["VIRT_POD_IP"] = "10.42.0.9";
  auto config = Load({});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->cluster_name, "k3k");
  EXPECT_EQ(config->cluster_namespace, "k3k-ns");
  EXPECT_EQ(config->host_kubeconfig, "/host");
  EXPECT_EQ(config->virtual_kubeconfig, "/virt");
  EXPECT_EQ(config->virtual_pod_ip, "10.42.0.9");
}

TEST_F(ConfigTest, EmptyEnvironmentVariableCountsAsUnset) {
  env_["VKUBELET_WORKERS"] = "";
  auto config = Load(Required());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->workers, 10);
}

TEST_F(ConfigTest, LastRepeatedFlagWinsAndMetricsAddrIsAnAlias) {
  auto config = Load(Required({"--workers", "2", "--workers=3", "--metrics-addr", ":9999"}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->workers, 3);
  EXPECT_EQ(config->http_addr, ":9999");
}

TEST_F(ConfigTest, ListsAndMapsFromFlags) {
  auto config = Load(
      Required({"--node-labels", "a=1, example.com/b=two", "--node-taints",
                "gpu=true:NoSchedule,spot:PreferNoSchedule", "--host-node-selector", "pool=x"}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->node.labels,
            (std::map<std::string, std::string>{{"a", "1"}, {"example.com/b", "two"}}));
  EXPECT_EQ(config->node.taints,
            (std::vector<Taint>{{"gpu", "true", "NoSchedule"}, {"spot", "", "PreferNoSchedule"}}));
  EXPECT_EQ(config->node.host_node_selector, (std::map<std::string, std::string>{{"pool", "x"}}));
}

struct InvalidCase {
  std::vector<std::string> extra_flags;
  std::map<std::string, std::string> env;
  std::string message;
};

TEST_F(ConfigTest, EveryValidationErrorNamesTheFieldAndWhereTheValueCameFrom) {
  const std::vector<InvalidCase> cases = {
      {{"--kubelet-port", "70000"},
       {},
       "invalid config: kubelet_port: 70000 is not a port (from --kubelet-port)"},
      {{"--kubelet-port", "0"},
       {},
       "invalid config: kubelet_port: 0 is not a port (from --kubelet-port)"},
      {{},
       {{"VKUBELET_KUBELET_PORT", "http"}},
       "invalid config: kubelet_port: \"http\" is not an integer (from env VKUBELET_KUBELET_PORT)"},
      {{"--cluster-name", "Demo_1"},
       {},
       "invalid config: cluster_name: \"Demo_1\" is not a DNS label"},
      {{"--cluster-namespace", std::string(64, 'a')},
       {},
       "invalid config: cluster_namespace: \"aaaa"},
      {{"--node-name", "-bad"}, {}, "invalid config: node_name: \"-bad\" is not a DNS subdomain"},
      {{},
       {{"VIRT_POD_IP", "10.0.0.300"}},
       "invalid config: virtual_pod_ip: \"10.0.0.300\" is not an IP address (from env "
       "VIRT_POD_IP)"},
      {{"--mode", "hybrid"},
       {},
       "invalid config: mode: \"hybrid\" is not one of shared, virtual (from --mode)"},
      {{"--node-mode", "many"},
       {},
       "invalid config: node_mode: \"many\" is not one of single, per-host-node (from "
       "--node-mode)"},
      {{"--http-addr", "localhost:80"},
       {},
       "invalid config: http_addr: \"localhost\" is not an IP address"},
      {{"--http-addr", "0.0.0.0:99999"}, {}, "invalid config: http_addr: \"99999\" is not a port"},
      {{"--http-addr", "9090"}, {}, "invalid config: http_addr: \"9090\" is not HOST:PORT"},
      {{"--log-level", "verbose"},
       {},
       "invalid config: log_level: \"verbose\" is not one of trace, debug, info"},
      {{"--log-format", "xml"},
       {},
       "invalid config: log_format: \"xml\" is not one of text, json (from --log-format)"},
      {{"--host-qps", "-1"},
       {},
       "invalid config: host_qps: -1 is out of range [0, 1000000] (from --host-qps)"},
      {{"--host-qps", "fast"},
       {},
       "invalid config: host_qps: \"fast\" is not a number (from --host-qps)"},
      {{"--host-burst", "0"},
       {},
       "invalid config: host_burst: 0 is out of range [1, 1000000] (from --host-burst)"},
      {{},
       {{"VKUBELET_VIRTUAL_QPS", "-3"}},
       "invalid config: virtual_qps: -3 is out of range [0, 1000000] (from env "
       "VKUBELET_VIRTUAL_QPS)"},
      {{"--virtual-burst", "-1"}, {}, "invalid config: virtual_burst: -1 is out of range"},
      {{"--workers", "0"},
       {},
       "invalid config: workers: 0 is out of range [1, 1000] (from --workers)"},
      {{"--max-pods", "0"},
       {},
       "invalid config: node.max_pods: 0 is out of range [1, 1000000] (from --max-pods)"},
      {{"--node-labels", "bad key=1"},
       {},
       "invalid config: node.labels: \"bad key\" is not a valid label key (from --node-labels)"},
      {{"--node-labels", "novalue"},
       {},
       "invalid config: node.labels: \"novalue\" is not KEY=VALUE (from --node-labels)"},
      {{"--node-taints", "gpu=true:Sometimes"},
       {},
       "invalid config: node.taints: \"Sometimes\" is not one of NoSchedule, PreferNoSchedule, "
       "NoExecute (from --node-taints)"},
      {{"--node-taints", "gpu"},
       {},
       "invalid config: node.taints: \"gpu\" is not KEY[=VALUE]:EFFECT (from --node-taints)"},
      {{"--node-taints", "a:NoSchedule,a=b:NoSchedule"},
       {},
       "invalid config: node.taints: taint a:NoSchedule is listed twice"},
      {{"--host-node-selector", "pool=not ok"},
       {},
       "invalid config: node.host_node_selector: \"not ok\" is not a valid label value"},
  };
  for (const InvalidCase& c : cases) {
    env_ = c.env;
    std::string message = LoadError(Required(c.extra_flags));
    EXPECT_THAT(message, ::testing::StartsWith(c.message)) << "case " << c.message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, ErrorsFromTheFileNameTheFileAndLine) {
  const std::string path = WriteFile("c.yaml", "cluster_name: demo\nkubelet_port: lots\n");
  EXPECT_EQ(
      LoadError(Required({"--config", path})),
      "invalid config: kubelet_port: \"lots\" is not an integer (config file " + path + " line 2)");
  const std::string bad_value = WriteFile("v.yaml", "mode: hybrid\n");
  EXPECT_EQ(LoadError(Required({"--config", bad_value})),
            "invalid config: mode: \"hybrid\" is not one of shared, virtual (from config file " +
                bad_value + ")");
}

TEST_F(ConfigTest, UnknownYamlKeyIsAnErrorNamingIt) {
  const std::string path =
      WriteFile("c.yaml", "cluster_name: demo\nnode:\n  max_pods: 3\n  maxPods: 4\n");
  EXPECT_EQ(LoadError(Required({"--config", path})),
            "invalid config: unknown field \"node.maxPods\" (config file " + path + " line 4)");
  const std::string top = WriteFile("t.yaml", "clustername: demo\n");
  EXPECT_THAT(LoadError(Required({"--config", top})), HasSubstr("unknown field \"clustername\""));
  const std::string taint =
      WriteFile("x.yaml", "node:\n  taints:\n  - key: a\n    efect: NoSchedule\n");
  EXPECT_THAT(LoadError(Required({"--config", taint})),
              HasSubstr("node.taints[0]: unknown field \"efect\""));
}

TEST_F(ConfigTest, DuplicateYamlKeyIsAnError) {
  const std::string path = WriteFile("c.yaml", "workers: 1\nworkers: 2\n");
  EXPECT_THAT(LoadError(Required({"--config", path})), HasSubstr("field \"workers\" is set twice"));
}

TEST_F(ConfigTest, MalformedOrMissingFileIsAClearError) {
  const std::string path = WriteFile("c.yaml", "cluster_name: [unclosed\n");
  EXPECT_THAT(LoadError(Required({"--config", path})),
              ::testing::AllOf(HasSubstr("config file " + path), HasSubstr("line")));
  EXPECT_THAT(LoadError(Required({"--config", dir_ + "/absent.yaml"})),
              HasSubstr("cannot read config file " + dir_ + "/absent.yaml: No such file"));
  const std::string list = WriteFile("l.yaml", "- a\n- b\n");
  EXPECT_THAT(LoadError(Required({"--config", list})), HasSubstr("must be a map"));
  const std::string wrong_shape = WriteFile("w.yaml", "node:\n  labels: [a, b]\n");
  EXPECT_THAT(LoadError(Required({"--config", wrong_shape})),
              HasSubstr("node.labels: expected a map of strings"));
}

TEST_F(ConfigTest, EmptyFileAndNullValuesKeepDefaults) {
  const std::string path = WriteFile("c.yaml", "workers:\nnode:\n");
  auto config = Load(Required({"--config", path}));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->workers, 10);
  EXPECT_TRUE(Load(Required({"--config", WriteFile("e.yaml", "")})));
}

TEST_F(ConfigTest, UnknownFlagSuggestsTheClosestOne) {
  EXPECT_EQ(LoadError({"--clustr-name", "x"}),
            "unknown flag --clustr-name (did you mean --cluster-name?)");
  EXPECT_EQ(LoadError({"--frobnicate"}), "unknown flag --frobnicate");
  EXPECT_EQ(LoadError(Required({"--workers"})), "flag --workers needs a value");
  EXPECT_EQ(LoadError(Required({"stray"})), "unexpected argument \"stray\"");
}

TEST_F(ConfigTest, ValidateChecksAHandBuiltConfigWithoutSources) {
  Config config;
  config.cluster_name = "demo";
  config.cluster_namespace = "ns";
  config.virtual_kubeconfig = "/v";
  config.node_name = "n";
  EXPECT_TRUE(Validate(config));
  config.kubelet_port = -1;
  ASSERT_FALSE(Validate(config));
  EXPECT_EQ(Validate(config).error().message(), "invalid config: kubelet_port: -1 is not a port");
}

TEST_F(ConfigTest, OptionsDescribeEveryFlagWithEnvAndDefault) {
  const auto options = ConfigOptions();
  const auto specs = ConfigFlagSpecs();
  for (const OptionInfo& option : options) {
    EXPECT_FALSE(option.env.empty()) << option.flag;
    EXPECT_FALSE(option.help.empty()) << option.flag;
    EXPECT_TRUE(std::any_of(specs.begin(), specs.end(), [&](const FlagSpec& spec) {
      return spec.name == option.flag;
    })) << option.flag;
  }
  auto port = std::find_if(options.begin(), options.end(),
                           [](const OptionInfo& o) { return o.flag == "kubelet-port"; });
  ASSERT_NE(port, options.end());
  EXPECT_EQ(port->default_value, "10250");
  EXPECT_EQ(port->env, "VKUBELET_KUBELET_PORT");
}

TEST(HostPortTest, ParsesTheUsualForms) {
  auto v4 = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto any = ParseHostPort(":0");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->host, "");
  EXPECT_EQ(any->port, 0);
  auto v6 = ParseHostPort("[::1]:10255");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(ParseHostPort("::1:80"));
  EXPECT_FALSE(ParseHostPort("[::1:80"));
  EXPECT_FALSE(ParseHostPort("1.2.3.4:"));
  EXPECT_FALSE(ParseHostPort("1.2.3.4:-1"));
}

TEST(NameRulesTest, FollowKubernetesValidation) {
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("vkubelet-demo-1"));
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel("-a"));
  EXPECT_FALSE(IsDnsLabel("a-"));
  EXPECT_FALSE(IsDnsLabel("A"));
  EXPECT_FALSE(IsDnsLabel("a.b"));
  EXPECT_TRUE(IsDnsSubdomain("node-1.example.com"));
  EXPECT_FALSE(IsDnsSubdomain("node..example"));
  EXPECT_FALSE(IsDnsSubdomain(std::string(254, 'a')));
  EXPECT_TRUE(IsQualifiedName("example.com/Name_1.x"));
  EXPECT_TRUE(IsQualifiedName("kubernetes.io/hostname"));
  EXPECT_FALSE(IsQualifiedName("example.com/"));
  EXPECT_FALSE(IsQualifiedName("/name"));
  EXPECT_FALSE(IsQualifiedName("a b"));
  EXPECT_TRUE(IsLabelValue(""));
  EXPECT_TRUE(IsLabelValue("v1.2_3-x"));
  EXPECT_FALSE(IsLabelValue("-x"));
  EXPECT_FALSE(IsLabelValue(std::string(64, 'x')));
  EXPECT_TRUE(IsIpAddress("10.0.0.1"));
  EXPECT_TRUE(IsIpAddress("fd00::1"));
  EXPECT_FALSE(IsIpAddress("10.0.0"));
  EXPECT_FALSE(IsIpAddress("host"));
}

}  // namespace
}  // namespace vk::kubelet

namespace vk::kubelet {
namespace {

class PodsConfigTest : public ::testing::Test {
 protected:
  static Result<Config> Load(std::vector<std::string> more, const std::string& yaml_path = {}) {
    std::vector<std::string> args = {"--cluster-name",       "demo",
                                     "--cluster-namespace",  "demo-host",
                                     "--virtual-kubeconfig", "/v.kubeconfig"};
    if (!yaml_path.empty()) {
      args.push_back("--config");
      args.push_back(yaml_path);
    }
    args.insert(args.end(), more.begin(), more.end());
    return LoadConfigFromArgs(args, [](const std::string&) { return std::nullopt; });
  }
};

TEST_F(PodsConfigTest, PrivilegesAreDeniedByDefault) {
  auto config = Load({});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_FALSE(config->pods.allow_host_network);
  EXPECT_FALSE(config->pods.allow_host_pid);
  EXPECT_FALSE(config->pods.allow_host_ipc);
  EXPECT_FALSE(config->pods.allow_host_path);
  EXPECT_FALSE(config->pods.allow_privileged);
  EXPECT_TRUE(config->pods.allowed_capabilities.empty());
  EXPECT_EQ(config->pods.cluster_domain, "cluster.local");
  EXPECT_EQ(config->pods.token_expiration_seconds, 3607);
}

TEST_F(PodsConfigTest, FlagsSetBooleansAndLists) {
  auto config = Load({"--allow-host-network", "true", "--allow-privileged=yes",
                      "--allowed-capabilities", "NET_ADMIN, SYS_TIME", "--dns-service-ip",
                      "10.43.0.10", "--api-server-host", "10.43.0.1", "--api-server-port", "6443"});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->pods.allow_host_network);
  EXPECT_TRUE(config->pods.allow_privileged);
  EXPECT_FALSE(config->pods.allow_host_pid);
  EXPECT_EQ(config->pods.allowed_capabilities, (std::vector<std::string>{"NET_ADMIN", "SYS_TIME"}));
  EXPECT_EQ(config->pods.dns_service_ip, "10.43.0.10");
  EXPECT_EQ(config->pods.api_server_host, "10.43.0.1");
  EXPECT_EQ(config->pods.api_server_port, 6443);
}

TEST_F(PodsConfigTest, YamlSectionWithAList) {
  char pattern[] = "/tmp/vkubelet-pods-config-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string path = std::string(pattern) + "/config.yaml";
  std::ofstream(path) << "pods:\n  allow_host_path: on\n  allowed_capabilities: [NET_RAW]\n"
                         "  host_priority_class: tenant-low\n  token_expiration_seconds: 7200\n";
  auto config = Load({}, path);
  std::filesystem::remove_all(pattern);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->pods.allow_host_path);
  EXPECT_EQ(config->pods.allowed_capabilities, (std::vector<std::string>{"NET_RAW"}));
  EXPECT_EQ(config->pods.host_priority_class, "tenant-low");
  EXPECT_EQ(config->pods.token_expiration_seconds, 7200);
}

TEST_F(PodsConfigTest, BadValuesNameTheField) {
  auto not_bool = Load({"--allow-host-pid", "maybe"});
  ASSERT_FALSE(not_bool);
  EXPECT_NE(not_bool.error().message().find("pods.allow_host_pid"), std::string::npos)
      << not_bool.error().message();
  EXPECT_NE(not_bool.error().message().find("is not true or false"), std::string::npos);

  auto bad_ip = Load({"--dns-service-ip", "dns"});
  ASSERT_FALSE(bad_ip);
  EXPECT_NE(bad_ip.error().message().find("pods.dns_service_ip: \"dns\" is not an IP address"),
            std::string::npos)
      << bad_ip.error().message();

  auto short_token = Load({"--token-expiration-seconds", "60"});
  ASSERT_FALSE(short_token);
  EXPECT_NE(short_token.error().message().find("pods.token_expiration_seconds"), std::string::npos);
}

}  // namespace
}  // namespace vk::kubelet
