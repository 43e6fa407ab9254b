#include "megabyte/trainer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "megabyte/checkpoint.h"
#include "megabyte/data.h"
#include "megabyte/evaluate.h"
#include "megabyte/spacebyte.h"
#include "megabyte/tfevents.h"
#include "nn/distributed.h"
#include "nn/safetensors.h"
#include "tensor/backend.h"
#include "tensor/parallel.h"
#include "tensor/philox.h"


namespace mb {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- options

void TrainOptions::validate() const {
  check_fields();
  MB_CHECK(min_lr <= lr, "--min-lr must be at most --lr ", lr, ", got ", min_lr);
  MB_CHECK(!out.empty(), "--out must name a folder");
  MB_CHECK(precision == nn::Precision::fp32 || device == Device::CUDA,
           "--precision bf16 needs --device cuda (the CPU computes in f32)");
  MB_CHECK(device == Device::CPU || backend_available(Device::CUDA), "--device cuda: no CUDA device is available (",
           backend_unavailable_reason(Device::CUDA), ")");
}

namespace {
bool kept(const char* group) { return std::string(group) != "run"; }
std::string group_of(const std::string& key) {
  for (const FieldInfo& f : TrainOptions::fields())
    if (key == f.key) return f.group;
  return "";
}
}  // namespace

std::map<std::string, std::string> TrainOptions::to_metadata() const {
  std::map<std::string, std::string> m;
#define MB_TEXT(type, member, key, def, rule, group, ...) \
  if (kept(group)) m[key] = field_text(member);
  MB_TRAIN_FIELDS(MB_TEXT)
#undef MB_TEXT
  return m;
}

void TrainOptions::from_metadata(const std::map<std::string, std::string>& m) {
#define MB_PARSE(type, member, key, def, rule, group, ...) \
  if (auto it = m.find(key); kept(group) && it != m.end()) parse_field("checkpoint: training option '" key "'", it->second, member);
  MB_TRAIN_FIELDS(MB_PARSE)
#undef MB_PARSE
}

MB_DEFINE_OPTIONS(TrainOptions, MB_TRAIN_FIELDS, "training option")

std::string default_corpus() { return shipped_file("data/tinyshakespeare.txt"); }

std::vector<std::string> checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    // ckpt_<digits>.safetensors, ordered by the number: past step 999,999 the names no longer
    // sort as text
    const std::string n = e.path().filename().string(), tail = ".safetensors";
    if (n.rfind("ckpt_", 0) != 0 || n.size() <= 5 + tail.size() || n.compare(n.size() - tail.size(), tail.size(), tail))
      continue;
    const std::string digits = n.substr(5, n.size() - 5 - tail.size());
    if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    found.emplace_back(std::stoll(digits), e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [step, path] : found) out.push_back(path);
  return out;
}

