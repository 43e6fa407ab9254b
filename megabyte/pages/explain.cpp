#include "megabyte/pages/explain.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "megabyte/checkpoint.h"
#include "megabyte/evaluate.h"
#include "megabyte/generate.h"
#include "megabyte/spacebyte.h"
#include "megabyte/codecs/media.h"
#include "megabyte/trainer.h"
#include "nn/layers.h"
#include "nn/safetensors.h"

namespace mb {

using json = nlohmann::json;

namespace {

// v to `digits` decimals (divided by a power of ten, so that JSON prints it short)
double round_to(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

std::vector<double> bits_of(const std::vector<double>& nats) {
  std::vector<double> b(nats.size());
  for (size_t i = 0; i < nats.size(); ++i) b[i] = round_to(nats[i] / std::log(2.0), 4);
  return b;
}

double mean_bits(const std::vector<double>& nats) {
  return std::accumulate(nats.begin(), nats.end(), 0.0) / double(nats.size()) / std::log(2.0);
}

// Each byte's position in its patch, as the model saw it in the plain pass's windows (T bytes
// each from begin): (t − begin) mod P for MEGABYTE (the windows start on multiples of P), the
// bytes since the last patch start for SpaceByte, 0 for the baseline.
std::vector<int64_t> patch_positions(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin,
                                     int64_t end) {
  const Config& c = model.config();
  std::vector<int64_t> pos;
  for (int64_t start = begin; start < end; start += c.seq) {
    const int64_t len = std::min(c.seq, end - start);
    if (const auto* sb = dynamic_cast<const SpaceByte*>(&model)) {
      const std::vector<int64_t> s = sb->starts(std::vector<uint8_t>(data.begin() + start, data.begin() + start + len));
      for (int64_t t = 0, k = 0; t < len; ++t) {
        while (k + 1 < int64_t(s.size()) && s[size_t(k + 1)] <= t) ++k;
        pos.push_back(t - s[size_t(k)]);
      }
    } else {
      for (int64_t t = 0; t < len; ++t) pos.push_back(t % c.align());
    }
  }
  return pos;
}

// mean bits at each position p < P of the patch
std::vector<double> by_position(const std::vector<double>& nats, const std::vector<int64_t>& pos, int64_t P) {
  std::vector<double> sum(size_t(P), 0.0), n(size_t(P), 0.0);
  for (size_t t = 0; t < nats.size(); ++t) sum[size_t(pos[t])] += nats[t], n[size_t(pos[t])] += 1;
  for (size_t p = 0; p < sum.size(); ++p) sum[p] = n[p] > 0 ? round_to(sum[p] / n[p] / std::log(2.0), 4) : 0.0;
  return sum;
}

// x (1, L) of data[start, start + len), zero-padded to a multiple of `align`
Tensor window(const std::vector<uint8_t>& data, int64_t start, int64_t len, int64_t align) {
  const int64_t padded = (len + align - 1) / align * align;
  std::vector<uint8_t> buf(size_t(padded), 0);
  std::copy(data.begin() + start, data.begin() + start + len, buf.begin());
  return Tensor::from_vector(buf, {1, padded});
}

// per byte of the span, the `top` most likely bytes and their probabilities, flattened
// [b0, p0, b1, p1, ...]: from the same non-overlapping windows as the plain pass
json top_predictions(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end, int64_t top) {
  const Config& c = model.config();
  const int64_t align = c.align();
  json out = json::array();
  NoGradGuard no_grad;
  for (int64_t start = begin; start < end; start += c.seq) {
    const int64_t len = std::min(c.seq, end - start);
    const std::vector<float> p = to(softmax(model.forward(window(data, start, len, align)), -1), DType::F32).to_vector<float>();
    std::vector<int> order(256);
    for (int64_t t = 0; t < len; ++t) {
      const float* row = p.data() + t * 256;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int a, int b) { return row[a] > row[b]; });
      json e = json::array();
      for (int64_t k = 0; k < top; ++k) e.push_back(order[size_t(k)]), e.push_back(round_to(row[order[size_t(k)]], 4));
      out.push_back(std::move(e));
    }
  }
  return out;
}

// probs (B, h, n, n) -> [head][b < count][n·n] rounded, for b < count
json heads_of(const Tensor& probs, int64_t count) {
  const int64_t B = probs.size(0), H = probs.size(1), n = probs.size(2);
  count = std::min(count, B);
  const std::vector<float> v = to(probs, DType::F32).to_vector<float>();
  json heads = json::array();
  for (int64_t h = 0; h < H; ++h) {
    json seqs = json::array();
    for (int64_t b = 0; b < count; ++b) {
      std::vector<double> m(size_t(n * n));
      for (int64_t i = 0; i < n * n; ++i) m[size_t(i)] = round_to(v[size_t((b * H + h) * n * n + i)], 3);
      seqs.push_back(m);
    }
    heads.push_back(seqs);
  }
  return heads;
}

// The attention of the span's first window: the global model's (patch to patch, at most
// kMaxAttention patches) and the local model's (byte to byte inside each of the first
// kMaxAttention patches); for the baseline, its one stack over the first bytes.
json attention(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end) {
  const Config& c = model.config();
  const int64_t align = c.align(), len = std::min(c.seq, end - begin);
  nn::AttentionRecorder rec;
  {
    NoGradGuard no_grad;
    (void)model.forward(window(data, begin, len, align));
  }
  json out;
  auto layers = [&](size_t first, int64_t count, int64_t keep_seqs, int64_t keep_n) {
    json ls = json::array();
    for (size_t i = first; i < first + size_t(count) && i < rec.probs.size(); ++i) {
      Tensor p = rec.probs[i];
      const int64_t n = std::min(keep_n, p.size(2));
      p = narrow(narrow(p, 2, 0, n), 3, 0, n);
      ls.push_back(heads_of(contiguous(p), keep_seqs));
    }
    return ls;
  };
  const int64_t cap = ExplainOptions::kMaxAttention;
  if (const auto* sb = dynamic_cast<const SpaceByte*>(&model)) {  // recorded in order: local_in, global, local_out
    out["global"] = layers(sb->local_in.size(), c.glayers, 1, cap);
    out["global_unit"] = "patch start";
    return out;
  }
  out["global"] = layers(0, c.glayers, 1, cap);
  out["global_unit"] = c.is_baseline() ? "byte" : "patch";
  if (c.is_baseline()) return out;
  size_t at = size_t(c.glayers);
  for (const MidStage& m : c.mids) at += size_t(m.layers);
  if (c.cross_patch == 0) out["local"] = layers(at, c.llayers, cap, c.local_span());
  return out;
}

std::string escape_for_script(std::string s) {  // "</" would end the <script> element
  for (size_t i = 0; (i = s.find("</", i)) != std::string::npos; i += 3) s.replace(i, 2, "<\\/");
  return s;
}

}  // namespace

