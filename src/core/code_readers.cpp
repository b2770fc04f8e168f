#include "code_readers.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace pg_vip {
namespace {

// What a program does with its operands (the words that are not options).
enum class Reads {
  Shell,        // sh: the first operand is -c's code, else the script it runs; -s: none
  Interpreter,  // perl: a code option's argument; with none, the first operand names the script
  Program,      // awk, sed: a code option's argument; with none, the first operand is the program
  Statements,   // sqlite3: operands from the second on are SQL and dot-commands (.shell)
  Options,      // mysql, gdb, vim, rsync: only a code option's argument
  Everything,   // ssh, watch, at: every argument ends up in a shell
  Wrapper,      // env, sudo, timeout: runs the command that follows its options
  Find,         // find: runs the command after -exec, -execdir, -ok, -okdir
  Multicall,    // busybox: its first operand names the program it becomes
  Su,           // su, runuser: -c's argument; the words after the user go to the user's shell
};

struct Program {
  const char *names;  // space-separated
  Reads reads;
  const char *code_options;   // options whose argument is code (or a command line, a module, a code file)
  const char *value_options;  // options whose argument is data
  int leading_operands;       // Wrapper: operands before the command (timeout's duration)
  bool reads_input;           // runs its standard input as code when given no code or script
  const char *why;            // Everything: what it does with its arguments; Wrapper: the shell option's effect
};

// Options are written as on the command line: "-e" a short option (also
// found inside a cluster such as -ne), "--eval" and "-ex" whole words.
const Program kPrograms[] = {
    {"sh bash dash ash ksh ksh93 mksh lksh pdksh zsh yash posh rbash hush csh tcsh", Reads::Shell, "-c",
     "-o +o -O +O --rcfile --init-file", 0, true, ""},
    {"fish", Reads::Shell, "-c -C --command --init-command", "", 0, true, ""},
    {"perl", Reads::Interpreter, "-e -E -M -m", "-I", 0, true, ""},
    {"python pypy", Reads::Interpreter, "-c -m", "-W -X", 0, true, ""},
    {"ruby jruby", Reads::Interpreter, "-e -r --require", "-I -C -E -F --encoding", 0, true, ""},
    {"node nodejs bun", Reads::Interpreter, "-e -p -r --eval --print --require --import --loader --experimental-loader",
     "", 0, true, ""},
    {"php", Reads::Interpreter, "-r -B -R -E -F -f -c -d", "-z -t", 0, true, ""},
    {"lua luajit", Reads::Interpreter, "-e -l", "", 0, true, ""},
    {"Rscript", Reads::Interpreter, "-e", "", 0, true, ""},
    {"julia", Reads::Interpreter, "-e -E -L --eval --print --load", "", 0, true, ""},
    {"tclsh wish jimsh", Reads::Interpreter, "", "", 0, true, ""},
    {"expect", Reads::Interpreter, "-c -f", "", 0, true, ""},
    {"gnuplot", Reads::Interpreter, "-e", "", 0, true, ""},
    {"guile", Reads::Interpreter, "-c -l -s -e", "", 0, false, ""},
    {"racket", Reads::Interpreter, "-e -f -r -t -l", "", 0, true, ""},
    {"groovy scala jrunscript elixir", Reads::Interpreter, "-e", "", 0, false, ""},
    {"erl", Reads::Options, "-eval -s -run", "", 0, false, ""},
    {"dc", Reads::Interpreter, "-e -f --expression --file", "", 0, true, ""},
    {"awk gawk mawk nawk original-awk", Reads::Program, "-f -e -i -l -E --file --source --include --load --exec",
     "-F -v -W --field-separator --assign", 0, false, ""},
    {"sed gsed", Reads::Program, "-e -f --expression --file", "-l --line-length", 0, false, ""},
    {"sqlite3", Reads::Statements, "-cmd -init", "", 0, true, ""},
    {"R", Reads::Options, "-e", "", 0, true, ""},
    {"mysql mariadb", Reads::Options, "-e --execute --init-command", "", 0, true, ""},
    {"psql", Reads::Options, "-c -f --command --file", "", 0, true, ""},
    {"gdb", Reads::Options, "-ex -iex -x -ix --eval-command --init-eval-command --command --init-command", "", 0, false,
     ""},
    {"emacs", Reads::Options, "--eval -eval -l --load -f --funcall --script -x", "", 0, false, ""},
    {"vim vi nvim ex view gvim vimdiff", Reads::Options, "-c -S -u --cmd", "", 0, true, ""},
    {"ed red", Reads::Options, "", "", 0, true, ""},
    {"rsync", Reads::Options, "-e --rsh --rsync-path", "", 0, false, ""},
    {"script", Reads::Options, "-c --command", "", 0, false, ""},
    {"ssh slogin autossh rsh remsh dbclient mosh", Reads::Everything, "", "", 0, true,
     "has the remote host's shell run its command words as code, and takes a value before them as an option "
     "(-oProxyCommand=...) or the host"},
    {"watch", Reads::Everything, "", "", 0, false, "runs its command with sh -c"},
    {"sg", Reads::Everything, "", "", 0, false, "runs its command with sh -c"},
    {"tmux", Reads::Everything, "", "", 0, false, "runs its commands with a shell"},
    {"parallel pdsh clush dsh pssh parallel-ssh", Reads::Everything, "", "", 0, false,
     "runs its command lines with a shell, here or on other hosts"},
    {"at batch", Reads::Everything, "", "", 0, true, "runs the commands it is given later, with a shell"},
    {"crontab", Reads::Everything, "", "", 0, true, "installs the commands it is given, for cron to run with a shell"},
    {"pwsh powershell", Reads::Everything, "", "", 0, true, "reads its arguments as PowerShell code"},
    {"deno", Reads::Everything, "", "", 0, true, "runs code given in its arguments (deno eval)"},
    {"ansible", Reads::Everything, "", "", 0, false, "runs its arguments as commands on other hosts"},
    {". source", Reads::Everything, "", "", 0, true, "reads a file as shell code (/dev/stdin among them)"},
    {"env", Reads::Wrapper, "-S --split-string", "-u -C --unset --chdir", 0, false, ""},
    {"sudo", Reads::Wrapper, "",
     "-u -g -h -p -C -D -r -t -U -T -R --user --group --host --prompt --close-from --chdir --role --type "
     "--other-user --command-timeout --chroot",
     0, true, "-s -i --shell --login"},
    {"doas", Reads::Wrapper, "", "-u -C", 0, true, "-s"},
    {"nice", Reads::Wrapper, "", "-n --adjustment", 0, false, ""},
    {"nohup setsid unshare prlimit unbuffer catchsegv valgrind firejail builtin command", Reads::Wrapper, "", "", 0,
     false, ""},
    {"time", Reads::Wrapper, "", "-f -o --format --output", 0, false, ""},
    {"exec", Reads::Wrapper, "", "-a", 0, false, ""},
    {"timeout", Reads::Wrapper, "", "-s -k --signal --kill-after", 1, false, ""},
    {"stdbuf", Reads::Wrapper, "", "-i -o -e --input --output --error", 0, false, ""},
    {"ionice", Reads::Wrapper, "", "-c -n -p -P -u --class --classdata", 0, false, ""},
    {"chrt", Reads::Wrapper, "", "-T -P -D", 1, false, ""},
    {"taskset", Reads::Wrapper, "", "", 1, false, ""},
    {"flock", Reads::Wrapper, "-c --command", "-w -E --wait --timeout --conflict-exit-code", 1, false, ""},
    {"chroot", Reads::Wrapper, "", "--userspec --groups", 1, false, ""},
    {"setarch faketime", Reads::Wrapper, "", "", 1, false, ""},
    {"nsenter", Reads::Wrapper, "", "-t -S -G --target --setuid --setgid", 0, false, ""},
    {"numactl", Reads::Wrapper, "", "-C -N -m -p -i --cpunodebind --membind --physcpubind --preferred --interleave", 0,
     false, ""},
    {"cgexec", Reads::Wrapper, "", "-g", 0, false, ""},
    {"systemd-run", Reads::Wrapper, "",
     "-p -u -E -M -H --property --unit --setenv --machine --host --description --slice --uid --gid "
     "--working-directory",
     0, false, ""},
    {"strace", Reads::Wrapper, "", "-e -o -p -s -u -E -P -I -b -a -X -O -S", 0, false, ""},
    {"ltrace", Reads::Wrapper, "", "-e -o -p -s -u -n -a -l", 0, false, ""},
    {"torsocks", Reads::Wrapper, "", "-u -p -a -P", 0, false, ""},
    {"proxychains proxychains4", Reads::Wrapper, "", "-f", 0, false, ""},
    {"sshpass", Reads::Wrapper, "", "-p -f -d -P", 0, false, ""},
    {"pkexec", Reads::Wrapper, "", "--user", 0, false, ""},
    {"chpst", Reads::Wrapper, "", "-u -U -b -e -n -l -L -m -d -o -p -f -c", 0, false, ""},
    {"xargs", Reads::Wrapper, "",
     "-a -d -E -I -L -n -P -s --arg-file --delimiter --eof --replace --max-lines --max-args --max-procs "
     "--max-chars --process-slot-var",
     0, false, ""},
    {"find", Reads::Find, "", "", 0, false, ""},
    {"busybox toybox", Reads::Multicall, "", "", 0, false, ""},
    {"su", Reads::Su, "-c -C --command --session-command", "-s -g -G -w --shell --group --supp-group", 0, true, ""},
    {"runuser", Reads::Su, "-c -C --command --session-command", "-u -s -g -G -w --user --shell --group --supp-group", 0,
     true, ""},
};

bool in_list(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    auto space = list.find(' ');
    if (list.substr(0, space) == word) return true;
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return false;
}

std::string basename_of(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The program a command name runs: its base name, or that name without a
// version (python3.11, perl5.36, lua5.4, tclsh8.6).
const Program *program_named(const CommandWord &word) {
  if (word.value) return nullptr;
  std::string name = basename_of(word.text);
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const auto &p : kPrograms)
      if (!name.empty() && in_list(p.names, name)) return &p;
    while (!name.empty() && (std::isdigit(static_cast<unsigned char>(name.back())) || name.back() == '.'))
      name.pop_back();
  }
  return nullptr;
}

