#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "src/facade/store.hpp"
#include "temp_dir.hpp"

namespace evstore::testing {

/// An event of `type` for `task`, with a small JSON payload; id and ts left for the store to fill.
event make_event(const std::string& task, const std::string& type,
                 actor_kind actor = actor_kind::agent);

/// A fixture with a temp store root and helpers that fail the test on errors.
class StoreTest : public ::testing::Test {
protected:
  std::unique_ptr<store> open_store(store_options opts = {});

  store_options options() const {
    store_options opts;
    opts.root = root();
    return opts;
  }

  std::string root() const {
    return dir_.str("store");
  }

  append_result must_append(store& db, event ev);

  temp_dir dir_;
};

} // namespace evstore::testing