std::string explain_data(const ByteModel& model, const std::vector<uint8_t>& data, const ExplainOptions& opt,
                         const std::string& title) {
  const Config& c = model.config();
  const int64_t size = int64_t(data.size());
  opt.validate();
  MB_CHECK(opt.offset < size, "explain: --offset ", opt.offset, " is outside the data (", size, " bytes)");
  const int64_t begin = opt.offset,
                end = begin + std::min(size - begin, opt.bytes > 0 ? opt.bytes : ExplainOptions::kMaxBytes);
  json j;
  j["title"] = title;
  j["model"] = c.summary();
  const int64_t P = c.is_spacebyte() ? c.patch : c.align();  // the longest patch
  j["patch"] = P;
  j["seq"] = c.seq;
  j["offset"] = begin;
  j["bytes"] = std::vector<int>(data.begin() + begin, data.begin() + end);
  const std::vector<double> plain = byte_nats(model, data, begin, end, EvalOptions{});
  j["bits"] = bits_of(plain);
  j["bpb"] = mean_bits(plain);
  const std::vector<int64_t> pos = patch_positions(model, data, begin, end);
  if (c.is_spacebyte()) j["pos"] = pos;  // variable patches: the page marks and counts these
  j["by_position"] = by_position(plain, pos, P);
  if (c.is_megabyte() && c.patch >= 2) {
    EvalOptions so;
    so.strided = true;
    const std::vector<double> strided = byte_nats(model, data, begin, end, so);
    j["bits_strided"] = bits_of(strided);
    j["bpb_strided"] = mean_bits(strided);
    std::vector<int64_t> shifted(pos.size());  // the strided pass's positions: each byte's in its own pass
    for (size_t t = 0; t < pos.size(); ++t) shifted[t] = int64_t(t) % P;
    j["by_position_strided"] = by_position(strided, shifted, P);
  }
  j["top"] = top_predictions(model, data, begin, end, opt.top);
  j["attention"] = attention(model, data, begin, end);
  if (!opt.image.empty()) {
    const ImageShape s = image_shape_from_string(opt.image);
    j["image"] = {{"width", s.width}, {"height", s.height}, {"channels", s.channels}};
  }
  j["audio"] = opt.audio;
  return j.dump(-1, ' ', true, json::error_handler_t::replace);
}

