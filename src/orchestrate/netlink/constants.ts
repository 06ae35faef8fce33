// Netlink constants, checked against the kernel UAPI headers
// (/usr/include/linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h and the guest
// kernel's include/uapi/rdma/rdma_netlink.h from linux-source-6.1).

// Protocols (linux/netlink.h)
export const NETLINK_ROUTE = 0;
export const NETLINK_KOBJECT_UEVENT = 15;
export const NETLINK_RDMA = 20;

// nlmsghdr
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP_INTR = 0x10;
// GET modifiers
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW modifiers
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
// ACK modifiers
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// struct nlmsgerr TLVs (extended ACK)
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_MISS_TYPE = 5;

// nlattr
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

// rtnetlink (linux/rtnetlink.h)
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const SIZEOF_IFINFOMSG = 16;
export const SIZEOF_IFADDRMSG = 8;

// linux/if_link.h
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_CARRIER = 33;
export const IFLA_INFO_KIND = 1;

// linux/if.h
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;
export const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const;
export type OperState = (typeof OPERSTATES)[number];

// linux/if_addr.h
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_HOST = 254;

// rdma/rdma_netlink.h (6.1)
export const RDMA_NL_NLDEV = 5;
export const rdmaNlGetType = (client: number, op: number): number => (client << 10) + op;
export const RDMA_NLDEV_CMD_GET = 1;
export const RDMA_NLDEV_CMD_NEWLINK = 3;
export const RDMA_NLDEV_CMD_DELLINK = 4;
export const RDMA_NLDEV_CMD_RES_GET = 9; // can dump: per device, the resource summary
export const RDMA_NLDEV_ATTR_RES_SUMMARY = 15; // nested table
export const RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY = 16; // nested table
export const RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME = 17; // string
export const RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR = 18; // u64
export const RDMA_NLDEV_CMD_RES_CM_ID_GET = 11; // can dump, one device (DEV_INDEX) at a time
export const RDMA_NLDEV_ATTR_RES_STATE = 27; // u8: enum rdma_cm_state for a cm_id
export const RDMA_NLDEV_ATTR_RES_KERN_NAME = 29; // string: the kernel module that owns it
export const RDMA_NLDEV_ATTR_RES_CM_ID = 30; // nested table
export const RDMA_NLDEV_ATTR_RES_CM_ID_ENTRY = 31; // nested table
export const RDMA_NLDEV_ATTR_RES_PS = 32; // u32: the port space (RDMA_PS_TCP...)
export const RDMA_NLDEV_ATTR_RES_SRC_ADDR = 33; // struct __kernel_sockaddr_storage
export const RDMA_NLDEV_ATTR_RES_DST_ADDR = 34; // struct __kernel_sockaddr_storage
// drivers/infiniband/core/cma_priv.h: enum rdma_cm_state (not uapi, stable since 4.x)
export const RDMA_CM_LISTEN = 8;
export const AF_INET6 = 10; // linux/socket.h
export const RDMA_NLDEV_ATTR_DEV_INDEX = 1; // u32
export const RDMA_NLDEV_ATTR_DEV_NAME = 2; // string
export const RDMA_NLDEV_ATTR_PORT_INDEX = 3; // u32
export const RDMA_NLDEV_ATTR_CAP_FLAGS = 4; // u64
export const RDMA_NLDEV_ATTR_FW_VERSION = 5; // string
export const RDMA_NLDEV_ATTR_NODE_GUID = 6; // u64
export const RDMA_NLDEV_ATTR_SYS_IMAGE_GUID = 7; // u64
export const RDMA_NLDEV_ATTR_DEV_NODE_TYPE = 14; // u8
export const RDMA_NLDEV_ATTR_NDEV_NAME = 51; // string
export const RDMA_NLDEV_ATTR_LINK_TYPE = 65; // string
export const RDMA_NLDEV_ATTR_DEV_PROTOCOL = 67; // string
