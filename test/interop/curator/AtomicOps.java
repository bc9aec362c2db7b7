/*
 * DistributedAtomicLong requests of the Curator peer: atomic.add {path, delta, times, lockPath?}
 * → {succeeded, last} (`times` adds, each retried optimistically, then under an InterProcessMutex
 * at lockPath when given; `succeeded` counts those that applied), atomic.get {path} → {value}.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.retry.RetryNTimes;

final class AtomicOps {
  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String path = r.get("path").asText();
    DistributedAtomicLong atomic =
        r.has("lockPath")
            ? new DistributedAtomicLong(
                CuratorPeer.zk,
                path,
                new RetryNTimes(3, 1),
                PromotedToLock.builder().lockPath(r.get("lockPath").asText()).retryPolicy(new RetryNTimes(100, 1)).build())
            : new DistributedAtomicLong(CuratorPeer.zk, path, new RetryNTimes(1000, 1));
    switch (op) {
      case "atomic.add" -> {
        int succeeded = 0;
        long last = 0;
        for (int i = 0; i < r.get("times").asInt(); i++) {
          AtomicValue<Long> result = atomic.add(r.get("delta").asLong());
          if (result.succeeded()) {
            succeeded++;
            last = result.postValue();
          }
        }
        reply.put("succeeded", succeeded).put("last", last);
      }
      case "atomic.get" -> reply.put("value", atomic.get().postValue());
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
