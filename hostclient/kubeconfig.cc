// Kubeconfig loading with client-go's rules (clientcmd): file selection and merging, relative path
// resolution, validation, and conversion of the selected context into a ClusterConfig.

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/url/parse.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "hostclient/base/base64.h"
#include "hostclient/base/file.h"
#include "hostclient/cluster_config.h"

namespace vk::hostclient {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExecV1 = "client.authentication.k8s.io/v1";
constexpr std::string_view kExecV1Beta1 = "client.authentication.k8s.io/v1beta1";

// One named cluster, user or context, with where it was declared.
struct Entry {
  YAML::Node body;       // the mapping under "cluster", "user" or "context"; may be null
  std::string origin;    // "kubeconfig <file>": the prefix of every error about this entry
  std::string base_dir;  // directory against which its relative paths resolve
};

// Several kubeconfig documents merged the way clientcmd merges them: for each name, the first
// document that declares it wins the whole entry; the first non-empty current-context wins.
struct MergedConfig {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
  std::string origin;  // every document, for errors that belong to no single entry
};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// yaml-cpp answers a missing key with an "invalid" node on which Type() throws: test IsDefined
// first, always.
bool IsMap(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }
bool IsAbsent(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

tl::unexpected<Error> ConfigError(const std::string& where, const std::string& message) {
  return MakeError(ErrorCode::kConfig, where + ": " + message);
}

// Typed reads of optional fields of one YAML mapping; errors name the field and its owner.
class FieldReader {
 public:
  FieldReader(YAML::Node map, std::string where) : map_(std::move(map)), where_(std::move(where)) {}

  const std::string& where() const { return where_; }

  tl::unexpected<Error> Fail(const std::string& message) const {
    return ConfigError(where_, message);
  }

  bool Has(const char* key) const { return !IsAbsent(Get(key)); }

  YAML::Node Get(const char* key) const {
    if (!IsMap(map_)) return YAML::Node();
    return map_[key];
  }

  Result<std::string> String(const char* key) const {
    YAML::Node n = Get(key);
    if (IsAbsent(n)) return std::string();
    if (!n.IsScalar()) return Fail(std::string(key) + " must be a string");
    return n.Scalar();
  }

  Result<bool> Bool(const char* key) const {
    YAML::Node n = Get(key);
    if (IsAbsent(n)) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
      return Fail(std::string(key) + " must be true or false");
    }
    return value;
  }

  Result<std::vector<std::string>> StringList(const char* key) const {
    std::vector<std::string> out;
    YAML::Node n = Get(key);
    if (IsAbsent(n)) return out;
    if (!n.IsSequence()) return Fail(std::string(key) + " must be a list of strings");
    for (YAML::const_iterator it = n.begin(); it != n.end(); ++it) {
      YAML::Node item = *it;
      if (!item.IsScalar()) return Fail(std::string(key) + " must be a list of strings");
      out.push_back(item.Scalar());
    }
    return out;
  }

 private:
  YAML::Node map_;
  std::string where_;
};

// Adds one section ("clusters", "users", "contexts") of a document; names already present from an
// earlier document keep their earlier entry.
Status AddSection(const YAML::Node& root, const char* section, const char* body_key,
                  const std::string& origin, const std::string& base_dir,
                  std::map<std::string, Entry>& into) {
  YAML::Node list = root[section];
  if (IsAbsent(list)) return Ok();
  if (!list.IsSequence()) return ConfigError(origin, std::string(section) + " must be a list");
  std::set<std::string> seen;
  size_t index = 0;
  for (YAML::const_iterator it = list.begin(); it != list.end(); ++it, ++index) {
    const YAML::Node item = *it;
    std::string where = origin + ": " + section + "[" + std::to_string(index) + "]";
    if (!IsMap(item))
      return ConfigError(where, "must be a mapping with name and " + std::string(body_key));
    FieldReader reader(item, where);
    auto name = reader.String("name");
    if (!name) return tl::unexpected(name.error());
    if (name->empty()) return reader.Fail("name is required");
    if (!seen.insert(*name).second) {
      return ConfigError(origin, std::string(section) + ": duplicate name " + Quoted(*name));
    }
    YAML::Node body = item[body_key];
    if (!IsAbsent(body) && !body.IsMap()) {
      return ConfigError(origin,
                         std::string(body_key) + " " + Quoted(*name) + " must be a mapping");
    }
    into.try_emplace(*name, Entry{body, origin, base_dir});
  }
  return Ok();
}

Status AddDocument(const std::string& text, const std::string& origin, const std::string& base_dir,
                   MergedConfig& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return ConfigError(origin,
                       "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    return ConfigError(origin, std::string("invalid YAML: ") + e.what());
  }
  // An empty file is an empty config, as in client-go.
  if (IsAbsent(root)) return Ok();
  if (!root.IsMap()) return ConfigError(origin, "the document must be a mapping (kind: Config)");
  try {
    if (auto s = AddSection(root, "clusters", "cluster", origin, base_dir, merged.clusters); !s) {
      return s;
    }
    if (auto s = AddSection(root, "users", "user", origin, base_dir, merged.users); !s) return s;
    if (auto s = AddSection(root, "contexts", "context", origin, base_dir, merged.contexts); !s) {
      return s;
    }
    auto current = FieldReader(root, origin).String("current-context");
    if (!current) return tl::unexpected(current.error());
    if (merged.current_context.empty()) merged.current_context = *current;
  } catch (const YAML::Exception& e) {
    return ConfigError(origin, std::string("unexpected document structure: ") + e.what());
  }
  return Ok();
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

// The contents of a "<name>" file field or the decoded "<name>-data" field; both is an error.
Result<std::string> ReadPemField(const FieldReader& reader, const std::string& base_dir,
                                 const char* file_key, const char* data_key) {
  auto file = reader.String(file_key);
  if (!file) return tl::unexpected(file.error());
  auto data = reader.String(data_key);
  if (!data) return tl::unexpected(data.error());
  if (!file->empty() && !data->empty()) {
    return reader.Fail(std::string(file_key) + " and " + data_key + " are both set; use one");
  }
  if (!data->empty()) {
    auto decoded = Base64Decode(*data);
    if (!decoded) return reader.Fail(std::string(data_key) + ": " + decoded.error().message());
    return decoded;
  }
  if (!file->empty()) {
    auto contents = ReadFileContents(ResolvePath(base_dir, *file));
    if (!contents) return reader.Fail(std::string(file_key) + " " + contents.error().message());
    return contents;
  }
  return std::string();
}

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : s) {
    if (!alnum(c) && c != '-') return false;
  }
  return alnum(s.front()) && alnum(s.back());
}

