// Ids in paths: any syntactically valid UUID (8-4-4-4-12 hex digits, any version or variant), so
// that an id of the right shape that names nothing is a 404, never a 422 that depends on which
// variant bits a client's generator happened to pick.
import { z } from '@hono/zod-openapi';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const uuidParam = (name: string) =>
  z
    .string()
    .regex(UUID, `${name} must be a UUID`)
    .openapi({
      param: { name, in: 'path' },
      format: 'uuid',
      example: '0190f1d2-6f3a-7c4e-9b1d-2a3b4c5d6e7f',
    });
