#include "src/cluster/membership.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;

namespace {

cluster_membership parsed(const std::string& text) {
  auto m = parse_membership(text, "/etc/evstore");
  EXPECT_TRUE(m) << render(m.error());
  return m ? *m : cluster_membership{};
}

cluster_membership of_names(std::initializer_list<const char*> names) {
  cluster_membership m;
  uint16_t port = 7000;
  for (const char* n : names)
    m.nodes.push_back(cluster_member{n, "127.0.0.1", port++});
  return m;
}

} // namespace

TEST(MembershipTest, ParsesNodesCredentialAndSystemNodeWithCommentsAndBlankLines) {
  auto m = parsed("# a cluster\n\ncredential cluster.pem\nalpha 10.0.0.1:7000\n"
                  "beta  host.example:7001   # the second\ngamma [::1]:7002\nsystem beta\n");
  ASSERT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.nodes[0].name, "alpha");
  EXPECT_EQ(m.nodes[0].host, "10.0.0.1");
  EXPECT_EQ(m.nodes[0].port, 7000);
  EXPECT_EQ(m.nodes[1].host, "host.example");
  EXPECT_EQ(m.nodes[2].host, "::1");
  EXPECT_EQ(m.nodes[2].port, 7002);
  EXPECT_EQ(m.credential, "/etc/evstore/cluster.pem");
  EXPECT_EQ(m.system_node, 1u);
  EXPECT_EQ(m.owner_of(""), 1u); // the system-wide log lives on the system node
  EXPECT_EQ(parsed("credential /abs/c.pem\na 1.2.3.4:5\n").credential, "/abs/c.pem");
  // Without a system line: the owner of the empty id by the same rule, wherever it is listed.
  auto by_rule = parsed("credential c.pem\nalpha 1.2.3.4:5\nbeta 1.2.3.4:6\ngamma 1.2.3.4:7\n");
  auto reordered = parsed("credential c.pem\ngamma 1.2.3.4:7\nbeta 1.2.3.4:6\nalpha 1.2.3.4:5\n");
  EXPECT_EQ(by_rule.nodes[by_rule.system_node].name, reordered.nodes[reordered.system_node].name);
  EXPECT_EQ(by_rule.system_node, by_rule.highest_weight(""));
}

TEST(MembershipTest, RefusesEveryMalformedFileNamingTheLine) {
  struct row {
    const char* text;
    const char* says;
  };
  const row rows[] = {
    {"", "names no node"},
    {"credential c.pem\n", "names no node"},
    {"a 1.2.3.4:5\n", "no credential line"},
    {"credential c.pem\na 1.2.3.4\n", "line 2"},
    {"credential c.pem\na 1.2.3.4:0\n", "line 2"},
    {"credential c.pem\na 1.2.3.4:65536\n", "line 2"},
    {"credential c.pem\na 1.2.3.4:7x\n", "line 2"},
    {"credential c.pem\na ::1:7000\n", "line 2"}, // IPv6 needs brackets
    {"credential c.pem\na [::1:7000\n", "line 2"},
    {"credential c.pem\na/b 1.2.3.4:5\n", "not a node name"},
    {"credential c.pem\nsystem 1.2.3.4:5\nsystem x\n", "second system line"},
    {"credential c.pem\ncredential d.pem\n", "second credential line"},
    {"credential c.pem\na 1.2.3.4:5\na 1.2.3.4:6\n", "listed twice"},
    {"credential c.pem\na 1.2.3.4:5\nb 1.2.3.4:5\n", "two nodes at"},
    {"credential c.pem\na 1.2.3.4:5 extra\n", "line 2"},
    {"credential c.pem\na 1.2.3.4:5\nsystem b\n", "'b' is not listed"},
  };
  for (const auto& r : rows) {
    auto m = parse_membership(r.text, "/d");
    ASSERT_FALSE(m) << r.text;
    EXPECT_EQ(m.error().code(), static_cast<uint8_t>(errc::invalid_argument)) << r.text;
    EXPECT_NE(render(m.error()).find(r.says), std::string::npos)
      << r.text << " -> " << render(m.error());
  }
}

// The rule is written down (membership.hpp) and any other reader (another build, a script, another
// language) must agree with it: pinned values, computed independently from the written rule.
TEST(MembershipTest, RendezvousWeightsAndOwnersArePinned) {
  EXPECT_EQ(rendezvous_weight("alpha", "task-1"), 0x3a1fd42e5ae05d8eull);
  EXPECT_EQ(rendezvous_weight("gamma", "x"), 0x07d72f3ee0db4ebdull);
  EXPECT_NE(rendezvous_weight("ab", "c"), rendezvous_weight("a", "bc"));
  auto m = of_names({"alpha", "beta", "gamma"});
  const std::map<std::string, std::string> owners = {
    {"task-1", "beta"}, {"task-2", "gamma"}, {"task-3", "beta"}, {"build-42", "alpha"}, {"x", "alpha"}};
  for (const auto& [t, owner] : owners)
    EXPECT_EQ(m.nodes[m.owner_of(t)].name, owner) << t;
  // Moving nodes to other addresses or listing them in another order moves nothing.
  cluster_membership moved;
  for (const char* n : {"gamma", "alpha", "beta"})
    moved.nodes.push_back(cluster_member{n, "10.9.9.9", 9});
  for (const auto& [t, owner] : owners)
    EXPECT_EQ(moved.nodes[moved.owner_of(t)].name, owner) << t;
}

