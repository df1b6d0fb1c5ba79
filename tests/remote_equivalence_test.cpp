// A connected store answers exactly as a local one: the same random operation sequences
// (support/equivalence.hpp), single and batched, applied to a store in this process and, through
// store::connect, to a node serving another root. Every answer and every error must be equal, and
// every query through the client equal the full scan.
#include "src/storage/full_scan.hpp"
#include "support/equivalence.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

class RemoteEquivalenceTest : public ::testing::TestWithParam<uint64_t> {
protected:
  temp_dir dir_;
};

} // namespace

TEST_P(RemoteEquivalenceTest, AConnectedStoreAnswersEveryOperationAsALocalOne) {
  store_options local_opts;
  local_opts.root = dir_.str("local");
  local_opts.index_sketch_size = 1; // every path of the query plan
  auto local = store::open(local_opts);
  ASSERT_TRUE(local) << render(local.error());
  store_options node_opts = local_opts;
  node_opts.root = dir_.str("served");
  node_opts.serve = true;
  auto node = store::open(node_opts);
  ASSERT_TRUE(node) << render(node.error());
  connect_options co;
  co.root = node_opts.root;
  auto remote = store::connect(co);
  ASSERT_TRUE(remote) << render(remote.error());
  store& a = **local;
  store& b = **remote;

  run_equivalent_operations(
    a, b, GetParam(), 300,
    [&](const std::string& prefix, uint64_t limit, const caf::optional<timestamp>& since,
        const query_result& answer) {
      auto scan = full_scan_query(node_opts.root, prefix, limit, since);
      ASSERT_TRUE(scan);
      EXPECT_EQ(ids_of(answer.events), ids_of(scan->events)) << "prefix '" << prefix << "'";
    });
}

INSTANTIATE_TEST_SUITE_P(Seeds, RemoteEquivalenceTest, ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u));