enum class Takes { Nothing, Data, Code };

struct Option {
  Takes takes = Takes::Nothing;
  bool attached = false;  // the argument is in the same word (-ecode, --eval=code)
  bool shell = false;     // Wrapper: its shell option (sudo -s)
  bool stdin = false;     // Shell: -s, the script is the standard input
};

// How `p` reads the option word `text`; nullopt when it is an operand.
std::optional<Option> option_of(const Program &p, const std::string &text) {
  bool plus = p.reads == Reads::Shell && text.size() > 1 && text[0] == '+';
  if (text.size() < 2 || (text[0] != '-' && !plus)) return std::nullopt;
  Option o;
  if (text.rfind("--", 0) == 0) {
    auto eq = text.find('=');
    std::string name = text.substr(0, eq);
    o.attached = eq != std::string::npos;
    o.takes = in_list(p.code_options, name)    ? Takes::Code
              : in_list(p.value_options, name) ? Takes::Data
                                               : Takes::Nothing;
    o.shell = p.reads == Reads::Wrapper && in_list(p.why, name);
    return o;
  }
  // A whole word first: gdb -ex, emacs -eval, sqlite3 -cmd.
  if (in_list(p.code_options, text) || in_list(p.value_options, text)) {
    o.takes = in_list(p.code_options, text) ? Takes::Code : Takes::Data;
    return o;
  }
  for (std::size_t i = 1; i < text.size(); ++i) {
    std::string letter = std::string(1, text[0]) + text[i];
    if (p.reads == Reads::Wrapper && in_list(p.why, letter)) o.shell = true;
    if (p.reads == Reads::Shell && text[i] == 's') o.stdin = true;
    bool code = in_list(p.code_options, letter), data = in_list(p.value_options, letter);
    if (code || data) {
      o.takes = code ? Takes::Code : Takes::Data;
      o.attached = i + 1 < text.size();
      break;
    }
  }
  return o;
}

