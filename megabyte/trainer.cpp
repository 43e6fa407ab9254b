#include "megabyte/trainer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "megabyte/checkpoint.h"
#include "megabyte/data.h"
#include "nn/safetensors.h"
#include "tensor/backend.h"
#include "tensor/parallel.h"
#include "tensor/philox.h"

#ifndef MB_DEFAULT_CORPUS
#define MB_DEFAULT_CORPUS "data/tinyshakespeare.txt"
#endif

namespace mb {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- options

void TrainOptions::validate() const {
  MB_CHECK(steps >= 1, "--steps must be >= 1, got ", steps);
  MB_CHECK(batch >= 1, "--batch must be >= 1, got ", batch);
  MB_CHECK(grad_accum >= 1, "--grad-accum must be >= 1, got ", grad_accum);
  MB_CHECK(lr > 0 && std::isfinite(lr), "--lr must be positive, got ", lr);
  MB_CHECK(min_lr >= 0 && min_lr <= lr, "--min-lr must be in [0, lr], got ", min_lr);
  MB_CHECK(warmup >= 0, "--warmup must be >= 0, got ", warmup);
  MB_CHECK(clip >= 0, "--clip must be >= 0 (0: off), got ", clip);
  MB_CHECK(weight_decay >= 0, "--weight-decay must be >= 0, got ", weight_decay);
  MB_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "AdamW betas must be in [0, 1)");
  MB_CHECK(threads >= 0, "--threads must be >= 0, got ", threads);
  MB_CHECK(eval_every >= 0 && eval_windows >= 1, "--eval-every must be >= 0 and --eval-windows >= 1");
  MB_CHECK(log_every >= 1, "--log-every must be >= 1, got ", log_every);
  MB_CHECK(ckpt_every >= 0 && keep >= 1, "--ckpt-every must be >= 0 and --keep >= 1");
  MB_CHECK(stop_at >= 0, "--stop-at must be >= 0, got ", stop_at);
  MB_CHECK(!out.empty(), "--out must name a folder");
  (void)nn::schedule_from_name(schedule);
  (void)data_format_from_name(format);
  (void)scan_from_name(scan);
  MB_CHECK(val_fraction >= 0 && val_fraction < 1, "--val-fraction must be in [0, 1), got ", val_fraction);
  MB_CHECK(device == "cpu" || device == "cuda", "--device must be cpu or cuda, got '", device, "'");
  MB_CHECK(precision == "fp32" || precision == "bf16", "--precision must be fp32 or bf16, got '", precision, "'");
  MB_CHECK(precision == "fp32" || device == "cuda", "--precision bf16 needs --device cuda (the CPU computes in f32)");
#ifdef MB_HAVE_CUDA
  const char* why = "this build has the CUDA backend, but found no GPU";
#else
  const char* why = "this build has no CUDA backend: configure with -DMB_CUDA=ON";
#endif
  MB_CHECK(device == "cpu" || backend_available(Device::CUDA), "--device cuda: no CUDA device is available (", why, ")");
}

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}
}  // namespace

std::map<std::string, std::string> TrainOptions::to_metadata() const {
  return {{"data", data},         {"format", format},      {"scan", scan},      {"val_fraction", num(val_fraction)},
          {"steps", num(double(steps))}, {"batch", num(double(batch))}, {"grad_accum", num(double(grad_accum))},
          {"lr", num(lr)},        {"min_lr", num(min_lr)}, {"warmup", num(double(warmup))},
          {"schedule", schedule}, {"clip", num(clip)},     {"weight_decay", num(weight_decay)},
          {"beta1", num(beta1)},  {"beta2", num(beta2)},   {"seed", std::to_string(seed)},
          {"eval_every", num(double(eval_every))}, {"eval_windows", num(double(eval_windows))}};
}

