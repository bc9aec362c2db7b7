/*
 * Lock revocation requests of the Curator peer: revoke.acquire {name, thread, path, timeoutMs}
 * → {acquired, node}: a revocable InterProcessMutex (its listener prints `REVOKE_REQUESTED <name>`;
 * the mutex is released by revoke.release on its thread), node = its lock node (the first
 * participant while held); revoke.release {name, thread}; revoke.attempt {path}:
 * Revoker.attemptRevoke.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.Revoker;

final class RevokeOps {
  private static final Map<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    switch (op) {
      case "revoke.acquire" -> {
        String name = r.get("name").asText();
        InterProcessMutex mutex =
            mutexes.computeIfAbsent(
                name,
                n -> {
                  InterProcessMutex m = new InterProcessMutex(CuratorPeer.zk, r.get("path").asText());
                  m.makeRevocable(lock -> CuratorPeer.emit("REVOKE_REQUESTED " + name));
                  return m;
                });
        boolean acquired = mutex.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS);
        reply.put("acquired", acquired);
        if (acquired) reply.put("node", mutex.getParticipantNodes().iterator().next());
      }
      case "revoke.release" -> mutexes.get(r.get("name").asText()).release();
      case "revoke.attempt" -> Revoker.attemptRevoke(CuratorPeer.zk, r.get("path").asText());
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
