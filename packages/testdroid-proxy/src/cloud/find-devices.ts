/**
 * @module cloud/find-devices
 * Device filtering by capabilities through label groups (PROTOCOLS.md §7.4): each capability maps
 * to a label group; `memory` + `build` collapse into one `Build Identifier` label `<memory>_<build>`.
 * An unknown capability, or a group or label the cloud does not know, matches no device.
 */
import type { CloudClient } from './client.js';
import type { Device } from './types.js';

export const LABEL_GROUPS: Readonly<Record<string, string>> = {
  type: 'Codename',
  sims: 'SIMs',
  imei: 'IMEI',
  phone_number: 'Phone Number',
  build: 'Build Identifier',
  memory: 'memory',
};

/** The (group name, label value) pairs for a filter, or undefined when a key is unknown. */
export function labelPairs(
  filter: Readonly<Record<string, string | undefined>>,
): [string, string][] | undefined {
  const entries = Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined);
  const keys = new Set(entries.map(([k]) => k));
  const pairs: [string, string][] = [];
  for (const [key, value] of entries) {
    const group = LABEL_GROUPS[key];
    if (group === undefined) return undefined;
    if (keys.has('memory') && keys.has('build')) {
      if (key === 'memory') continue;
      if (key === 'build') {
        pairs.push([group, `${filter.memory}_${value}`]);
        continue;
      }
    }
    pairs.push([group, value]);
  }
  return pairs;
}

/** Devices matching every capability in the filter (none when any label is unknown). */
export async function findDevices(
  cloud: CloudClient,
  filter: Readonly<Record<string, string | undefined>>,
): Promise<Device[]> {
  const pairs = labelPairs(filter);
  if (pairs === undefined) return [];
  const labelIds: number[] = [];
  for (const [groupName, value] of pairs) {
    const group = await cloud.getLabelGroup(groupName);
    if (!group) return [];
    const label = await cloud.getLabel(group.id, value);
    if (!label) return [];
    labelIds.push(label.id);
  }
  return cloud.getDevices(labelIds);
}
