/*
 * InterProcessMultiLock requests of the Curator peer: multilock.acquire {name, thread, paths,
 * timeoutMs} → {acquired}, multilock.release {name, thread}. Its mutexes are owned by the thread
 * that took them, so both requests of one name carry the same "thread".
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;

final class MultilockOps {
  private static final Map<String, InterProcessMultiLock> locks = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "multilock.acquire" -> {
        InterProcessMultiLock lock =
            locks.computeIfAbsent(
                name,
                n -> {
                  List<String> paths = new ArrayList<>();
                  for (JsonNode path : r.get("paths")) paths.add(path.asText());
                  return new InterProcessMultiLock(CuratorPeer.zk, paths);
                });
        reply.put("acquired", lock.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS));
      }
      case "multilock.release" -> locks.get(name).release();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
