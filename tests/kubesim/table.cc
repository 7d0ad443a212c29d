#include "tests/kubesim/table.h"

#include <boost/json.hpp>

#include "tests/kubesim/label_selector.h"
#include "tests/kubesim/timestamps.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

struct Column {
  const char* name;
  const char* type;
  const char* format;
  const char* description;
  int priority;
};

constexpr Column kName{"Name", "string", "name",
                       "Name must be unique within a namespace. More info: "
                       "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
                       "names#names",
                       0};
constexpr Column kAge{"Age", "string", "",
                      "CreationTimestamp is a timestamp representing the server time when this "
                      "object was created.",
                      0};

using Cells = json::array;

std::string Str(const Object& o, std::initializer_list<std::string_view> path) {
  return std::string(obj::String(o, path));
}

std::string OrNone(std::string s) { return s.empty() ? "<none>" : s; }

const json::array* ArrayAt(const Object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = obj::Find(o, path);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

int64_t IntOf(const json::value& v, std::string_view key) {
  if (!v.is_object()) return 0;
  const json::value* f = v.get_object().if_contains(key);
  if (f == nullptr) return 0;
  if (f->is_int64()) return f->get_int64();
  if (f->is_uint64()) return static_cast<int64_t>(f->get_uint64());
  return 0;
}

std::string Age(const Object& o, system_clock::time_point now) {
  auto created = ParseTime(obj::String(o, {"metadata", "creationTimestamp"}));
  if (!created) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

std::string SinceAgo(std::string_view timestamp, system_clock::time_point now) {
  auto t = ParseTime(timestamp);
  if (!t) return "";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t)) + " ago";
}

