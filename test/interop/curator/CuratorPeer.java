/*
 * A long-running Apache Curator 5.4 peer for the interop tests (test/support/curator.ts compiles
 * and drives it as a PeerProcess): first `SESSION <id hex> <password hex>` and `READY`; then one
 * JSON request per stdin line, one JSON answer per stdout line ({"id":N,"ok":true,...} or
 * {"id":N,"ok":false,"error":"..."}), answered as they complete; a LeaderSelector taking or
 * leaving leadership prints `LEADER <name>` / `NOT_LEADER <name>`. `exit` ends it.
 *
 *   java -cp CLASSPATH CuratorPeer CONNECT
 *
 * Requests: counter.get {path, seed} and counter.add {path, seed, delta} (SharedCount);
 * selector.start {name, path, participant}, selector.release {name}, selector.close {name}
 * (LeaderSelector: leadership is kept until selector.release); mutex.acquire {name, path,
 * timeoutMs} → {acquired}, mutex.release {name} (InterProcessMutex; each name has its own
 * thread, since Curator's mutex is owned by a thread).
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorPeer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static CuratorFramework zk;
  private static final Map<String, LeaderSelector> selectors = new ConcurrentHashMap<>();
  private static final Map<String, CountDownLatch> leaving = new ConcurrentHashMap<>();
  private static final Map<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();
  private static final Map<String, ExecutorService> threads = new ConcurrentHashMap<>();

  private static synchronized void emit(String line) {
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
      // A mutex request runs on its name's own thread (the mutex is owned by a thread); others on any.
      ExecutorService thread =
          op.startsWith("mutex.")
              ? threads.computeIfAbsent(request.get("name").asText(), n -> Executors.newSingleThreadExecutor())
              : requests;
      thread.execute(() -> answer(request, op));
    }
    zk.close();
    System.exit(0);
  }

  private static void answer(JsonNode request, String op) {
    ObjectNode reply = JSON.createObjectNode().put("id", request.get("id").asLong()).put("ok", true);
    try {
      handle(op, request, reply);
    } catch (Exception e) {
      reply.put("ok", false).put("error", e.toString());
    }
    emit(reply.toString());
  }

  private static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    switch (op) {
      case "counter.get" -> {
        try (SharedCount count = new SharedCount(zk, r.get("path").asText(), r.path("seed").asInt(0))) {
          count.start();
          reply.put("value", count.getCount());
        }
      }
      case "counter.add" -> {
        try (SharedCount count = new SharedCount(zk, r.get("path").asText(), r.path("seed").asInt(0))) {
          count.start();
          for (; ; ) {
            VersionedValue<Integer> current = count.getVersionedValue();
            int post = current.getValue() + r.get("delta").asInt();
            if (count.trySetCount(current, post)) {
              reply.put("pre", current.getValue()).put("post", post);
              return;
            }
          }
        }
      }
      case "selector.start" -> {
        String name = r.get("name").asText();
        String id = r.get("participant").asText();
        LeaderSelector selector =
            new LeaderSelector(
                zk,
                r.get("path").asText(),
                new LeaderSelectorListenerAdapter() {
                  @Override
                  public void takeLeadership(CuratorFramework client) throws Exception {
                    CountDownLatch release = new CountDownLatch(1);
                    leaving.put(name, release);
                    emit("LEADER " + name);
                    try {
                      release.await();
                    } finally {
                      leaving.remove(name);
                      emit("NOT_LEADER " + name);
                    }
                  }
                });
        selector.setId(id);
        selectors.put(name, selector);
        selector.start();
      }
      case "selector.release" -> {
        CountDownLatch release = leaving.get(r.get("name").asText());
        if (release == null) throw new IllegalStateException("not leading");
        release.countDown();
      }
      case "selector.close" -> selectors.remove(r.get("name").asText()).close();
      case "mutex.acquire" -> {
        InterProcessMutex mutex =
            mutexes.computeIfAbsent(r.get("name").asText(), n -> new InterProcessMutex(zk, r.get("path").asText()));
        reply.put("acquired", mutex.acquire(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS));
      }
      case "mutex.release" -> mutexes.get(r.get("name").asText()).release();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
