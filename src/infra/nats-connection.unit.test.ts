import { describe, expect, it } from 'vitest';
import { natsReplicas, parseNatsServers } from './nats-connection.ts';

describe('parseNatsServers', () => {
  it('keeps addresses without credentials as they are', () => {
    expect(parseNatsServers('nats://127.0.0.1:14222,nats://10.0.0.2:4222')).toEqual({
      servers: ['nats://127.0.0.1:14222', 'nats://10.0.0.2:4222'],
    });
  });

  it('takes the user and password out of the addresses', () => {
    expect(
      parseNatsServers(
        'nats://chronoverse:p%40ss:w0rd@127.0.0.1:4222, nats://chronoverse:p%40ss:w0rd@h2:4222',
      ),
    ).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://h2:4222'],
      user: 'chronoverse',
      pass: 'p@ss:w0rd',
    });
    expect(parseNatsServers('u:p@h:1')).toEqual({ servers: ['h:1'], user: 'u', pass: 'p' });
  });

  it('refuses different credentials for different servers', () => {
    expect(() => parseNatsServers('nats://a:1@h1:4222,nats://b:2@h2:4222')).toThrow(/different credentials/);
  });
});

describe('natsReplicas', () => {
  it('gives new streams 3 replicas on a cluster and 1 on a lone server, unless configured', () => {
    expect(natsReplicas(undefined, { cluster: 'chronoverse' })).toBe(3);
    expect(natsReplicas(undefined, {})).toBe(1);
    expect(natsReplicas(undefined, undefined)).toBe(1);
    expect(natsReplicas(1, { cluster: 'chronoverse' })).toBe(1);
    expect(natsReplicas(5, {})).toBe(5);
  });
});
