/*
 * curator-x-discovery requests of the Curator peer (ServiceDiscovery, ServiceProvider with
 * Curator's JsonInstanceSerializer). `payloadClass` picks the serializer's payload class, as a
 * Java reader of that class declares it: `java.lang.Object` (default), or a framework's
 * `ZookeeperInstance` (stand-ins in payloads/, same fields as Spring Cloud's and Dubbo's).
 *
 *   discovery.register {basePath, name, instanceId, address, port, payload?, payloadClass?, serviceType?}
 *   discovery.unregister {basePath, instanceId}
 *   discovery.query {basePath, name, payloadClass?} → {instances: [{id, address, port, payloadClass,
 *       payload, serviceType, enabled}]}
 *   discovery.provider {basePath, name, strategy, picks} → {ids: [...]} (a ServiceProvider's picks)
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.x.discovery.ProviderStrategy;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.strategies.RandomStrategy;
import org.apache.curator.x.discovery.strategies.RoundRobinStrategy;
import org.apache.curator.x.discovery.strategies.StickyStrategy;

final class DiscoveryOps {
  /** One started ServiceDiscovery per base path and payload class. */
  private static final Map<String, ServiceDiscovery<Object>> discoveries = new ConcurrentHashMap<>();

  @SuppressWarnings("unchecked")
  private static ServiceDiscovery<Object> discovery(JsonNode r) throws Exception {
    String basePath = r.get("basePath").asText();
    String payloadClass = r.path("payloadClass").asText("java.lang.Object");
    String key = basePath + " " + payloadClass;
    ServiceDiscovery<Object> found = discoveries.get(key);
    if (found != null) return found;
    Class<Object> type = (Class<Object>) Class.forName(payloadClass);
    ServiceDiscovery<Object> made =
        ServiceDiscoveryBuilder.builder(type)
            .client(CuratorPeer.zk)
            .basePath(basePath)
            .serializer(new JsonInstanceSerializer<>(type))
            .build();
    made.start();
    discoveries.put(key, made);
    return made;
  }

  static void handle(String op, JsonNode r, ObjectNode reply) throws Exception {
    switch (op) {
      case "discovery.register" -> {
        Object payload = null;
        if (r.hasNonNull("payload")) {
          Class<?> type = Class.forName(r.path("payloadClass").asText("java.util.LinkedHashMap"));
          payload = CuratorPeer.JSON.treeToValue(r.get("payload"), type);
        }
        ServiceInstance<Object> instance =
            ServiceInstance.builder()
                .name(r.get("name").asText())
                .id(r.get("instanceId").asText())
                .address(r.get("address").asText())
                .port(r.get("port").asInt())
                .payload(payload)
                .serviceType(ServiceType.valueOf(r.path("serviceType").asText("DYNAMIC")))
                .build();
        discovery(r).registerService(instance);
      }
      case "discovery.unregister" -> {
        ServiceDiscovery<Object> discovery = discovery(r);
        for (String name : discovery.queryForNames())
          for (ServiceInstance<Object> instance : discovery.queryForInstances(name))
            if (instance.getId().equals(r.get("instanceId").asText())) discovery.unregisterService(instance);
      }
      case "discovery.query" -> {
        ArrayNode instances = reply.putArray("instances");
        for (ServiceInstance<Object> instance : discovery(r).queryForInstances(r.get("name").asText())) {
          ObjectNode node = instances.addObject();
          node.put("id", instance.getId()).put("address", instance.getAddress());
          node.put("port", instance.getPort());
          node.put("serviceType", instance.getServiceType().name()).put("enabled", instance.isEnabled());
          Object payload = instance.getPayload();
          node.put("payloadClass", payload == null ? null : payload.getClass().getName());
          node.set("payload", CuratorPeer.JSON.valueToTree(payload));
        }
      }
      case "discovery.provider" -> {
        ProviderStrategy<Object> strategy =
            switch (r.get("strategy").asText()) {
              case "roundRobin" -> new RoundRobinStrategy<>();
              case "random" -> new RandomStrategy<>();
              default -> new StickyStrategy<>(new RandomStrategy<>());
            };
        ServiceProvider<Object> provider =
            discovery(r).serviceProviderBuilder().serviceName(r.get("name").asText()).providerStrategy(strategy).build();
        provider.start();
        try {
          ArrayNode ids = reply.putArray("ids");
          for (int i = 0; i < r.path("picks").asInt(1); i++) {
            ServiceInstance<Object> picked = provider.getInstance();
            ids.add(picked == null ? null : picked.getId());
          }
        } finally {
          provider.close();
        }
      }
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }
}