// kube's printPod: the status column, the ready count and the restart count.
Cells PodCells(const Object& pod, system_clock::time_point now) {
  const json::array* containers = ArrayAt(pod, {"spec", "containers"});
  const json::array* init_specs = ArrayAt(pod, {"spec", "initContainers"});
  const size_t total = containers ? containers->size() : 0;
  int64_t restarts = 0;
  size_t ready = 0;
  std::string last_restart;  // finishedAt of the latest restart
  std::string reason = Str(pod, {"status", "phase"});
  if (!Str(pod, {"status", "reason"}).empty()) reason = Str(pod, {"status", "reason"});

  auto note_restart = [&](const json::value& status) {
    const json::value* finished = nullptr;
    if (status.is_object()) {
      if (const auto* last = status.get_object().if_contains("lastState");
          last && last->is_object()) {
        if (const auto* term = last->get_object().if_contains("terminated");
            term && term->is_object()) {
          finished = term->get_object().if_contains("finishedAt");
        }
      }
    }
    if (finished && finished->is_string() && std::string(finished->get_string()) > last_restart) {
      last_restart = std::string(finished->get_string());
    }
  };
  auto state_field = [](const json::value& status, std::string_view state,
                        std::string_view field) -> const json::value* {
    if (!status.is_object()) return nullptr;
    const auto* st = status.get_object().if_contains("state");
    if (!st || !st->is_object()) return nullptr;
    const auto* s = st->get_object().if_contains(state);
    if (!s || !s->is_object()) return nullptr;
    if (field.empty()) return s;
    return s->get_object().if_contains(field);
  };
  auto str_of = [](const json::value* v) {
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };

  bool initializing = false;
  if (const json::array* inits = ArrayAt(pod, {"status", "initContainerStatuses"})) {
    const size_t init_total = init_specs ? init_specs->size() : inits->size();
    for (size_t i = 0; i < inits->size(); ++i) {
      const json::value& cs = (*inits)[i];
      restarts += IntOf(cs, "restartCount");
      note_restart(cs);
      const json::value* terminated = state_field(cs, "terminated", "");
      const std::string waiting_reason = str_of(state_field(cs, "waiting", "reason"));
      if (terminated && IntOf(*terminated, "exitCode") == 0) continue;
      if (terminated) {
        std::string r = str_of(state_field(cs, "terminated", "reason"));
        if (r.empty()) {
          int64_t signal = IntOf(*terminated, "signal");
          r = signal != 0 ? "Signal:" + std::to_string(signal)
                          : "ExitCode:" + std::to_string(IntOf(*terminated, "exitCode"));
        }
        reason = "Init:" + r;
      } else if (!waiting_reason.empty() && waiting_reason != "PodInitializing") {
        reason = "Init:" + waiting_reason;
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_total);
      }
      initializing = true;
      break;
    }
  }
  if (!initializing) {
    restarts = 0;
    bool has_running = false;
    if (const json::array* statuses = ArrayAt(pod, {"status", "containerStatuses"})) {
      for (auto it = statuses->rbegin(); it != statuses->rend(); ++it) {
        const json::value& cs = *it;
        restarts += IntOf(cs, "restartCount");
        note_restart(cs);
        const std::string waiting_reason = str_of(state_field(cs, "waiting", "reason"));
        const json::value* terminated = state_field(cs, "terminated", "");
        const std::string terminated_reason = str_of(state_field(cs, "terminated", "reason"));
        const bool is_ready = cs.is_object() && cs.get_object().if_contains("ready") &&
                              cs.get_object().at("ready").is_bool() &&
                              cs.get_object().at("ready").get_bool();
        if (!waiting_reason.empty()) {
          reason = waiting_reason;
        } else if (!terminated_reason.empty()) {
          reason = terminated_reason;
        } else if (terminated) {
          int64_t signal = IntOf(*terminated, "signal");
          reason = signal != 0 ? "Signal:" + std::to_string(signal)
                               : "ExitCode:" + std::to_string(IntOf(*terminated, "exitCode"));
        } else if (is_ready && state_field(cs, "running", "")) {
          has_running = true;
          ++ready;
        }
      }
    }
    if (reason == "Completed" && has_running) {
      bool pod_ready = false;
      if (const json::array* conds = ArrayAt(pod, {"status", "conditions"})) {
        for (const auto& c : *conds) {
          if (c.is_object() && obj::String(c.get_object(), {"type"}) == "Ready" &&
              obj::String(c.get_object(), {"status"}) == "True") {
            pod_ready = true;
          }
        }
      }
      reason = pod_ready ? "Running" : "NotReady";
    }
  }
  if (obj::IsBeingDeleted(pod)) {
    reason = Str(pod, {"status", "reason"}) == "NodeLost" ? "Unknown" : "Terminating";
  }
  std::string restart_text = std::to_string(restarts);
  if (restarts != 0 && !last_restart.empty()) {
    if (std::string ago = SinceAgo(last_restart, now); !ago.empty()) {
      restart_text += " (" + ago + ")";
    }
  }
  std::string gates = "<none>";
  if (const json::array* g = ArrayAt(pod, {"spec", "readinessGates"}); g && !g->empty()) {
    size_t true_gates = 0;
    if (const json::array* conds = ArrayAt(pod, {"status", "conditions"})) {
      for (const auto& gate : *g) {
        if (!gate.is_object()) continue;
        std::string_view type = obj::String(gate.get_object(), {"conditionType"});
        for (const auto& c : *conds) {
          if (c.is_object() && obj::String(c.get_object(), {"type"}) == type &&
              obj::String(c.get_object(), {"status"}) == "True") {
            ++true_gates;
          }
        }
      }
    }
    gates = std::to_string(true_gates) + "/" + std::to_string(g->size());
  }
  return Cells{std::string(obj::Name(pod)),
               std::to_string(ready) + "/" + std::to_string(total),
               reason,
               restart_text,
               Age(pod, now),
               OrNone(Str(pod, {"status", "podIP"})),
               OrNone(Str(pod, {"spec", "nodeName"})),
               OrNone(Str(pod, {"status", "nominatedNodeName"})),
               gates};
}