// "https://host:port[/prefix]": a scheme-less server gets https (client-go would pick http when no
// TLS settings are present, and then silently drop every credential; a clear https default is the
// safer reading of the same file). Query and fragment are dropped as client-go drops them.
Result<std::string> NormalizeServer(const FieldReader& reader, std::string server) {
  if (server.find("://") == std::string::npos) server = "https://" + server;
  auto parsed = boost::urls::parse_uri(server);
  if (!parsed) return reader.Fail("server " + Quoted(server) + " is not a valid URL");
  std::string scheme(parsed->scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "https" && scheme != "http") {
    return reader.Fail("server " + Quoted(server) + ": unsupported scheme " + Quoted(scheme) +
                       "; use https or http");
  }
  if (parsed->encoded_host().empty()) {
    return reader.Fail("server " + Quoted(server) + " has no host");
  }
  if (parsed->has_userinfo()) {
    return reader.Fail("server " + Quoted(server) +
                       ": credentials in the URL are not supported; use a user entry");
  }
  std::string out = scheme + "://" + std::string(parsed->encoded_authority());
  std::string path(parsed->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return out + path;
}

Status ResolveCluster(const std::string& name, const Entry& entry, ClusterConfig& out) {
  FieldReader reader(entry.body, entry.origin + ": cluster " + Quoted(name));
  auto server = reader.String("server");
  if (!server) return tl::unexpected(server.error());
  if (server->empty()) return reader.Fail("server is required");
  auto normalized = NormalizeServer(reader, *server);
  if (!normalized) return tl::unexpected(normalized.error());
  out.server = std::move(*normalized);

  auto ca =
      ReadPemField(reader, entry.base_dir, "certificate-authority", "certificate-authority-data");
  if (!ca) return tl::unexpected(ca.error());
  out.ca_pem = std::move(*ca);

  auto insecure = reader.Bool("insecure-skip-tls-verify");
  if (!insecure) return tl::unexpected(insecure.error());
  out.insecure_skip_tls_verify = *insecure;
  if (out.insecure_skip_tls_verify && !out.ca_pem.empty()) {
    return reader.Fail(
        "insecure-skip-tls-verify cannot be combined with certificate-authority(-data)");
  }

  auto server_name = reader.String("tls-server-name");
  if (!server_name) return tl::unexpected(server_name.error());
  out.tls_server_name = std::move(*server_name);

  auto proxy = reader.String("proxy-url");
  if (!proxy) return tl::unexpected(proxy.error());
  if (!proxy->empty()) {
    auto parsed = boost::urls::parse_uri(*proxy);
    std::string scheme = parsed ? std::string(parsed->scheme()) : std::string();
    if (!parsed || (scheme != "http" && scheme != "https" && scheme != "socks5")) {
      return reader.Fail("proxy-url " + Quoted(*proxy) + " must be an http, https or socks5 URL");
    }
  }
  out.proxy_url = std::move(*proxy);
  return Ok();
}

Result<ExecConfig> ParseExec(const FieldReader& user, const std::string& base_dir) {
  YAML::Node node = user.Get("exec");
  FieldReader reader(node, user.where() + ": exec");
  if (!IsMap(node)) return reader.Fail("must be a mapping");
  ExecConfig exec;

  auto api_version = reader.String("apiVersion");
  if (!api_version) return tl::unexpected(api_version.error());
  if (api_version->empty()) return reader.Fail("apiVersion is required");
  if (*api_version != kExecV1 && *api_version != kExecV1Beta1) {
    return reader.Fail("apiVersion " + Quoted(*api_version) + " is not supported; use " +
                       std::string(kExecV1) + " or " + std::string(kExecV1Beta1));
  }
  exec.api_version = std::move(*api_version);

  auto command = reader.String("command");
  if (!command) return tl::unexpected(command.error());
  if (command->empty()) return reader.Fail("command is required");
  // A command with a slash is a path relative to the kubeconfig; a bare name is looked up in PATH.
  exec.command =
      command->find('/') == std::string::npos ? *command : ResolvePath(base_dir, *command);

  auto args = reader.StringList("args");
  if (!args) return tl::unexpected(args.error());
  exec.args = std::move(*args);

  YAML::Node env = reader.Get("env");
  if (!IsAbsent(env)) {
    if (!env.IsSequence()) return reader.Fail("env must be a list of {name, value}");
    size_t index = 0;
    for (YAML::const_iterator it = env.begin(); it != env.end(); ++it, ++index) {
      const YAML::Node item = *it;
      FieldReader var(item, reader.where() + ": env[" + std::to_string(index) + "]");
      if (!IsMap(item)) return var.Fail("must be a mapping with name and value");
      auto name = var.String("name");
      if (!name) return tl::unexpected(name.error());
      if (name->empty()) return var.Fail("name is required");
      if (name->find('=') != std::string::npos) return var.Fail("name must not contain '='");
      auto value = var.String("value");
      if (!value) return tl::unexpected(value.error());
      exec.env.emplace_back(std::move(*name), std::move(*value));
    }
  }

  auto hint = reader.String("installHint");
  if (!hint) return tl::unexpected(hint.error());
  exec.install_hint = std::move(*hint);

  auto cluster_info = reader.Bool("provideClusterInfo");
  if (!cluster_info) return tl::unexpected(cluster_info.error());
  exec.provide_cluster_info = *cluster_info;

  auto mode = reader.String("interactiveMode");
  if (!mode) return tl::unexpected(mode.error());
  if (mode->empty()) {
    // client-go defaults v1beta1 plugins to IfAvailable and requires v1 ones to say.
    if (exec.api_version == kExecV1) {
      return reader.Fail("interactiveMode is required for " + std::string(kExecV1) +
                         " (Never, IfAvailable or Always)");
    }
    *mode = "IfAvailable";
  }
  if (*mode != "Never" && *mode != "IfAvailable" && *mode != "Always") {
    return reader.Fail("interactiveMode " + Quoted(*mode) +
                       " is invalid; use Never, IfAvailable or Always");
  }
  exec.interactive_mode = std::move(*mode);
  return exec;
}

Status ResolveUser(const std::string& name, const Entry& entry, ClusterConfig& out) {
  FieldReader reader(entry.body, entry.origin + ": user " + Quoted(name));

  if (reader.Has("auth-provider")) {
    std::string provider = "(unnamed)";
    YAML::Node ap = reader.Get("auth-provider");
    if (IsMap(ap)) {
      auto provider_name = FieldReader(ap, reader.where()).String("name");
      if (provider_name && !provider_name->empty()) provider = *provider_name;
    }
    return reader.Fail("auth-provider " + Quoted(provider) +
                       " is not supported; use an exec plugin");
  }
  // Silently dropping impersonation would act as a different identity than the file asks for.
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (reader.Has(key)) return reader.Fail(std::string(key) + ": impersonation is not supported");
  }

  auto token = reader.String("token");
  if (!token) return tl::unexpected(token.error());
  auto token_file = reader.String("tokenFile");
  if (!token_file) return tl::unexpected(token_file.error());
  auto username = reader.String("username");
  if (!username) return tl::unexpected(username.error());
  auto password = reader.String("password");
  if (!password) return tl::unexpected(password.error());
  if ((!token->empty() || !token_file->empty()) && (!username->empty() || !password->empty())) {
    return reader.Fail("token and username/password are both set; only one may be used");
  }
  out.token = std::move(*token);
  out.token_file = ResolvePath(entry.base_dir, *token_file);
  out.username = std::move(*username);
  out.password = std::move(*password);

  bool has_cert = reader.Has("client-certificate") || reader.Has("client-certificate-data");
  bool has_key = reader.Has("client-key") || reader.Has("client-key-data");
  if (has_cert && !has_key) return reader.Fail("client-certificate given without client-key");
  if (has_key && !has_cert) return reader.Fail("client-key given without client-certificate");
  auto cert = ReadPemField(reader, entry.base_dir, "client-certificate", "client-certificate-data");
  if (!cert) return tl::unexpected(cert.error());
  auto key = ReadPemField(reader, entry.base_dir, "client-key", "client-key-data");
  if (!key) return tl::unexpected(key.error());
  out.client_cert_pem = std::move(*cert);
  out.client_key_pem = std::move(*key);

  if (reader.Has("exec")) {
    auto exec = ParseExec(reader, entry.base_dir);
    if (!exec) return tl::unexpected(exec.error());
    out.exec = std::move(*exec);
  }
  return Ok();
}

