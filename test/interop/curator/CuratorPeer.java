/*
 * A long-running Apache Curator 5.4 peer for the interop tests (test/support/curator.ts compiles
 * every .java file of this folder and drives it as a PeerProcess): first
 * `SESSION <id hex> <password hex>` and `READY`; then one JSON request per stdin line, one JSON
 * answer per stdout line ({"id":N,"ok":true,...} or {"id":N,"ok":false,"error":"..."}), answered as
 * they complete. Events (a LeaderSelector's `LEADER <name>`, ...) are lines of their own. `exit`
 * ends it.
 *
 *   java -cp CLASSPATH CuratorPeer CONNECT
 *
 * An op `<area>.<verb>` is handled by the class `<Area>Ops` of this folder (a static
 * `handle(String op, JsonNode request, ObjectNode reply)`; each lists its requests in its header),
 * so a recipe's requests live in one file. A request with a "thread" field runs on that named
 * single thread: Curator's mutexes and read-write locks are owned by the thread that took them.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorPeer {
  static final ObjectMapper JSON = new ObjectMapper();
  /** The peer's one Curator client (one session), shared by every `*Ops` class. */
  static CuratorFramework zk;
  private static final Map<String, ExecutorService> threads = new ConcurrentHashMap<>();
  private static final Map<String, Method> handlers = new ConcurrentHashMap<>();

  /** Print one line (an answer or an event) whole. */
  static synchronized void emit(String line) {
    System.out.println(line);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    zk = CuratorFrameworkFactory.newClient(args[0], 10_000, 10_000, new ExponentialBackoffRetry(100, 3));
    zk.start();
    if (!zk.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection");
    var zooKeeper = zk.getZookeeperClient().getZooKeeper();
    emit("SESSION " + Long.toHexString(zooKeeper.getSessionId()) + " " + HexFormat.of().formatHex(zooKeeper.getSessionPasswd()));
    emit("READY");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    ExecutorService requests = Executors.newCachedThreadPool();
    for (String line; (line = in.readLine()) != null && !line.equals("exit"); ) {
      JsonNode request = JSON.readTree(line);
      String op = request.get("op").asText();
      ExecutorService thread =
          request.has("thread")
              ? threads.computeIfAbsent(request.get("thread").asText(), n -> Executors.newSingleThreadExecutor())
              : requests;
      thread.execute(() -> answer(request, op));
    }
    zk.close();
    System.exit(0);
  }

  private static void answer(JsonNode request, String op) {
    ObjectNode reply = JSON.createObjectNode().put("id", request.get("id").asLong()).put("ok", true);
    try {
      handler(op).invoke(null, op, request, reply);
    } catch (InvocationTargetException e) {
      reply.put("ok", false).put("error", e.getCause().toString());
    } catch (Exception e) {
      reply.put("ok", false).put("error", e.toString());
    }
    emit(reply.toString());
  }

  /** `semaphore.acquire` → `SemaphoreOps.handle`. */
  private static Method handler(String op) {
    String area = op.substring(0, Math.max(0, op.indexOf('.')));
    return handlers.computeIfAbsent(
        area,
        a -> {
          String name = a.isEmpty() ? "" : Character.toUpperCase(a.charAt(0)) + a.substring(1) + "Ops";
          try {
            return Class.forName(name).getDeclaredMethod("handle", String.class, JsonNode.class, ObjectNode.class);
          } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("unknown op " + op);
          }
        });
  }
}