void TrainOptions::from_metadata(const std::map<std::string, std::string>& m) {
  auto get = [&](const char* k) {
    auto it = m.find(k);
    MB_CHECK(it != m.end(), "checkpoint: training option '", k, "' is missing");
    return it->second;
  };
  auto d = [&](const char* k) { return std::stod(get(k)); };
  auto i = [&](const char* k) { return int64_t(std::stod(get(k))); };
  data = get("data");
  format = get("format");
  scan = m.count("scan") ? m.at("scan") : "raster";
  val_fraction = d("val_fraction");
  steps = i("steps");
  batch = i("batch");
  grad_accum = i("grad_accum");
  lr = d("lr");
  min_lr = d("min_lr");
  warmup = i("warmup");
  schedule = get("schedule");
  clip = d("clip");
  weight_decay = d("weight_decay");
  beta1 = d("beta1");
  beta2 = d("beta2");
  seed = std::stoull(get("seed"));
  eval_every = i("eval_every");
  eval_windows = i("eval_windows");
}

std::string default_corpus() { return MB_DEFAULT_CORPUS; }

std::string latest_checkpoint(const std::string& dir) {
  std::string best;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return best;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt_", 0) == 0 && n.size() > 17 && n.substr(n.size() - 12) == ".safetensors" && n > fs::path(best).filename().string())
      best = e.path().string();
  }
  return best;
}

// ---------------------------------------------------------------- training

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

// Restores the previous handlers when training ends.
struct SignalGuard {
  using Handler = void (*)(int);
  Handler old_int, old_term;
  SignalGuard() {
    g_stop = false;
    old_int = std::signal(SIGINT, on_signal);
    old_term = std::signal(SIGTERM, on_signal);
  }
  ~SignalGuard() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

std::string fmt_duration(double s) {
  char b[32];
  if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else if (s >= 60) std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(s) % 60);
  else std::snprintf(b, sizeof b, "%.0fs", s);
  return b;
}

// A seed for the dropout masks of micro-step `micro`, derived from the run's seed.
uint64_t dropout_seed(uint64_t seed, uint64_t micro) {
  const Philox4x32 r = philox(seed ^ 0x5bd1e995u, micro);
  return uint64_t(r.c[0]) << 32 | r.c[1];
}

// The CSV log: rows beyond `step` (from a run that went further before it was resumed from an
// earlier checkpoint) are dropped, so the log always matches the state.
void truncate_log(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  std::getline(in, line);
  kept = line + "\n";
  while (std::getline(in, line))
    if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
  in.close();
  nn::write_file_atomic(path, kept);
}

}  // namespace

