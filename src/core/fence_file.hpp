// $PGDATA/pg_vip.fence: the fence a stale primary remembers across a
// restart (src/glue/fence_action.cpp reads it when shared memory is made,
// before the first connection, and the worker writes it when the node is
// fenced). Its text, and how it is read and written: the data directory is
// the server's, but what stands at those two names is not taken on trust.
// A symlink there is not followed (its target is neither read nor
// overwritten), a FIFO does not hang the postmaster, and only a small
// regular file of the server's own user is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip::fence_file {

// What the file remembers: who holds the VIP, as its fence tag named it.
struct Fence {
  std::string holder;
  uint32_t holder_timeline = 0;  // 0: none known
};

// No file pg_vip writes comes near it (a holder's name is at most 127 bytes,
// 508 escaped); a larger one is not pg_vip's.
constexpr std::size_t kMaxBytes = 4096;

// "holder=<name>\ntimeline=<n>\n": a field per line. A backslash, a line
// break or any other control character in the name is escaped (\\, \n,
// \xHH), so no text in a field can end it or begin another.
std::string format(const Fence &fence);

// The fields of a file format() wrote; nullopt for anything else (a line
// without '=', a bad escape or a raw control character, a timeline that is
// not a number, a field missing or given twice). A field of another name is
// skipped, for a later version's sake.
std::optional<Fence> parse(std::string_view text);

enum class Found { kNone, kFile, kRefused };

struct Contents {
  Found found = Found::kNone;
  std::string text;  // kFile: the whole file
  std::string why;   // kRefused: why it was not read, a sentence
};

// Reads `path` without following a symlink, without waiting on a FIFO, and
// only when it is a regular file owned by this process's user and at most
// kMaxBytes long. kNone: nothing there.
Contents read(const char *path);

// Writes `text` to `path` as a new file, mode 600: first to `temp_path`
// (anything already there, a symlink included, is removed, never written
// through; the new file is created exclusively and without following a
// link), synced, then renamed over `path` and the directory synced, so that
// a crash leaves the old file or the new one. Returns "" or, on failure
// (the temporary file removed), what failed, a sentence.
std::string write(const char *temp_path, const char *path, std::string_view text);

}  // namespace pg_vip::fence_file