CodeReader code_option(const std::string &name, const std::string &option, bool shell_family) {
  if (shell_family)
    return {name, "follows " + option + ", the option with which shells, su and interpreters take the code to run: " +
                      name + " would run the value as code"};
  return {name, "follows " + option + ", the option with which " + name + " takes the code to run"};
}

CodeReader command_position(const std::string &name) {
  return {name, "stands where " + name + " expects the command it runs, so the value would be run as a command", true};
}

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::optional<CodeReader> argument_at(const std::vector<CommandWord> &w, std::size_t start, std::size_t at);
std::optional<CodeReader> input_of(const std::vector<CommandWord> &w, std::size_t start);

// The words of a program that reads code itself (Shell to Options). `at` is
// the word asked about, or kNone to ask whether it reads its input as code.
struct Reading {
  std::optional<CodeReader> problem;
  bool reads_input = false;
};

Reading read_operands(const Program &p, const std::string &name, const std::vector<CommandWord> &w, std::size_t start,
                      std::size_t at) {
  Reading r;
  bool code_given = false, stdin_script = false, options_done = false;
  std::string code_word;  // the option that gave the code
  Takes pending = Takes::Nothing;
  std::size_t operands = 0;
  std::size_t end = at == kNone ? w.size() : at + 1;
  for (std::size_t k = start + 1; k < end; ++k) {
    const CommandWord &cw = w[k];
    if (pending != Takes::Nothing) {
      Takes was = pending;
      pending = Takes::Nothing;
      if (k == at && was == Takes::Code) r.problem = code_option(name, code_word, false);
      continue;
    }
    if (!options_done && !cw.value && cw.text == "--") {
      options_done = true;
      continue;
    }
    std::optional<Option> o;
    if (!options_done && !cw.value) o = option_of(p, cw.text);
    if (o) {
      if (o->stdin) stdin_script = true;
      if (o->takes == Takes::Code) {
        code_given = true;
        code_word = cw.text;
        // A shell's -c is a flag: its code is the first operand.
        if (p.reads != Reads::Shell && !o->attached) pending = Takes::Code;
      } else if (o->takes == Takes::Data && !o->attached) {
        pending = Takes::Data;
      }
      if (k == at && o->attached && o->takes == Takes::Code) r.problem = code_option(name, cw.text, false);
      continue;
    }
    // An operand.
    std::size_t n = operands++;
    bool first = n == 0;
    if (k == at) {
      if (p.reads == Reads::Shell && code_given && first) r.problem = code_option(name, code_word, true);
      else if (p.reads == Reads::Shell && !code_given && !stdin_script && first)
        r.problem = CodeReader{name, "stands where " + name +
                                         " expects the script it runs, so the value would name "
                                         "the code that runs"};
      else if (p.reads == Reads::Interpreter && !code_given && first)
        r.problem = CodeReader{name, "stands where " + name +
                                         " expects the script it runs, so the value would name "
                                         "the code that runs"};
      else if (p.reads == Reads::Program && !code_given && first)
        r.problem = CodeReader{name, "stands where " + name +
                                         " reads its program, which it runs as code (and which "
                                         "can start commands)"};
      else if (p.reads == Reads::Statements && !first)
        r.problem = CodeReader{name, "stands where " + name +
                                         " reads SQL and dot-commands, which can start "
                                         "commands (.shell)"};
      return r;
    }
    if (first && !cw.value && (cw.text == "-" || cw.text == "/dev/stdin") &&
        (p.reads == Reads::Shell || p.reads == Reads::Interpreter))
      stdin_script = true;
    // A script's arguments follow it; a shell's and an interpreter's options end there.
    if (p.reads == Reads::Shell || p.reads == Reads::Interpreter) options_done = true;
  }
  if (at == kNone && p.reads_input) {
    if (p.reads == Reads::Statements) r.reads_input = operands < 2;
    else if (p.reads == Reads::Options) r.reads_input = !code_given;
    else r.reads_input = stdin_script || (!code_given && operands == 0);
  }
  return r;
}

