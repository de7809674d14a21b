/**
 * @module device/properties
 * Flattens a device's property list (PROTOCOLS.md §7.2): key = `propertyGroupName` lower-cased
 * with the first space turned into `_`, value = `displayName`; a repeated group becomes a flat array.
 */
import type { DeviceProperty } from '../cloud/types.js';

export function flattenProperties(properties: readonly DeviceProperty[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const p of properties) {
    const key = p.propertyGroupName.toLowerCase().replace(' ', '_');
    const prev = out[key];
    if (prev === undefined) out[key] = p.displayName;
    else if (Array.isArray(prev)) prev.push(p.displayName);
    else out[key] = [prev, p.displayName];
  }
  return out;
}