Result<ClusterConfig> Resolve(const MergedConfig& merged, const std::string& context_override,
                              const std::string& cluster_name) {
  const std::string& context_name =
      context_override.empty() ? merged.current_context : context_override;
  if (context_name.empty()) {
    return ConfigError(merged.origin, "no context selected: current-context is not set");
  }
  auto context_it = merged.contexts.find(context_name);
  if (context_it == merged.contexts.end()) {
    return ConfigError(merged.origin, "context " + Quoted(context_name) + " not found");
  }
  const Entry& context = context_it->second;
  FieldReader reader(context.body, context.origin + ": context " + Quoted(context_name));

  ClusterConfig out;
  out.name = cluster_name;

  auto cluster_ref = reader.String("cluster");
  if (!cluster_ref) return tl::unexpected(cluster_ref.error());
  if (cluster_ref->empty()) return reader.Fail("cluster is required");
  auto cluster_it = merged.clusters.find(*cluster_ref);
  if (cluster_it == merged.clusters.end()) {
    return reader.Fail("cluster " + Quoted(*cluster_ref) + " not found");
  }
  if (auto s = ResolveCluster(*cluster_ref, cluster_it->second, out); !s) {
    return tl::unexpected(s.error());
  }

  // A context without a user is allowed: the server may not ask for credentials.
  auto user_ref = reader.String("user");
  if (!user_ref) return tl::unexpected(user_ref.error());
  if (!user_ref->empty()) {
    auto user_it = merged.users.find(*user_ref);
    if (user_it == merged.users.end()) {
      return reader.Fail("user " + Quoted(*user_ref) + " not found");
    }
    if (auto s = ResolveUser(*user_ref, user_it->second, out); !s) {
      return tl::unexpected(s.error());
    }
  }

  auto ns = reader.String("namespace");
  if (!ns) return tl::unexpected(ns.error());
  if (!ns->empty()) {
    if (!IsDns1123Label(*ns)) {
      return reader.Fail("namespace " + Quoted(*ns) + " is not a valid DNS label");
    }
    out.default_namespace = std::move(*ns);
  }

  if (out.server.starts_with("http://") &&
      (!out.token.empty() || !out.token_file.empty() || !out.password.empty() || out.exec)) {
    spdlog::warn(
        "kubeconfig context \"{}\": server {} is plain http; credentials travel unencrypted",
        context_name, out.server);
  }
  return out;
}

