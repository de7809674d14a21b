import { describe, expect, it } from 'vitest';
import { flattenProperties } from './properties.js';

describe('flattenProperties', () => {
  it('lower-cases the group name, turns only the first space into _, and keeps repeated groups as one flat array', () => {
    expect(
      flattenProperties([
        { propertyGroupName: 'Build Identifier', displayName: '319_x' },
        { propertyGroupName: 'Phone Number Extra', displayName: '1' },
        { propertyGroupName: 'SIM', displayName: 'a' },
        { propertyGroupName: 'SIM', displayName: 'b' },
        { propertyGroupName: 'SIM', displayName: 'c' },
      ]),
    ).toEqual({ build_identifier: '319_x', 'phone_number extra': '1', sim: ['a', 'b', 'c'] });
  });
});
