/*
 * InterProcessMutex requests of the Curator peer: mutex.acquire {name, thread, path, timeoutMs} →
 * {acquired}, mutex.release {name, thread}. Curator's mutex is owned by the thread that took it, so
 * both requests of one name carry the same "thread".
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

final class MutexOps {
  private static final Map<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "mutex.acquire" -> {
        InterProcessMutex mutex =
            mutexes.computeIfAbsent(name, n -> new InterProcessMutex(CuratorPeer.zk, r.get("path").asText()));
        reply.put("acquired", mutex.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS));
      }
      case "mutex.release" -> mutexes.get(name).release();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
