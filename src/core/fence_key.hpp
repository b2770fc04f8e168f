// pg_vip.fence_key_file: the key every node of a cluster MACs its fence
// tags with, so that a tag written by anyone else allowed ec2:CreateTags
// (another cluster's nodes share the IAM policy) is not taken for this
// cluster's. The file is a secret: readable by the server's OS user alone.
#pragma once

#include <string>
#include <string_view>

#include "cpp_only.hpp"
#include "secret.hpp"

namespace pg_vip {

// The checks that need no read of the key: an absolute path to a regular
// file owned by this process's user that no one else may read or write.
// Throws ConfigError with what to fix. The setting's check runs this.
void check_fence_key_file(std::string_view path);

// Reads the key (16 to 4096 bytes; a final line break is not part of it).
// Throws Error with what to fix.
Secret read_fence_key(const std::string &path);

}  // namespace pg_vip
