// libFuzzer target: the notification command template
// (pg_vip.event_notification_command, repmgr's placeholders %n %e %s %t %d
// %v %r), its check, and the values substituted into it and put in the
// command's environment, which come partly from AWS (a fence tag's node
// name ends up in the details).
// The input is the template, then NUL-separated values: node name, event,
// time, details, VIP, route tables, then "NAME=value" entries of the
// worker's environment; an odd length means success.
// Nothing here is expected to throw (beyond std::bad_alloc, which libFuzzer's
// malloc limit reports as a finding anyway).
// Properties:
//   - a template check_notification_template() refuses builds to no command;
//     an accepted one without % comes out unchanged;
//   - shell_quote() of any text is one shell word that a POSIX shell reads
//     back as that text;
//   - sanitize_event_text() gives valid UTF-8 without control characters,
//     within its bound;
//   - the command's environment holds no AWS_* variable, no PGPASSWORD, no
//     BASH_ENV or exported function, whatever the worker's held.
#include <cstring>

#include "core/notify.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;

namespace {

// Reads a word made only of '...' runs and \x escapes (what shell_quote
// writes) the way sh does; false if the word has anything sh would interpret.
bool unquote(const std::string &word, std::string &out) {
  out.clear();
  std::size_t i = 0;
  while (i < word.size()) {
    if (word[i] == '\'') {
      auto close = word.find('\'', i + 1);
      if (close == std::string::npos) return false;
      out.append(word, i + 1, close - i - 1);
      i = close + 1;
    } else if (word[i] == '\\' && i + 1 < word.size()) {
      out += word[i + 1];
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

std::string without_nul(const std::string &s) {
  std::string out;
  for (char c : s)
    if (c != '\0') out += c;
  return out;
}

// Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
// with no C0 control character and no DEL.
bool clean_utf8(const std::string &s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07;
    else return false;
    if (i + n >= s.size()) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += n + 1;
  }
  return true;
}

bool forbidden_in_child(const std::string &entry) {
  return entry.rfind("AWS_", 0) == 0 || entry.rfind("PGPASSWORD=", 0) == 0 || entry.rfind("BASH_ENV=", 0) == 0 ||
         entry.rfind("BASH_FUNC_", 0) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string input = fuzz::text(data, size);
  auto parts = fuzz::split_nul(input);
  std::vector<std::string> parent_env(parts.size() > 7 ? parts.begin() + 7 : parts.end(), parts.end());
  parts.resize(7);
  const EventFields f{parts[1], parts[2], size % 2 == 1, parts[3], parts[4], parts[5], parts[6]};
  const std::string &templ = parts[0];

  const auto problem = check_notification_template(templ);
  const std::string command = build_notification_command(templ, f);
  if (problem) {
    FUZZ_CHECK(command.empty());
    FUZZ_CHECK(!problem->detail.empty());
  } else if (templ.find('%') == std::string::npos) {
    FUZZ_CHECK(command == templ);
  }

  // Every value, and the whole input (NULs and all), quoted and read back.
  std::string back;
  for (const std::string *v : {&f.node_name, &f.event, &f.timestamp, &f.details, &f.vip, &f.route_tables, &input}) {
    const std::string quoted = shell_quote(*v);
    FUZZ_CHECK(unquote(quoted, back));
    FUZZ_CHECK(back == without_nul(*v));
  }

  for (std::size_t bound : {std::size_t(0), std::size_t(1), std::size_t(7), kMaxNotificationDetails}) {
    const std::string clean = sanitize_event_text(input, bound);
    FUZZ_CHECK(clean.size() <= bound);
    FUZZ_CHECK(clean_utf8(clean));
  }

  // The worker's environment as the input gives it, plus secrets that must
  // never reach the child.
  parent_env.push_back("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  parent_env.push_back("AWS_SESSION_TOKEN=token");
  parent_env.push_back("PGPASSWORD=secret");
  std::vector<const char *> parent;
  for (const auto &e : parent_env) parent.push_back(e.c_str());
  parent.push_back(nullptr);
  for (const std::string &entry : notification_environment(f, parent.data())) {
    FUZZ_CHECK(!forbidden_in_child(entry));
    FUZZ_CHECK(entry.find('=') != std::string::npos);
    FUZZ_CHECK(std::strlen(entry.c_str()) == entry.size());  // no NUL: execve would cut it
  }
  return 0;
}