// su and runuser: su [options] [-] [user [arguments for the user's shell]].
// runuser -u user runs a command of its own, as a Wrapper does.
std::optional<CodeReader> su_argument(const Program &p, const std::string &name, const std::vector<CommandWord> &w,
                                      std::size_t start, std::size_t at, bool &reads_input) {
  Takes pending = Takes::Nothing;
  std::string code_word;
  bool code_given = false;
  std::size_t end = at == kNone ? w.size() : at + 1;
  for (std::size_t k = start + 1; k < end; ++k) {
    const CommandWord &cw = w[k];
    if (pending != Takes::Nothing) {
      Takes was = pending;
      pending = Takes::Nothing;
      if (k == at && was == Takes::Code) return code_option(name, code_word, true);
      continue;
    }
    if (!cw.value && cw.text == "-") continue;  // a login shell
    std::optional<Option> o;
    if (!cw.value) o = option_of(p, cw.text);
    if (o) {
      if (name == "runuser" && (cw.text == "-u" || cw.text.rfind("--user", 0) == 0)) {
        // runuser -u user [--] command: a command of its own, as a Wrapper runs one.
        std::size_t from = k + (o->attached ? 1 : 2);
        if (from < w.size() && !w[from].value && w[from].text == "--") ++from;
        if (at == kNone) {
          for (std::size_t j = from; j < w.size(); ++j)
            if (auto r = input_of(w, j)) {
              reads_input = true;
              return r;
            }
          return std::nullopt;
        }
        if (at == from) return command_position(name);
        for (std::size_t j = from; j < at; ++j)
          if (auto r = argument_at(w, j, at)) return r;
        return std::nullopt;
      }
      if (o->takes == Takes::Code) {
        code_given = true;
        code_word = cw.text;
        if (!o->attached) pending = Takes::Code;
        else if (k == at) return code_option(name, cw.text, true);
      } else if (o->takes == Takes::Data && !o->attached) {
        pending = Takes::Data;
      }
      continue;
    }
    // The user; the words after it go to the user's shell as its own arguments.
    if (k == at) return std::nullopt;
    static const Program shell = kPrograms[0];
    Reading r = read_operands(shell, name, w, k, at);
    if (at == kNone) reads_input = !code_given && r.reads_input;
    return r.problem;
  }
  if (at == kNone) reads_input = !code_given;
  return std::nullopt;
}

