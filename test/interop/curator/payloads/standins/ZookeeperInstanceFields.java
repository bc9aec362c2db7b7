/*
 * The fields Spring Cloud's and Dubbo's ZookeeperInstance share (id, name, a metadata map of
 * strings, in that order) with bean accessors, as Jackson reads and writes them: the base of
 * their stand-ins in this folder.
 */
package standins;

import java.util.HashMap;
import java.util.Map;

public abstract class ZookeeperInstanceFields {
  private String id;
  private String name;
  private Map<String, String> metadata = new HashMap<>();

  public String getId() {
    return id;
  }

  public void setId(String id) {
    this.id = id;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Map<String, String> getMetadata() {
    return metadata;
  }

  public void setMetadata(Map<String, String> metadata) {
    this.metadata = metadata;
  }
}
