#include "sambay/cache/state_cache.h"

#include <algorithm>
#include <atomic>

#include "sambay/base/error.h"

namespace sambay {

StateLayout samba_state_layout(const SambaConfig& c, const LayerTable& t) {
  StateLayout l;
  l.mamba_layers = t.num_mamba_states;
  l.d_inner = c.d_inner;
  l.d_conv = c.mamba_d_conv;
  l.d_state = c.mamba_d_state;
  l.ring_layers = t.num_swa_rings;
  l.window = c.sliding_window;
  l.paged_layers = 1;
  l.kv_row = c.num_key_value_heads * c.head_dim();
  l.head_dim = c.head_dim();
  return l;
}

StateSizes StateCache::sizes(const StateLayout& l, DType kv_dtype) {
  StateSizes s;
  s.mamba_per_seq = static_cast<size_t>(l.mamba_layers) * l.d_inner * (l.d_conv - 1 + l.d_state) * 4;
  const size_t kv_row = static_cast<size_t>(l.kv_row) * dtype_size(kv_dtype);
  s.rings_per_seq = static_cast<size_t>(l.ring_layers) * 2 * l.window * kv_row;
  s.kv_per_token = static_cast<size_t>(l.paged_layers) * 2 * kv_row;
  return s;
}

namespace {
std::atomic<uint64_t> next_cache_id{1};
}  // namespace

StateCache::StateCache(const StateLayout& l, Ops& ops, StateCacheOptions o)
    : ops_(ops), id_(next_cache_id++), options_(o), d_conv_(l.d_conv), d_state_(l.d_state), window_(l.window) {
  SAMBAY_CHECK(o.max_seqs > 0 && o.max_seq_len > 0 && o.page_size > 0, "state cache: invalid options");
  pages_per_seq_ = (o.max_seq_len + o.page_size - 1) / o.page_size;
  if (options_.num_pages <= 0) options_.num_pages = pages_per_seq_ * o.max_seqs;
  SAMBAY_CHECK(options_.num_pages < (int64_t{1} << 31), "state cache: too many pages");

  const DType kv = ops.activation_dtype();
  const int64_t S = o.max_seqs, E = l.d_inner;
  head_dim_ = l.head_dim;
  kv_group_heads_ = l.kv_group_heads;
  for (int i = 0; i < l.mamba_layers; ++i) {
    conv_.push_back(ops.empty(S, E * (d_conv_ - 1), DType::F32));
    ssm_.push_back(ops.empty(S, E * d_state_, DType::F32));
  }
  for (int i = 0; i < l.ring_layers; ++i) {
    ring_k_.push_back(ops.empty(S, window_ * l.kv_row, kv));
    ring_v_.push_back(ops.empty(S, window_ * l.kv_row, kv));
  }
  for (int i = 0; i < l.paged_layers; ++i) {
    pages_k_.push_back(ops.empty(options_.num_pages, o.page_size * l.kv_row, kv));
    pages_v_.push_back(ops.empty(options_.num_pages, o.page_size * l.kv_row, kv));
  }
  page_table_.assign(static_cast<size_t>(S * pages_per_seq_), -1);
  if (ops.device() == Device::Cpu) {
    page_table_device_.view = Tensor(page_table_.data(), DType::I32, S, pages_per_seq_);
  } else {
    page_table_device_ = ops.empty(S, pages_per_seq_, DType::I32);
  }
  lengths_.assign(S, 0);
  rope_sets_.assign(S, 0);
  in_use_.assign(S, false);
  for (int s = o.max_seqs - 1; s >= 0; --s) free_slots_.push_back(s);
  for (int64_t p = options_.num_pages - 1; p >= 0; --p) free_pages_.push_back(static_cast<int32_t>(p));
}

void StateCache::check_slot(int slot) const {
  SAMBAY_CHECK(slot >= 0 && slot < options_.max_seqs && in_use_[slot], "state cache: slot {} is not in use", slot);
}

int StateCache::acquire() {
  SAMBAY_CHECK(!free_slots_.empty(), "state cache: all {} sequence slots are in use", options_.max_seqs);
  const int slot = free_slots_.back();
  free_slots_.pop_back();
  in_use_[slot] = true;
  empty_slot(slot);
  zero_recurrent_state(slot);
  return slot;
}

void StateCache::release(int slot) {
  check_slot(slot);
  empty_slot(slot);
  in_use_[slot] = false;
  free_slots_.push_back(slot);
}

void StateCache::clear(int slot) {
  check_slot(slot);
  empty_slot(slot);
  zero_recurrent_state(slot);
}

void StateCache::set_rope_set(int slot, int32_t set) {
  check_slot(slot);
  rope_sets_[slot] = set;
}

void StateCache::empty_slot(int slot) {
  int32_t* table = &page_table_[slot * pages_per_seq_];
  for (int64_t i = 0; i < pages_per_seq_ && table[i] >= 0; ++i) {
    free_pages_.push_back(table[i]);
    table[i] = -1;
    page_table_dirty_ = true;
  }
  lengths_[slot] = 0;
  rope_sets_[slot] = 0;
}

void StateCache::zero_recurrent_state(int slot) {
  for (auto& t : conv_) ops_.zero(t.view.rows_slice(slot, 1));
  for (auto& t : ssm_) ops_.zero(t.view.rows_slice(slot, 1));
}

bool StateCache::reserve(int slot, int64_t n) {
  check_slot(slot);
  const int64_t need_len = lengths_[slot] + n;
  if (need_len > options_.max_seq_len)
    fail("state cache: sequence would reach {} positions, more than the context limit of {}", need_len,
         options_.max_seq_len);
  int32_t* table = &page_table_[slot * pages_per_seq_];
  const int64_t have = (lengths_[slot] + options_.page_size - 1) / options_.page_size;
  int64_t allocated = have;
  while (allocated < pages_per_seq_ && table[allocated] >= 0) ++allocated;  // reserved earlier, not yet used
  const int64_t need = (need_len + options_.page_size - 1) / options_.page_size;
  if (need - allocated > static_cast<int64_t>(free_pages_.size())) return false;
  for (int64_t i = allocated; i < need; ++i) {
    table[i] = free_pages_.back();
    free_pages_.pop_back();
    page_table_dirty_ = true;
  }
  return true;
}

void StateCache::sync_page_table() {
  if (!page_table_dirty_ || ops_.device() == Device::Cpu) return;
  ops_.from_host(page_table_device_.view, page_table_.data());
  page_table_dirty_ = false;
}

void StateCache::commit(int slot, int64_t n) {
  check_slot(slot);
  lengths_[slot] += n;
}

MambaStateRef StateCache::mamba(int i) const { return {conv_.at(i).view, ssm_.at(i).view, d_conv_, d_state_}; }

KvRingRef StateCache::ring(int i) const { return {ring_k_.at(i).view, ring_v_.at(i).view, window_}; }

KvPagesRef StateCache::pages(int layer) const {
  return {pages_k_.at(layer).view, pages_v_.at(layer).view, options_.page_size, page_table_.data(),
          page_table_device_.view, pages_per_seq_, head_dim_, kv_group_heads_};
}

}  // namespace sambay
