#include "megabyte/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/philox.h"

namespace mb {

namespace {

// The shared machinery of the cached decoders: the context, the memoised logits of the next
// position, and the slide to the last T/2 bytes when the context is full.
class CachedDecoder : public Decoder {
 public:
  explicit CachedDecoder(int64_t seq, int64_t align) : seq_(seq), align_(align) {}
  Tensor next_logits() override {
    if (!next_.defined()) {
      if (int64_t(bytes_.size()) == seq_) slide();
      NoGradGuard no_grad;
      next_ = step(int64_t(bytes_.size()));
    }
    return next_;
  }
  void push(uint8_t b) override {
    next_logits();  // position t must be in the caches before byte t joins the context
    bytes_.push_back(b);
    next_ = Tensor();
  }
  int64_t size() const override { return int64_t(bytes_.size()); }

 protected:
  // logits for position t = bytes_.size(), appending what it computes to the caches
  virtual Tensor step(int64_t t) = 0;
  virtual void reset_caches() = 0;
  std::vector<uint8_t> bytes_;

 private:
  void slide() {
    const int64_t keep = seq_ / 2 / align_ * align_;
    std::vector<uint8_t> tail(bytes_.end() - keep, bytes_.end());
    bytes_.clear();
    reset_caches();
    for (uint8_t b : tail) push(b);
  }
  int64_t seq_, align_;
  Tensor next_;
};

class MegabyteDecoder : public CachedDecoder {
 public:
  explicit MegabyteDecoder(const Megabyte& m)
      : CachedDecoder(m.config().seq, m.config().patch), m_(m), mid_(m.mids.size()), ctx_(m.mids.size() + 1) {}

 protected:
  Tensor step(int64_t t) override {
    const Config& c = m_.config();
    const int64_t P = c.patch, G = c.gdim;
    if (t % P == 0) {
      // global position k: the pad patch, or the embedded bytes of patch k-1
      const int64_t k = t / P;
      Tensor h;
      if (k == 0) {
        h = reshape(m_.global_pad, {1, 1, G});
      } else {
        // patch k-1's bytes, with the conv encoder's receptive field in front when it is on
        const int64_t from = std::max<int64_t>(0, (k - 1) * P - (c.conv ? Megabyte::kConvField : 0)), len = t - from;
        h = reshape(narrow(m_.byte_inputs(ids(t - len, len), from), 1, len - P, P), {1, 1, G});
      }
      ctx_[0] = reshape(m_.global.forward_cached(h, global_, c.patches()), {1, P, c.dg()});  // bytes t .. t+P-1
    }
    // mid level i: at each of its units, one position over the units inside the unit above
    int64_t span = P;
    for (size_t i = 0; i < m_.mids.size(); ++i) {
      const MidStage& ms = c.mids[i];
      const int64_t U = ms.patch, at = t % span;  // this unit's offset inside the unit above
      if (t % U == 0) {
        if (at == 0) mid_[i].clear();
        const MidLevel& lv = *m_.mids[i];
        const Tensor prev = at == 0 ? Tensor::full({1, U}, double(Config::vocab), DType::I64) : ids(t - U, U);
        const Tensor h = reshape(lv.inputs(narrow(ctx_[i], 1, at, U), prev, at), {1, 1, ms.dim});
        ctx_[i + 1] = reshape(lv.body.forward_cached(h, mid_[i], span / U), {1, U, ms.dim / U});  // bytes t .. t+U-1
      }
      span = U;
    }
    // the local model: one position per byte, over the bytes of the smallest unit
    const int64_t p = t % span;
    if (p == 0) {
      slices_ = m_.global_to_local.forward(ctx_.back());  // (1, span, D_L)
      if (c.cross_patch > 0) m_.local.start_group(local_, 1, c.cross_patch + span, slices_.dtype(), slices_.device());
      else local_.clear();
    }
    const Tensor prev = p == 0 ? Tensor::full({1, 1}, double(Config::vocab), DType::I64) : ids(t - 1, 1);
    const Tensor u = m_.local_inputs(narrow(slices_, 1, p, 1), prev, p);
    const Tensor v = m_.local.forward_cached(u, local_, c.cross_patch + span);  // (1, 1, D_L)
    return reshape(m_.logits(v), {Config::vocab});
  }
  void reset_caches() override {
    global_.clear();
    for (auto& m : mid_) m.clear();
    local_.clear();
  }

 private:
  Tensor ids(int64_t from, int64_t n) const {  // the context bytes [from, from + n) as (1, n)
    return Tensor::from_vector(std::vector<int64_t>(bytes_.begin() + from, bytes_.begin() + from + n), {1, n});
  }
  const Megabyte& m_;
  std::vector<nn::KVCache> global_, local_;
  std::vector<std::vector<nn::KVCache>> mid_;  // one set per mid level
  std::vector<Tensor> ctx_;  // per level, the context of the bytes of the current unit above
  Tensor slices_;            // the local model's context for the current smallest unit, (1, span, D_L)
};

class BaselineDecoder : public CachedDecoder {
 public:
  explicit BaselineDecoder(const ByteTransformer& m) : CachedDecoder(m.config().seq, 1), m_(m) {}

 protected:
  Tensor step(int64_t t) override {
    const int64_t prev = t == 0 ? Config::vocab : int64_t(bytes_.back());
    const Tensor h = m_.inputs(Tensor::full({1, 1}, double(prev), DType::I64), t);
    return reshape(m_.head.forward(m_.body.forward_cached(h, caches_, m_.config().seq)), {Config::vocab});
  }
  void reset_caches() override { caches_.clear(); }

 private:
  const ByteTransformer& m_;
  std::vector<nn::KVCache> caches_;
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
    const int64_t align = c.is_baseline() ? 1 : c.patch;
    const int64_t len = (t + 1 + align - 1) / align * align;
    std::vector<uint8_t> window(bytes_.end() - t, bytes_.end());
    window.resize(size_t(len), 0);
    const Tensor logits = m_.forward(reshape(Tensor::from_vector(window, {len}), {1, len}));
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
  throw Error("generate: no cached decoder for this model type");
}

std::unique_ptr<Decoder> recompute_decoder(const ByteModel& model) {
  return std::make_unique<RecomputeDecoder>(model);
}

void SampleOptions::validate() const {
  MB_CHECK(temperature >= 0, "--temperature must be >= 0, got ", temperature);
  MB_CHECK(top_k >= 0, "--top-k must be >= 0, got ", top_k);
  MB_CHECK(top_p > 0 && top_p <= 1, "--top-p must be in (0, 1], got ", top_p);
}

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
