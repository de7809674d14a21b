/**
 * @module @docker-worker/balrog-vpn-proxy
 * HTTP forwarder and health check that run beside openvpn in the balrog VPN proxy image.
 */
export { createApp, HEALTH_PATH } from './app.js';
export type { AppDeps } from './app.js';
export { createForwarder } from './forwarder.js';
export type { Forwarder, ForwarderOptions } from './forwarder.js';
export { HttpError, errorMiddleware } from './errors.js';
export { InputError, parseProxiedServer } from './input-error.js';
export { findVpnConfig, referencedFiles, realConfigFs } from './vpn-config.js';
export type { ConfigFs, VpnConfig, FileReference } from './vpn-config.js';
export { checkNetAdmin, ensureTun, hasNetAdmin, realTunOps } from './host-checks.js';
export type { TunOps } from './host-checks.js';
export { openvpnArgs, startOpenvpn } from './openvpn.js';
export type { OpenvpnExit, OpenvpnOptions, OpenvpnProcess } from './openvpn.js';
export { staticTunnel } from './tunnel.js';
export type { TunnelProbe, TunnelStatus } from './tunnel.js';
export { createUpstreamProbe } from './upstream-probe.js';
export type { UpstreamProbe, UpstreamStatus } from './upstream-probe.js';
