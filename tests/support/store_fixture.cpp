#include "store_fixture.hpp"

namespace evstore::testing {

event make_event(const std::string& task, const std::string& type, actor_kind actor) {
  event ev;
  ev.task = task;
  ev.type = type;
  ev.actor = actor;
  ev.data = boost::json::object{{"text", "hello"}};
  return ev;
}

std::unique_ptr<store> StoreTest::open_store(store_options opts) {
  if (opts.root == store_options{}.root)
    opts.root = root();
  auto db = store::open(opts);
  EXPECT_TRUE(db) << render(db.error());
  return db ? std::move(*db) : nullptr;
}

append_result StoreTest::must_append(store& db, event ev) {
  auto res = db.append(std::move(ev));
  EXPECT_TRUE(res) << render(res.error());
  return res ? *res : append_result{};
}

} // namespace evstore::testing
