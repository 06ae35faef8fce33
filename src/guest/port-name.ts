/** The name of the virtio-serial port the agent listens on (QEMU's virtserialport name=). */
export const AGENT_PORT = 'rb.agent';
