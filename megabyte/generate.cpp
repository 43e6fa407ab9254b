#include "megabyte/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

#include "megabyte/spacebyte.h"
#include "megabyte/step_threads.h"
#include "nn/step.h"
#include "tensor/parallel.h"
#include "tensor/philox.h"

namespace mb {

namespace {

// The shared machinery of the cached decoders: the context, the positions already in the
// caches, the memoised logits of the next position, and the slide to the last T/2 bytes when
// the context is full. Pushing is free: the positions pushed since the last question join the
// caches in one pass per stack when the next logits are asked for (a prompt of thousands of
// bytes is a few GEMMs, not thousands of one-row steps).
class CachedDecoder : public Decoder {
 public:
  CachedDecoder(const ByteModel& m, int64_t align)
      : seq_(m.config().seq), align_(align), device_(m.device()) {}
  Tensor next_logits() override {
    if (!next_.defined()) {
      if (size() == seq_) slide();
      NoGradGuard no_grad;
      const bool one = done_ == size();  // one position: small ops, see StepThreads
      StepThreads& threads = threads_[step_kind(size())];
      std::optional<SerialScope> serial;
      if (one && threads.serial()) serial.emplace();
      const auto t0 = std::chrono::steady_clock::now();
      next_ = advance(done_, size());
      if (one) threads.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      done_ = size() + 1;
    }
    return next_;
  }
  void push(uint8_t b) override {
    if (size() == seq_) slide();
    bytes_.push_back(b);
    next_ = Tensor();
  }
  int64_t size() const override { return int64_t(bytes_.size()); }

 protected:
  // Positions a .. t (t = size()) into the caches, in as few passes as the model allows; the
  // logits of position t.
  virtual Tensor advance(int64_t a, int64_t t) = 0;
  virtual void reset_caches() = 0;
  // Steps of different kinds choose their threads apart (StepThreads): MEGABYTE's step at a
  // patch's first byte also runs the global model, 1 to 2 orders of magnitude more work.
  virtual int step_kind(int64_t /*t*/) const { return 0; }
  // the context bytes [from, from + n) as (1, n) ids, on the model's device
  Tensor ids(int64_t from, int64_t n) const {
    return to(Tensor::from_vector(std::vector<int64_t>(bytes_.begin() + from, bytes_.begin() + from + n), {1, n}), device_);
  }
  // for positions from … from + n − 1: the byte `back` positions earlier, or the pad id 256 where
  // that falls before `start` (the start of the unit the position is in) -> (1, n) ids
  Tensor earlier(int64_t from, int64_t n, int64_t back, int64_t start) const {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) v[size_t(j)] = from + j - back >= start ? bytes_[size_t(from + j - back)] : Config::vocab;
    return to(Tensor::from_vector(v, {1, n}), device_);
  }
  std::vector<uint8_t> bytes_;

 private:
  void slide() {
    const int64_t keep = seq_ / 2 / align_ * align_;
    bytes_.erase(bytes_.begin(), bytes_.end() - keep);
    reset_caches();
    done_ = 0;
    next_ = Tensor();
  }
  int64_t seq_, align_, done_ = 0;  // done_: positions 0 .. done_ − 1 are in the caches
  Device device_;
  Tensor next_;
  StepThreads threads_[2];  // by step_kind
};

// A new unit's caches start empty; their memory is kept, so its first position takes the lean
// one-position step (nn/step.h) like the rest.
void rewind(std::vector<nn::KVCache>& caches) {
  for (nn::KVCache& c : caches) c.len = 0;
}

// The levels from the top: the global model (one position per patch, over the whole context),
// the mid levels (one position per unit, over the units of the unit above) and the local model
// (one position per byte, over the bytes of the smallest unit). A level runs its new positions
// in one pass, then each unit below that has new positions is run the same way; only the unit
// holding position t matters below the global model, unless the local model attends across
// units (cross-patch attention), whose caches then carry every unit's last keys forward.
class MegabyteDecoder : public CachedDecoder {
 public:
  explicit MegabyteDecoder(const Megabyte& m)
      : CachedDecoder(m, m.config().patch), m_(m), mid_(m.mids.size()), ctx_(m.mids.size() + 1) {}