TEST(MembershipTest, TasksSpreadEvenlyAndANewNodeTakesOnlyItsShare) {
  auto three = of_names({"alpha", "beta", "gamma"});
  auto four = of_names({"alpha", "beta", "gamma", "delta"});
  constexpr int tasks = 30'000;
  std::map<std::string, int> per_node;
  int moved = 0;
  for (int i = 0; i < tasks; ++i) {
    const std::string t = "task-" + std::to_string(i);
    const auto& before = three.nodes[three.owner_of(t)].name;
    const auto& after = four.nodes[four.owner_of(t)].name;
    ++per_node[before];
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, "delta") << t; // nothing moves between the nodes that stay
    }
  }
  for (const auto& [name, n] : per_node)
    EXPECT_NEAR(n, tasks / 3, tasks / 30) << name; // within 10% of a third
  EXPECT_NEAR(moved, tasks / 4, tasks / 40);        // about a quarter moves, all to delta
}

TEST(MembershipTest, TheOwnershipKeyIsTheSortedNamesAndTheSystemNodeOnly) {
  auto base = parse_membership("credential c.pem\nsystem beta\nalpha 10.0.0.1:1\nbeta 10.0.0.2:2\n"
                               "gamma [::1]:3\n", "/d");
  ASSERT_TRUE(base) << render(base.error());
  EXPECT_EQ(base->ownership_key(), "alpha beta gamma; system beta");
  // Other addresses, another credential, other line order: the same owners, the same key.
  auto same = parse_membership("gamma 127.0.0.1:9\nsystem beta\nbeta h:7\nalpha 10.9.9.9:1\n"
                               "credential other.pem\n", "/e");
  ASSERT_TRUE(same) << render(same.error());
  EXPECT_EQ(same->ownership_key(), base->ownership_key());
  // Without a system line the rule picks one, and the key names it.
  auto implied = parse_membership("credential c.pem\nalpha a:1\nbeta b:2\ngamma c:3\n", "/d");
  ASSERT_TRUE(implied);
  EXPECT_EQ(implied->ownership_key(),
            "alpha beta gamma; system " + implied->nodes[implied->system_node].name);
  // A name more or less, or another system node: another key.
  auto fewer = parse_membership("credential c.pem\nsystem beta\nalpha a:1\nbeta b:2\n", "/d");
  auto other_system =
    parse_membership("credential c.pem\nsystem alpha\nalpha a:1\nbeta b:2\ngamma c:3\n", "/d");
  ASSERT_TRUE(fewer && other_system);
  EXPECT_EQ(fewer->ownership_key(), "alpha beta; system beta");
  EXPECT_EQ(other_system->ownership_key(), "alpha beta gamma; system alpha");
}

// The file is the user's, outside any store: a link to it is followed, but a FIFO (which would
// hang the caller), a device (/dev/zero would be read until memory ran out), a directory or an
// oversized file is refused, each at once and by name.
TEST(MembershipTest, ReadingRefusesWhatIsNotASmallRegularFileWithoutWaiting) {
  evstore::testing::temp_dir dir;
  const std::string good = "credential c.pem\nalpha 127.0.0.1:7000\n";
  evstore::testing::spit(dir.path() / "cluster", good);
  std::filesystem::create_symlink(dir.path() / "cluster", dir.path() / "linked");
  ASSERT_EQ(::mkfifo((dir.path() / "fifo").c_str(), 0644), 0);
  std::filesystem::create_directory(dir.path() / "dir");
  evstore::testing::spit(dir.path() / "huge", good + std::string(1 << 20, '#'));
  ::alarm(60); // a read that waits on the FIFO fails the test instead of hanging it
  std::string text;
  auto linked = read_membership(dir.str("linked"), &text);
  ASSERT_TRUE(linked) << render(linked.error());
  EXPECT_EQ(text, good);
  const std::pair<std::string, errc> rows[] = {
    {dir.str("missing"), errc::not_found},
    {dir.str("fifo"), errc::not_regular_file},
    {dir.str("dir"), errc::not_regular_file},
    {"/dev/zero", errc::not_regular_file},
    {dir.str("huge"), errc::invalid_argument},
  };
  for (const auto& [path, expected] : rows) {
    SCOPED_TRACE(path);
    auto m = read_membership(path);
    ASSERT_FALSE(m);
    EXPECT_TRUE(is(m.error(), expected)) << render(m.error());
    EXPECT_NE(render(m.error()).find(path), std::string::npos) << render(m.error());
  }
  ::alarm(0);
}