Cells NodeCells(const Object& node, system_clock::time_point now) {
  std::string status = "Unknown";
  if (const json::array* conds = ArrayAt(node, {"status", "conditions"})) {
    for (const auto& c : *conds) {
      if (!c.is_object() || obj::String(c.get_object(), {"type"}) != "Ready") continue;
      status = obj::String(c.get_object(), {"status"}) == "True" ? "Ready" : "NotReady";
    }
  }
  if (const json::value* u = obj::Find(node, {"spec", "unschedulable"});
      u && u->is_bool() && u->get_bool()) {
    status += ",SchedulingDisabled";
  }
  std::string roles;
  if (const Object* labels = obj::ObjectAt(node, {"metadata", "labels"})) {
    constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
    for (const auto& [key, value] : *labels) {
      std::string_view k = key;
      std::string role;
      if (k.substr(0, kPrefix.size()) == kPrefix) {
        role = std::string(k.substr(kPrefix.size()));
      } else if (k == "kubernetes.io/role" && value.is_string()) {
        role = std::string(value.get_string());
      }
      if (role.empty()) continue;
      if (!roles.empty()) roles += ",";
      roles += role;
    }
  }
  std::string internal_ip, external_ip;
  if (const json::array* addrs = ArrayAt(node, {"status", "addresses"})) {
    for (const auto& a : *addrs) {
      if (!a.is_object()) continue;
      auto type = obj::String(a.get_object(), {"type"});
      auto address = std::string(obj::String(a.get_object(), {"address"}));
      if (type == "InternalIP" && internal_ip.empty()) internal_ip = address;
      if (type == "ExternalIP" && external_ip.empty()) external_ip = address;
    }
  }
  return Cells{std::string(obj::Name(node)),
               status,
               OrNone(roles),
               Age(node, now),
               Str(node, {"status", "nodeInfo", "kubeletVersion"}),
               OrNone(internal_ip),
               OrNone(external_ip),
               OrNone(Str(node, {"status", "nodeInfo", "osImage"})),
               OrNone(Str(node, {"status", "nodeInfo", "kernelVersion"})),
               OrNone(Str(node, {"status", "nodeInfo", "containerRuntimeVersion"}))};
}

size_t CountOf(const Object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_object()) return v->get_object().size();
  if (v->is_array()) return v->get_array().size();
  return 0;
}

std::string ServicePorts(const Object& svc) {
  std::string out;
  if (const json::array* ports = ArrayAt(svc, {"spec", "ports"})) {
    for (const auto& p : *ports) {
      if (!p.is_object()) continue;
      if (!out.empty()) out += ",";
      out += std::to_string(IntOf(p, "port"));
      if (int64_t node_port = IntOf(p, "nodePort"); node_port != 0) {
        out += ":" + std::to_string(node_port);
      }
      std::string_view proto = obj::String(p.get_object(), {"protocol"});
      out += "/" + std::string(proto.empty() ? "TCP" : proto);
    }
  }
  return OrNone(out);
}

std::string ServiceExternalIp(const Object& svc) {
  std::string type = Str(svc, {"spec", "type"});
  std::string ips;
  auto append = [&ips](std::string_view ip) {
    if (ip.empty()) return;
    if (!ips.empty()) ips += ",";
    ips += ip;
  };
  if (type == "LoadBalancer") {
    if (const json::array* ingress = ArrayAt(svc, {"status", "loadBalancer", "ingress"})) {
      for (const auto& i : *ingress) {
        if (!i.is_object()) continue;
        append(obj::String(i.get_object(), {"ip"}));
        append(obj::String(i.get_object(), {"hostname"}));
      }
    }
    if (ips.empty()) return "<pending>";
    return ips;
  }
  if (type == "ExternalName") return Str(svc, {"spec", "externalName"});
  if (const json::array* external = ArrayAt(svc, {"spec", "externalIPs"})) {
    for (const auto& ip : *external) {
      if (ip.is_string()) append(ip.get_string());
    }
  }
  return OrNone(ips);
}

// The template's container names and images, and the selector, as kube's workload printers
// show them in the wide columns.
Cells WorkloadWideCells(const Object& o) {
  std::string names;
  std::string images;
  if (const json::array* containers = ArrayAt(o, {"spec", "template", "spec", "containers"})) {
    for (const auto& c : *containers) {
      if (!c.is_object()) continue;
      names += (names.empty() ? "" : ",") + Str(c.get_object(), {"name"});
      images += (images.empty() ? "" : ",") + Str(c.get_object(), {"image"});
    }
  }
  std::string selector = "<none>";
  if (const Object* s = obj::ObjectAt(o, {"spec", "selector"})) {
    if (auto text = FormatLabelSelector(*s); text && !text->empty()) selector = *text;
  }
  return Cells{names, images, selector};
}

constexpr Column kContainers{"Containers", "string", "", "Names of each container in the template.",
                             1};
constexpr Column kImages{"Images", "string", "",
                         "Images referenced by each container in the template.", 1};
