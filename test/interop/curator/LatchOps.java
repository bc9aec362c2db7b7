/*
 * LeaderLatch requests of the Curator peer: latch.start {name, path, participant},
 * latch.has {name} → {leader}, latch.participants {name} → {ids (leader first)}, latch.close {name}.
 * Taking and losing leadership print `LATCH_LEADER <name>` / `LATCH_NOT_LEADER <name>` (its
 * LeaderLatchListener).
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;

final class LatchOps {
  private static final Map<String, LeaderLatch> latches = new ConcurrentHashMap<>();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "latch.start" -> {
        LeaderLatch latch = new LeaderLatch(CuratorPeer.zk, r.get("path").asText(), r.get("participant").asText());
        latch.addListener(
            new LeaderLatchListener() {
              @Override
              public void isLeader() {
                CuratorPeer.emit("LATCH_LEADER " + name);
              }

              @Override
              public void notLeader() {
                CuratorPeer.emit("LATCH_NOT_LEADER " + name);
              }
            });
        latches.put(name, latch);
        latch.start();
      }
      case "latch.has" -> reply.put("leader", latches.get(name).hasLeadership());
      case "latch.participants" -> {
        ArrayNode ids = reply.putArray("ids");
        for (Participant participant : latches.get(name).getParticipants()) ids.add(participant.getId());
      }
      case "latch.close" -> latches.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
