// `chronoverse nats-config [--password P] [--store-dir DIR]`: a nats-server configuration for
// Chronoverse with integrator credentials (docs/security.md): Chronoverse's account and user, the
// integrators' account and its imports, and the auth callout whose issuer is this installation's key
// (CV_NATS_ISSUER_SEED, or the one generated into CV_NATS_ISSUER_KEY_DIR). Written to stdout; the
// NATS_URL Chronoverse's processes then use goes to stderr.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadNatsIssuer } from '../auth/nats-issuer.ts';
import { loadConfig } from '../config/config.ts';
import { integratorServerConfig } from '../events/integrator-access.ts';

export async function natsConfigCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { password: { type: 'string' }, 'store-dir': { type: 'string' } },
  });
  const config = loadConfig();
  const issuer = await loadNatsIssuer(config);
  const password = values.password ?? randomBytes(24).toString('base64url');
  process.stdout.write(
    integratorServerConfig({
      issuerPublicKey: issuer.getPublicKey(),
      chronoversePassword: password,
      integratorsAccount: config.CV_NATS_INTEGRATORS_ACCOUNT,
      ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
    }),
  );
  process.stderr.write(
    `Chronoverse's processes connect with NATS_URL=nats://chronoverse:${encodeURIComponent(password)}@<host>:<port>\n`,
  );
  return 0;
}
