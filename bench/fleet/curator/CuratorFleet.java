/*
 * The Curator 5.4 peer of the fleet benchmark's tree-cache workloads (bench/fleet/cache-run.ts
 * compiles and runs it): CuratorCache over a tree the runner built, then churn by a second
 * session. Prints one JSON line per result, in the shape of bench/fleet/ours-cache.ts's.
 *
 *   java -cp CLASSPATH CuratorFleet CONNECT ROOT NODES SETS
 *
 * The tree (bench/fleet/tree.ts): ROOT/pNNNNN (P parents), each with 50 leaves cNN; set i goes
 * to leaf (i / P) % 50 of parent i % P.
 */
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorFleet {
  private static long usedHeapAfterGc() throws InterruptedException {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }

  private static CuratorFramework open(String connect) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(connect, 10_000, 10_000, new ExponentialBackoffRetry(100, 3));
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection");
    return client;
  }

  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String root = args[1];
    int nodes = Integer.parseInt(args[2]);
    int sets = Integer.parseInt(args[3]);
    String client = "\"client\":\"curator\",\"version\":\"5.4.0\",\"runtime\":\"Java " + System.getProperty("java.version") + "\"";

    CuratorFramework zk = open(connect);
    CountDownLatch initialized = new CountDownLatch(1);
    LinkedBlockingQueue<Object[]> updated = new LinkedBlockingQueue<>();
    long heapBefore = usedHeapAfterGc();
    long start = System.nanoTime();
    CuratorCache cache = CuratorCache.build(zk, root);
    cache.listenable().addListener(
        CuratorCacheListener.builder()
            .forInitialized(initialized::countDown)
            .forChanges((oldNode, node) -> updated.add(new Object[] {node.getPath() + "@" + node.getStat().getVersion(), System.nanoTime()}))
            .build());
    cache.start();
    if (!initialized.await(600, TimeUnit.SECONDS)) throw new IllegalStateException("not initialized");
    double loadMs = (System.nanoTime() - start) / 1e6;
    long cached = cache.size();
    long heapAfter = usedHeapAfterGc();
    System.out.println("{" + client + ",\"workload\":\"treeLoad\",\"nodes\":" + cached + ",\"ms\":" + loadMs
        + ",\"heapBytesPerNode\":" + ((double) (heapAfter - heapBefore) / cached) + "}");

    if (sets > 0) {
      // Churn: a second session sets leaves one after another; lag = cache event time - set start.
      CuratorFramework writer = open(connect);
      int parents = Math.max(1, Math.round(nodes / 51f));
      double[] lags = new double[sets];
      for (int i = 0; i < sets; i++) {
        String path = String.format("%s/p%05d/c%02d", root, i % parents, (i / parents) % 50);
        long t0 = System.nanoTime();
        int version = writer.setData().forPath(path, ("churn-" + i).getBytes()).getVersion();
        String key = path + "@" + version;
        for (;;) {
          Object[] event = updated.poll(30, TimeUnit.SECONDS);
          if (event == null) throw new IllegalStateException("no event for " + key);
          if (event[0].equals(key)) {
            lags[i] = ((Long) event[1] - t0) / 1e6;
            break;
          }
        }
      }
      java.util.Arrays.sort(lags);
      System.out.println("{" + client + ",\"workload\":\"churn\",\"sets\":" + sets + ",\"lagP50Ms\":"
          + lags[(int) Math.ceil(0.5 * sets) - 1] + ",\"lagP99Ms\":" + lags[(int) Math.ceil(0.99 * sets) - 1] + "}");
      writer.close();
    }
    cache.close();
    zk.close();
  }
}
