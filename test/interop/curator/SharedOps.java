/*
 * SharedValue / SharedCount requests of the Curator peer: shared.value {name, path, seedHex},
 * shared.count {name, path, seed}, shared.get {name} → {hex, count?, version},
 * shared.set {name, hex | count}, shared.trySet {name, hex | count} → {set} (against the value it
 * saw last), shared.close {name}. Every change a listener sees prints
 * `SHARED_CHANGED <name> <hex>` (a SharedCount's value as its 4 bytes).
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.SharedValue;
import org.apache.curator.framework.recipes.shared.SharedValueListener;
import org.apache.curator.framework.recipes.shared.SharedValueReader;
import org.apache.curator.framework.state.ConnectionState;

final class SharedOps {
  private static final Map<String, Closeable> shared = new ConcurrentHashMap<>();
  private static final HexFormat HEX = HexFormat.of();

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String name = r.get("name").asText();
    switch (op) {
      case "shared.value" -> {
        SharedValue value = new SharedValue(CuratorPeer.zk, r.get("path").asText(), HEX.parseHex(r.get("seedHex").asText()));
        value.getListenable().addListener(new SharedValueListener() {
          @Override
          public void valueHasChanged(SharedValueReader reader, byte[] newValue) {
            CuratorPeer.emit("SHARED_CHANGED " + name + " " + HEX.formatHex(newValue));
          }

          @Override
          public void stateChanged(CuratorFramework client, ConnectionState newState) {}
        });
        shared.put(name, value);
        value.start();
      }
      case "shared.count" -> {
        SharedCount count = new SharedCount(CuratorPeer.zk, r.get("path").asText(), r.get("seed").asInt());
        count.addListener(new SharedCountListener() {
          @Override
          public void countHasChanged(SharedCountReader reader, int newCount) {
            CuratorPeer.emit("SHARED_CHANGED " + name + " " + HEX.formatHex(ByteBuffer.allocate(4).putInt(newCount).array()));
          }

          @Override
          public void stateChanged(CuratorFramework client, ConnectionState newState) {}
        });
        shared.put(name, count);
        count.start();
      }
      case "shared.get" -> {
        if (shared.get(name) instanceof SharedCount count) {
          reply.put("count", count.getCount()).put("version", count.getVersionedValue().getVersion());
        } else {
          SharedValue value = (SharedValue) shared.get(name);
          reply.put("hex", HEX.formatHex(value.getValue())).put("version", value.getVersionedValue().getVersion());
        }
      }
      case "shared.set" -> {
        if (shared.get(name) instanceof SharedCount count) count.setCount(r.get("count").asInt());
        else ((SharedValue) shared.get(name)).setValue(HEX.parseHex(r.get("hex").asText()));
      }
      case "shared.trySet" -> {
        if (shared.get(name) instanceof SharedCount count) {
          reply.put("set", count.trySetCount(count.getVersionedValue(), r.get("count").asInt()));
        } else {
          SharedValue value = (SharedValue) shared.get(name);
          reply.put("set", value.trySetValue(value.getVersionedValue(), HEX.parseHex(r.get("hex").asText())));
        }
      }
      case "shared.close" -> shared.remove(name).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
