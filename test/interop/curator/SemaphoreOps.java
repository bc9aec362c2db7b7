/*
 * InterProcessSemaphoreV2 requests of the Curator peer: semaphore.acquire {name, path, maxLeases,
 * timeoutMs, identifier?} → {acquired, node?}, semaphore.release {name}. One semaphore object and
 * at most one lease per name.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;

final class SemaphoreOps {
  private static final Map<String, InterProcessSemaphoreV2> semaphores = new ConcurrentHashMap<>();
  private static final Map<String, Lease> leases = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "semaphore.acquire" -> {
        InterProcessSemaphoreV2 semaphore =
            semaphores.computeIfAbsent(
                name,
                n -> new InterProcessSemaphoreV2(CuratorPeer.zk, r.get("path").asText(), r.get("maxLeases").asInt()));
        if (r.has("identifier")) semaphore.setNodeData(r.get("identifier").asText().getBytes(StandardCharsets.UTF_8));
        Lease lease = semaphore.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS);
        reply.put("acquired", lease != null);
        if (lease != null) {
          leases.put(name, lease);
          reply.put("node", lease.getNodeName());
        }
      }
      case "semaphore.release" -> leases.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
