#include <gtest/gtest.h>

void register_sigv4_suite();
void add_sigv4_counter();

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  register_sigv4_suite();
  add_sigv4_counter();
  return RUN_ALL_TESTS();
}
