#include "notify.hpp"

#include "code_readers.hpp"
#include "text.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

extern char **environ;

namespace pg_vip {
namespace {

constexpr std::string_view kPlaceholders = "nestdvr";

bool is_placeholder(char k) { return k != '\0' && kPlaceholders.find(k) != std::string_view::npos; }

// One unit of a template as the shell will read it: a character written in
// the template, or a placeholder, which becomes one single-quoted word.
struct Cell {
  char c = 0;
  char placeholder = 0;  // one of kPlaceholders, or 0 for a character
};

// The one reading of a template that both the check and the substitution
// use: %% is a %, %<letter> a placeholder, any other % stays as written.
std::vector<Cell> cells_of(std::string_view templ) {
  std::vector<Cell> out;
  out.reserve(templ.size());
  for (std::size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] != '%' || i + 1 == templ.size()) {
      out.push_back({templ[i], 0});
      continue;
    }
    char k = templ[++i];
    if (is_placeholder(k)) {
      out.push_back({0, k});
    } else {
      out.push_back({'%', 0});
      if (k != '%') out.push_back({k, 0});  // unknown: left as written
    }
  }
  return out;
}

const char kEnvironmentHint[] =
    "A hook can also read every value from its environment, without any quoting: PG_VIP_NODE_NAME, PG_VIP_EVENT, "
    "PG_VIP_SUCCESS, PG_VIP_TIMESTAMP, PG_VIP_DETAILS, PG_VIP_VIP and PG_VIP_ROUTE_TABLES.";

// For a value that would reach code: no list of the programs that run their
// arguments or input as code is complete, so the hint names the way that
// needs none.
const char kCodeReaderHint[] =
    "Hand the values only to a program or script that uses them as data (\"$1\"). pg_vip knows the common programs "
    "that run an argument or their input as code, but no such list is complete: the safe way is a script of your "
    "own that reads each value from its environment (PG_VIP_NODE_NAME, PG_VIP_EVENT, PG_VIP_SUCCESS, "
    "PG_VIP_TIMESTAMP, PG_VIP_DETAILS, PG_VIP_VIP, PG_VIP_ROUTE_TABLES) and never runs it.";

// Shell contexts a placeholder may not stand in. Top level (the empty
// stack) is the only one where the quoted reference pg_vip puts in its place
// ("${PG_VIP_DETAILS}") is one literal word.
enum class Context { Single, Double, Backquote, CommandSub, Paren, Param, Arith, Comment };