constexpr Column kSelector{"Selector", "string", "", "Label selector for pods.", 1};

struct Printer {
  std::vector<Column> columns;
  Cells (*cells)(const Object&, system_clock::time_point);
};

Printer PrinterFor(const ResourceInfo& r) {
  if (r.group.empty() && r.resource == "pods") {
    return {{kName,
             {"Ready", "string", "",
              "The aggregate readiness state of this pod for accepting "
              "traffic.",
              0},
             {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
             {"Restarts", "string", "",
              "The number of times the containers in this pod have been restarted and when the "
              "last container in this pod has restarted.",
              0},
             kAge,
             {"IP", "string", "",
              "IP address allocated to the pod. Routable at least within the "
              "cluster.",
              1},
             {"Node", "string", "", "Name of the node this pod is scheduled on.", 1},
             {"Nominated Node", "string", "",
              "nominatedNodeName is set only when this pod preempts other pods on the node.", 1},
             {"Readiness Gates", "string", "",
              "If specified, all readiness gates will be "
              "evaluated for pod readiness.",
              1}},
            PodCells};
  }
  if (r.group.empty() && r.resource == "nodes") {
    return {
        {kName,
         {"Status", "string", "", "The status of the node", 0},
         {"Roles", "string", "", "The roles of the node", 0},
         kAge,
         {"Version", "string", "", "Kubelet Version reported by the node.", 0},
         {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
         {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
         {"OS-Image", "string", "", "OS Image reported by the node from /etc/os-release.", 1},
         {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1},
         {"Container-Runtime", "string", "", "Container Runtime Version reported by the node.", 1}},
        NodeCells};
  }
  if (r.group.empty() && r.resource == "namespaces") {
    return {{kName, {"Status", "string", "", "The status of the namespace", 0}, kAge},
            [](const Object& o, system_clock::time_point now) {
              return Cells{std::string(obj::Name(o)), Str(o, {"status", "phase"}), Age(o, now)};
            }};
  }
  if (r.group.empty() && r.resource == "configmaps") {
    return {{kName, {"Data", "integer", "", "Data contains the configuration data.", 0}, kAge},
            [](const Object& o, system_clock::time_point now) {
              return Cells{std::string(obj::Name(o)),
                           static_cast<int64_t>(CountOf(o, "data") + CountOf(o, "binaryData")),
                           Age(o, now)};
            }};
  }
  if (r.group.empty() && r.resource == "secrets") {
    return {{kName,
             {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
             {"Data", "integer", "", "Data contains the secret data.", 0},
             kAge},
            [](const Object& o, system_clock::time_point now) {
              return Cells{std::string(obj::Name(o)), Str(o, {"type"}),
                           static_cast<int64_t>(CountOf(o, "data")), Age(o, now)};
            }};
  }
  if (r.group.empty() && r.resource == "serviceaccounts") {
    return {{kName,
             {"Secrets", "string", "",
              "Secrets is a list of the secrets in the same "
              "namespace that pods running using this "
              "ServiceAccount are allowed to use.",
              0},
             kAge},
            [](const Object& o, system_clock::time_point now) {
              return Cells{std::string(obj::Name(o)), std::to_string(CountOf(o, "secrets")),
                           Age(o, now)};
            }};
  }
  if (r.group.empty() && r.resource == "services") {
    return {{kName,
             {"Type", "string", "", "type determines how the Service is exposed.", 0},
             {"Cluster-IP", "string", "", "clusterIP is the IP address of the service.", 0},
             {"External-IP", "string", "",
              "List of IP addresses for which nodes in the cluster "
              "will also accept traffic for this service.",
              0},
             {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
             kAge,
             {"Selector", "string", "",
              "Route service traffic to pods with label keys and "
              "values matching this selector.",
              1}},
            [](const Object& o, system_clock::time_point now) {
              std::string selector;
              if (const Object* sel = obj::ObjectAt(o, {"spec", "selector"})) {
                for (const auto& [k, v] : *sel) {
                  if (!selector.empty()) selector += ",";
                  selector += std::string(k) + "=" +
                              (v.is_string() ? std::string(v.get_string()) : std::string());
                }
              }
              std::string type = Str(o, {"spec", "type"});
              return Cells{std::string(obj::Name(o)),
                           type.empty() ? "ClusterIP" : type,
                           OrNone(Str(o, {"spec", "clusterIP"})),
                           ServiceExternalIp(o),
                           ServicePorts(o),
                           Age(o, now),
                           OrNone(selector)};
            }};
  }
  if (r.group == "apps" && r.resource == "deployments") {
    return {{kName,
             {"Ready", "string", "", "Number of the pod with ready state", 0},
             {"Up-to-date", "integer", "",
              "Total number of non-terminated pods targeted by this deployment that have the "
              "desired template spec.",
              0},
             {"Available", "integer", "",
              "Total number of available pods (ready for at least minReadySeconds) targeted by "
              "this deployment.",
              0},
             kAge,
             kContainers,
             kImages,
             kSelector},
            [](const Object& o, system_clock::time_point now) {
              Cells cells{std::string(obj::Name(o)),
                          std::to_string(obj::Int(o, {"status", "readyReplicas"})) + "/" +
                              std::to_string(obj::Int(o, {"spec", "replicas"})),
                          obj::Int(o, {"status", "updatedReplicas"}),
                          obj::Int(o, {"status", "availableReplicas"}), Age(o, now)};
              for (auto& cell : WorkloadWideCells(o)) cells.push_back(std::move(cell));
              return cells;
            }};
  }
  if (r.group == "apps" && r.resource == "replicasets") {
    return {{kName,
             {"Desired", "integer", "", "Number of desired pods.", 0},
             {"Current", "integer", "", "Number of actual replicas.", 0},
             {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
             kAge,
             kContainers,
             kImages,
             kSelector},
            [](const Object& o, system_clock::time_point now) {
              Cells cells{std::string(obj::Name(o)), obj::Int(o, {"spec", "replicas"}),
                          obj::Int(o, {"status", "replicas"}),
                          obj::Int(o, {"status", "readyReplicas"}), Age(o, now)};
              for (auto& cell : WorkloadWideCells(o)) cells.push_back(std::move(cell));
              return cells;
            }};
  }
  if (r.group == "coordination.k8s.io" && r.resource == "leases") {
    return {
        {kName, {"Holder", "string", "", "The holder of the lease", 0}, kAge},
        [](const Object& o, system_clock::time_point now) {
          return Cells{std::string(obj::Name(o)), Str(o, {"spec", "holderIdentity"}), Age(o, now)};
        }};
  }
  return {{kName, kAge}, [](const Object& o, system_clock::time_point now) {
            return Cells{std::string(obj::Name(o)), Age(o, now)};
          }};
}

}  // namespace

std::string HumanDuration(std::chrono::seconds d) {
  const int64_t seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m"
                  : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  const int64_t hours = seconds / 3600;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h"
                  : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d"
                  : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const int64_t days = (hours / 24) % 365;
    return days == 0 ? std::to_string(hours / 24 / 365) + "y"
                     : std::to_string(hours / 24 / 365) + "y" + std::to_string(days) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

Object ToPartialObjectMetadata(const Object& object, std::string_view group_version) {
  Object out{{"kind", "PartialObjectMetadata"}, {"apiVersion", group_version}};
  if (const Object* md = obj::ObjectAt(object, {"metadata"})) {
    out["metadata"] = *md;
  } else {
    out["metadata"] = json::object{};
  }
  return out;
}

Object ToTable(const ResourceInfo& resource, const std::vector<const Object*>& objects,
               const Object& list_metadata, const TableOptions& options) {
  const Printer printer = PrinterFor(resource);
  Object table{
      {"kind", "Table"}, {"apiVersion", options.group_version}, {"metadata", list_metadata}};
  json::array columns;
  if (!options.no_headers) {
    for (const Column& c : printer.columns) {
      columns.push_back(json::object{{"name", c.name},
                                     {"type", c.type},
                                     {"format", c.format},
                                     {"description", c.description},
                                     {"priority", c.priority}});
    }
  }
  table["columnDefinitions"] = std::move(columns);
  json::array rows;
  for (const Object* o : objects) {
    json::object row{{"cells", printer.cells(*o, options.now)}};
    if (options.include_object == "Object") {
      row["object"] = *o;
    } else if (options.include_object != "None") {
      row["object"] = ToPartialObjectMetadata(*o, options.group_version);
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = std::move(rows);
  return table;
}

}  // namespace vk::kubesim
