#pragma once

#include <memory>
#include <string>

#include "kubelet/component.h"
#include "kubelet/config.h"
#include "syncer/event_recorder.h"
#include "syncer/shared/event_copier.h"
#include "syncer/shared/pod_controller.h"

namespace vk::kubelet {

// The pod controller's options for a daemon Config: host namespace, DNS, the virtual API server
// as host pods reach it, host scheduling (the host node selector), the privilege policy, node
// naming and workers. virtual_ca_pem: the CA our virtual kubeconfig trusts (token Secrets' ca.crt
// when a namespace has no kube-root-ca.crt).
syncer::shared::PodControllerOptions PodControllerOptionsFromConfig(const Config& config,
                                                                    std::string virtual_ca_pem);

// The pod controller as a daemon component ("pod-controller").
class PodSyncComponent : public Component {
 public:
  explicit PodSyncComponent(std::unique_ptr<syncer::shared::PodController> controller)
      : controller_(std::move(controller)) {}

  std::string name() const override { return "pod-controller"; }
  Status Start() override {
    controller_->Start();
    return Ok();
  }
  void RequestStop() override { controller_->RequestStop(); }
  void Stop() override { controller_->Stop(); }

  syncer::shared::PodController& controller() { return *controller_; }

 private:
  std::unique_ptr<syncer::shared::PodController> controller_;
};

// Events vkubelet itself writes to the virtual cluster ("event-recorder"). Added before the
// controllers that record, so that it stops after them and flushes what they said last.
class EventRecorderComponent : public Component {
 public:
  explicit EventRecorderComponent(std::shared_ptr<syncer::EventRecorder> recorder)
      : recorder_(std::move(recorder)) {}
  std::string name() const override { return "event-recorder"; }
  Status Start() override { return Ok(); }
  void Stop() override { recorder_->Shutdown(); }

 private:
  std::shared_ptr<syncer::EventRecorder> recorder_;
};

// Copies the host twins' events to their virtual pods ("event-copier").
class EventCopierComponent : public Component {
 public:
  explicit EventCopierComponent(std::unique_ptr<syncer::shared::EventCopier> copier)
      : copier_(std::move(copier)) {}
  std::string name() const override { return "event-copier"; }
  Status Start() override { return copier_->Start(); }
  void RequestStop() override { copier_->RequestStop(); }
  void Stop() override { copier_->Stop(); }

 private:
  std::unique_ptr<syncer::shared::EventCopier> copier_;
};

}  // namespace vk::kubelet
