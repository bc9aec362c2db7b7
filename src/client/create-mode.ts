/**
 * Named create modes, for users coming from the Java client or Curator. Each is the options
 * object `create` takes, so `zk.create(path, data, CreateMode.EPHEMERAL_SEQUENTIAL)` reads like Java.
 */
export const CreateMode = {
  PERSISTENT: Object.freeze({}),
  EPHEMERAL: Object.freeze({ ephemeral: true }),
  PERSISTENT_SEQUENTIAL: Object.freeze({ sequence: true }),
  EPHEMERAL_SEQUENTIAL: Object.freeze({ ephemeral: true, sequence: true }),
  CONTAINER: Object.freeze({ container: true }),
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];
