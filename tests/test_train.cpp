// Training: seeded determinism, exact resume, gradient accumulation, data formats and splits,
// windows that never touch the validation tail, whole-file evaluation, TensorBoard event files.
#include <fcntl.h>
#include <sys/file.h>
#ifdef MB_HAVE_ZLIB
#include <zlib.h>
#endif

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "helpers.h"
#include "megabyte/checkpoint.h"
#include "megabyte/data.h"
#include "megabyte/evaluate.h"
#include "megabyte/tfevents.h"
#include "megabyte/trainer.h"
#include "nn/safetensors.h"

using namespace mb;
using namespace mb::test;
namespace fs = std::filesystem;

namespace {

Config small_config() {
  Config c = megabyte_config(32, 4, 32, 16, 2, 1);
  c.dropout = 0.1;  // dropout on: its masks must replay exactly too
  return c;
}

TrainOptions small_options(const std::string& out) {
  TrainOptions o;
  o.data = MB_SOURCE_DIR "/data/tinyshakespeare.txt";
  o.steps = 12;
  o.batch = 4;
  o.warmup = 3;
  o.eval_every = 4;
  o.eval_windows = 4;
  o.ckpt_every = 0;
  o.out = out;
  o.quiet = true;
  o.seed = 7;
  return o;
}

// The columns of log.csv that depend on the computation only (no timings).
std::vector<std::string> log_rows(const std::string& run) {
  std::ifstream f(run + "/log.csv");
  std::vector<std::string> rows;
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string cell, kept;
    for (int col = 0; col < 6 && std::getline(ss, cell, ','); ++col) kept += cell + ",";
    rows.push_back(kept);
  }
  return rows;
}

}  // namespace

TEST_CASE("training is deterministic: the same seed gives bitwise the same log") {
  TempDir a("det_a"), b("det_b");
  train(small_config(), small_options(a.path.string()));
  train(small_config(), small_options(b.path.string()));
  const auto ra = log_rows(a.path.string()), rb = log_rows(b.path.string());
  REQUIRE(ra.size() == 12);
  CHECK(ra == rb);
  TrainOptions other = small_options((a.path / "other").string());
  other.seed = 8;
  train(small_config(), other);
  CHECK(log_rows(other.out) != ra);
}

TEST_CASE("exact resume: stopped at step 5 and resumed, the log equals an uninterrupted run") {
  TempDir full("resume_full"), part("resume_part");
  const TrainResult whole = train(small_config(), small_options(full.path.string()));
  TrainOptions o = small_options(part.path.string());
  o.stop_at = 5;
  const TrainResult first = train(small_config(), o);
  CHECK(first.interrupted);
  CHECK(first.steps_done == 5);
  CHECK(fs::exists(part / "ckpt_000005.safetensors"));
  TrainOptions again = small_options(part.path.string());
  again.resume = true;
  again.seed = 999;      // ignored: the checkpoint's options win
  again.batch = 2;
  const TrainResult rest = train(Config(), again);  // and its config
  CHECK(!rest.interrupted);
  CHECK(log_rows(part.path.string()) == log_rows(full.path.string()));
  CHECK(rest.last_loss == whole.last_loss);
  // the final weights agree bit for bit
  const Checkpoint x = load_checkpoint(full / "ckpt_000012.safetensors");
  const Checkpoint y = load_checkpoint(part / "ckpt_000012.safetensors");
  for (const auto& [name, t] : x.model) CHECK(max_abs_diff(t, y.model.at(name)) == 0);
  CHECK(x.train.at("step") == "12");
}

TEST_CASE("gradient accumulation: 2 x 4 windows is one batch of 8") {
  TempDir a("accum_a"), b("accum_b");
  TrainOptions o = small_options(a.path.string());
  o.batch = 8;
  o.steps = 4;
  Config c = small_config();
  c.dropout = 0;  // dropout masks are drawn per micro-batch
  const TrainResult one = train(c, o);
  o.out = b.path.string();
  o.batch = 4;
  o.grad_accum = 2;
  const TrainResult two = train(c, o);
  CHECK(std::abs(one.last_loss - two.last_loss) < 1e-5);
}