std::string report_data(const std::vector<std::string>& runs, int64_t samples) {
  json out = json::array();
  for (const std::string& run : runs) {
    json r;
    r["run"] = run;
    std::ifstream in(run + "/log.csv");
    MB_CHECK(in.good(), "report: ", run, "/log.csv cannot be read (is ", run, " a run folder of megabyte train?)");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> cols;
    for (std::stringstream ss(line); std::getline(ss, line, ',');) cols.push_back(line);
    json table = json::object();
    for (const std::string& name : cols) table[name] = json::array();
    while (std::getline(in, line)) {
      std::stringstream ss(line);
      std::string cell;
      for (const std::string& name : cols) {
        std::getline(ss, cell, ',');
        char* stop = nullptr;
        const double v = std::strtod(cell.c_str(), &stop);
        table[name].push_back(cell.empty() || *stop ? json() : json(v));  // empty cells (no validation) are null
      }
    }
    r["log"] = table;
    json ckpts = json::array();
    const std::vector<std::string> all = checkpoints(run);
    for (const std::string& path : all) {
      const Checkpoint ck = load_checkpoint(path);
      json e = {{"path", path}, {"step", ck.train.count("step") ? ck.train.at("step") : ""}};
      if (samples > 0) {
        auto model = make_model(ck.config);
        model->load_state_dict(ck.model);
        model->train(false);
        SampleOptions so;
        so.top_p = 1;  // the whole distribution at temperature 0.8, as reports have always drawn
        auto dec = cached_decoder(*model);
        e["sample"] = generate(*dec, "", samples, so);
      }
      ckpts.push_back(e);
      if (&path == &all.back()) {
        r["config"] = ck.config.summary();
        r["seq"] = ck.config.seq;
        r["options"] = ck.train;
      }
    }
    r["checkpoints"] = ckpts;
    out.push_back(r);
  }
  return out.dump(-1, ' ', true, json::error_handler_t::replace);  // samples may not be UTF-8
}

const char* page_template(const std::string& kind);  // megabyte/pages/pages.cpp

void write_page(const std::string& path, const std::string& kind, const std::string& json_text) {
  std::string page = page_template(kind);
  const std::string mark = "@DATA@";
  const size_t at = page.find(mark);
  MB_CHECK(at != std::string::npos, "page template '", kind, "' has no data mark");
  page.replace(at, mark.size(), escape_for_script(json_text));
  nn::write_file_atomic(path, page);
}

MB_DEFINE_OPTIONS(ExplainOptions, MB_EXPLAIN_FIELDS, "explain option")

}  // namespace mb
