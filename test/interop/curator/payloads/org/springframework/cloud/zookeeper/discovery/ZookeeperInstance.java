/*
 * A stand-in for org.springframework.cloud.zookeeper.discovery.ZookeeperInstance, the payload class its framework's Java readers
 * declare (JsonInstanceSerializer<>(ZookeeperInstance.class)): the same fields.
 */
package org.springframework.cloud.zookeeper.discovery;

public class ZookeeperInstance extends standins.ZookeeperInstanceFields {}
