#include "fibers.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>

namespace pg_vip::fleet {

Fibers::~Fibers() = default;

// makecontext passes ints: the scheduler's address in two halves.
void Fibers::entry(unsigned hi, unsigned lo) {
  auto *self = reinterpret_cast<Fibers *>((static_cast<uintptr_t>(hi) << 32) | lo);
  Fiber &f = *self->fibers_[self->current_];
  f.body();
  f.done = true;
  swapcontext(&f.context, &self->main_);
  std::abort();  // a finished fiber is never resumed
}

std::size_t Fibers::spawn(Millis at, std::function<void()> body) {
  auto f = std::make_unique<Fiber>();
  f->body = std::move(body);
  f->stack.reset(new char[stack_bytes_]);
  if (getcontext(&f->context) != 0) std::abort();
  f->context.uc_stack.ss_sp = f->stack.get();
  f->context.uc_stack.ss_size = stack_bytes_;
  f->context.uc_link = nullptr;
  auto self = reinterpret_cast<uintptr_t>(this);
  makecontext(&f->context, reinterpret_cast<void (*)()>(&Fibers::entry), 2, static_cast<unsigned>(self >> 32),
              static_cast<unsigned>(self & 0xffffffffu));
  f->waiting = seq_;
  f->until = at;
  fibers_.push_back(std::move(f));
  due_.push({at, seq_++, fibers_.size() - 1});
  return fibers_.size() - 1;
}

void Fibers::yield_until(Millis at, bool interruptible) {
  if (current_ == SIZE_MAX) {
    std::fprintf(stderr, "pg_vip_fleet: yield outside a fiber\n");
    std::abort();
  }
  Fiber &f = *fibers_[current_];
  f.waiting = seq_;
  f.until = at < now_ ? now_ : at;
  f.interruptible = interruptible;
  due_.push({f.until, seq_++, current_});
  swapcontext(&f.context, &main_);
}

void Fibers::wake(std::size_t i, Millis at) {
  Fiber &f = *fibers_[i];
  if (f.done || !f.interruptible || at >= f.until || i == current_) return;
  f.waiting = seq_;
  f.until = std::max(at, now_);
  due_.push({f.until, seq_++, i});
}

void Fibers::run(Millis until) {
  while (!due_.empty() && due_.top().at <= until) {
    Due d = due_.top();
    due_.pop();
    if (fibers_[d.fiber]->done || fibers_[d.fiber]->waiting != d.seq) continue;  // woken earlier
    fibers_[d.fiber]->interruptible = false;
    now_ = d.at;
    current_ = d.fiber;
    swapcontext(&main_, &fibers_[d.fiber]->context);
    current_ = SIZE_MAX;
    if (fibers_[d.fiber]->done) fibers_[d.fiber]->stack.reset();
  }
  now_ = until;
}

}  // namespace pg_vip::fleet