// env, sudo, timeout, xargs: the command after the options (and, for some,
// leading operands). Where an option's arity is unknown the command may
// start later than it seems, so every known program among the words before
// `at` is asked as well.
std::optional<CodeReader> wrapper_argument(const Program &p, const std::string &name, const std::vector<CommandWord> &w,
                                           std::size_t start, std::size_t at) {
  Takes pending = Takes::Nothing;
  std::string code_word, shell_word;
  int leading = p.leading_operands;
  bool options_done = false, command_given = false;  // command_given: env -S 'cmd args', flock -c 'cmd'

  for (std::size_t k = start + 1; k <= at && k < w.size(); ++k) {
    const CommandWord &cw = w[k];
    if (pending != Takes::Nothing) {
      Takes was = pending;
      pending = Takes::Nothing;
      if (k == at && was == Takes::Code)
        return CodeReader{name,
                          "follows " + code_word + ", the option with which " + name + " takes a command line to run"};
      if (was == Takes::Code) command_given = true;
      continue;
    }
    if (!options_done && !cw.value && cw.text == "--") {
      options_done = true;
      continue;
    }
    std::optional<Option> o;
    if (!options_done && !cw.value) o = option_of(p, cw.text);
    if (o) {
      if (o->shell) shell_word = cw.text;
      if (o->takes == Takes::Code) {
        code_word = cw.text;
        if (!o->attached) pending = Takes::Code;
        else command_given = true;
      } else if (o->takes == Takes::Data && !o->attached) {
        pending = Takes::Data;
      }
      continue;
    }
    if (name == "env" && !cw.value && cw.text.find('=') != std::string::npos && cw.text[0] != '=') continue;
    if (leading > 0) {
      --leading;
      continue;
    }
    if (command_given) break;  // the words after it are the command's arguments
    // The command.
    if (!shell_word.empty())
      return CodeReader{name, "is an argument of " + name + " " + shell_word + ", which has a shell run its command"};
    if (k == at) return command_position(name);
    if (auto r = argument_at(w, k, at)) return r;
    break;
  }
  for (std::size_t k = start + 1; k < at; ++k)
    if (program_named(w[k]))
      if (auto r = argument_at(w, k, at)) return r;
  return std::nullopt;
}