TEST_CASE("checkpoints: the newest K are kept, and every file is complete") {
  TempDir run("keep");
  TrainOptions o = small_options(run.path.string());
  o.ckpt_every = 2;
  o.keep = 2;
  train(small_config(), o);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(run.path)) {
    const std::string name = e.path().filename().string();  // the event file's goes on with a time, host and pid
    names.push_back(name.rfind("events.out.tfevents.", 0) == 0 ? name.substr(0, 20) : name);
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"ckpt_000010.safetensors", "ckpt_000012.safetensors", "events.out.tfevents.",
                                          "log.csv"});
  CHECK(latest_checkpoint(run.path.string()) == run / "ckpt_000012.safetensors");
  const Checkpoint c = load_checkpoint(run / "ckpt_000010.safetensors");
  CHECK(c.optim.size() == 2 * c.model.size());
  CHECK(c.config.to_metadata() == small_config().to_metadata());
}

TEST_CASE("bad training input is refused before anything is written") {
  TempDir dir("bad");
  const std::string out = dir / "run";
  auto err = [&](auto edit) {
    TrainOptions o = small_options(out);
    Config c = small_config();
    edit(o, c);
    const std::string e = error_of([&] { train(c, o); });
    CHECK(!fs::exists(out));
    return e;
  };
  CHECK(err([&](TrainOptions& o, Config&) { o.data = dir / "missing.txt"; }).find("no such file") != std::string::npos);
  nn::write_file_atomic(dir / "empty.txt", "");
  CHECK(err([&](TrainOptions& o, Config&) { o.data = dir / "empty.txt"; }).find("no data") != std::string::npos);
  nn::write_file_atomic(dir / "short.txt", std::string(40, 'a'));
  CHECK(err([&](TrainOptions& o, Config&) { o.data = dir / "short.txt"; }).find("fewer than one window of T = 32") != std::string::npos);
  CHECK(err([](TrainOptions& o, Config&) { o.steps = -3; }).find("--steps must be in [1, 1099511627776], got -3") != std::string::npos);
  CHECK(err([](TrainOptions&, Config& c) { c.seq = 30; }).find("not a multiple of patch") != std::string::npos);
  CHECK(error_of([] { TrainOptions().set("schedule", "linear"); }).find("--schedule must be cosine, polynomial or constant, got 'linear'") != std::string::npos);
  CHECK(err([](TrainOptions& o, Config&) { o.resume = true; }).find("no checkpoint") != std::string::npos);
}

TEST_CASE("the options table: checkpoints keep the data and training options, never the run's") {
  TrainOptions o;
  o.set("lr", "0.003");
  o.set("seed", "18446744073709551615");  // the largest seed survives the text form
  o.set("recompute", "1");
  o.set("threads", "3");
  CHECK(o.lr == 0.003);
  CHECK(o.seed == UINT64_MAX);
  CHECK(o.recompute);
  const auto meta = o.to_metadata();
  CHECK(meta.at("lr") == "0.003");
  CHECK(meta.at("seed") == "18446744073709551615");
  for (const FieldInfo& f : TrainOptions::fields()) {
    INFO(f.key);
    CHECK(meta.count(f.key) == (std::string(f.group) == "run" ? 0u : 1u));
  }
  // a resumed run takes the kept options from the checkpoint and keeps its own run options
  TrainOptions resumed;
  resumed.threads = 1;
  resumed.from_metadata({{"lr", "0.003"}, {"seed", "5"}, {"threads", "7"}, {"device", "cuda"}});
  CHECK(resumed.lr == 0.003);
  CHECK(resumed.seed == 5);
  CHECK(resumed.threads == 1);
  CHECK(resumed.device == Device::CPU);
  // text that is not a value of the option's type, and a name that is no option
  CHECK(error_of([&] { o.set("steps", "ten"); }).find("--steps = 'ten' is not an integer") != std::string::npos);
  CHECK(error_of([&] { o.set("seed", "-1"); }).find("--seed = '-1'") != std::string::npos);
  CHECK(error_of([&] { o.set("threads", "1e10"); }).find("--threads = '1e10' is not a 32-bit integer") != std::string::npos);
  CHECK(error_of([&] { o.set("stepz", "1"); }).find("no training option 'stepz'") != std::string::npos);
  CHECK(error_of([&] { resumed.from_metadata({{"lr", "fast"}}); }).find("training option 'lr' = 'fast'") != std::string::npos);
}