std::string AbsoluteDir(const std::string& file) {
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  if (ec) abs = file;
  return abs.lexically_normal().parent_path().string();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace

Result<ClusterConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  std::vector<std::string> files;
  bool must_exist = true;
  std::string source;
  if (!options.paths.empty()) {
    files = options.paths;
    source = "the given paths";
  } else if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    // Missing KUBECONFIG entries are skipped, as client-go does; duplicates are read once.
    must_exist = false;
    source = "KUBECONFIG";
    std::set<std::string> seen;
    std::string_view rest(env);
    while (true) {
      size_t colon = rest.find(':');
      std::string part(rest.substr(0, colon));
      if (!part.empty() && seen.insert(part).second) files.push_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  } else {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
      return MakeError(ErrorCode::kConfig,
                       "kubeconfig: no path given, KUBECONFIG is not set and HOME is not set");
    }
    files.push_back((fs::path(home) / ".kube" / "config").string());
    source = "$HOME/.kube/config";
  }

  MergedConfig merged;
  std::vector<std::string> loaded;
  for (const auto& file : files) {
    std::string origin = "kubeconfig " + file;
    if (!must_exist) {
      struct stat st {};
      if (::stat(file.c_str(), &st) != 0 && errno == ENOENT) continue;
    }
    auto text = ReadFileContents(file);
    if (!text) return MakeError(ErrorCode::kConfig, "kubeconfig " + text.error().message());
    if (auto s = AddDocument(*text, origin, AbsoluteDir(file), merged); !s) {
      return tl::unexpected(s.error());
    }
    loaded.push_back(file);
  }
  if (loaded.empty()) {
    return MakeError(ErrorCode::kConfig,
                     "kubeconfig: none of the files in " + source + " exist: " + Join(files, ":"));
  }
  merged.origin = "kubeconfig " + Join(loaded, ":");
  return Resolve(merged, options.context, options.cluster_name);
}

Result<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                      const std::string& context, const std::string& cluster_name) {
  MergedConfig merged;
  merged.origin = "kubeconfig";
  std::error_code ec;
  fs::path dir = fs::absolute(base_dir.empty() ? "." : base_dir, ec);
  std::string abs_dir = ec ? base_dir : dir.lexically_normal().string();
  if (auto s = AddDocument(yaml_text, merged.origin, abs_dir, merged); !s) {
    return tl::unexpected(s.error());
  }
  return Resolve(merged, context, cluster_name);
}

}  // namespace vk::hostclient
