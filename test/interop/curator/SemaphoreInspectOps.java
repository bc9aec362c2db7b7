/*
 * InterProcessSemaphoreV2 requests of the Curator peer, for the inspector's test:
 * semaphoreInspect.acquire {name, path, maxLeases, identifier, timeoutMs} → {acquired} (the lease
 * node's data is the identifier, through setNodeData), semaphoreInspect.release {name}.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;

final class SemaphoreInspectOps {
  private static final Map<String, Lease> leases = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "semaphoreInspect.acquire" -> {
        InterProcessSemaphoreV2 semaphore =
            new InterProcessSemaphoreV2(CuratorPeer.zk, r.get("path").asText(), r.get("maxLeases").asInt());
        semaphore.setNodeData(r.get("identifier").asText().getBytes(StandardCharsets.UTF_8));
        Lease lease = semaphore.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS);
        if (lease != null) leases.put(name, lease);
        reply.put("acquired", lease != null);
      }
      case "semaphoreInspect.release" -> leases.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
