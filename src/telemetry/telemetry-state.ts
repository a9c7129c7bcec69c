// What the bootstrap tells the application, without the application importing the SDK: that it
// started, and how to flush and stop it before the process exits.
export const TELEMETRY_STARTED = Symbol.for('chronoverse.telemetry.started');
export const TELEMETRY_SHUTDOWN = Symbol.for('chronoverse.telemetry.shutdown');
