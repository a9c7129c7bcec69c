// The ClickHouse client. 64-bit integers come back as numbers and ISO timestamps are accepted on
// insert, so the same code runs on 18.16 (which needs both settings) and on current releases.
import { type ClickHouseClient, createClient } from '@clickhouse/client';

export interface ClickhouseOptions {
  url: string;
  database: string;
  username: string;
  password: string;
}

export function connectClickhouse(
  options: ClickhouseOptions,
  database: string | null = options.database,
): ClickHouseClient {
  return createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    ...(database ? { database } : {}),
    request_timeout: 30_000,
    clickhouse_settings: {
      output_format_json_quote_64bit_integers: 0,
      date_time_input_format: 'best_effort',
    },
  });
}
