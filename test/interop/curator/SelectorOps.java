/*
 * LeaderSelector requests of the Curator peer: selector.start {name, path, participant},
 * selector.release {name}, selector.close {name}. Leadership is kept until selector.release;
 * taking and leaving it print `LEADER <name>` / `NOT_LEADER <name>`.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;

final class SelectorOps {
  private static final Map<String, LeaderSelector> selectors = new ConcurrentHashMap<>();
  private static final Map<String, CountDownLatch> leaving = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "selector.start" -> {
        LeaderSelector selector =
            new LeaderSelector(
                CuratorPeer.zk,
                r.get("path").asText(),
                new LeaderSelectorListenerAdapter() {
                  @Override
                  public void takeLeadership(CuratorFramework client) throws Exception {
                    CountDownLatch release = new CountDownLatch(1);
                    leaving.put(name, release);
                    CuratorPeer.emit("LEADER " + name);
                    try {
                      release.await();
                    } finally {
                      leaving.remove(name);
                      CuratorPeer.emit("NOT_LEADER " + name);
                    }
                  }
                });
        selector.setId(r.get("participant").asText());
        selectors.put(name, selector);
        selector.start();
      }
      case "selector.release" -> {
        CountDownLatch release = leaving.get(name);
        if (release == null) throw new IllegalStateException("not leading");
        release.countDown();
      }
      case "selector.close" -> selectors.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