TEST_CASE("a corrupt or foreign checkpoint is refused by name") {
  TempDir dir("corrupt");
  TrainOptions o = small_options(dir / "run");
  o.steps = 2;
  const TrainResult r = train(small_config(), o);
  std::string bytes = nn::read_file(r.checkpoint);
  bytes[bytes.size() - 100] = char(bytes[bytes.size() - 100] ^ 0x10);
  nn::write_file_atomic(dir / "flipped.safetensors", bytes);
  CHECK(error_of([&] { (void)load_model(dir / "flipped.safetensors"); }).find("checksum mismatch") != std::string::npos);
  nn::write_file_atomic(dir / "cut.safetensors", bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] { (void)load_model(dir / "cut.safetensors"); }).find("cut.safetensors") != std::string::npos);
  CHECK(error_of([&] { (void)load_model(MB_FIXTURES_DIR "/megabyte_tiny.safetensors"); }).find("no checksum") != std::string::npos);
}

TEST_CASE("data: windows come from the training part only and follow the seed") {
  Corpus c;
  c.bytes.resize(1000);
  const Split s = split_corpus(c, 0.1);
  CHECK(s.train_end == 900);
  CHECK(s.size == 1000);
  const std::vector<int64_t> at = window_offsets(0, s.train_end, 5000, 50, 3, 0);
  CHECK(*std::min_element(at.begin(), at.end()) == 0);    // both ends are reachable...
  CHECK(*std::max_element(at.begin(), at.end()) == 850);  // ...and none crosses into validation
  CHECK(window_offsets(0, 900, 4, 50, 3, 8) == window_offsets(0, 900, 4, 50, 3, 8));
  CHECK(window_offsets(0, 900, 4, 50, 3, 8) != window_offsets(0, 900, 4, 50, 3, 9));
  // batch i of step k uses counters k·B + i: a later batch is a later slice of one stream
  const auto stream = window_offsets(0, 900, 8, 50, 3, 0);
  CHECK(window_offsets(0, 900, 4, 50, 3, 4) == std::vector<int64_t>(stream.begin() + 4, stream.end()));
  // records: windows start at record boundaries
  for (int64_t o : window_offsets(100, 900, 200, 200, 5, 0, 100)) {
    CHECK((o - 100) % 100 == 0);
    CHECK(o + 200 <= 900);
  }
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i % 256);
  const Tensor x = sample_windows(data, 0, 900, 3, 10, 1, 0);
  const auto o = window_offsets(0, 900, 3, 10, 1, 0);
  for (int64_t i = 0; i < 3; ++i) CHECK(int64_t(x.at({i, 9})) == (o[size_t(i)] + 9) % 256);
  CHECK(error_of([&] { (void)window_offsets(0, 20, 1, 50, 1, 0); }).find("fewer than one window") != std::string::npos);
}