 protected:
  Tensor advance(int64_t a, int64_t t) override {
    const Config& c = m_.config();
    const int64_t P = c.patch, k0 = (a + P - 1) / P, k1 = t / P;  // new global positions k0 .. k1
    Tensor out;  // (1, k1 − k0 + 1, G)
    if (k0 <= k1) {  // the bytes the new positions read: from the window's start to patch k1 − 1's end
      const int64_t from = m_.global_window(k0);
      out = m_.global_step(ids(from, k1 * P - from), from, k0, k1, global_);
    }
    Tensor logits;
    for (int64_t k = a / P; k <= k1; ++k) {
      if (k < k1 && c.cross_patch == 0) continue;
      if (k >= k0) ctx_[0] = reshape(narrow(out, 1, k - k0, 1), {1, P, c.dg()});  // bytes kP .. kP + P − 1
      logits = below(0, P, k * P, std::max(a, k * P), std::min(t, k * P + P - 1));
    }
    return logits;
  }
  int step_kind(int64_t t) const override { return t % m_.config().patch == 0; }
  void reset_caches() override {
    global_.clear();
    for (auto& m : mid_) m.clear();
    local_.clear();
  }

 private:
  // Positions lo .. hi of the unit [s, s + span) whose context from level i − 1 is ctx_[i]
  // (i = 0: the global model's), through the levels below; the logits of position hi.
  Tensor below(size_t i, int64_t span, int64_t s, int64_t lo, int64_t hi) {
    if (i == m_.mids.size()) return local(span, s, lo, hi);
    const MidStage& ms = m_.config().mids[i];
    const MidLevel& lv = *m_.mids[i];
    const int64_t U = ms.patch, q0 = (lo + U - 1) / U * U, n = hi / U * U >= q0 ? (hi / U * U - q0) / U + 1 : 0;
    if (lo == s) rewind(mid_[i]);
    Tensor out;  // (1, n, dim): units q0, q0 + U, …
    if (n > 0) out = lv.step(narrow(ctx_[i], 1, q0 - s, n * U), earlier(q0, n * U, U, s), q0 - s, mid_[i], span / U);
    Tensor logits;
    for (int64_t q = lo / U * U; q <= hi; q += U) {
      if (q + U <= hi && m_.config().cross_patch == 0) continue;
      if (q >= q0) ctx_[i + 1] = reshape(narrow(out, 1, (q - q0) / U, 1), {1, U, ms.dim / U});
      logits = below(i + 1, U, q, std::max(lo, q), std::min(hi, q + U - 1));
    }
    return logits;
  }

  // the local model over positions lo .. hi of the smallest unit [s, s + span)
  Tensor local(int64_t span, int64_t s, int64_t lo, int64_t hi) {
    const Config& c = m_.config();
    if (lo == s) {
      slices_ = m_.global_to_local.forward(ctx_.back());  // (1, span, D_L)
      if (c.cross_patch > 0) m_.local.start_group(local_, 1, c.cross_patch + span, slices_.dtype(), slices_.device());
      else rewind(local_);
    }
    return m_.local_step(slices_, earlier(lo, hi - lo + 1, 1, s), lo - s, local_, c.cross_patch + span);
  }

  const Megabyte& m_;
  std::vector<nn::KVCache> global_, local_;
  std::vector<std::vector<nn::KVCache>> mid_;  // one set per mid level
  std::vector<Tensor> ctx_;  // per level, the context of the bytes of the current unit above
  Tensor slices_;            // the local model's context for the current smallest unit, (1, span, D_L)
};

class BaselineDecoder : public CachedDecoder {
 public:
  explicit BaselineDecoder(const ByteTransformer& m) : CachedDecoder(m, 1), m_(m) {}

 protected:
  Tensor advance(int64_t a, int64_t t) override {
    const int64_t n = t - a + 1;
    return m_.step(earlier(a, n, 1, 0), a, caches_);
  }
  void reset_caches() override { caches_.clear(); }

