// The texts Route 53 takes and gives back: hosted zone and change ids, DNS
// names, and TXT values in its quoted form. Names and TXT texts come from
// settings and from other nodes' records, so every one is checked or
// encoded here before it reaches a request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip::aws {

// "Z1D633PJN98FT9" or "/hostedzone/Z1D633PJN98FT9" (as Route 53's own
// answers write it) to the bare id; anything but 1 to 32 upper-case letters
// and digits is a ConfigError (the id goes into the request's path).
std::string hosted_zone_id(std::string_view id);
// "C2682N5HXP0BZ4" or "/change/C2682N5HXP0BZ4" to the bare id; else ConfigError.
std::string change_id(std::string_view id);

// A DNS name as pg_vip writes it to Route 53: labels of 1 to 63 letters,
// digits, '-' and '_' (for names like _pg_vip.db.example.com), at most 253
// characters, lower-cased, with the final dot Route 53's answers carry
// ("db.example.com" -> "db.example.com."). Anything else is a ConfigError.
std::string dns_name(std::string_view name);
// A name from Route 53's answer in the same form, for comparison: its octal
// escapes ("\052" for '*') decoded, lower-cased, the final dot added.
std::string canonical_answer_name(std::string_view name);

// A text as one TXT record value in Route 53's form: character strings of
// at most 255 characters, each in double quotes, separated by one space;
// '"' and '\' escaped with '\', every byte outside printable ASCII as a
// three-digit octal escape ("\303\251"). The empty text is "\"\"". A text
// whose value would pass Route 53's 4,000 characters is a ConfigError.
std::string txt_value(std::string_view text);
// The text of a TXT record value as Route 53 gives it back: its strings
// (quoted or not) decoded and joined. nullopt for one that cannot be read
// (an unterminated quote, a bad escape): someone else's record, not ours.
std::optional<std::string> txt_text(std::string_view value);

}  // namespace pg_vip::aws
