import { describe, expect, it } from 'vitest';
import { localDefaults } from '../stack/paths.ts';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration', () => {
  it('defaults to the local stack when nothing is set', () => {
    const config = loadConfig({});
    expect(config.CV_HTTP_PORT).toBe(8080);
    expect(config.NATS_URL).toBe(localDefaults.natsUrl);
    expect(config.DATABASE_URL).toBe(localDefaults.databaseUrl);
    expect(config.DOCKER_HOST).toBe(localDefaults.dockerHost);
  });

  it('reads and coerces what the environment sets', () => {
    const config = loadConfig({
      CV_HTTP_PORT: '9090',
      CV_EXECUTOR_CONCURRENCY: '8',
      DATABASE_URL: 'postgresql://u@db:5432/x',
    });
    expect(config.CV_HTTP_PORT).toBe(9090);
    expect(config.CV_EXECUTOR_CONCURRENCY).toBe(8);
    expect(config.DATABASE_URL).toBe('postgresql://u@db:5432/x');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ CV_HTTP_PORT: 'eighty', DATABASE_URL: 'mysql://x', CV_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['CV_HTTP_PORT', 'CV_LOG_LEVEL', 'DATABASE_URL']);
    expect((error as ConfigError).message).toContain('DATABASE_URL: must be a URL starting with postgres://');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ CV_HTTP_PORT: '' }).CV_HTTP_PORT).toBe(8080);
  });
});
