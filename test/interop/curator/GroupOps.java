/*
 * GroupMember requests of the Curator peer: group.start {name, path, member, payloadHex?} (without
 * payloadHex Curator's default, the local address), group.members {name} → {members: {id: hex}}
 * (Curator's getCurrentMembers()), group.set {name, payloadHex} (setThisData), group.close {name}.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.recipes.nodes.GroupMember;

final class GroupOps {
  private static final Map<String, GroupMember> members = new ConcurrentHashMap<>();
  private static final HexFormat HEX = HexFormat.of();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "group.start" -> {
        String path = r.get("path").asText();
        String id = r.get("member").asText();
        GroupMember member =
            r.has("payloadHex")
                ? new GroupMember(CuratorPeer.zk, path, id, HEX.parseHex(r.get("payloadHex").asText()))
                : new GroupMember(CuratorPeer.zk, path, id);
        members.put(name, member);
        member.start();
      }
      case "group.members" -> {
        ObjectNode current = reply.putObject("members");
        for (Map.Entry<String, byte[]> entry : members.get(name).getCurrentMembers().entrySet())
          current.put(entry.getKey(), HEX.formatHex(entry.getValue()));
      }
      case "group.set" -> members.get(name).setThisData(HEX.parseHex(r.get("payloadHex").asText()));
      case "group.close" -> members.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