TEST_CASE("data formats: idx (plain and gzip), PPM, folders") {
  TempDir dir("formats");
  // an idx file of 3 images of 2 x 2 pixels
  std::string idx = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  for (int i = 0; i < 12; ++i) idx.push_back(char(i * 10));
  nn::write_file_atomic(dir / "img-idx3-ubyte", idx);
  const Corpus c = Corpus::load(dir / "img-idx3-ubyte");
  CHECK(c.bytes.size() == 12);
  CHECK(c.record == 4);
  CHECK(int(c.bytes[5]) == 50);
#ifdef MB_HAVE_ZLIB
  gzFile gz = gzopen((dir / "img.gz").c_str(), "wb");
  gzwrite(gz, idx.data(), unsigned(idx.size()));
  gzclose(gz);
  CHECK(Corpus::load(dir / "img.gz").bytes == c.bytes);
#else
  nn::write_file_atomic(dir / "img.gz", idx);
  CHECK(error_of([&] { (void)Corpus::load(dir / "img.gz"); }).find("this build has no zlib") != std::string::npos);
#endif
  CHECK(split_corpus(c, 0.2).train_end == 8);  // the tail starts at a record boundary
  nn::write_file_atomic(dir / "bad-idx", idx.substr(0, 20));
  CHECK(error_of([&] { (void)Corpus::load(dir / "bad-idx"); }).find("promises 12 bytes of data, the file has 4") != std::string::npos);
  // PPM with a comment
  nn::write_file_atomic(dir / "p.ppm", std::string("P6\n# made by hand\n2 1\n255\n") + "abcdef");
  const Corpus p = Corpus::load(dir / "p.ppm");
  CHECK(std::string(p.bytes.begin(), p.bytes.end()) == "abcdef");
  CHECK(p.record == 6);
  nn::write_file_atomic(dir / "q.ppm", std::string("P6\n2 1\n255\n") + "abc");
  CHECK(error_of([&] { (void)Corpus::load(dir / "q.ppm"); }).find("needs 6 bytes") != std::string::npos);
  // a folder of text files: sorted by name, concatenated
  fs::create_directories(dir.path / "txt" / "sub");
  nn::write_file_atomic(dir / "txt/b.txt", "BBB");
  nn::write_file_atomic(dir / "txt/a.txt", "AA");
  nn::write_file_atomic(dir / "txt/sub/c.txt", "C");
  const Corpus t = Corpus::load(dir / "txt", DataFormat::raw);
  CHECK(std::string(t.bytes.begin(), t.bytes.end()) == "AABBBC");
  CHECK(t.describe.find("3 files") != std::string::npos);
  CHECK(error_of([] { (void)from_name<DataFormat>("--format", "wav"); }).find("--format must be auto, raw, idx or ppm, got 'wav'") != std::string::npos);
}

TEST_CASE("evaluation predicts every byte once, the short last window included") {
  Config c = small_config();
  c.dropout = 0;
  auto model = make_model(c);
  model->init_parameters(5);
  std::vector<uint8_t> data(2 * 32 + 6);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t((i * 37) % 256);
  const double bpb = evaluate_bpb(*model, data, 0, int64_t(data.size()), eval_windows(32, 0, false, 8));
  // by hand: two full windows, then the 6 last bytes padded to 8
  NoGradGuard g;
  double nats = 0;
  for (int64_t s : {0, 32}) nats += sum(cross_entropy(model->forward(window_at(data, s, 32)), window_at(data, s, 32), Reduction::none)).item();
  std::vector<uint8_t> tail(data.begin() + 64, data.end());
  tail.resize(8, 0);
  const Tensor tx = reshape(Tensor::from_vector(tail, {8}), {1, 8});
  nats += sum(narrow(cross_entropy(model->forward(tx), tx, Reduction::none), 1, 0, 6)).item();
  CHECK(bpb == doctest::Approx(nats / 70 / std::log(2.0)).epsilon(1e-6));
  CHECK(error_of([&] { (void)evaluate_bpb(*model, data, 0, 70, eval_windows(30, 0, false, 8)); }).find("--window 30 must be a multiple of 4") != std::string::npos);
}

// ---------------------------------------------------------------- resuming, and what it refuses

namespace {
TrainOptions resumed(const TempDir& run, const std::map<std::string, std::string>& typed = {}) {
  TrainOptions r = small_options(run.path.string());
  r.resume = true;
  for (const auto& [key, value] : typed) r.set(key, value);
  return r;
}
// A copy of `from`'s checkpoint at `step` into `to`, with its training metadata edited.
void edited_checkpoint(const TempDir& from, const TempDir& to, int64_t step,
                       const std::map<std::string, std::string>& edits) {
  const std::string name = cat("ckpt_", std::string(6 - std::to_string(step).size(), '0'), step, ".safetensors");
  const Checkpoint c = load_checkpoint(from / name);
  auto model = make_model(c.config);
  model->load_state_dict(c.model);
  nn::AdamW adam(model->named_parameters());
  adam.load_state(c.optim, step);
  auto meta = c.train;
  for (const auto& [k, v] : edits) meta[k] = v;
  save_checkpoint(to / name, *model, &adam, meta);
}
}  // namespace

