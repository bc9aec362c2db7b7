/*
 * SharedCount requests of the Curator peer: counter.get {path, seed} → {value} and
 * counter.add {path, seed, delta} → {pre, post} (a compare-and-set loop, as Curator's users write).
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;

final class CounterOps {
  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    try (SharedCount count = new SharedCount(CuratorPeer.zk, r.get("path").asText(), r.path("seed").asInt(0))) {
      count.start();
      switch (op) {
        case "counter.get" -> reply.put("value", count.getCount());
        case "counter.add" -> {
          for (; ; ) {
            VersionedValue<Integer> current = count.getVersionedValue();
            int post = current.getValue() + r.get("delta").asInt();
            if (count.trySetCount(current, post)) {
              reply.put("pre", current.getValue()).put("post", post);
              return;
            }
          }
        }
        default -> throw new IllegalArgumentException("unknown op " + op);
      }
    }
  }
}