std::optional<CodeReader> find_argument(const std::vector<CommandWord> &w, std::size_t start, std::size_t at) {
  for (std::size_t k = start + 1; k < at; ++k) {
    if (w[k].value || !in_list("-exec -execdir -ok -okdir", w[k].text)) continue;
    std::size_t end = k + 1;
    while (end < w.size() && (w[end].value || (w[end].text != ";" && w[end].text != "+"))) ++end;
    if (at >= end) continue;
    if (at == k + 1)
      return CodeReader{"find",
                        "stands where find " + w[k].text +
                            " expects the command it runs, so the value would be run as a "
                            "command",
                        true};
    return argument_at(w, k + 1, at);
  }
  return std::nullopt;
}

std::optional<CodeReader> argument_at(const std::vector<CommandWord> &w, std::size_t start, std::size_t at) {
  if (start >= at || at >= w.size()) return std::nullopt;
  const Program *p = program_named(w[start]);
  if (!p) return std::nullopt;
  std::string name = basename_of(w[start].text);
  bool ignored = false;
  switch (p->reads) {
    case Reads::Everything: return CodeReader{name, "is an argument of " + name + ", which " + p->why};
    case Reads::Wrapper: return wrapper_argument(*p, name, w, start, at);
    case Reads::Find: return find_argument(w, start, at);
    case Reads::Multicall:
      if (at == start + 1) return command_position(name);
      return argument_at(w, start + 1, at);
    case Reads::Su: return su_argument(*p, name, w, start, at, ignored);
    default: return read_operands(*p, name, w, start, at).problem;
  }
}

CodeReader runs_input(const std::string &name) {
  return {name, name + ", which runs what it reads from its standard input as code"};
}

std::optional<CodeReader> input_of(const std::vector<CommandWord> &w, std::size_t start) {
  if (start >= w.size()) return std::nullopt;
  const Program *p = program_named(w[start]);
  if (!p) return std::nullopt;
  std::string name = basename_of(w[start].text);
  switch (p->reads) {
    case Reads::Everything:
      if (p->reads_input) return runs_input(name);
      return std::nullopt;
    case Reads::Su: {
      bool reads = false;
      if (auto r = su_argument(*p, name, w, start, kNone, reads)) return r;
      if (reads) return runs_input(name);
      return std::nullopt;
    }
    case Reads::Find: return std::nullopt;
    case Reads::Multicall: return input_of(w, start + 1);
    case Reads::Wrapper: {
      if (name == "xargs") {
        // xargs hands what it reads to its command as arguments (with -I,
        // anywhere in them): a code reader among its words may run it.
        bool replace = std::any_of(w.begin() + static_cast<std::ptrdiff_t>(start) + 1, w.end(), [](const auto &x) {
          return !x.value &&
                 (x.text.rfind("-I", 0) == 0 || x.text.rfind("-i", 0) == 0 || x.text.rfind("--replace", 0) == 0);
        });
        std::vector<CommandWord> with_input = w;
        with_input.push_back({"(input)", true});
        for (std::size_t k = start + 1; k < w.size(); ++k) {
          const Program *q = program_named(w[k]);
          if (!q) continue;
          std::string inner = basename_of(w[k].text);
          if (replace || argument_at(with_input, k, with_input.size() - 1))
            return CodeReader{"xargs", "xargs, which hands what it reads to " + inner + " as arguments that " + inner +
                                           " runs as code"};
        }
        return std::nullopt;
      }
      bool shell = false;
      for (std::size_t k = start + 1; k < w.size(); ++k) {
        if (w[k].value) continue;
        if (auto o = option_of(*p, w[k].text); o && o->shell) shell = true;
      }
      if (shell && p->reads_input) return runs_input(name);
      for (std::size_t k = start + 1; k < w.size(); ++k)
        if (program_named(w[k]))
          if (auto r = input_of(w, k)) return r;
      return std::nullopt;
    }
    default:
      if (read_operands(*p, name, w, start, kNone).reads_input) return runs_input(name);
      return std::nullopt;
  }
}

}  // namespace

std::optional<CodeReader> code_reader_of_argument(const std::vector<CommandWord> &words, std::size_t at) {
  return argument_at(words, 0, at);
}

std::optional<CodeReader> code_reader_of_input(const std::vector<CommandWord> &words) { return input_of(words, 0); }

}  // namespace pg_vip
