/**
 * @module devices
 * Host devices for tasks (payload.capabilities.devices, restrictCPU cores): the allocator and the
 * host probe.
 */
export { DEVICE_KINDS, DeviceAllocator, devicesFor, useDevices, type DeviceLease } from './allocator.js';
export { hostProbe, type DeviceUnit, type HostProbe } from './host-nodes.js';
