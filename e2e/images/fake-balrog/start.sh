#!/bin/sh
# RETURN_ROUTE/RETURN_VIA: send replies for the VPN's client subnet back through the VPN server
# (routing, not NAT, so that the fake balrog sees the VPN client's tunnel address). Needs NET_ADMIN.
set -eu
if [ -n "${RETURN_ROUTE:-}" ]; then ip route add "$RETURN_ROUTE" via "$RETURN_VIA"; fi
exec node /app/fake-balrog.mjs
