import { describe, expect, it } from 'vitest';
import { urlForContainers } from './run-network.js';

describe('urlForContainers', () => {
  it('hands containers the gateway instead of a loopback URL, and keeps other URLs', () => {
    expect(urlForContainers('http://127.0.0.1:8080/', '172.18.0.1')).toBe('http://172.18.0.1:8080');
    expect(urlForContainers('http://localhost:9', '172.18.0.1')).toBe('http://172.18.0.1:9');
    expect(urlForContainers('http://[::1]:9/x/', '172.18.0.1')).toBe('http://172.18.0.1:9/x');
    expect(urlForContainers('https://tc.example.com', '172.18.0.1')).toBe('https://tc.example.com');
    expect(urlForContainers('http://127.0.0.1:8080', undefined)).toBe('http://127.0.0.1:8080');
  });
});
