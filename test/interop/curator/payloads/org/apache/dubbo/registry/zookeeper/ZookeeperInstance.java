/*
 * A stand-in for org.apache.dubbo.registry.zookeeper.ZookeeperInstance, the payload class its framework's Java readers
 * declare (JsonInstanceSerializer<>(ZookeeperInstance.class)): the same fields.
 */
package org.apache.dubbo.registry.zookeeper;

public class ZookeeperInstance extends standins.ZookeeperInstanceFields {}
