/*
 * InterProcessReadWriteLock requests of the Curator peer: rwlock.acquire {name, thread, path, mode
 * ("read" | "write"), timeoutMs} → {acquired}, rwlock.release {name, thread, mode}. Curator's
 * read-write lock is owned by the thread that took it (and a thread holding the write lock may
 * take the read lock), so every request of one name carries the same "thread".
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;

final class RwlockOps {
  private static final Map<String, InterProcessReadWriteLock> locks = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "rwlock.acquire" -> {
        InterProcessReadWriteLock lock =
            locks.computeIfAbsent(name, n -> new InterProcessReadWriteLock(CuratorPeer.zk, r.get("path").asText()));
        reply.put("acquired", side(lock, r).acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS));
      }
      case "rwlock.release" -> side(locks.get(name), r).release();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }

  private static InterProcessMutex side(InterProcessReadWriteLock lock, JsonNode r) {
    return r.get("mode").asText().equals("read") ? lock.readLock() : lock.writeLock();
  }
}
