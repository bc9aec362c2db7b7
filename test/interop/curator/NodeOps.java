/*
 * PersistentNode / PersistentTtlNode requests of the Curator peer: node.start {name, path, mode,
 * protection, hex} → {created, path} (after waitForInitialCreate, 10 s), node.ttlStart {name, path,
 * ttl, hex} → {created}, node.path {name} → {path}, node.set {name, hex}, node.close {name},
 * node.read {path} → {exists, hex, ephemeralOwner, children}, node.protected {name: a znode name}
 * → {protected} (Curator's ProtectedUtils). A PersistentNode's listener prints
 * `NODE_CREATED <name> <path>`.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

final class NodeOps {
  private static final Map<String, Closeable> nodes = new ConcurrentHashMap<>();
  private static final HexFormat HEX = HexFormat.of();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    switch (op) {
      case "node.start" -> {
        String name = r.get("name").asText();
        PersistentNode node =
            new PersistentNode(
                CuratorPeer.zk,
                CreateMode.valueOf(r.get("mode").asText()),
                r.get("protection").asBoolean(),
                r.get("path").asText(),
                HEX.parseHex(r.get("hex").asText()));
        node.getListenable().addListener(path -> CuratorPeer.emit("NODE_CREATED " + name + " " + path));
        nodes.put(name, node);
        node.start();
        reply.put("created", node.waitForInitialCreate(10, TimeUnit.SECONDS));
        reply.put("path", node.getActualPath());
      }
      case "node.ttlStart" -> {
        PersistentTtlNode node =
            new PersistentTtlNode(
                CuratorPeer.zk, r.get("path").asText(), r.get("ttl").asLong(), HEX.parseHex(r.get("hex").asText()));
        nodes.put(r.get("name").asText(), node);
        node.start();
        reply.put("created", node.waitForInitialCreate(10, TimeUnit.SECONDS));
      }
      case "node.path" -> reply.put("path", ((PersistentNode) nodes.get(r.get("name").asText())).getActualPath());
      case "node.set" -> {
        byte[] data = HEX.parseHex(r.get("hex").asText());
        Closeable node = nodes.get(r.get("name").asText());
        if (node instanceof PersistentTtlNode ttl) ttl.setData(data);
        else ((PersistentNode) node).setData(data);
      }
      case "node.close" -> nodes.remove(r.get("name").asText()).close();
      case "node.read" -> {
        String path = r.get("path").asText();
        Stat stat = CuratorPeer.zk.checkExists().forPath(path);
        reply.put("exists", stat != null);
        if (stat != null) {
          reply.put("hex", HEX.formatHex(CuratorPeer.zk.getData().forPath(path)));
          reply.put("ephemeralOwner", Long.toHexString(stat.getEphemeralOwner()));
          ArrayNode children = reply.putArray("children");
          for (String child : CuratorPeer.zk.getChildren().forPath(path)) children.add(child);
        }
      }
      case "node.protected" -> reply.put("protected", ProtectedUtils.isProtectedZNode(r.get("name").asText()));
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