 private:
  const ByteTransformer& m_;
  std::vector<nn::KVCache> caches_;
};

// SpaceByte: every position runs the local blocks once over their caches; a position that
// starts a patch also runs the global blocks once over theirs (one position per start). The
// starts are learnt one position at a time (PatchCutter), so a byte costs the same at any
// context length; with entropy patches, the entropy model's own cached decoder runs in step,
// one position behind the bytes it is asked about.
class SpaceByteDecoder : public CachedDecoder {
 public:
  explicit SpaceByteDecoder(const SpaceByte& m) : CachedDecoder(m, 1), m_(m), cutter_(m.config().patch) {}

 protected:
  Tensor advance(int64_t a, int64_t t) override {
    const Config& c = m_.config();
    const int64_t n = t - a + 1, D = c.ldim;
    Tensor h = add(embedding(m_.byte_embed, earlier(a, n, 1, 0)), narrow(m_.pos_embed, 0, a, n));  // (1, n, D_L)
    h = SpaceByte::blocks_cached(m_.local_in, h, in_, c.seq);
    std::vector<int64_t> at;  // the starts among a … t, less a
    for (int64_t s = a; s <= t; ++s)
      if (cutter_.start_at(s, s > 0 && m_.cut(bytes_.data(), entropy_at(s), s))) at.push_back(s - a);
    if (!at.empty()) {
      const int64_t k = int64_t(at.size());
      const Tensor idx = to(Tensor::from_vector(at, {k}), h.device());
      Tensor g = m_.widen(reshape(embedding(reshape(h, {n, D}), idx), {1, k, D}));
      g = SpaceByte::blocks_cached(m_.global, g, global_, c.seq);
      h = add(h, reshape(scatter_add_rows(reshape(m_.narrow_to_local(g), {k, D}), idx, n), {1, n, D}));
    }
    h = SpaceByte::blocks_cached(m_.local_out, h, out_, c.seq);
    return reshape(m_.logits(narrow(h, 1, n - 1, 1)), {Config::vocab});
  }
  void reset_caches() override {
    in_.clear();
    global_.clear();
    out_.clear();
    cutter_ = PatchCutter(m_.config().patch);
    entropy_.reset();
    H_.clear();
  }

 private:
  // entropy patches: H[0 … s] (the entropy model's bits for positions up to s, from bytes < s),
  // extended as the positions come; nullptr for the other patchers
  const double* entropy_at(int64_t s) {
    if (m_.config().patcher != PatchRule::entropy) return nullptr;
    if (!entropy_) entropy_ = cached_decoder(m_.entropy_model(m_.device()));
    while (int64_t(H_.size()) <= s) {
      while (entropy_->size() < int64_t(H_.size())) entropy_->push(bytes_[size_t(entropy_->size())]);
      H_.push_back(to(entropy_bits(entropy_->next_logits()), Device::CPU).item());
    }
    return H_.data();
  }

  const SpaceByte& m_;
  std::vector<nn::KVCache> in_, global_, out_;
  PatchCutter cutter_;
  std::unique_ptr<Decoder> entropy_;
  std::vector<double> H_;
};

class RecomputeDecoder : public Decoder {
 public:
  explicit RecomputeDecoder(const ByteModel& m) : m_(m) {}
  Tensor next_logits() override {
    NoGradGuard no_grad;
    const Config& c = m_.config();
    // the last < T bytes as context, padded with zeros to whole patches (causality makes the
    // padding invisible to position t)
    const int64_t t = std::min<int64_t>(int64_t(bytes_.size()), c.seq - 1);
    const int64_t align = c.align();
    const int64_t len = (t + 1 + align - 1) / align * align;
    std::vector<uint8_t> window(bytes_.end() - t, bytes_.end());
    window.resize(size_t(len), 0);
    const Tensor x = to(reshape(Tensor::from_vector(window, {len}), {1, len}), m_.device());
    const Tensor logits = m_.forward(x);
    return reshape(narrow(logits, 1, t, 1), {Config::vocab});
  }
  void push(uint8_t b) override { bytes_.push_back(b); }
  int64_t size() const override { return int64_t(bytes_.size()); }