TEST_CASE("resume: --steps and the run options apply, other changed options are refused by name") {
  TempDir run("resume_given");
  TrainOptions o = small_options(run.path.string());
  o.steps = 4;
  train(small_config(), o);
  CHECK(error_of([&] { train(Config(), resumed(run, {{"lr", "0.5"}})); })
            .find("--resume: --lr 0.5 differs from the checkpoint's 0.002") != std::string::npos);
  CHECK(error_of([&] { train(Config(), resumed(run, {{"data", MB_SOURCE_DIR "/README.md"}})); })
            .find("--resume: --data") != std::string::npos);
  // typing the checkpoint's own value is no change
  CHECK(train(Config(), resumed(run, {{"batch", "4"}, {"threads", "1"}})).steps_done == 4);
  // --steps continues the run
  const TrainResult more = train(Config(), resumed(run, {{"steps", "6"}}));
  CHECK(more.steps_done == 6);
  CHECK(fs::exists(run / "ckpt_000006.safetensors"));
  CHECK(log_rows(run.path.string()).size() == 6);
}

TEST_CASE("resume: options read back from a checkpoint are validated again") {
  TempDir run("resume_valid"), bad("resume_valid_bad");
  TrainOptions o = small_options(run.path.string());
  o.steps = 2;
  train(small_config(), o);
  edited_checkpoint(run, bad, 2, {{"lr", "-5"}});
  CHECK(error_of([&] { train(Config(), resumed(bad)); }).find("--lr must be in (0, 1000], got -5") != std::string::npos);
}

TEST_CASE("resume: changed data are refused unless accepted, by size and hash") {
  TempDir run("resume_data");
  const std::string text = nn::read_file(MB_SOURCE_DIR "/data/tinyshakespeare.txt").substr(0, 20000);
  nn::write_file_atomic(run / "data.txt", text);
  TrainOptions o = small_options(run / "run");
  o.data = run / "data.txt";
  o.steps = 4;
  o.stop_at = 2;
  train(small_config(), o);
  std::string changed = text;
  changed[100] = changed[100] == 'x' ? 'y' : 'x';  // same size, one byte different
  nn::write_file_atomic(run / "data.txt", changed);
  TrainOptions r = o;
  r.resume = true;
  r.stop_at = 0;
  CHECK(error_of([&] { train(Config(), r); }).find("differs from the data the checkpoint was trained on") != std::string::npos);
  r.accept_new_data = true;
  CHECK(train(Config(), r).steps_done == 4);
}

TEST_CASE("resume falls back to the checkpoint before a damaged newest one") {
  TempDir run("resume_fallback");
  TrainOptions o = small_options(run.path.string());
  o.steps = 4;
  o.ckpt_every = 2;
  train(small_config(), o);
  std::string bytes = nn::read_file(run / "ckpt_000004.safetensors");
  bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 1);
  nn::write_file_atomic(run / "ckpt_000004.safetensors", bytes);
  TrainOptions r = resumed(run);
  const TrainResult res = train(Config(), r);  // from step 2 (a warning names the damaged file)
  CHECK(res.steps_done == 4);
  CHECK(load_checkpoint(run / "ckpt_000004.safetensors").train.at("step") == "4");
}

TEST_CASE("a run folder in use by another trainer is refused") {
  TempDir run("locked");
  const int fd = ::open(run.path.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);  // as a running trainer holds it
  CHECK(error_of([&] { train(small_config(), small_options(run.path.string())); })
            .find("is in use by another training process") != std::string::npos);
  ::close(fd);
  CHECK(train(small_config(), small_options(run.path.string())).steps_done == 12);
}

TEST_CASE("checkpoints are ordered by step, also past step 999,999") {
  TempDir run("order");
  for (const char* n : {"ckpt_999999.safetensors", "ckpt_1000000.safetensors", "ckpt_000005.safetensors",
                        "ckpt_x.safetensors", "ckpt_12.tmp"})
    nn::write_file_atomic(run / n, "");
  CHECK(checkpoints(run.path.string()) ==
        std::vector<std::string>{run / "ckpt_000005.safetensors", run / "ckpt_999999.safetensors",
                                 run / "ckpt_1000000.safetensors"});
  CHECK(latest_checkpoint(run.path.string()) == run / "ckpt_1000000.safetensors");
}