std::string where(Context c) {
  switch (c) {
    case Context::Single:
      return "inside single quotes, where it would not become the value: pg_vip quotes each value itself";
    case Context::Double:
      return "inside double quotes, where the shell still expands $(...), `...` and $variables in the value";
    case Context::Backquote: return "inside backquotes (`...`), whose text the shell reads again as a command";
    case Context::CommandSub:
    case Context::Paren: return "inside a command substitution $(...), whose text the shell reads again";
    case Context::Param: return "inside a parameter expansion ${...}, whose text the shell reads again";
    case Context::Arith: return "inside an arithmetic expansion $((...)), whose text the shell evaluates";
    case Context::Comment: return "in a comment, which a line break in the value would end";
  }
  return "inside quotes";
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_operator(char c) { return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>'; }

// Reserved words after which the shell still expects a command name.
bool is_reserved_word(const std::string &w) {
  static const char *const words[] = {"!",  "{",  "}",    "if",   "then",  "else", "elif",
                                      "fi", "do", "done", "esac", "while", "until"};
  return std::any_of(std::begin(words), std::end(words), [&](const char *x) { return w == x; });
}

// Builtins and common programs that run the command named after them (and
// their options).
bool is_command_wrapper(const std::string &w) {
  static const char *const words[] = {"time",  "coproc", "exec",   "command", "builtin", "env",
                                      "nohup", "nice",   "setsid", "sudo",    "doas"};
  return std::any_of(std::begin(words), std::end(words), [&](const char *x) { return w == x; });
}

// -c, or a cluster of short options with c in it (sh -ec, bash -lc): the
// option with which shells, su and interpreters take the code to run.
bool is_code_option(const std::string &w) {
  if (w.size() < 2 || w[0] != '-' || w[1] == '-') return false;
  bool letters =
      std::all_of(w.begin() + 1, w.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  return letters && w.find('c') != std::string::npos;
}

// Commands that run or evaluate their arguments as shell code, or as
// variable names whose subscripts bash evaluates (`a[$(...)]`).
bool evaluates_arguments(const std::string &w) {
  static const char *const words[] = {
      "eval", "trap",    "let",       "source", ".",  "declare", "typeset",  "local",   "export", "readonly", "unset",
      "read", "mapfile", "readarray", "alias",  "fc", "bind",    "complete", "compgen", "enable", "getopts",  "hash"};
  return std::any_of(std::begin(words), std::end(words), [&](const char *x) { return w == x; });
}

bool is_assignment(const std::string &raw) {
  auto eq = raw.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  if (std::isdigit(static_cast<unsigned char>(raw[0]))) return false;
  return std::all_of(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(eq),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// A word as the shell sees it after quote removal, for matching names:
// "eval", \eval and ev''al are all eval.
std::string unquoted(const std::string &w) {
  std::string out;
  for (char c : w)
    if (c != '\'' && c != '"' && c != '\\') out += c;
  return out;
}

std::string basename_of(const std::string &w) {
  auto slash = w.rfind('/');
  return slash == std::string::npos ? w : w.substr(slash + 1);
}

// The text a word written in a template stands for, when it is plain,
// single-quoted, or double-quoted without anything the shell expands in
// it: the code given to sh -c, read as code in its turn. nullopt otherwise.
std::optional<std::string> literal_text(const std::string &raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\'' || c == '"') {
      auto close = raw.find(c, i + 1);
      if (close == std::string::npos) return std::nullopt;
      std::string inside = raw.substr(i + 1, close - i - 1);
      if (c == '"' && inside.find_first_of("$`\\") != std::string::npos) return std::nullopt;
      out += inside;
      i = close;
    } else if (c == '\\' || c == '$' || c == '`') {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<Cell> literal_cells(const std::string &text) {
  std::vector<Cell> cells;
  for (char c : text) cells.push_back({c, 0});
  return cells;
}

constexpr std::size_t kNoWord = static_cast<std::size_t>(-1);

// Reads the template the way /bin/sh (dash, or bash as sh) would read the
// command it becomes, keeping only what decides how a placeholder's value is
// read: the quoting context, the word it is part of, and that word's place
// in its command (and, through code_readers.hpp, what the program named
// there does with it). Where dash and bash differ, or the reading is
// unsure, it refuses: a template it cannot vouch for never runs.
//
// A value can also reach code without a placeholder in the place: through a
// shell variable (set -- %d; eval "$1"), the code given to sh -c (sh -c
// 'eval "$1"' x %d) or the PG_VIP_* variables. A reader made with
// `values_source` (why a variable may hold a value) takes every expansion
// ($1, "$x", `...`) as a value; any reader takes an expansion of a PG_VIP_*
// variable as one.
class TemplateReader {
 public:
  explicit TemplateReader(std::vector<Cell> cells, std::string values_source = {})
      : cells_(std::move(cells)), values_source_(std::move(values_source)) {}

  // How the template puts a placeholder's value into a shell variable
  // ("set", "for", "read", ...), found by problem(); empty if it does not.
  const std::string &value_in_variable() const { return value_in_variable_; }

  std::optional<TemplateProblem> problem() {
    has_placeholder_ = std::any_of(cells_.begin(), cells_.end(), [](const Cell &c) { return c.placeholder != 0; });
    std::string plain;
    for (const auto &c : cells_) plain += c.placeholder ? '%' : c.c;
    watch_values_ = has_placeholder_ || !values_source_.empty() || plain.find("PG_VIP_") != std::string::npos;
    bool has_placeholder = has_placeholder_;
    for (i_ = 0; i_ < cells_.size(); ++i_) {
      const Cell &cell = cells_[i_];
      if (!cell.placeholder) {
        auto u = static_cast<unsigned char>(cell.c);
        if ((u < 0x20 && cell.c != '\t') || u == 0x7f)
          return TemplateProblem{"The command contains a control character such as a line break: with one, the "
                                 "shell could read a value as a here-document, which it expands.",
                                 "Write the command on one line, and put anything longer in a script."};
      }
      std::optional<TemplateProblem> p = stack_.empty() ? top_level(cell) : nested(cell);
      if (p) return p;
      // Judged at once, not at the word's end: text after it (an open quote,
      // a backslash) changes how the shell reads what the value holds.
      if (word_.placeholder && word_.cells > 1) return joined();
      if (dollar_single_ && has_placeholder)
        return TemplateProblem{"The command uses $'...' quoting, which dash and bash end at different places, so "
                               "pg_vip cannot tell how a value next to it would be read.",
                               "Use '...' or \"...\" for the command's own text, or move it into a script."};
    }
    if (stack_.empty()) {
      if (auto p = finish_word()) return p;
      return end_command();
    }
    // A comment at the top level ends with the command (every word before it is judged).
    if (stack_.size() == 1 && stack_.back() == Context::Comment) return end_command();
    if (has_placeholder)
      return TemplateProblem{"The command ends inside a quote, a substitution or a comment, so a value could decide "
                             "how the shell reads the rest of it.",
                             "Close every quote and parenthesis that the command opens."};
    return std::nullopt;  // nothing to substitute: at worst the shell reports a syntax error
  }

 private:
  struct Word {
    std::size_t cells = 0;
    char placeholder = 0;
    bool literal = true;   // no quoting, escape or expansion: `text` is what the shell sees
    bool expands = false;  // a $ or ` outside single quotes: a variable's value, a command's output
    std::string text;      // the characters written, quotes included
  };

  // A word that may hold a value from outside, other than a placeholder.
  bool holds_value(const Word &w) const {
    return w.expands && (!values_source_.empty() || w.text.find("PG_VIP_") != std::string::npos);
  }

  std::string subject(const Word &w) const {
    if (w.placeholder) return "The placeholder %" + std::string(1, w.placeholder);
    std::string shown = "\"" + sanitize_event_text(unquoted(w.text), 60) + "\"";
    if (!values_source_.empty())
      return "The expansion " + shown + ", which may hold a placeholder's value (" + values_source_ + "),";
    return "The expansion " + shown + ", which holds text from outside,";
  }

  const Cell *next(std::size_t ahead = 1) const { return i_ + ahead < cells_.size() ? &cells_[i_ + ahead] : nullptr; }
  bool next_is(char c, std::size_t ahead = 1) const {
    const Cell *n = next(ahead);
    return n && !n->placeholder && n->c == c;
  }

  std::optional<TemplateProblem> nested_placeholder(char k, Context c) const {
    return TemplateProblem{"The placeholder %" + std::string(1, k) + " stands " + where(c) + ".", quote_hint()};
  }

  std::string quote_hint() const {
    // The template with the quotes around each placeholder dropped, when
    // that alone makes it acceptable: most quoted templates are repmgr's
    // documented "%t" "%d".
    std::string templ, fixed;
    for (const auto &c : cells_) {
      if (c.placeholder) templ += "%" + std::string(1, c.placeholder);
      else templ += c.c == '%' ? std::string("%%") : std::string(1, c.c);
    }
    for (std::size_t i = 0; i < templ.size(); ++i) {
      char q = templ[i];
      if ((q == '"' || q == '\'') && i + 3 < templ.size() && templ[i + 1] == '%' && is_placeholder(templ[i + 2]) &&
          templ[i + 3] == q && (i == 0 || templ[i - 1] != '\\')) {
        fixed += templ.substr(i + 1, 2);
        i += 3;
      } else {
        fixed += q;
      }
    }
    std::string hint = "Write each placeholder as a word of its own, without quotes: pg_vip quotes every value itself";
    if (fixed != templ && fixed.size() <= 200 && !check_notification_template(fixed))
      hint += ", as in \"" + fixed + "\"";
    return hint + ". " + kEnvironmentHint;
  }

  // A character or placeholder outside any quote or substitution.
  std::optional<TemplateProblem> top_level(const Cell &cell) {
    if (cell.placeholder) {
      add(cell, false);
      return std::nullopt;
    }
    char c = cell.c;
    if (is_blank(c)) return finish_word();
    if (c == '#' && word_.cells == 0) {
      stack_.push_back(Context::Comment);
      return std::nullopt;
    }
    if (c == '<' || c == '>') {
      // A word of digits right before is the descriptor, not an argument.
      bool descriptor = word_.cells > 0 && word_.literal &&
                        std::all_of(word_.text.begin(), word_.text.end(), [](char d) { return d >= '0' && d <= '9'; });
      if (descriptor) word_ = {};
      if (auto p = finish_word()) return p;
      while (next_is('<') || next_is('>') || next_is('&') || next_is('|') || next_is('-')) ++i_;
      redirect_target_ = true;
      return std::nullopt;
    }
    if (is_operator(c)) {
      if (auto p = finish_word()) return p;
      if (c == '(' && !next_is('(') && words_.size() == 1 && closes_at_once() && watch_values_)
        return defines_function();
      if (auto p = end_command()) return p;
      if (c == '|' && next_is('|')) {
        ++i_;  // ||
      } else if (c == '|') {
        piped_ = true;
        if (next_is('&')) ++i_;  // bash's |&
      }
      if (c == '(' && next_is('(')) {
        in_arith_ = true;  // bash's (( )) and for ((;;)): arithmetic, which evaluates a[$(...)]
        ++i_;
      } else if (c == ')' && in_arith_ && next_is(')')) {
        in_arith_ = false;
        ++i_;
      }
      expect_command_ = true;
      after_wrapper_ = false;
      redirect_target_ = false;
      command_.clear();
      previous_.clear();
      code_option_seen_ = false;
      command_expanded_ = false;
      return std::nullopt;
    }
    if (c == '\\') {
      add(cell, false);
      if (const Cell *n = next()) {
        ++i_;
        add(*n, false);
      }
      return std::nullopt;
    }
    if (opens(c)) {
      add(cell, false);
      return std::nullopt;
    }
    add(cell, true);
    return std::nullopt;
  }

  // Opens a quote or substitution at cell i_ (consuming what belongs to its
  // opening); true if one was opened.
  bool opens(char c) {
    if (c == '\'') {
      stack_.push_back(Context::Single);
      return true;
    }
    if (c == '"') {
      stack_.push_back(Context::Double);
      return true;
    }
    if (c == '`') {
      stack_.push_back(Context::Backquote);
      return true;
    }
    if (c == '$') {
      if (next_is('(') && next_is('(', 2)) {
        stack_.push_back(Context::Arith);
        i_ += 2;
        return true;
      }
      if (next_is('(')) {
        stack_.push_back(Context::CommandSub);
        i_ += 1;
        return true;
      }
      if (next_is('{')) {
        stack_.push_back(Context::Param);
        i_ += 1;
        return true;
      }
      if (next_is('\'') && (stack_.empty() || stack_.back() != Context::Double)) dollar_single_ = true;
    }
    return false;
  }

  // A character or placeholder inside the context on top of the stack.
  std::optional<TemplateProblem> nested(const Cell &cell) {
    Context ctx = stack_.back();
    if (cell.placeholder) return nested_placeholder(cell.placeholder, ctx);
    char c = cell.c;
    if (ctx != Context::Comment) word_.text += c;  // for the messages: the word as written
    if (auto p = nested_expansion(ctx, c)) return p;
    switch (ctx) {
      case Context::Comment: return std::nullopt;
      case Context::Single:
        if (c == '\'') stack_.pop_back();
        return std::nullopt;
      case Context::Backquote:
        if (c == '`') stack_.pop_back();
        else if (c == '\\') return skip_escaped(ctx);
        return std::nullopt;
      case Context::Double:
        if (c == '"') stack_.pop_back();
        else if (c == '\\') return skip_escaped(ctx);
        else if (c == '$' || c == '`') {
          word_.expands = true;
          opens(c);
        }
        return std::nullopt;
      case Context::Param:
        if (c == '}') stack_.pop_back();
        else if (c == '\\') return skip_escaped(ctx);
        else opens(c);
        return std::nullopt;
      case Context::Arith:
        if (c == ')') {
          stack_.pop_back();
          if (next_is(')')) ++i_;
        } else if (c == '(') {
          stack_.push_back(Context::Paren);
        } else if (c == '\\') {
          return skip_escaped(ctx);
        } else {
          opens(c);
        }
        return std::nullopt;
      case Context::CommandSub:
      case Context::Paren: {
        // A shell of its own: quotes, substitutions, parentheses, comments.
        char before = i_ > 0 && !cells_[i_ - 1].placeholder ? cells_[i_ - 1].c : ' ';
        if (c == ')') stack_.pop_back();
        else if (c == '(') stack_.push_back(Context::Paren);
        else if (c == '\\') return skip_escaped(ctx);
        else if (c == '#' && (is_blank(before) || is_operator(before))) stack_.push_back(Context::Comment);
        else opens(c);
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<TemplateProblem> skip_escaped(Context ctx) {
    const Cell *n = next();
    if (!n) return std::nullopt;
    ++i_;
    if (n->placeholder) return nested_placeholder(n->placeholder, ctx);
    word_.text += n->c;
    return std::nullopt;
  }

  void add(const Cell &cell, bool literal) {
    ++word_.cells;
    if (cell.placeholder) {
      word_.placeholder = cell.placeholder;
      word_.literal = false;
      word_.text += "%" + std::string(1, cell.placeholder);
      return;
    }
    word_.literal = word_.literal && literal;
    if (cell.c == '$' || cell.c == '`') word_.expands = true;
    word_.text += cell.c;
  }

  // The top-level word just read is complete: judge a placeholder in it,
  // then note what it makes of the command.
  std::optional<TemplateProblem> finish_word() {
    if (word_.cells == 0) return std::nullopt;
    Word w = std::move(word_);
    word_ = {};
    bool assignment = expect_command_ && is_assignment(w.text);
    bool syntax = expect_command_ && w.literal && (is_reserved_word(w.text) || w.text == "[[");
    bool in_command =
        !redirect_target_ && !in_double_bracket_ && !in_arith_ && !syntax && !(assignment && words_.empty());
    if (in_command)
      words_.push_back({w.placeholder ? "%" + std::string(1, w.placeholder) : unquoted(w.text),
                        w.placeholder != 0 || holds_value(w)});
    if (w.placeholder || (holds_value(w) && !assignment)) {
      if (auto p = judge(w, in_command ? words_.size() - 1 : kNoWord)) return p;
    } else if (auto p = evaluated_name(w)) {
      return p;
    }
    if (expect_command_ && w.literal && w.text == "function" && watch_values_) return defines_function();
    if (redirect_target_) {
      redirect_target_ = false;
      return std::nullopt;
    }
    if (in_double_bracket_) {
      if (w.literal && w.text == "]]") in_double_bracket_ = false;
      return std::nullopt;
    }
    if (expect_command_) {
      if (w.literal && w.text == "[[") {
        in_double_bracket_ = true;  // bash's [[ ]]: -eq and friends evaluate a[$(...)]
        expect_command_ = false;
        return std::nullopt;
      }
      if (w.literal && is_reserved_word(w.text)) return std::nullopt;
      if (w.literal && is_command_wrapper(w.text)) {
        after_wrapper_ = true;
        return std::nullopt;
      }
      if (after_wrapper_ && w.text.size() > 1 && w.text[0] == '-') {  // time -p, env -i
        // env -S splits its argument into a command line of its own.
        std::string option = unquoted(w.text);
        if (option == "-S" || option.rfind("--split-string", 0) == 0 || is_code_option(option))
          code_option_seen_ = true;
        return std::nullopt;
      }
      if (is_assignment(w.text)) return std::nullopt;
      expect_command_ = false;
      after_wrapper_ = false;
      command_ = basename_of(unquoted(w.text));
      // A name made by an expansion ($x, `...`) cannot be judged.
      command_expanded_ = w.text.find('$') != std::string::npos || w.text.find('`') != std::string::npos;
      previous_ = unquoted(w.text);
      return std::nullopt;
    }
    previous_ = unquoted(w.text);
    // After -c, the first word that is not an option is the code (sh -c --
    // x, sh -c -e x); the words after it are its arguments ($0, $1, ...).
    bool option = previous_.size() > 1 && previous_[0] == '-';
    if (code_option_seen_ && !option) {
      code_option_seen_ = false;
      if (watch_values_) return code_given_to_c(w);
    } else if (is_code_option(previous_)) {
      code_option_seen_ = true;
    }
    return std::nullopt;
  }

  // The code given to -c gets the words after it as $1, $2, ...: read it as
  // a template whose every expansion may hold a value.
  std::optional<TemplateProblem> code_given_to_c(const Word &w) const {
    auto text = literal_text(w.text);
    if (!text)
      return TemplateProblem{"The code given to \"" + command_line_so_far() + "\"" +
                                 " is not written as one plain or single-quoted word, so pg_vip cannot tell what "
                                 "it does with the values that reach it.",
                             kCodeReaderHint};
    return TemplateReader(literal_cells(*text), "the code given to -c gets the words after it as $1, $2, ...")
        .problem();
  }

  // The simple command up to the code word, for a message: "sudo -u postgres sh -c".
  std::string command_line_so_far() const {
    std::vector<std::string> texts;
    for (std::size_t k = 0; k + 1 < words_.size(); ++k) texts.push_back(words_[k].text);
    return sanitize_event_text(join(texts, " "), 80);
  }

  // The word after the simple command's ( is ): name() defines a function.
  bool closes_at_once() const {
    for (std::size_t k = i_ + 1; k < cells_.size(); ++k) {
      if (cells_[k].placeholder) return false;
      if (!is_blank(cells_[k].c)) return cells_[k].c == ')';
    }
    return false;
  }

  std::optional<TemplateProblem> defines_function() const {
    return TemplateProblem{"The command defines a shell function, and pg_vip does not follow a value into a "
                           "function's body, where eval or a program that reads code could run it.",
                           kCodeReaderHint};
  }

  // The simple command just read is complete: a pipe into it carries what
  // the commands before it wrote (possibly a value) to its standard input.
  std::optional<TemplateProblem> end_command() {
    std::vector<CommandWord> words = std::move(words_);
    words_.clear();
    if (words.empty()) return std::nullopt;
    std::string name = basename_of(words[0].text);
    if (has_placeholder_ && (name == "read" || name == "mapfile" || name == "readarray") && value_in_variable_.empty())
      value_in_variable_ = name;
    if (piped_ && watch_values_)
      if (auto r = code_reader_of_input(words))
        return TemplateProblem{
            "The command pipes into " + r->how + ", and the output of the commands before it can carry a value.",
            kCodeReaderHint};
    return std::nullopt;
  }

  // With values in variables, an arithmetic context or [[ ]] evaluates a
  // variable named in it, $ or not; a PG_VIP_* name is one in any reader.
  std::optional<TemplateProblem> evaluated_name(const Word &w) const {
    bool named = !values_source_.empty() || w.text.find("PG_VIP_") != std::string::npos;
    if (!named || (!in_arith_ && !in_double_bracket_) || (in_double_bracket_ && w.text == "]]")) return std::nullopt;
    return TemplateProblem{"The command uses " + std::string(in_arith_ ? "(( ))" : "[[ ]]") +
                               ", where bash evaluates a variable's value as arithmetic, which can run commands, and "
                               "a variable there may hold a value from outside (" +
                               (values_source_.empty() ? std::string("a PG_VIP_* variable") : values_source_) + ").",
                           kCodeReaderHint};
  }

  // A $ or ` inside a substitution or expansion, when variables may hold
  // values: the reader does not follow the commands of a $(...), and bash
  // evaluates ${x:offset}, ${a[i]} and $((...)) as arithmetic.
  std::optional<TemplateProblem> nested_expansion(Context ctx, char c) const {
    if (ctx == Context::Single || ctx == Context::Double || ctx == Context::Comment) return std::nullopt;
    bool vip_arith =
        ctx == Context::Arith && word_.text.size() >= 7 && word_.text.compare(word_.text.size() - 7, 7, "PG_VIP_") == 0;
    if (!vip_arith && (values_source_.empty() || (c != '$' && c != '`'))) return std::nullopt;
    std::string where = ctx == Context::Param   ? "a parameter expansion ${...}, whose offsets and subscripts bash "
                                                  "evaluates as arithmetic"
                        : ctx == Context::Arith ? "an arithmetic expansion $((...)), which bash evaluates"
                                                : "a command substitution or backquotes, whose commands pg_vip does "
                                                  "not follow";
    return TemplateProblem{"The command expands a variable that may hold a value from outside (" +
                               (values_source_.empty() ? std::string("a PG_VIP_* variable") : values_source_) +
                               ") inside " + where + ".",
                           kCodeReaderHint};
  }

  std::optional<TemplateProblem> joined() const {
    // The word as written, to its end as far as a blank tells, for the message.
    std::string text = word_.text;
    for (std::size_t k = i_ + 1; k < cells_.size() && text.size() < 60; ++k) {
      const Cell &c = cells_[k];
      if (!c.placeholder && (is_blank(c.c) || c.c == ';' || c.c == '|' || c.c == '&')) break;
      text += c.placeholder ? "%" + std::string(1, c.placeholder) : std::string(1, c.c);
    }
    return TemplateProblem{"The placeholder %" + std::string(1, word_.placeholder) +
                               " is joined to other text in the shell word \"" + sanitize_event_text(text, 60) +
                               "\": only a placeholder that is a word of its own is replaced by exactly one literal "
                               "argument.",
                           quote_hint()};
  }

  // A word that holds a value (a placeholder, or an expansion that may
  // hold one), `index` its place in words_ (kNoWord: not an argument).
  std::optional<TemplateProblem> judge(const Word &w, std::size_t index) {
    std::string p = subject(w);
    // The hint these refusals of a placeholder have given since issue 10
    // (the regression tests show it); a value that reaches code in any other
    // way gets the one that says no list of such programs is complete.
    const std::string args_hint =
        w.placeholder ? std::string("Pass the values as arguments to a program or script that uses them as data "
                                    "(\"$1\"), never to eval, sh -c or a command like them. ") +
                            kEnvironmentHint
                      : kCodeReaderHint;
    if (in_arith_) return TemplateProblem{p + " stands inside (( )), where bash evaluates the value.", args_hint};
    if (in_double_bracket_)
      return TemplateProblem{p + " stands inside [[ ]], where bash may evaluate the value.", args_hint};
    std::optional<CodeReader> reader;
    if (index != kNoWord && !redirect_target_) reader = code_reader_of_argument(words_, index);
    if (redirect_target_) {
      if (!w.placeholder) return std::nullopt;  // a file name from a variable: data
      return TemplateProblem{p + " is the target of a redirection, so the value would name a "
                                 "file that the shell opens.",
                             std::string("Write the file name in the command itself. ") + kEnvironmentHint};
    }
    // After a wrapper's options the shell still expects a command name,
    // unless the wrapper says otherwise (sudo -s hands its words to a shell).
    if (expect_command_ && !(reader && !reader->names_command))
      return TemplateProblem{p + " stands where the shell expects a command name, so the "
                                 "value would be run as a command.",
                             "Name the program to run first, then the placeholders as its arguments, for example "
                             "\"/usr/local/bin/vip-hook %e %s %d\"."};
    if (command_expanded_)
      return TemplateProblem{p + " is an argument of a command whose name is made by an expansion, which could be "
                                 "eval or a shell.",
                             args_hint};
    if (evaluates_arguments(command_))
      return TemplateProblem{p + " is an argument of \"" + command_ + "\", which can run its arguments as shell code.",
                             args_hint};
    if (reader) return TemplateProblem{p + " " + reader->how + ".", kCodeReaderHint};
    if (code_option_seen_)
      return TemplateProblem{p + " follows " + previous_ +
                                 ", the option with which shells, su and interpreters take the code to run: \"" +
                                 command_ + "\" may run the value as code.",
                             args_hint};
    bool names_variable = command_ == "printf" || command_ == "test" || command_ == "[" || command_ == "wait";
    if (names_variable && (previous_ == "-v" || previous_ == "-R" || previous_ == "-p"))
      return TemplateProblem{p + " follows " + command_ + " " + previous_ +
                                 ", which takes a variable name, and bash evaluates the subscript of one.",
                             args_hint};
    // Not code here; but a value in a variable may reach code later.
    std::string name = words_.empty() ? std::string() : basename_of(words_[0].text);
    bool sets_variable = name == "set" || name == "for" || name == "select" ||
                         (name == "printf" && std::any_of(words_.begin(), words_.end(), [](const CommandWord &x) {
                            return !x.value && x.text == "-v";
                          }));
    if (w.placeholder && sets_variable && value_in_variable_.empty())
      value_in_variable_ = name == "printf" ? "printf -v" : name;
    return std::nullopt;
  }

  std::vector<Cell> cells_;
  std::size_t i_ = 0;
  std::vector<Context> stack_;
  Word word_;
  bool expect_command_ = true;
  bool after_wrapper_ = false;     // a command wrapper (env, sudo, ...) came; its options keep the command position
  bool code_option_seen_ = false;  // -c (or env -S) came earlier in this command: what follows is code
  bool command_expanded_ = false;  // the command's name holds $ or a backquote
  bool redirect_target_ = false;
  bool in_arith_ = false;
  bool in_double_bracket_ = false;
  bool dollar_single_ = false;
  std::string values_source_;  // non-empty: every expansion may hold a value, for this reason
  bool has_placeholder_ = false;
  bool watch_values_ = false;       // a value can be somewhere: placeholders, PG_VIP_*, or values_source_
  bool piped_ = false;              // a | came earlier: this command's input may carry a value
  std::string value_in_variable_;   // how a placeholder's value went into a variable, if it did
  std::vector<CommandWord> words_;  // the current simple command's words, from its name
  std::string command_;             // the current simple command's name, if written plainly
  std::string previous_;            // the word before, in the current simple command, if written plainly
};

// One UTF-8 character at text[i]: its length, and its code point (or -1
// when the bytes are not a valid, shortest encoding).
std::size_t utf8_char(std::string_view text, std::size_t i, long &cp) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char c = b(0);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  cp = -1;
  if (n == 0 || i + n > text.size()) return 1;
  long v = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 1;
    v = (v << 6) | (b(k) & 0x3f);
  }
  static const long kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 1;
  cp = v;
  return n;
}

bool passes_to_hook(std::string_view name) {
  static const char *const names[] = {"PATH",   "HOME",   "USER",   "LOGNAME", "LANG",   "LANGUAGE",  "TZ",
                                      "TMPDIR", "PGDATA", "PGHOST", "PGPORT",  "PGUSER", "PGDATABASE"};
  if (name.substr(0, 3) == "LC_") return true;
  return std::any_of(std::begin(names), std::end(names), [&](const char *n) { return name == n; });
}

}  // namespace

std::string shell_quote(const std::string &text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else if (c != '\0') out += c;
  }
  return out + "'";
}

std::optional<TemplateProblem> check_notification_template(std::string_view templ) {
  auto cells = cells_of(templ);
  bool has_placeholder = std::any_of(cells.begin(), cells.end(), [](const Cell &c) { return c.placeholder != 0; });
  // Substitutions evaluate what they expand: bash's old $[...] is
  // arithmetic, and arithmetic on a value runs a $(...) inside an array
  // subscript. With a placeholder in the command none of them is allowed:
  // the reader below follows quoting, not every construct a substitution
  // may hold (a case pattern's ")" inside $(...)).
  TemplateReader reader(cells);
  if (auto problem = reader.problem()) return problem;
  // A value put in a variable (set -- %d) can reach code through any
  // expansion: read the template again with every one taken as a value.
  if (!reader.value_in_variable().empty())
    if (auto problem = TemplateReader(cells, reader.value_in_variable() + " puts one in a shell variable").problem())
      return problem;
  if (has_placeholder) {
    for (std::string_view opener : {"$[", "$(", "`"})
      if (templ.find(opener) != std::string_view::npos)
        return TemplateProblem{"The command uses " + std::string(opener == "`" ? "backquotes" : opener) +
                                   ", a substitution whose text the shell evaluates, together with placeholders.",
                               "Do the work in the hook script and pass the values as plain words, or read "
                               "them from the PG_VIP_* environment variables."};
    // bash's <(...) and >(...): a pipe to or from a command, such as sh.
    for (std::string_view opener : {"<(", ">("})
      if (templ.find(opener) != std::string_view::npos)
        return TemplateProblem{"The command uses a process substitution " + std::string(opener) +
                                   "...), whose commands read or write what another command reads, together with "
                                   "placeholders.",
                               kCodeReaderHint};
  }
  return std::nullopt;
}

// Each placeholder becomes a reference to its PG_VIP_* variable, never the
// value itself: whatever quoting or construct surrounds it, the shell reads
// only the template's own text as source, and a value is at most data
// (split into words where the template leaves the reference unquoted, which
// the check refuses). The check above still refuses the contexts that would
// evaluate data (eval, sh -c, arithmetic) and the programs that read code.
std::string build_notification_command(const std::string &templ, const EventFields &f) {
  if (check_notification_template(templ)) return {};
  std::string out;
  for (const auto &cell : cells_of(templ)) {
    switch (cell.placeholder) {
      case 0: out += cell.c; break;
      case 'n': out += "\"${PG_VIP_NODE_NAME}\""; break;
      case 'e': out += "\"${PG_VIP_EVENT}\""; break;
      case 's': out += f.success ? "1" : "0"; break;
      case 't': out += "\"${PG_VIP_TIMESTAMP}\""; break;
      case 'd': out += "\"${PG_VIP_DETAILS}\""; break;
      case 'v': out += "\"${PG_VIP_VIP}\""; break;
      case 'r': out += "\"${PG_VIP_ROUTE_TABLES}\""; break;
    }
  }
  return out;
}

std::string sanitize_event_text(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  bool cut = false;
  for (std::size_t i = 0; i < text.size();) {
    long cp = 0;
    std::size_t n = utf8_char(text, i, cp);
    std::string_view piece = text.substr(i, n);
    if (cp < 0) piece = "?";
    else if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029) piece = " ";
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) piece = "?";
    // Bidirectional overrides make a log line read otherwise than it is.
    else if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) piece = "?";
    if (out.size() + piece.size() > max_bytes) {
      cut = true;
      break;
    }
    out += piece;
    i += n;
  }
  if (cut && max_bytes >= 3) {
    // Room for "...", cut at a character boundary.
    while (out.size() > max_bytes - 3) {
      std::size_t back = out.size() - 1;
      while (back > 0 && (static_cast<unsigned char>(out[back]) & 0xc0) == 0x80) --back;
      out.erase(back);
    }
    out += "...";
  }
  return out;
}

std::vector<std::string> notification_environment(const EventFields &f, const char *const *parent) {
  std::vector<std::string> env;
  std::vector<std::string_view> seen;
  for (const char *const *p = parent; p && *p; ++p) {
    std::string_view entry(*p);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    // The first of a repeated name is the one getenv() gives.
    if (!passes_to_hook(name) || std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    env.emplace_back(entry);
  }
  if (std::find(seen.begin(), seen.end(), "PATH") == seen.end()) env.emplace_back("PATH=/usr/local/bin:/usr/bin:/bin");
  auto set = [&](const char *name, const std::string &value) {
    std::string v = value;
    v.erase(std::remove(v.begin(), v.end(), '\0'), v.end());
    env.push_back(std::string(name) + "=" + v);
  };
  set("PG_VIP_NODE_NAME", f.node_name);
  set("PG_VIP_EVENT", f.event);
  set("PG_VIP_SUCCESS", f.success ? "1" : "0");
  set("PG_VIP_TIMESTAMP", f.timestamp);
  set("PG_VIP_DETAILS", f.details);
  set("PG_VIP_VIP", f.vip);
  set("PG_VIP_ROUTE_TABLES", f.route_tables);
  return env;
}

std::vector<std::string> notification_environment(const EventFields &f) { return notification_environment(f, environ); }

NotificationRunner::~NotificationRunner() {
  for (auto &r : running_) {
    kill(-r.pid, SIGKILL);
    waitpid(r.pid, nullptr, 0);
  }
}

std::string NotificationRunner::start(const std::string &command, const std::vector<std::string> &environment) {
  if (command.empty()) return "there is no event notification command to run";
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group (to kill it whole), default signal dispositions
  // and an empty mask: nothing of PostgreSQL's signal setup leaks into it.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Only stdout and stderr (the server's log): none of the worker's sockets
  // to AWS or files reach the hook.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  std::string cmd = command;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  char *argv[] = {sh, dash_c, cmd.data(), nullptr};
  std::vector<std::string> env = environment;
  std::vector<char *> envp;
  envp.reserve(env.size() + 1);
  for (auto &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return std::string("could not start the event notification command: ") + std::strerror(rc);
  running_.push_back({pid, std::chrono::steady_clock::now(), false});
  return {};
}

std::vector<std::string> NotificationRunner::reap() {
  std::vector<std::string> problems;
  auto now = std::chrono::steady_clock::now();
  for (auto it = running_.begin(); it != running_.end();) {
    int status = 0;
    pid_t done = waitpid(it->pid, &status, WNOHANG);
    if (done == it->pid || (done < 0 && errno == ECHILD)) {
      if (it->killed)
        problems.push_back("the event notification command was killed after " + std::to_string(bound_.count()) + " s");
      else if (done == it->pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        problems.push_back("the event notification command exited with status " + std::to_string(WEXITSTATUS(status)));
      else if (done == it->pid && WIFSIGNALED(status))
        problems.push_back("the event notification command was terminated by signal " +
                           std::to_string(WTERMSIG(status)));
      it = running_.erase(it);
      continue;
    }
    if (!it->killed && now - it->started > bound_) {
      kill(-it->pid, SIGKILL);
      it->killed = true;
    }
    ++it;
  }
  return problems;
}

}  // namespace pg_vip
