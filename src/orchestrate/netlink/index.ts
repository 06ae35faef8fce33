// Netlink for the orchestrator: codecs, sockets, RDMA nldev, rtnetlink, uevents.
export * from './constants.js';
export * from './codec.js';
export * from './native.js';
export * from './socket.js';
export * from './rtnl.js';
export * from './rdma.js';
export * from './uevent.js';