std::string latest_checkpoint(const std::string& dir) {
  const std::vector<std::string> all = checkpoints(dir);
  return all.empty() ? "" : all.back();
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

// A 64-bit hash of the data (8 bytes a step, then the tail), as hex: a checkpoint records it,
// so that --resume notices a changed corpus.
std::string fingerprint(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < bytes.size(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
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
  while (std::getline(in, line)) {
    int64_t row = 0;  // a row whose step does not read as a number is dropped with the rest
    try {
      parse_field("log.csv", line.substr(0, line.find(',')), row);
    } catch (const Error&) {
      continue;
    }
    if (row <= step) kept += line + "\n";
  }
  in.close();
  nn::write_file_atomic(path, kept);
}

// One training run: everything train() needs between its steps, built in the order a run
// starts (options, resumed state, data, run folder, model, optimizer, log).
class Run {
 public:
  ~Run() {
    if (lock_ >= 0) ::close(lock_);  // releases the lock
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  Run(Config config, TrainOptions opt) : config_(std::move(config)), opt_(std::move(opt)) {
    opt_.validate();
    if (!world_.root()) opt_.quiet = true;  // rank 0 alone prints, logs and writes checkpoints
    if (opt_.threads > 0) set_num_threads(opt_.threads);
    Checkpoint resumed;
    if (opt_.resume) resumed = resume();
    split_micro_batches();
    config_.validate();
    load_data();
    make_folder();
    build_model(resumed);
    open_log();
  }

  TrainResult loop() {
    SignalGuard signals;
    t0_ = std::chrono::steady_clock::now();
    for (int64_t step = start_; step < opt_.steps; ++step) {
      const auto ts = std::chrono::steady_clock::now();
      const double lr = schedule_.at(step);
      const auto [loss, norm] = forward_backward(step);
      update(step, lr, loss, norm);
      const double dt = seconds_since(ts), elapsed = seconds_since(t0_);
      const bool last = step + 1 == opt_.steps;
      // every rank stops at the same step (a signal may reach only one)
      const bool stopping = world_.any(g_stop || (opt_.stop_at > 0 && step + 1 >= opt_.stop_at));
      const bool validating = has_val_ && ((opt_.eval_every > 0 && (step + 1) % opt_.eval_every == 0) || last);
      const double val = validating ? validation_bpb() : -1;
      res_.last_loss = loss;
      if (val >= 0) res_.last_val_bpb = val;
      log_step(step, lr, loss, norm, val, dt, elapsed);
      if (!opt_.quiet && ((step + 1) % opt_.log_every == 0 || last || val >= 0 || stopping))
        print_progress(step, elapsed, /*ends_line=*/val >= 0 || last || stopping);
      res_.steps_done = step + 1;
      // after a skipped step the newest checkpoint stays the last good state
      const bool due = (opt_.ckpt_every > 0 && (step + 1) % opt_.ckpt_every == 0) || last || stopping;
      if (due && bad_steps_ == 0 && world_.root()) write_checkpoint(step + 1);
      if (stopping && !last) {
        res_.interrupted = true;
        if (!opt_.quiet)
          std::printf("stopped after step %lld: saved %s (continue with --resume --out %s)\n",
                      static_cast<long long>(step + 1), res_.checkpoint.c_str(), opt_.out.c_str());
        break;
      }
    }
    if (!opt_.quiet && !res_.interrupted) std::printf("done: %s\n", res_.checkpoint.c_str());
    if (!opt_.quiet && world_.size() > 1 && res_.steps_done > start_)
      std::printf("%d ranks: waiting for gradients %.1f ms a step (the all-reduce not hidden behind backward)\n",
                  world_.size(), 1e3 * reducer_->wait_seconds() / double(res_.steps_done - start_));
    return res_;
  }

 private:
  // --resume: the newest checkpoint that loads (an older one when the newest is damaged), its
  // config and kept options; the options the user gave are applied or refused by name
  Checkpoint resume() {
    const std::vector<std::string> all = checkpoints(opt_.out);
    MB_CHECK(!all.empty(), "--resume: no checkpoint (ckpt_*.safetensors) in ", opt_.out);
    Checkpoint c;
    std::string ck, newest_error;
    for (auto it = all.rbegin(); it != all.rend() && ck.empty(); ++it) {
      try {
        c = load_checkpoint(*it);
        ck = *it;
      } catch (const Error& e) {
        if (newest_error.empty()) newest_error = e.what();
        std::fprintf(stderr, "warning: %s; trying the checkpoint before it\n", e.what());
      }
    }
    MB_CHECK(!ck.empty(), "--resume: no checkpoint in ", opt_.out, " loads (the newest: ", newest_error, ")");
    config_ = c.config;
    apply_resumed_options(c.train);
    parse_field(ck + ": step", c.train.count("step") ? c.train.at("step") : "", start_);
    if (c.train.count("world_size")) parse_field(ck + ": world_size", c.train.at("world_size"), ckpt_world_);
    MB_CHECK(ckpt_world_ >= 1 && double(ckpt_world_) <= kMaxBatch, ck, ": world_size ", ckpt_world_,
             " is not a number of ranks (1 to ", int64_t(kMaxBatch), ")");
    MB_CHECK(start_ >= 0, ck, ": step ", start_, " is negative");
    res_.checkpoint = ck;
    res_.steps_done = start_;
    resumed_ = c.train;
    if (!opt_.quiet) std::printf("resuming %s at step %lld\n", ck.c_str(), static_cast<long long>(start_));
    if (!opt_.quiet && start_ >= opt_.steps)
      std::printf("the run is complete: its %lld steps are done (--steps N continues it to step N)\n",
                  static_cast<long long>(opt_.steps));
    return c;
  }

  // The checkpoint's data and training options, then the given ones: --steps and --eval-every
  // apply (and are printed), any other must equal the checkpoint's. Validated again.
  void apply_resumed_options(const std::map<std::string, std::string>& kept_options) {
    const TrainOptions typed = opt_;
    opt_.from_metadata(kept_options);
    for (const std::string& key : typed.given) {
      const std::string want = typed.get(key), have = opt_.get(key);
      if (want == have || group_of(key) == "run") continue;
      MB_CHECK(key == "steps" || key == "eval_every", "--resume: --", flag_of(key), " ", want,
               " differs from the checkpoint's ", have, "; on --resume only --steps, --eval-every and the run "
               "options (threads, device, logging and checkpoint cadence, ...) may change: start a new run (another "
               "--out) to change it");
      opt_.set(key, want);
      if (!opt_.quiet) std::printf("--%s %s (the checkpoint's was %s)\n", flag_of(key).c_str(), want.c_str(), have.c_str());
    }
    opt_.validate();
  }

  // A step is grad_accum micro-batches on each of the ranks; a run resumed on another number of
  // ranks keeps the micro-batches per step and splits them anew.
  void split_micro_batches() {
    const int64_t n = world_.size(), was = opt_.resume ? ckpt_world_ : n, total = opt_.grad_accum * was;
    MB_CHECK(total % n == 0, "--resume on ", n, " ranks: the run takes ", total, " micro-batches a step (--grad-accum ",
             opt_.grad_accum, " on ", was, " ranks), which do not split evenly over ", n,
             " ranks: use a number of ranks that divides ", total);
    if (total / n != opt_.grad_accum && !opt_.quiet)
      std::printf("%lld ranks instead of the checkpoint's %lld: --grad-accum %lld per rank (%lld micro-batches a step)\n",
                  static_cast<long long>(n), static_cast<long long>(was), static_cast<long long>(total / n),
                  static_cast<long long>(total));
    opt_.grad_accum = total / n;
  }

  void load_data() {
    const std::string path = opt_.data.empty() ? default_corpus() : opt_.data;
    corpus_ = Corpus::load(path, opt_.format);
    data_size_ = field_text(int64_t(corpus_.bytes.size()));
    data_hash_ = fingerprint(corpus_.bytes);
    if (opt_.resume && resumed_.count("data_hash")) {
      const bool same = resumed_["data_size"] == data_size_ && resumed_["data_hash"] == data_hash_;
      MB_CHECK(same || opt_.accept_new_data, "--resume: ", path, " differs from the data the checkpoint was trained on (",
               resumed_["data_size"], " bytes, hash ", resumed_["data_hash"], "; now ", data_size_, " bytes, hash ",
               data_hash_, "): pass --accept-new-data to train on with it");
      if (!same && !opt_.quiet) std::printf("training on with new data: %s\n", path.c_str());
    }
    apply_scan(corpus_, opt_.scan, config_.patch);
    split_ = split_corpus(corpus_, opt_.val_fraction);
    MB_CHECK(split_.train_end >= config_.seq, path, ": the training part has ", split_.train_end,
             " bytes, fewer than one window of T = ", config_.seq, " (use more data, a smaller --seq or --val-fraction)");
    has_val_ = split_.size > split_.train_end;
    mean_patch_ = variable_patches();
    MB_CHECK(!has_val_ || split_.size - split_.train_end >= config_.seq, path, ": the validation tail has ",
             split_.size - split_.train_end, " bytes, fewer than one window of T = ", config_.seq,
             " (raise --val-fraction or set it to 0)");
  }

  // Everything is checked, the memory the run needs included: only now does the run folder
  // appear. It stays locked while this run lives, so a second trainer cannot write into it.
  void make_folder() {
    device_ = opt_.device;
    if (device_ == Device::CPU)
      check_memory(training_memory(config_, opt_.batch).total(), cat("training at batch ", opt_.batch, " (", config_.summary(), ")"));
    if (!world_.root()) return;
    MB_CHECK(opt_.resume || latest_checkpoint(opt_.out).empty(), opt_.out, " already holds checkpoints of another "
             "run: continue it with --resume, or choose another --out");
    std::error_code ec;
    fs::create_directories(opt_.out, ec);
    MB_CHECK(!ec, opt_.out, ": cannot create the run folder (", ec.message(), ")");
    lock_ = ::open(opt_.out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // the folder itself is the lock
    MB_CHECK(lock_ >= 0, opt_.out, ": cannot open the run folder (", std::strerror(errno), ")");
    MB_CHECK(::flock(lock_, LOCK_EX | LOCK_NB) == 0, opt_.out, " is in use by another training process: wait for it ",
             "to finish, or choose another --out");
  }

  void build_model(const Checkpoint& resumed) {
    model_ = make_model(config_);
    model_->init_parameters(opt_.seed);
    model_->set_recompute(opt_.recompute);
    if (opt_.resume) model_->load_state_dict(resumed.model);
    model_->to(device_);  // the optimizer's state is made where the parameters live
    nn::set_compute_dtype(*model_, nn::compute_dtype(opt_.precision));
    adamw_ = std::make_unique<nn::AdamW>(model_->named_parameters(),
                                         nn::AdamWOptions{opt_.beta1, opt_.beta2, 1e-8, opt_.weight_decay});
    reducer_ = std::make_unique<nn::GradReducer>(world_, model_->parameters());
    if (opt_.resume) {  // AdamW's own count: a skipped step (non-finite loss) does not count
      int64_t adam_steps = start_;
      if (resumed.train.count("adam_steps")) parse_field("checkpoint: adam_steps", resumed.train.at("adam_steps"), adam_steps);
      adamw_->load_state(resumed.optim, adam_steps);
    }
    schedule_.kind = opt_.schedule;
    schedule_.lr = opt_.lr;
    schedule_.min_lr = opt_.min_lr;
    schedule_.warmup = opt_.warmup;
    schedule_.total = opt_.steps;
    if (opt_.quiet) return;
    std::printf("%s | %s params\n", config_.summary().c_str(), std::to_string(model_->num_parameters()).c_str());
    std::string where = device_ == Device::CUDA ? cat("cuda ", name_of(opt_.precision)) : cat(num_threads(), num_threads() == 1 ? " thread" : " threads");
    if (world_.size() > 1)
      where = cat(world_.size(), " ranks x ", where, ", gradients in ", reducer_->buckets(), reducer_->buckets() == 1 ? " bucket" : " buckets");
    std::printf("data %s: %lld train / %lld validation bytes | %s | run folder %s\n", corpus_.describe.c_str(),
                static_cast<long long>(split_.train_end), static_cast<long long>(split_.size - split_.train_end),
                where.c_str(), opt_.out.c_str());
    const std::string per_byte = count_text(forward_flops_per_byte(config_, mean_patch_), "FLOP");
    if (config_.patcher == PatchRule::space)
      std::printf("space patches: mean %.3f bytes over the training part's first MiB; %s per byte forward at that mean\n",
                  mean_patch_, per_byte.c_str());
    if (config_.patcher == PatchRule::entropy)
      std::printf("entropy patches (%s, %s %s bits%s): mean %.3f bytes over the training part's first 256 KiB; %s per "
                  "byte forward at that mean, and the entropy model's %s (not in log.csv's train_flops)\n",
                  config_.entropy_model.c_str(), name_of(config_.entropy_rule), field_text(config_.entropy_theta).c_str(),
                  theta_chosen_ ? cat(", chosen for a mean of ", opt_.entropy_mean).c_str() : "", mean_patch_,
                  per_byte.c_str(), count_text(entropy_flops_, "FLOP").c_str());
  }

  void open_log() {
    if (!world_.root()) return;
    const std::string path = opt_.out + "/log.csv";
    if (opt_.resume) truncate_log(path, start_);
    else nn::write_file_atomic(path, "step,lr,loss,bpb,grad_norm,val_bpb,bytes_per_s,elapsed_s,train_flops\n");
    log_.open(path, std::ios::app);
    MB_CHECK(log_.good(), path, ": cannot open for writing");
    events_.emplace(opt_.out, opt_.resume ? start_ : -1);
    events_->text(start_ + 1, "options", options_markdown());  // the options of the steps from here on
  }

  // The run's model and options as two Markdown tables (TensorBoard's text tab shows them).
  std::string options_markdown() const {
    auto table = [](const char* title, const std::map<std::string, std::string>& m) {
      std::string t = cat("| ", title, " | |\n|---|---|\n");
      for (const auto& [k, v] : m) {
        std::string cell = v.empty() ? "(default)" : "";
        for (char c : v) cell += c == '|' ? std::string("\\|") : std::string(1, c);  // a '|' would end the cell
        t += cat("| ", k, " | ", cell, " |\n");
      }
      return t;
    };
    return cat(config_.summary(), "\n\n", table("model", config_.to_metadata()), "\n", table("training", opt_.to_metadata()));
  }

  // Forward and backward over grad_accum micro-batches on each rank, the gradients averaged
  // over the ranks: the step's mean loss (nats) and the gradient norm. Micro-batch a of rank r
  // is the step's micro-batch a·N + r of N·grad_accum, so N ranks draw the windows (and the
  // dropout masks) that one process with --grad-accum N·grad_accum would.
  std::pair<double, double> forward_backward(int64_t step) {
    model_->zero_grad();
    double loss = 0;
    const int64_t n = world_.size();
    for (int64_t a = 0; a < opt_.grad_accum; ++a) {
      const uint64_t micro = uint64_t((step * opt_.grad_accum + a) * n + world_.rank());
      const Tensor x = to(sample_windows(corpus_.bytes, 0, split_.train_end, opt_.batch, config_.seq, opt_.seed,
                                         micro * uint64_t(opt_.batch), corpus_.record), device_);
      nn::DropoutStream drop{dropout_seed(opt_.seed, micro), 0};
      const Tensor l = model_->loss(x, &drop);
      loss += l.item() / double(opt_.grad_accum);
      if (a + 1 == opt_.grad_accum) reducer_->begin();  // the last backward: reduce while it runs
      backward(opt_.grad_accum > 1 ? mul_scalar(l, 1.0 / double(opt_.grad_accum)) : l);
    }
    reducer_->end();
    return {world_.sum(loss) / double(n), nn::grad_norm(model_->parameters())};
  }

  // Clipping and AdamW; a step whose loss or gradient is not finite is skipped (weights and
  // moments untouched), and kMaxBadSteps of them in a row stop the run, its last checkpoint
  // the last good state.
  void update(int64_t step, double lr, double loss, double norm) {
    if (std::isfinite(loss) && std::isfinite(norm)) {
      adamw_->step(lr, opt_.clip > 0 ? nn::clip_coefficient(norm, opt_.clip) : 1.0);
      bad_steps_ = 0;
      return;
    }
    ++bad_steps_;
    std::fprintf(stderr, "%sstep %lld: loss %g, gradient norm %g: not finite, the step is skipped (weights and "
                 "moments unchanged)\n", isatty(fileno(stdout)) ? "\n" : "", static_cast<long long>(step + 1), loss, norm);
    MB_CHECK(bad_steps_ < kMaxBadSteps, kMaxBadSteps, " steps in a row had a non-finite loss or gradient, up to step ",
             step + 1, "; the last checkpoint is ", res_.checkpoint.empty() ? "none yet" : res_.checkpoint,
             ". Lower --lr, or find the op with MB_DETECT_ANOMALY=1");
  }

  // Bits per byte on fixed, evenly spaced windows of the validation tail.
  double validation_bpb() {
    const int64_t span = split_.size - split_.train_end - config_.seq;
    const int64_t n = std::min<int64_t>(opt_.eval_windows, span / std::max<int64_t>(1, config_.seq) + 1);
    double nats = 0;
    NoGradGuard no_grad;
    model_->train(false);
    for (int64_t i = world_.rank(); i < n; i += world_.size()) {  // the windows split over the ranks
      int64_t at = split_.train_end + (n > 1 ? span * i / (n - 1) : 0);
      if (corpus_.record > 0) at -= (at - split_.train_end) % corpus_.record;  // whole images, as in training
      nats += model_->loss(to(window_at(corpus_.bytes, at, config_.seq), device_)).item();
    }
    model_->train(true);
    return world_.sum(nats) / double(n) / std::log(2.0);
  }

  // SpaceByte's variable patches, over a sample of the training part: its first MiB for space
  // patches, its first 256 KiB for entropy patches (the entropy model runs over them). There,
  // the entropy threshold is chosen for --entropy-mean when the config leaves it to training
  // (resumed runs keep their checkpoint's), and the mean patch length is measured: the global
  // blocks' share of the FLOPs. Returns it; 0 for every other model (its patches are the config's).
  double variable_patches() {
    MB_CHECK(!opt_.given.count("entropy_mean") || opt_.resume ||
                 (config_.patcher == PatchRule::entropy && config_.entropy_theta == 0),
             "--entropy-mean chooses the threshold of --patcher entropy when no --entropy-theta is given (here: patcher ",
             name_of(config_.patcher), ", entropy_theta ", config_.entropy_theta, ")");
    if (!config_.is_spacebyte() || config_.patcher == PatchRule::fixed) return 0;
    const bool space = config_.patcher == PatchRule::space;
    const int64_t n = std::min<int64_t>(split_.train_end, space ? 1 << 20 : 1 << 18);
    const std::vector<uint8_t> head(corpus_.bytes.begin(), corpus_.bytes.begin() + n);
    if (space) return mean_patch_length(space_patches(head, config_.patch), n);
    const auto entropy = load_entropy_model(config_);
    entropy_flops_ = forward_flops_per_byte(entropy->config());
    const std::vector<double> H = next_byte_entropy(*entropy, head, config_.seq);  // in windows of T, as in training
    if (config_.entropy_theta == 0) {
      const std::string mean = cat("--entropy-mean ", opt_.entropy_mean, opt_.given.count("entropy_mean") ? "" : " (its default)");
      MB_CHECK(opt_.entropy_mean <= double(config_.patch), mean, " is longer than the longest patch (--patch ",
               config_.patch, ")");
      config_.entropy_theta = entropy_threshold(H, config_.entropy_rule, opt_.entropy_mean, config_.patch);
      MB_CHECK(config_.entropy_theta > 0, mean, ": the ", name_of(config_.entropy_rule), " rule would need a threshold of ",
               config_.entropy_theta, " bits, cutting where the entropy does not rise: ask for a longer mean");
      theta_chosen_ = true;
    }
    return mean_patch_length(entropy_patches(H, config_.entropy_theta, config_.entropy_rule, config_.patch), n);
  }

  // One row of log.csv; training FLOPs so far: about 3x the forward pass per step.
  void log_step(int64_t step, double lr, double loss, double norm, double val, double dt, double elapsed) {
    const double flops = 3 * model_->forward_flops(opt_.batch, mean_patch_) * double(opt_.grad_accum * world_.size()) *
                         double(step + 1);
    const double bpb = loss / std::log(2.0), rate = bytes_per_step() / dt;
    char row[256];
    std::snprintf(row, sizeof row, "%lld,%.6g,%.9g,%.9g,%.6g,%s,%.1f,%.3f,%.4g\n", static_cast<long long>(step + 1), lr,
                  loss, bpb, norm, val >= 0 ? field_text(val).c_str() : "", rate, elapsed, flops);
    if (world_.root()) {
      log_ << row << std::flush;
      MB_CHECK(log_.good(), opt_.out, "/log.csv: write failed (", std::strerror(errno), ")");
      std::vector<std::pair<std::string, float>> scalars = {
          {"train/loss", float(loss)}, {"train/bpb", float(bpb)}, {"train/lr", float(lr)},
          {"train/grad_norm", float(norm)}, {"train/bytes_per_s", float(rate)}, {"train/flops", float(flops)}};
      if (val >= 0) scalars.emplace_back("val/bpb", float(val));
      events_->scalars(step + 1, scalars);
    }
    window_loss_ += loss;
    ++window_steps_;
  }

  // The progress line: the mean loss of the steps since the last one; on a terminal it
  // updates in place until a line that must stay (validation, the end, a stop).
  void print_progress(int64_t step, double elapsed, bool ends_line) {
    const bool tty = isatty(fileno(stdout));
    const double per_step = (elapsed - elapsed_before_) / double(window_steps_), mean = window_loss_ / double(window_steps_);
    const std::string val = res_.last_val_bpb >= 0 ? cat(" | val ", std::to_string(res_.last_val_bpb).substr(0, 5), " bpb") : "";
    std::printf("%sstep %6lld/%lld | loss %.4f (%.3f bpb)%s | %.1f kB/s | ETA %s%s", tty ? "\r" : "",
                static_cast<long long>(step + 1), static_cast<long long>(opt_.steps), mean, mean / std::log(2.0),
                val.c_str(), bytes_per_step() / per_step / 1e3, fmt_duration(per_step * double(opt_.steps - step - 1)).c_str(),
                tty && !ends_line ? "   " : "\n");
    std::fflush(stdout);
    elapsed_before_ = elapsed;
    window_loss_ = 0;
    window_steps_ = 0;
  }

  // ckpt_<step>.safetensors, then only the newest `keep` of them are left
  void write_checkpoint(int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "/ckpt_%06lld.safetensors", static_cast<long long>(step));
    auto meta = opt_.to_metadata();
    meta["step"] = std::to_string(step);
    meta["adam_steps"] = std::to_string(adamw_->steps());
    meta["world_size"] = std::to_string(world_.size());  // grad_accum is per rank: with this, the micro-batches a step
    meta["data_size"] = data_size_;
    meta["data_hash"] = data_hash_;
    save_checkpoint(opt_.out + name, *model_, adamw_.get(), meta);
    res_.checkpoint = opt_.out + name;
    const std::vector<std::string> all = checkpoints(opt_.out);  // by step
    for (size_t i = 0; i + size_t(opt_.keep) < all.size(); ++i) fs::remove(all[i]);
  }

  double bytes_per_step() const { return double(opt_.batch * opt_.grad_accum * world_.size() * config_.seq); }
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  static constexpr int kMaxBadSteps = 5;

  const nn::World& world_ = nn::World::get();
  Config config_;
  TrainOptions opt_;
  int64_t start_ = 0;     // the first step to run (the resumed checkpoint's)
  int64_t ckpt_world_ = 1;  // the ranks the resumed checkpoint was trained on
  std::map<std::string, std::string> resumed_;  // the resumed checkpoint's training metadata
  std::string data_size_, data_hash_;           // of the corpus as loaded, for the checkpoints
  int lock_ = -1;                               // the run folder, flock()ed while the run lives
  int bad_steps_ = 0;                           // non-finite steps in a row
  Corpus corpus_;
  Split split_{};
  bool has_val_ = false;
  double mean_patch_ = 0;      // variable_patches(), once
  double entropy_flops_ = 0;   // the entropy model's forward FLOPs per byte (entropy patches)
  bool theta_chosen_ = false;  // the entropy threshold was chosen here, for --entropy-mean
  Device device_ = Device::CPU;
  std::unique_ptr<ByteModel> model_;
  std::unique_ptr<nn::AdamW> adamw_;
  std::unique_ptr<nn::GradReducer> reducer_;
  nn::LrSchedule schedule_;
  std::ofstream log_;
  std::optional<tfevents::RunEvents> events_;  // beside log.csv, the same rows for TensorBoard
  TrainResult res_;
  std::chrono::steady_clock::time_point t0_;
  double elapsed_before_ = 0, window_loss_ = 0;  // since the last progress line
  int64_t window_steps_ = 0;
};

}  // namespace

TrainResult train(Config config, TrainOptions opt) { return Run(std::move(config), std::move(opt)).loop(); }

}  // namespace mb
