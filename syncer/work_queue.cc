#include "syncer/work_queue.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "hostclient/base/thread_name.h"

namespace vk::syncer {
namespace {

double Seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

// 10 ns .. 10 s in decades, as client-go's workqueue metrics: queue waits and reconciles span
// microseconds (cache hits) to seconds (API round trips under load).
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  double bound = 1e-8;
  for (int i = 0; i < 10; ++i, bound *= 10) buckets.push_back(bound);
  return buckets;
}

}  // namespace

struct WorkQueue::Metrics {
  prometheus::Gauge* depth;
  prometheus::Counter* adds;
  prometheus::Histogram* queue_duration;
  prometheus::Histogram* work_duration;
  prometheus::Counter* retries;
  prometheus::Gauge* unfinished_work;
  prometheus::Gauge* longest_running;

  // Null when the registry refuses the families (a same-named family of another type).
  static std::unique_ptr<Metrics> Create(prometheus::Registry& registry, const std::string& name) {
    try {
      const prometheus::Labels labels{{"name", name}};
      auto m = std::make_unique<Metrics>();
      m->depth = &prometheus::BuildGauge()
                      .Name("workqueue_depth")
                      .Help("Current depth of the work queue")
                      .Register(registry)
                      .Add(labels);
      m->adds = &prometheus::BuildCounter()
                     .Name("workqueue_adds_total")
                     .Help("Total number of adds handled by the work queue")
                     .Register(registry)
                     .Add(labels);
      m->queue_duration = &prometheus::BuildHistogram()
                               .Name("workqueue_queue_duration_seconds")
                               .Help(
                                   "How long in seconds an item stays in the work queue before "
                                   "being requested")
                               .Register(registry)
                               .Add(labels, DurationBuckets());
      m->work_duration = &prometheus::BuildHistogram()
                              .Name("workqueue_work_duration_seconds")
                              .Help(
                                  "How long in seconds processing an item from the work queue "
                                  "takes")
                              .Register(registry)
                              .Add(labels, DurationBuckets());
      m->retries = &prometheus::BuildCounter()
                        .Name("workqueue_retries_total")
                        .Help("Total number of retries handled by the work queue")
                        .Register(registry)
                        .Add(labels);
      m->unfinished_work = &prometheus::BuildGauge()
                                .Name("workqueue_unfinished_work_seconds")
                                .Help(
                                    "Seconds of work in progress that has not been observed by "
                                    "work_duration; large values suggest stuck workers")
                                .Register(registry)
                                .Add(labels);
      m->longest_running = &prometheus::BuildGauge()
                                .Name("workqueue_longest_running_processor_seconds")
                                .Help(
                                    "How many seconds the longest running processor of the work "
                                    "queue has been running")
                                .Register(registry)
                                .Add(labels);
      return m;
    } catch (const std::exception& e) {
      spdlog::error("work queue {}: metrics disabled: {}", name, e.what());
      return nullptr;
    }
  }
};

WorkQueue::WorkQueue(WorkQueueOptions options)
    : name_(std::move(options.name)),
      clock_(options.clock != nullptr ? *options.clock : Clock::Real()),
      rate_limiter_(options.rate_limiter != nullptr ? std::move(options.rate_limiter)
                                                    : DefaultControllerRateLimiter(clock_)),
      metrics_update_period_(options.metrics_update_period),
      metrics_(options.metrics != nullptr ? Metrics::Create(*options.metrics, name_) : nullptr) {
  delay_thread_ = std::thread([this] {
    SetCurrentThreadName("delay:" + name_);
    DelayLoop();
  });
}

WorkQueue::~WorkQueue() {
  ShutDown();
  if (delay_thread_.joinable()) delay_thread_.join();
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;
  added_at_.emplace(key, clock_.Now());
  if (metrics_) {
    metrics_->adds->Increment();
    metrics_->depth->Set(static_cast<double>(dirty_.size()));
  }
  // Held by a worker: Done queues it again, so that no two workers hold one key.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  get_cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mutex_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (metrics_) metrics_->retries->Increment();
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key);
    return;
  }
  const auto ready = clock_.Now() + delay;
  auto [it, inserted] = waiting_.try_emplace(key, ready);
  if (!inserted) {
    // The earliest request wins: a later AddAfter must not postpone a key already due sooner.
    if (ready >= it->second) return;
    waiting_by_time_.erase({it->second, key});
    it->second = ready;
  }
  waiting_by_time_.emplace(ready, key);
  delay_cv_.notify_one();
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, rate_limiter_->When(key)); }

void WorkQueue::Forget(const std::string& key) { rate_limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) const { return rate_limiter_->NumRequeues(key); }

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mutex_);
  get_cv_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  const auto now = clock_.Now();
  processing_[key] = now;
  dirty_.erase(key);
  auto added = added_at_.find(key);
  if (added != added_at_.end()) {
    if (metrics_) metrics_->queue_duration->Observe(Seconds(now - added->second));
    added_at_.erase(added);
  }
  if (metrics_) metrics_->depth->Set(static_cast<double>(dirty_.size()));
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = processing_.find(key);
  if (it == processing_.end()) return;
  if (metrics_) metrics_->work_duration->Observe(Seconds(clock_.Now() - it->second));
  processing_.erase(it);
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    get_cv_.notify_one();
  } else if (processing_.empty()) {
    drain_cv_.notify_all();
  }
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t WorkQueue::NumWaiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    draining_ = false;
    waiting_.clear();
    waiting_by_time_.clear();
  }
  get_cv_.notify_all();
  delay_cv_.notify_all();
  drain_cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock lock(mutex_);
  shutting_down_ = true;
  draining_ = true;
  waiting_.clear();
  waiting_by_time_.clear();
  get_cv_.notify_all();
  delay_cv_.notify_all();
  // A plain ShutDown meanwhile cancels the drain.
  drain_cv_.wait(lock, [this] { return processing_.empty() || !draining_; });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

void WorkQueue::ProcessDelayed() {
  std::lock_guard lock(mutex_);
  ProcessDelayedLocked();
}

void WorkQueue::ProcessDelayedLocked() {
  const auto now = clock_.Now();
  while (!waiting_by_time_.empty() && waiting_by_time_.begin()->first <= now) {
    auto node = waiting_by_time_.extract(waiting_by_time_.begin());
    waiting_.erase(node.value().second);
    AddLocked(node.value().second);
  }
}

void WorkQueue::UpdateUnfinishedLocked() {
  const auto now = clock_.Now();
  double total = 0;
  double longest = 0;
  for (const auto& [key, started] : processing_) {
    const double running = Seconds(now - started);
    total += running;
    longest = std::max(longest, running);
  }
  metrics_->unfinished_work->Set(total);
  metrics_->longest_running->Set(longest);
}

void WorkQueue::DelayLoop() {
  std::unique_lock lock(mutex_);
  while (!shutting_down_) {
    ProcessDelayedLocked();
    if (metrics_) UpdateUnfinishedLocked();
    // The wait is computed from the injected clock but spent on the real one: with a fake clock
    // the loop merely re-checks now and then, and ProcessDelayed moves due keys at once.
    std::optional<std::chrono::steady_clock::duration> wait;
    if (!waiting_by_time_.empty()) wait = waiting_by_time_.begin()->first - clock_.Now();
    if (metrics_) wait = wait ? std::min(*wait, metrics_update_period_) : metrics_update_period_;
    if (wait) {
      delay_cv_.wait_for(lock, *wait);
    } else {
      delay_cv_.wait(lock);
    }
  }
}

}  // namespace vk::syncer