TEST_CASE("non-finite steps are skipped, and five in a row stop the run with no checkpoint of them") {
  TempDir run("nonfinite");
  Config c = small_config();
  c.init_std = 1e38;  // weights overflow f32: every loss is NaN
  TrainOptions o = small_options(run.path.string());
  o.ckpt_every = 1;
  CHECK(error_of([&] { train(c, o); }).find("5 steps in a row had a non-finite loss or gradient") != std::string::npos);
  CHECK(checkpoints(run.path.string()).empty());
}

TEST_CASE("a run that cannot fit in memory is refused before its folder appears") {
  TempDir dir("memory");
  TrainOptions o = small_options(dir / "run");
  o.batch = 1 << 20;
  o.val_fraction = 0;
  Config c = small_config();
  c.seq = 1 << 20;
  c.gdim = c.ldim = 256;
  CHECK(error_of([&] { train(c, o); }).find("needs") != std::string::npos);
  CHECK(!fs::exists(dir / "run"));
}

TEST_CASE("TensorBoard events: checksums, a message encoded by hand, torn and damaged records") {
  CHECK(tfevents::crc32c("123456789", 9) == 0xe3069283u);  // CRC-32C's check value
  // Event { wall_time 0.0, step 3, summary { value { tag "a", simple_value 1.0f } } }
  const std::string e = tfevents::scalars_event(0.0, 3, {{"a", 1.0f}});
  const std::string want = std::string("\x09\0\0\0\0\0\0\0\0\x10\x03\x2a\x0a\x0a\x08\x0a\x01" "a\x15\0\0\x80\x3f", 23);
  CHECK(e == want);
  CHECK(tfevents::event_step(e) == 3);
  const std::string two = tfevents::record(tfevents::version_event(1.5)) + tfevents::record(e);
  CHECK(tfevents::record(e).size() == 16 + e.size());
  CHECK(tfevents::read_records(two) == std::vector<std::string>{tfevents::version_event(1.5), e});
  CHECK(tfevents::read_records(two.substr(0, two.size() - 1)).size() == 1);  // torn: the last record is dropped
  std::string flipped = two;
  flipped[two.size() - 6] ^= 1;  // a byte of the second event
  CHECK(tfevents::read_records(flipped).size() == 1);
  flipped = two;
  flipped[0] ^= 1;  // the first length: nothing can be trusted
  CHECK(tfevents::read_records(flipped).empty());
}

TEST_CASE("TensorBoard events: one file beside log.csv, and a resumed run drops the steps it redoes") {
  TempDir run("tfevents");
  TrainOptions o = small_options(run.path.string());
  o.ckpt_every = 4;
  train(small_config(), o);
  auto event_files = [&] {
    std::vector<fs::path> f;
    for (const auto& e : fs::directory_iterator(run.path))
      if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) f.push_back(e.path());
    return f;
  };
  // the scalar events' steps, and the steps of events with a val/bpb
  auto steps = [&](std::vector<int64_t>* val) {
    REQUIRE(event_files().size() == 1);
    std::vector<int64_t> s;
    for (const std::string& e : tfevents::read_records(nn::read_file(event_files()[0].string())))
      if (e.find("train/loss") != std::string::npos) {
        s.push_back(tfevents::event_step(e));
        if (e.find("val/bpb") != std::string::npos) val->push_back(s.back());
      }
    return s;
  };
  std::vector<int64_t> all(12), val;
  std::iota(all.begin(), all.end(), 1);
  CHECK(steps(&val) == all);
  CHECK(val == std::vector<int64_t>{4, 8, 12});
  // back to step 4, with a torn record at the end of the file (a write cut short by a kill)
  fs::remove(run / "ckpt_000008.safetensors");
  fs::remove(run / "ckpt_000012.safetensors");
  std::ofstream(event_files()[0], std::ios::app) << "torn";
  o.resume = true;
  train(small_config(), o);
  val.clear();
  CHECK(steps(&val) == all);
  CHECK(val == std::vector<int64_t>{4, 8, 12});
}
