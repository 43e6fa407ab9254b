// TensorBoard event files (events.out.tfevents.*), written by our own small writer so that a
// run folder opens in TensorBoard, or in any tool that reads its files, with no dependency.
//
// A file is a sequence of records (TFRecord framing), each
//   u64 length | u32 masked CRC-32C of those 8 bytes | `length` bytes | u32 masked CRC-32C of them
// (little-endian; mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8), and each record one
// tensorflow.Event protobuf message (event.proto, summary.proto): the first says the file
// version, then one per logged step carrying a Summary of scalars, and one carrying the run's
// options as a text summary (the text plugin's string tensor).
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace mb::tfevents {

uint32_t crc32c(const void* data, size_t n);  // Castagnoli, as TFRecord uses; "123456789" -> 0xe3069283
uint32_t masked_crc32c(const void* data, size_t n);

// Event messages, serialised. wall_time is seconds since the epoch.
std::string version_event(double wall_time);  // file_version "brain.Event:2"
std::string scalars_event(double wall_time, int64_t step, const std::vector<std::pair<std::string, float>>& scalars);
std::string text_event(double wall_time, int64_t step, const std::string& tag, const std::string& markdown);

std::string record(const std::string& event);  // one framed record
// The events of a file's bytes, in order, up to the first record that is torn (a write cut
// short) or whose checksums do not match: what a reader can trust.
std::vector<std::string> read_records(const std::string& bytes);
int64_t event_step(const std::string& event);  // an Event's step field (0 when absent)

// The event file of a run folder, appended to as the run goes. A fresh run starts a new file
// and removes the folder's other event files, as log.csv is started anew. A resumed run at
// step S keeps the events of steps <= S from the folder's event files (those of the steps it
// redoes are dropped, as log.csv's rows are), writes them to a new file, and removes the
// others: the folder always holds one file, which matches log.csv.
class RunEvents {
 public:
  RunEvents(const std::string& folder, int64_t resumed_step);  // resumed_step < 0: a fresh run
  // an event stamped with the time now, appended and flushed; throws on a failed write
  void scalars(int64_t step, const std::vector<std::pair<std::string, float>>& values);
  void text(int64_t step, const std::string& tag, const std::string& markdown);
  const std::string& path() const { return path_; }

 private:
  void append(const std::string& event);
  std::string path_;
  std::ofstream out_;
};

}  // namespace mb::tfevents
