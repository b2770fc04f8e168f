#include "route53_names.hpp"

#include <cctype>

#include "error.hpp"

namespace pg_vip::aws {
namespace {

// Route 53 counts a value's characters as written; the limit of one
// character string is 255, of a whole value 4,000.
constexpr std::size_t kMaxString = 255;
constexpr std::size_t kMaxValue = 4000;

std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return s.size() > 80 ? out + "..." : out;
}

// `id` without `prefix`, checked: 1 to `max` upper-case letters and digits.
std::string bare_id(std::string_view id, std::string_view prefix, std::size_t max, const char *what) {
  std::string_view bare = id.rfind(prefix, 0) == 0 ? id.substr(prefix.size()) : id;
  bool ok = !bare.empty() && bare.size() <= max;
  for (unsigned char c : bare) ok = ok && (std::isupper(c) || std::isdigit(c));
  if (!ok)
    throw ConfigError(std::string("invalid Route 53 ") + what + " \"" + shown(id) + "\"",
                      std::string("A ") + what + " is upper-case letters and digits, such as Z1D633PJN98FT9, " +
                          "optionally after \"" + std::string(prefix) + "\".");
  return std::string(bare);
}

std::string octal(unsigned char c) {
  std::string out = "\\";
  out += static_cast<char>('0' + (c >> 6));
  out += static_cast<char>('0' + ((c >> 3) & 7));
  out += static_cast<char>('0' + (c & 7));
  return out;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string hosted_zone_id(std::string_view id) { return bare_id(id, "/hostedzone/", 32, "hosted zone id"); }

std::string change_id(std::string_view id) { return bare_id(id, "/change/", 64, "change id"); }

std::string dns_name(std::string_view name) {
  std::string_view n = name;
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  auto refuse = [&](const std::string &why) -> std::string {
    throw ConfigError("invalid DNS name \"" + shown(name) + "\"", why,
                      "Give a name such as db.example.com, in labels of letters, digits, '-' and '_'.");
  };
  if (n.empty()) return refuse("The name is empty.");
  if (n.size() > 253) return refuse("The name is longer than 253 characters.");
  std::string out;
  std::size_t label = 0;
  for (unsigned char c : n) {
    if (c == '.') {
      if (label == 0) return refuse("The name has an empty label.");
      label = 0;
    } else if (std::isalnum(c) || c == '-' || c == '_') {
      if (++label > 63) return refuse("A label is longer than 63 characters.");
    } else {
      return refuse("The name has a character other than a letter, a digit, '-', '_' or '.'.");
    }
    out += static_cast<char>(std::tolower(c));
  }
  if (label == 0) return refuse("The name has an empty label.");
  return out + ".";
}

std::string canonical_answer_name(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 3 < name.size() && is_octal(name[i + 1]) && is_octal(name[i + 2]) &&
        is_octal(name[i + 3])) {
      int v = (name[i + 1] - '0') * 64 + (name[i + 2] - '0') * 8 + (name[i + 3] - '0');
      out += static_cast<char>(std::tolower(v & 0xff));
      i += 3;
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    }
  }
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

std::string txt_value(std::string_view text) {
  std::string value = "\"";
  std::size_t in_string = 0;  // characters written in the current string
  for (unsigned char c : text) {
    std::string piece = c == '"' || c == '\\'     ? std::string{'\\', static_cast<char>(c)}
                        : (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c))
                                                  : octal(c);
    // An escape is never split: a new string begins before it instead.
    if (in_string + piece.size() > kMaxString) {
      value += "\" \"";
      in_string = 0;
    }
    value += piece;
    in_string += piece.size();
  }
  value += '"';
  if (value.size() > kMaxValue)
    throw ConfigError("the TXT value is too long for Route 53", "Encoded, it has " + std::to_string(value.size()) +
                                                                    " characters; Route 53 takes at most " +
                                                                    std::to_string(kMaxValue) + ".");
  return value;
}

std::optional<std::string> txt_text(std::string_view value) {
  std::string out;
  std::size_t i = 0;
  // One escape at value[i] == '\\': its byte, or nullopt.
  auto escape = [&]() -> std::optional<char> {
    if (i + 1 >= value.size()) return std::nullopt;
    if (std::isdigit(static_cast<unsigned char>(value[i + 1]))) {
      if (i + 3 >= value.size()) return std::nullopt;
      if (!is_octal(value[i + 1]) || !is_octal(value[i + 2]) || !is_octal(value[i + 3])) return std::nullopt;
      int v = (value[i + 1] - '0') * 64 + (value[i + 2] - '0') * 8 + (value[i + 3] - '0');
      if (v > 255) return std::nullopt;
      i += 4;
      return static_cast<char>(v);
    }
    i += 2;
    return value[i - 1];
  };
  while (i < value.size()) {
    if (value[i] == ' ') {
      ++i;
      continue;
    }
    // A quoted string runs to its closing quote, an unquoted one to the next space.
    const bool quoted = value[i] == '"';
    if (quoted) ++i;
    while (i < value.size() && value[i] != (quoted ? '"' : ' ')) {
      if (value[i] == '"') return std::nullopt;  // a quote inside an unquoted string
      if (value[i] != '\\') {
        out += value[i++];
      } else if (auto c = escape()) {
        out += *c;
      } else {
        return std::nullopt;
      }
    }
    if (quoted) {
      if (i >= value.size()) return std::nullopt;  // unterminated
      ++i;                                         // the closing quote
      if (i < value.size() && value[i] != ' ') return std::nullopt;
    }
  }
  return out;
}

}  // namespace pg_vip::aws
