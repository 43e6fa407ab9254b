#include "megabyte/evaluate.h"

#include <cmath>

namespace mb {

MB_DEFINE_OPTIONS(EvalOptions, MB_EVAL_FIELDS, "eval option")

namespace {

// One window: model input data[start, start + len), of which bytes [score, start + len) count.
struct Window {
  int64_t start, len, score;
};

// Window 0 is data[begin, begin + window) and scores all of it; window w > 0 starts at
// begin + w·stride and scores its last `stride` bytes. The windows stay on that grid up to the
// end, where the last one is cut short (and padded by the caller): so a byte's position in its
// window, and in its patch, is fixed by the grid alone.
std::vector<Window> plan_windows(int64_t begin, int64_t end, int64_t window, int64_t stride) {
  std::vector<Window> w;
  int64_t scored = begin;  // the bytes before this one are done
  for (int64_t i = 0; scored < end; ++i) {
    const int64_t start = begin + i * stride, stop = std::min(end, start + window);
    w.push_back({start, stop - start, scored});
    scored = stop;
  }
  return w;
}

// Loss, patch phase (position within its patch) and, when asked for, the entropy (bits) of
// the prediction of every byte of data[begin, end).
struct Scored {
  std::vector<double> nats;
  std::vector<int64_t> phase;
  std::vector<double> entropy;
};

Scored score(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end,
             int64_t window, int64_t stride, int64_t batch, const std::function<void(int64_t, int64_t)>& progress,
             bool entropy = false) {
  const Config& c = model.config();
  const int64_t align = c.align();
  Scored out{std::vector<double>(size_t(end - begin)), std::vector<int64_t>(size_t(end - begin)),
             std::vector<double>(entropy ? size_t(end - begin) : 0)};
  const std::vector<Window> windows = plan_windows(begin, end, window, stride);
  NoGradGuard no_grad;
  for (size_t i = 0; i < windows.size();) {
    // a batch of windows of one padded length
    const int64_t padded = (windows[i].len + align - 1) / align * align;
    size_t n = 0;
    while (i + n < windows.size() && n < size_t(batch) &&
           (windows[i + n].len + align - 1) / align * align == padded)
      ++n;
    std::vector<uint8_t> buf(n * size_t(padded), 0);
    for (size_t k = 0; k < n; ++k)
      std::copy(data.begin() + windows[i + k].start, data.begin() + windows[i + k].start + windows[i + k].len,
                buf.begin() + std::ptrdiff_t(k * size_t(padded)));
    const Tensor x = Tensor::from_vector(buf, {int64_t(n), padded});
    const Tensor logits = model.forward(x);  // (n, padded, 256)
    const std::vector<double> nats = to(cross_entropy(logits, x, Reduction::none), DType::F64).to_vector<double>();
    const std::vector<double> bits = entropy ? to(entropy_bits(logits), Device::CPU).to_vector<double>() : std::vector<double>();
    for (size_t k = 0; k < n; ++k) {
      const Window& w = windows[i + k];
      for (int64_t t = w.score; t < w.start + w.len; ++t) {
        out.nats[size_t(t - begin)] = nats[k * size_t(padded) + size_t(t - w.start)];
        out.phase[size_t(t - begin)] = (t - w.start) % align;
        if (entropy) out.entropy[size_t(t - begin)] = bits[k * size_t(padded) + size_t(t - w.start)];
      }
    }
    i += n;
    if (progress) progress(windows[i - 1].start + windows[i - 1].len - begin, end - begin);
  }
  return out;
}

}  // namespace

std::vector<double> byte_nats(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin,
                              int64_t end, const EvalOptions& opt, const std::function<void(int64_t, int64_t)>& progress) {
  const Config& c = model.config();
  const int64_t align = c.align();
  const int64_t window = opt.window ? opt.window : c.seq, stride = opt.stride ? opt.stride : window;
  MB_CHECK(window >= 1 && window <= c.seq && window % align == 0, "eval: --window ", window,
           " must be a multiple of ", align, " between ", align, " and the model's T = ", c.seq);
  MB_CHECK(stride >= align && stride <= window && stride % align == 0, "eval: --stride ", stride,
           " must be a multiple of ", align, " between ", align, " and the window ", window);
  MB_CHECK(opt.batch >= 1, "eval: --batch must be >= 1");
  MB_CHECK(end > begin && begin >= 0 && end <= int64_t(data.size()), "eval: no bytes to evaluate");
  MB_CHECK(!opt.strided || (c.is_megabyte() && c.patch >= 2), "eval: --strided needs a MEGABYTE model with P >= 2");
  if (!opt.strided) return score(model, data, begin, end, window, stride, opt.batch, progress).nats;
  // pass A on the bytes; pass B on P/2 zero bytes followed by the bytes
  const int64_t half = c.patch / 2;
  const auto half_progress = [&](int64_t base) {
    return progress ? std::function<void(int64_t, int64_t)>([&, base](int64_t d, int64_t t) { progress(base + d, 2 * t); })
                    : std::function<void(int64_t, int64_t)>();
  };
  const Scored a = score(model, data, begin, end, window, stride, opt.batch, half_progress(0));
  std::vector<uint8_t> shifted(size_t(half), 0);
  shifted.insert(shifted.end(), data.begin() + begin, data.begin() + end);
  const Scored b = score(model, shifted, 0, int64_t(shifted.size()), window, stride, opt.batch, half_progress(end - begin));
  std::vector<double> nats(size_t(end - begin));
  for (size_t t = 0; t < nats.size(); ++t) {
    const bool from_a = a.phase[t] < half || b.phase[t + size_t(half)] >= half;
    nats[t] = from_a ? a.nats[t] : b.nats[t + size_t(half)];
  }
  return nats;
}

double evaluate_bpb(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end,
                    const EvalOptions& opt, const std::function<void(int64_t, int64_t)>& progress) {
  const std::vector<double> nats = byte_nats(model, data, begin, end, opt, progress);
  double total = 0;
  for (double v : nats) total += v;
  return total / double(nats.size()) / std::log(2.0);
}

std::vector<double> next_byte_entropy(const ByteModel& model, const std::vector<uint8_t>& data, int64_t window) {
  MB_CHECK(!data.empty(), "entropy: no bytes");
  MB_CHECK(window >= 0 && window <= model.config().seq, "entropy: windows of ", window, " bytes; the model reads at most ",
           model.config().seq);
  if (window == 0) window = model.config().seq;
  return score(model, data, 0, int64_t(data.size()), window, window, 8, {}, true).entropy;
}

}  // namespace mb
