/**
 * @module @docker-worker/balrog-vpn-proxy
 * HTTP forwarder and health check that run beside openvpn in the balrog VPN proxy image.
 */
export const packageName = '@docker-worker/balrog-vpn-proxy';
