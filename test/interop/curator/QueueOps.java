/*
 * Curator queue requests of the Curator peer (items are base64 strings; the serializer is the
 * identity on bytes):
 * - queue.offer {path, items} and queue.poll {path, timeoutMs} → {item|null}: SimpleDistributedQueue.
 * - queue.put {path, kind, items, priority?, delayUntil?, multi?}: a producer-only
 *   DistributedQueue / DistributedPriorityQueue / DistributedDelayQueue (kind plain, priority,
 *   delay) puts the items (one node each, or one putMulti node), flushes and closes.
 * - queue.putmax {path, items, maxItems, timeoutMs} → {put: [bool]}: a producer-only
 *   DistributedQueue with QueueBuilder.maxItems puts each item with put(item, timeoutMs, ms).
 * - queue.consume {name, path, kind, lockPath?}: a consumer that prints `ITEM <name> <base64>`
 *   per item; queue.stop {name} closes it.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.queue.DistributedDelayQueue;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.MultiItem;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.state.ConnectionState;

final class QueueOps {
  private static final Map<String, Closeable> consumers = new ConcurrentHashMap<>();

  private static final QueueSerializer<byte[]> BYTES =
      new QueueSerializer<>() {
        @Override
        public byte[] serialize(byte[] item) {
          return item;
        }

        @Override
        public byte[] deserialize(byte[] bytes) {
          return bytes;
        }
      };

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    String path = r.get("path") == null ? null : r.get("path").asText();
    switch (op) {
      case "queue.offer" -> {
        SimpleDistributedQueue queue = new SimpleDistributedQueue(CuratorPeer.zk, path);
        for (byte[] item : items(r)) queue.offer(item);
      }
      case "queue.poll" -> {
        byte[] item = new SimpleDistributedQueue(CuratorPeer.zk, path).poll(r.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS);
        if (item == null) reply.putNull("item");
        else reply.put("item", Base64.getEncoder().encodeToString(item));
      }
      case "queue.put" -> put(r, path);
      case "queue.putmax" -> {
        QueueBuilder<byte[]> builder =
            QueueBuilder.builder(CuratorPeer.zk, null, BYTES, path).maxItems(r.get("maxItems").asInt());
        try (DistributedQueue<byte[]> queue = builder.buildQueue()) {
          queue.start();
          // Its ChildrenCache loads in the background after start(); until then it counts 0 items.
          Thread.sleep(1000);
          var results = reply.putArray("put");
          for (byte[] item : items(r))
            results.add(queue.put(item, r.get("timeoutMs").asInt(), TimeUnit.MILLISECONDS));
        }
      }
      case "queue.consume" -> {
        String name = r.get("name").asText();
        QueueConsumer<byte[]> consumer =
            new QueueConsumer<>() {
              @Override
              public void consumeMessage(byte[] message) {
                CuratorPeer.emit("ITEM " + name + " " + Base64.getEncoder().encodeToString(message));
              }

              @Override
              public void stateChanged(org.apache.curator.framework.CuratorFramework client, ConnectionState newState) {}
            };
        QueueBuilder<byte[]> builder = QueueBuilder.builder(CuratorPeer.zk, consumer, BYTES, path);
        if (r.hasNonNull("lockPath")) builder = builder.lockPath(r.get("lockPath").asText());
        Closeable queue =
            switch (r.get("kind").asText()) {
              case "priority" -> {
                DistributedPriorityQueue<byte[]> q = builder.buildPriorityQueue(0);
                q.start();
                yield q;
              }
              case "delay" -> {
                DistributedDelayQueue<byte[]> q = builder.buildDelayQueue();
                q.start();
                yield q;
              }
              default -> {
                DistributedQueue<byte[]> q = builder.buildQueue();
                q.start();
                yield q;
              }
            };
        consumers.put(name, queue);
      }
      case "queue.stop" -> consumers.remove(r.get("name").asText()).close();
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }

  private static void put(JsonNode r, String path) throws Exception {
    List<byte[]> items = items(r);
    boolean multi = r.path("multi").asBoolean(false);
    QueueBuilder<byte[]> builder = QueueBuilder.builder(CuratorPeer.zk, null, BYTES, path).putInBackground(false);
    switch (r.get("kind").asText()) {
      case "priority" -> {
        try (DistributedPriorityQueue<byte[]> queue = builder.buildPriorityQueue(0)) {
          queue.start();
          int priority = r.get("priority").asInt();
          if (multi) queue.putMulti(multiItem(items), priority);
          else for (byte[] item : items) queue.put(item, priority);
        }
      }
      case "delay" -> {
        try (DistributedDelayQueue<byte[]> queue = builder.buildDelayQueue()) {
          queue.start();
          long until = r.get("delayUntil").asLong();
          if (multi) queue.putMulti(multiItem(items), until);
          else for (byte[] item : items) queue.put(item, until);
        }
      }
      default -> {
        try (DistributedQueue<byte[]> queue = builder.buildQueue()) {
          queue.start();
          if (multi) queue.putMulti(multiItem(items));
          else for (byte[] item : items) queue.put(item);
        }
      }
    }
  }

  private static List<byte[]> items(JsonNode r) {
    List<byte[]> items = new ArrayList<>();
    for (JsonNode item : r.get("items")) items.add(Base64.getDecoder().decode(item.asText()));
    return items;
  }

  private static MultiItem<byte[]> multiItem(List<byte[]> items) {
    var iterator = new ArrayList<>(items).iterator();
    return () -> iterator.hasNext() ? iterator.next() : null;
  }
}