TrainResult train(Config config, TrainOptions opt) {
  opt.validate();
  if (opt.threads > 0) set_num_threads(opt.threads);

  // resume: the checkpoint's config and options, except where to stop and how to log
  int64_t start = 0;
  Checkpoint resumed;
  if (opt.resume) {
    const std::string ck = latest_checkpoint(opt.out);
    MB_CHECK(!ck.empty(), "--resume: no checkpoint (ckpt_*.safetensors) in ", opt.out);
    resumed = load_checkpoint(ck);
    config = resumed.config;
    const TrainOptions cli = opt;
    opt.from_metadata(resumed.train);
    opt.out = cli.out;
    opt.threads = cli.threads;
    opt.recompute = cli.recompute;  // changes memory, not results
    opt.device = cli.device;        // a run may move between devices
    opt.precision = cli.precision;
    opt.stop_at = cli.stop_at;
    opt.log_every = cli.log_every;
    opt.ckpt_every = cli.ckpt_every;
    opt.keep = cli.keep;
    opt.quiet = cli.quiet;
    start = std::stoll(resumed.train.at("step"));
    if (!opt.quiet) std::printf("resuming %s at step %lld\n", ck.c_str(), static_cast<long long>(start));
  }
  config.validate();

  const std::string data_path = opt.data.empty() ? default_corpus() : opt.data;
  Corpus corpus = Corpus::load(data_path, data_format_from_name(opt.format));
  apply_scan(corpus, scan_from_name(opt.scan), config.patch);
  const Split split = split_corpus(corpus, opt.val_fraction);
  MB_CHECK(split.train_end >= config.seq, data_path, ": the training part has ", split.train_end,
           " bytes, fewer than one window of T = ", config.seq, " (use more data, a smaller --seq or --val-fraction)");
  const bool has_val = split.size > split.train_end;
  MB_CHECK(!has_val || split.size - split.train_end >= config.seq, data_path, ": the validation tail has ",
           split.size - split.train_end, " bytes, fewer than one window of T = ", config.seq,
           " (raise --val-fraction or set it to 0)");

  MB_CHECK(opt.resume || latest_checkpoint(opt.out).empty(), opt.out, " already holds checkpoints of another "
           "run: continue it with --resume, or choose another --out");
  // everything is checked: only now does the run folder appear
  std::error_code ec;
  fs::create_directories(opt.out, ec);
  MB_CHECK(!ec, opt.out, ": cannot create the run folder (", ec.message(), ")");

  auto model = make_model(config);
  model->init_parameters(opt.seed);
  model->set_recompute(opt.recompute);
  if (opt.resume) model->load_state_dict(resumed.model);
  const Device device = opt.device == "cuda" ? Device::CUDA : Device::CPU;
  model->to(device);  // the optimizer's state is made where the parameters live
  nn::AdamW adamw(model->named_parameters(), {opt.beta1, opt.beta2, 1e-8, opt.weight_decay});
  if (opt.resume) adamw.load_state(resumed.optim, start);
  nn::set_matmul_dtype(opt.precision == "bf16" ? DType::BF16 : DType::F32);
  struct ResetMatmul {
    ~ResetMatmul() { nn::set_matmul_dtype(DType::F32); }
  } reset_matmul;
  nn::LrSchedule sched;
  sched.kind = nn::schedule_from_name(opt.schedule);
  sched.lr = opt.lr;
  sched.min_lr = opt.min_lr;
  sched.warmup = opt.warmup;
  sched.total = opt.steps;

  if (!opt.quiet) {
    std::printf("%s | %s params\n", config.summary().c_str(), std::to_string(model->num_parameters()).c_str());
    const std::string where = device == Device::CUDA ? "cuda " + opt.precision : cat(num_threads(), " threads");
    std::printf("data %s: %lld train / %lld validation bytes | %s | run folder %s\n", corpus.describe.c_str(),
                static_cast<long long>(split.train_end), static_cast<long long>(split.size - split.train_end),
                where.c_str(), opt.out.c_str());
  }

  const std::string log_path = opt.out + "/log.csv";
  if (opt.resume) truncate_log(log_path, start);
  else nn::write_file_atomic(log_path, "step,lr,loss,bpb,grad_norm,val_bpb,bytes_per_s,elapsed_s,train_flops\n");
  std::ofstream log(log_path, std::ios::app);
  MB_CHECK(log.good(), log_path, ": cannot open for writing");

  // validation: fixed, evenly spaced windows of the tail
  auto validate = [&]() {
    const int64_t span = split.size - split.train_end - config.seq;
    const int64_t n = std::min<int64_t>(opt.eval_windows, span / std::max<int64_t>(1, config.seq) + 1);
    double nats = 0;
    NoGradGuard no_grad;
    model->train(false);
    for (int64_t i = 0; i < n; ++i) {
      int64_t at = split.train_end + (n > 1 ? span * i / (n - 1) : 0);
      if (corpus.record > 0) at -= (at - split.train_end) % corpus.record;  // whole images, as in training
      nats += model->loss(to(window_at(corpus.bytes, at, config.seq), device)).item();
    }
    model->train(true);
    return nats / double(n) / std::log(2.0);
  };

  TrainResult res;
  auto save = [&](int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "/ckpt_%06lld.safetensors", static_cast<long long>(step));
    auto meta = opt.to_metadata();
    meta["step"] = std::to_string(step);
    save_checkpoint(opt.out + name, *model, &adamw, meta);
    res.checkpoint = opt.out + name;
    // keep the newest `keep` checkpoints
    std::vector<std::string> all;
    for (const auto& e : fs::directory_iterator(opt.out))
      if (e.path().filename().string().rfind("ckpt_", 0) == 0 && e.path().extension() == ".safetensors")
        all.push_back(e.path().string());
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i + size_t(opt.keep) < all.size(); ++i) fs::remove(all[i]);
  };

  SignalGuard signals;
  const bool tty = isatty(fileno(stdout));
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed_before = 0, window_loss = 0;
  int64_t window_steps = 0;
  const double bytes_per_step = double(opt.batch * opt.grad_accum * config.seq);
  for (int64_t step = start; step < opt.steps; ++step) {
    const auto ts = std::chrono::steady_clock::now();
    const double lr = sched.at(step);
    model->zero_grad();
    double loss = 0;
    for (int64_t a = 0; a < opt.grad_accum; ++a) {
      const uint64_t micro = uint64_t(step * opt.grad_accum + a);
      const Tensor x = to(sample_windows(corpus.bytes, 0, split.train_end, opt.batch, config.seq, opt.seed,
                                         micro * uint64_t(opt.batch), corpus.record), device);
      nn::DropoutStream drop{dropout_seed(opt.seed, micro), 0};
      const Tensor l = model->loss(x, &drop);
      loss += l.item() / double(opt.grad_accum);
      backward(opt.grad_accum > 1 ? mul_scalar(l, 1.0 / double(opt.grad_accum)) : l);
    }
    const double norm = nn::grad_norm(model->parameters());
    adamw.step(lr, opt.clip > 0 ? nn::clip_coefficient(norm, opt.clip) : 1.0);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const bool last = step + 1 == opt.steps;
    const bool stopping = g_stop || (opt.stop_at > 0 && step + 1 >= opt.stop_at);
    double val = -1;
    if (has_val && ((opt.eval_every > 0 && (step + 1) % opt.eval_every == 0) || last)) val = validate();
    res.last_loss = loss;
    if (val >= 0) res.last_val_bpb = val;
    char row[256];
    // training FLOPs so far: about 3x the forward pass (forward_flops_per_byte) per step
    const double flops = 3 * model->forward_flops(opt.batch) * double(opt.grad_accum) * double(step + 1);
    std::snprintf(row, sizeof row, "%lld,%.6g,%.9g,%.9g,%.6g,%s,%.1f,%.3f,%.4g\n", static_cast<long long>(step + 1), lr,
                  loss, loss / std::log(2.0), norm, val >= 0 ? num(val).c_str() : "", bytes_per_step / dt, elapsed, flops);
    log << row << std::flush;
    window_loss += loss;
    ++window_steps;
    if (!opt.quiet && ((step + 1) % opt.log_every == 0 || last || val >= 0 || stopping)) {
      const double per_step = (elapsed - elapsed_before) / double(window_steps);
      std::printf("%sstep %6lld/%lld | loss %.4f (%.3f bpb)%s | %.1f kB/s | ETA %s%s", tty ? "\r" : "",
                  static_cast<long long>(step + 1), static_cast<long long>(opt.steps), window_loss / double(window_steps),
                  window_loss / double(window_steps) / std::log(2.0),
                  res.last_val_bpb >= 0 ? cat(" | val ", std::to_string(res.last_val_bpb).substr(0, 5), " bpb").c_str() : "",
                  bytes_per_step / per_step / 1e3, fmt_duration(per_step * double(opt.steps - step - 1)).c_str(),
                  tty && !(val >= 0 || last || stopping) ? "   " : "\n");
      std::fflush(stdout);
      elapsed_before = elapsed;
      window_loss = 0;
      window_steps = 0;
    }
    res.steps_done = step + 1;
    if ((opt.ckpt_every > 0 && (step + 1) % opt.ckpt_every == 0) || last || stopping) save(step + 1);
    if (stopping && !last) {
      res.interrupted = true;
      if (!opt.quiet)
        std::printf("stopped after step %lld: saved %s (continue with --resume --out %s)\n",
                    static_cast<long long>(step + 1), res.checkpoint.c_str(), opt.out.c_str());
      break;
    }
  }
  if (!opt.quiet && !res.interrupted) std::printf("done: %s\n", res.checkpoint.c_str());
  return res;
}

}  // namespace mb
