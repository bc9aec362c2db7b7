/*
 * The scale suite's program for Apache Curator 5.4 (bench/fleet/clients.ts compiles it on first
 * use against Debian's jars): java -cp CLASSPATH CuratorFleet '<CaseRequest JSON>'.
 *
 * Runs one case of one workload -- the same work as our client's program (bench/fleet/workloads/)
 * with Curator's own recipes -- and prints one JSON line: {"seconds", "items", ...}, or
 * {"skip": why} for a workload Curator has no recipe for here.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorFleet {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SESSION_TIMEOUT_MS = 10_000;
  /** The tree-cache workload's session and connection timeout (bench/fleet/workloads/tree-cache.ts). */
  private static final int TREE_SESSION_TIMEOUT_MS = 30_000;
  private static final List<CuratorFramework> clients = new ArrayList<>();

  private static CuratorFramework session(String connect, int timeoutMs) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(connect, timeoutMs, timeoutMs, new ExponentialBackoffRetry(100, 3));
    clients.add(client);
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection");
    return client;
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** The server's zk_packets_received (mntr): requests received so far, from every session. */
  private static long packetsReceived(JsonNode request) throws Exception {
    try (Socket socket = new Socket(request.get("host").asText(), request.get("port").asInt())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("mntr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      byte[] buffer = new byte[65536];
      for (int n; (n = in.read(buffer)) > 0; ) text.write(buffer, 0, n);
      Matcher match = Pattern.compile("zk_packets_received\\s+(\\d+)").matcher(text.toString("US-ASCII"));
      if (!match.find()) throw new IllegalStateException("mntr: no zk_packets_received");
      return Long.parseLong(match.group(1));
    }
  }

  private static double percentile(double[] sorted, double q) {
    return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
  }

  /** CuratorCache over the shared tree: load (time, heap per node), then churn by a second session. */
  private static ObjectNode treeCache(JsonNode request, JsonNode params) throws Exception {
    String connect = request.get("connect").asText();
    String root = request.get("shared").asText();
    int nodes = params.get("nodes").asInt();
    int sets = params.get("sets").asInt();
    CuratorFramework zk = session(connect, TREE_SESSION_TIMEOUT_MS);
    CountDownLatch initialized = new CountDownLatch(1);
    LinkedBlockingQueue<Object[]> updated = new LinkedBlockingQueue<>();
    long heapBefore = usedHeapAfterGc();
    long start = System.nanoTime();
    // Curator 5.4 counts its reads in flight with a java.util.concurrent.Phaser (at most 65,535
    // parties): past that, register() throws, the read is dropped and INITIALIZED comes with part
    // of the tree (CURATOR-690, fixed in 5.6). The errors are counted, and the run marked partial.
    AtomicInteger loadErrors = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    CuratorCache cache =
        CuratorCache.builder(zk, root)
            .withExceptionHandler(
                e -> {
                  loadErrors.incrementAndGet();
                  firstError.compareAndSet(null, e.toString());
                })
            .build();
    cache
        .listenable()
        .addListener(
            CuratorCacheListener.builder()
                .forInitialized(initialized::countDown)
                .forChanges(
                    (oldNode, node) ->
                        updated.add(
                            new Object[] {node.getPath() + "@" + node.getStat().getVersion(), System.nanoTime()}))
                .build());
    cache.start();
    if (!initialized.await(600, TimeUnit.SECONDS)) throw new IllegalStateException("not initialized in 600 s");
    double seconds = (System.nanoTime() - start) / 1e9;
    long cached = cache.size();
    long heapAfter = usedHeapAfterGc();
    int parents = Math.max(1, Math.round(nodes / 51f));
    ObjectNode result = JSON.createObjectNode();
    result.put("seconds", seconds);
    result.put("items", cached);
    result.put("expected", 1 + parents * 51);
    result.put("heap_bytes_per_node", (double) (heapAfter - heapBefore) / cached);
    result.put("load_errors", loadErrors.get());
    if (firstError.get() != null) result.put("first_error", firstError.get());
    if (sets > 0) {
      CuratorFramework writer = session(connect, SESSION_TIMEOUT_MS);
      List<Double> lags = new ArrayList<>();
      long stopAt = System.nanoTime() + params.get("churn_s").asLong() * 1_000_000_000L;
      for (int i = 0; i < sets && System.nanoTime() < stopAt; i++) {
        String path = String.format("%s/p%05d/c%02d", root, i % parents, (i / parents) % 50);
        long t0 = System.nanoTime();
        int version = writer.setData().forPath(path, ("churn-" + i).getBytes()).getVersion();
        String key = path + "@" + version;
        for (; ; ) {
          Object[] event = updated.poll(30, TimeUnit.SECONDS);
          if (event == null) throw new IllegalStateException("no event for " + key);
          if (event[0].equals(key)) {
            lags.add(((Long) event[1] - t0) / 1e6);
            break;
          }
        }
      }
      double[] sorted = lags.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      result.put("churn_sets", sorted.length);
      result.put("churn_lag_p50_ms", percentile(sorted, 0.5));
      result.put("churn_lag_p99_ms", percentile(sorted, 0.99));
    }
    cache.close();
    return result;
  }

  /** W waiters on one held InterProcessMutex (10 sessions), queued in order; then hand it down. */
  private static ObjectNode lockHandover(JsonNode request, JsonNode params) throws Exception {
    int waiters = params.get("waiters").asInt();
    String path = request.get("root").asText() + "/lock";
    CuratorFramework[] sessions = new CuratorFramework[10];
    for (int i = 0; i < sessions.length; i++) sessions[i] = session(request.get("connect").asText(), SESSION_TIMEOUT_MS);
    InterProcessMutex holder = new InterProcessMutex(sessions[0], path);
    holder.acquire();
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      final int waiter = i;
      InterProcessMutex lock = new InterProcessMutex(sessions[i % sessions.length], path);
      Thread thread =
          new Thread(
              () -> {
                try {
                  lock.acquire();
                  order.add(waiter);
                  lock.release();
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      thread.setDaemon(true);
      thread.start();
      threads.add(thread);
      // Queued before the next one: its node is among the participants.
      for (int polls = 0; holder.getParticipantNodes().size() < i + 2; polls++) {
        if (polls > 10_000) throw new IllegalStateException("waiter " + i + " never queued");
        Thread.sleep(1);
      }
    }
    Thread.sleep(300); // every waiter's watch set
    long before = packetsReceived(request);
    long start = System.nanoTime();
    holder.release();
    for (Thread thread : threads) thread.join(120_000);
    double seconds = (System.nanoTime() - start) / 1e9;
    long requests = packetsReceived(request) - before;
    boolean fifo = order.size() == waiters;
    for (int i = 0; fifo && i < waiters; i++) fifo = order.get(i) == i;
    ObjectNode result = JSON.createObjectNode();
    result.put("seconds", seconds);
    result.put("items", waiters);
    result.put("ms_per_handover", seconds * 1000 / waiters);
    result.put("requests_per_handover", (double) requests / waiters);
    result.put("fifo", fifo);
    return result;
  }

  public static void main(String[] args) throws Exception {
    JsonNode request = JSON.readTree(args[0]);
    String workload = request.get("workload").asText();
    ObjectNode result;
    try {
      switch (workload) {
        case "tree_cache":
          result = treeCache(request, request.get("params"));
          break;
        case "lock_handover":
          result = lockHandover(request, request.get("params"));
          break;
        default:
          result = JSON.createObjectNode().put("skip", "not implemented for Curator");
      }
    } finally {
      for (CuratorFramework client : clients) client.close();
    }
    System.out.println(JSON.writeValueAsString(result));
    System.exit(0);
  }
}