 private:
  const ByteModel& m_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

std::unique_ptr<Decoder> cached_decoder(const ByteModel& model) {
  if (auto* m = dynamic_cast<const Megabyte*>(&model)) return std::make_unique<MegabyteDecoder>(*m);
  if (auto* b = dynamic_cast<const ByteTransformer*>(&model)) return std::make_unique<BaselineDecoder>(*b);
  if (auto* s = dynamic_cast<const SpaceByte*>(&model)) return std::make_unique<SpaceByteDecoder>(*s);
  throw Error("generate: no cached decoder for this model type");
}

std::unique_ptr<Decoder> recompute_decoder(const ByteModel& model) {
  return std::make_unique<RecomputeDecoder>(model);
}

double decode_bytes_per_byte(const ByteModel& model, int64_t context) {
  const Config& c = model.config();
  auto bytes = [](const Tensor& x) { return double(x.numel() * int64_t(dtype_size(x.dtype()))); };
  if (auto* b = dynamic_cast<const ByteTransformer*>(&model))
    return double(nn::one_position_bytes(b->body, context)) + bytes(b->head.weight) + bytes(b->head.bias);
  if (auto* s = dynamic_cast<const SpaceByte*>(&model)) {  // the local blocks every byte, the global every P
    double total = 0;
    for (const auto& blk : s->local_in) total += double(nn::block_bytes(*blk, context));
    for (const auto& blk : s->local_out) total += double(nn::block_bytes(*blk, context));
    for (const auto& blk : s->global) total += double(nn::block_bytes(*blk, context / c.patch)) / double(c.patch);
    if (c.patcher == PatchRule::entropy) total += decode_bytes_per_byte(s->entropy_model(s->device()), context);  // in step
    return total + (s->head ? bytes(s->head->weight) + bytes(s->head->bias) : bytes(s->byte_embed) * 256 / 257);
  }
  const auto& m = dynamic_cast<const Megabyte&>(model);
  // each level's step once per unit, over the positions of its unit above (half of them, on
  // average): the global model over the whole context
  double total = double(nn::one_position_bytes(m.global, context / c.patch)) / double(c.patch);
  int64_t above = c.patch;
  for (size_t i = 0; i < m.mids.size(); ++i) {
    const int64_t unit = c.mids[i].patch;
    total += double(nn::one_position_bytes(m.mids[i]->body, above / unit / 2)) / double(unit);
    above = unit;
  }
  const double head = m.head ? bytes(m.head->weight) + bytes(m.head->bias) : bytes(m.local_byte_embed) * 256 / 257;
  return total + double(nn::one_position_bytes(m.local, above / 2)) + head;
}

MB_DEFINE_OPTIONS(SampleOptions, MB_SAMPLE_FIELDS, "sampling option")

int sample_byte(const Tensor& logits, const SampleOptions& opt, uint64_t draw) {
  const std::vector<double> l = to(logits, DType::F64).to_vector<double>();
  const int n = int(l.size());
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return l[size_t(a)] > l[size_t(b)]; });
  if (opt.temperature == 0) return order[0];
  // probabilities in decreasing order; truncate by top-k, then top-p, renormalise
  std::vector<double> p(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) p[size_t(i)] = std::exp((l[size_t(order[size_t(i)])] - l[size_t(order[0])]) / opt.temperature);
  int keep = opt.top_k > 0 ? int(std::min<int64_t>(opt.top_k, n)) : n;
  const double total = std::accumulate(p.begin(), p.begin() + keep, 0.0);
  double acc = 0;
  for (int i = 0; i < keep; ++i) {
    acc += p[size_t(i)] / total;
    if (acc >= opt.top_p) {
      keep = i + 1;
      break;
    }
  }
  const double mass = std::accumulate(p.begin(), p.begin() + keep, 0.0);
  double u = philox_uniform(opt.seed, draw) * mass;
  for (int i = 0; i < keep; ++i) {
    u -= p[size_t(i)];
    if (u <= 0) return order[size_t(i)];
  }
  return order[size_t(keep - 1)];
}

std::string generate(Decoder& dec, const std::string& prompt, int64_t n, const SampleOptions& opt,
                     const std::function<void(uint8_t)>& on_byte) {
  opt.validate();
  for (char ch : prompt) dec.push(uint8_t(ch));
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t b = uint8_t(sample_byte(dec.next_logits(), opt, uint64_t(i)));
    dec.push(b);
    out.push_back(char(b));
    if (on_byte) on_byte(b);
  }
  return out;
}

}  // namespace mb
