/**
 * @module e2e/faults/shell
 * Shell snippets for probes inside debian:bookworm-slim task containers (bash, coreutils, sed; no
 * curl, no ip): the default gateway as the container sees it, from /proc/net/route.
 */

/** Sets `GW` to the container's default gateway (dotted quad) and prints `gateway <ip>`. */
export const GATEWAY_SH = String.raw`
while read -r _ dest gw _; do [ "$dest" = 00000000 ] && h=$gw; done < /proc/net/route
GW=$(printf '%s' "$h" | sed -E 's/(..)(..)(..)(..)/\4 \3 \2 \1/' | { read -r a b c d; echo "$((16#$a)).$((16#$b)).$((16#$c)).$((16#$d))"; })
echo "gateway $GW"
`;
