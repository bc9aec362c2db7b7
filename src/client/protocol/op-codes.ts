/** ZooDefs.OpCode: the `type` of every request header (ZooDefs.java). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  closeSession: -11,
  error: -1,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Reserved xids (ClientCnxn.java: NOTIFICATION_XID, PING_XID, AUTHPACKET_XID, SET_WATCHES_XID); normal requests use 1..2^31-1. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
} as const;

/** CreateRequest.flags: an enumeration, not a bit mask (CreateMode.java: toFlag/fromFlag). */
export const CreateFlags = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;

/** WatcherType of checkWatches / removeWatches. */
export const WatcherType = {
  children: 1,
  data: 2,
  any: 3,
} as const;
export type WatcherType = (typeof WatcherType)[keyof typeof WatcherType];

/** AddWatchRequest.mode. */
export const AddWatchMode = {
  persistent: 0,
  persistentRecursive: 1,
} as const;

/** The largest frame payload a default server accepts (jute.maxbuffer). */
export const MAX_FRAME_PAYLOAD = 0xfffff;
