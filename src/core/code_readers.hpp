// The well-known programs that read code: which word of their command line
// (sh -c's operand, perl -e's argument, awk's and sed's program, ssh's
// command words, all of watch's arguments, the command that env, sudo,
// xargs or find -exec run, ...) and which of them read code from their
// standard input (sh, perl with no script, ssh, at, ...).
//
// The notification template check asks this about every word that may hold
// a value from AWS. The list can never be complete (any script may hand its
// arguments to eval): it catches the common ways to run a value by mistake,
// and the README says that the PG_VIP_* environment variables are the safe
// way. Where a command line is unusual the answer errs towards "code".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

// A word of one simple command as the shell will pass it.
struct CommandWord {
  std::string text;    // after quote removal; for a value, as written (%d, $1)
  bool value = false;  // holds a value from outside: the program sees unknown text
};

// Who reads the value as code, and how: `how` ends a sentence whose subject
// is the word ("The placeholder %d "), e.g. "is an argument of ssh, which ...".
struct CodeReader {
  std::string program;
  std::string how;
  bool names_command = false;  // the word is the name of the command a wrapper runs (nice -n 5 %d)
};

// Whether the program `words` runs (words[0] its name), or one that it runs
// in turn (env, sudo, timeout, xargs, find -exec, busybox, ...), reads
// words[at] as code or runs it as a command.
std::optional<CodeReader> code_reader_of_argument(const std::vector<CommandWord> &words, std::size_t at);

// Whether the command `words` runs what it reads from its standard input as
// code; `how` then ends a sentence whose subject is the pipe's writer
// ("The command pipes into "), e.g. "sh, which runs its standard input as code".
std::optional<CodeReader> code_reader_of_input(const std::vector<CommandWord> &words);

}  // namespace pg_vip
