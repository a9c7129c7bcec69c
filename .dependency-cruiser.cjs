// The layering of src/, checked by `npm run depcruise` and by test/architecture/dependency-rules.unit.test.ts
// (so by `npm test`). Rooms (folders) by layer, top to bottom; each may import its own room, the
// shared leaves, and the rooms below as listed:
//
//   processes  src/cli, src/roles, src/runtime, src/migrate    -> everything below (src/migrate applies every
//                                                                 room's schema: PostgreSQL, ClickHouse, the
//                                                                 JetStream streams src/events defines)
//   edges      src/http                                        -> src/queries (reads), src/actors (commands),
//                                                                 src/events (history, live streams), src/auth,
//                                                                 the pure src/scheduler modules (PURE_SCHEDULER),
//                                                                 src/logs/log-batch.ts (the CV_LOGS format),
//                                                                 core, platform; never src/executor, kysely, pg
//              src/web                                         -> the dashboard: src/queries (reads), src/auth (the
//                                                                 session cookie), src/actors, src/events, the pure
//                                                                 src/scheduler modules, core, platform; never
//                                                                 src/http, src/executor, kysely, pg. src/http
//                                                                 mounts it (WEB_ENTRY) and imports nothing else of it
//              src/auth (placed here: the API's login services; used by src/http, src/web and src/roles)
//                                                              -> core leaves, platform
//   workers    src/reactors, src/scheduler, src/executor,      -> src/actors, src/events, src/workflows,
//              src/projections, src/logs, src/queries             platform (src/queries also reads the table
//                                                                 types of src/infra/database.ts); not each other,
//                                                                 except src/logs/log-batch.ts (the CV_LOGS format)
//   core       src/actors                                      -> src/events, src/workflows, leaves
//              src/workflows (placed here: pure payload and schedule validation, imports nothing above)
//                                                              -> src/events, leaves
//              src/events                                      -> leaves
//   platform   src/infra, src/config, src/telemetry,           -> nothing above it (leaves and each other)
//              src/health, src/stack, migrations/
//   leaves     src/errors.ts, src/assert.ts                    -> nothing in src/
//
// Of OpenTelemetry, application code imports @opentelemetry/api (and semantic-conventions) only; the
// SDK is src/telemetry/sdk.ts's alone, loaded by the --import bootstrap when telemetry is wanted.
//
// And nowhere an import cycle.
//
// Known exceptions: exact (from, to) pairs that break a rule today, each to be removed by a change of
// the importing file. Each is exempt from the one rule it names and from no other.
const KNOWN = [
  // Deliberate: the read models' table types describe rows derived from the events, so the jsonb
  // column `workflows.schedule` is typed with the events' WorkflowSchedule. A type-only import: no
  // code of the platform runs anything of src/events.
  { rule: 'platform-imports-nothing-above', from: 'src/infra/database.ts', to: 'src/events/workflow-events.ts' },
];

const CORE_AND_LEAVES = ['^src/(actors|events|workflows)/', '^src/(errors|assert)[.]ts$'];
const LEAVES = '^src/(errors|assert)[.]ts$';
const PLATFORM = ['^src/(infra|config|telemetry|health|stack)/', '^migrations/'];
const WORKERS = '^src/(reactors|scheduler|executor|projections|logs|queries)/';
const LOG_BATCH = '^src/logs/log-batch[.]ts$';
/** What src/http may use of the scheduler: pure functions of a schedule, no process, no I/O. */
const PURE_SCHEDULER =
  '^src/scheduler/(schedule|preview|tick-plan|due-times|cron-ticks|zoned-time|zone-transitions)[.]ts$';

/** What src/http may use of src/web: the dashboard's routes, mounted beside the API's. */
const WEB_ENTRY = '^src/web/routes[.]tsx$';

const exact = (path) => `^${path.replace(/[.]/g, '[.]')}$`;

const rules = [
  {
    name: 'no-circular',
    comment: 'No import cycles anywhere.',
    severity: 'error',
    from: { path: '^(src|migrations)/' },
    to: { circular: true },
  },
  {
    name: 'leaves-import-nothing',
    comment: 'src/errors.ts and src/assert.ts are imported by every layer and import nothing of src/.',
    severity: 'error',
    from: { path: LEAVES },
    to: { path: '^(src|migrations)/' },
  },
  {
    name: 'platform-imports-nothing-above',
    comment: 'The platform (infra, config, telemetry, health, stack) imports only itself and the leaves.',
    severity: 'error',
    from: { path: PLATFORM },
    to: { path: '^src/', pathNot: [...PLATFORM, LEAVES] },
  },
  {
    name: 'events-import-nothing-above',
    comment: 'src/events is the bottom of the core: the leaves and the platform only.',
    severity: 'error',
    from: { path: '^src/events/' },
    to: { path: '^src/', pathNot: ['^src/events/', LEAVES, ...PLATFORM] },
  },
  {
    name: 'workflows-import-only-events',
    comment: 'src/workflows (pure payload and schedule validation) imports only src/events and the leaves.',
    severity: 'error',
    from: { path: '^src/workflows/' },
    to: { path: '^src/', pathNot: ['^src/(workflows|events)/', LEAVES] },
  },
  {
    name: 'actors-import-only-downward',
    comment: 'The actors import src/events, src/workflows and the leaves: nothing above, no platform.',
    severity: 'error',
    from: { path: '^src/actors/' },
    to: { path: '^src/', pathNot: ['^src/(actors|events|workflows)/', LEAVES] },
  },
  {
    name: 'worker-imports-only-core-and-platform',
    comment:
      'A worker (reactors, scheduler, executor, projections, logs, queries) imports its own room, the core and the platform: never src/http, the processes or another worker (the CV_LOGS batch format excepted).',
    severity: 'error',
    from: { path: WORKERS },
    to: { path: '^src/', pathNot: ['^src/$1/', ...CORE_AND_LEAVES, ...PLATFORM, LOG_BATCH] },
  },
  {
    name: 'auth-imports-only-platform',
    comment: 'src/auth (the login services of the API) imports the leaves and the platform.',
    severity: 'error',
    from: { path: '^src/auth/' },
    to: { path: '^src/', pathNot: ['^src/auth/', LEAVES, ...PLATFORM] },
  },
  {
    name: 'http-imports-only-its-dependencies',
    comment:
      'src/http: reads through src/queries, commands through src/actors, history and live streams from src/events, src/auth, the pure scheduler modules, the CV_LOGS format, core and platform. Never src/executor or another worker.',
    severity: 'error',
    from: { path: '^src/http/' },
    to: {
      path: '^src/',
      pathNot: [
        '^src/(http|queries|auth)/',
        ...CORE_AND_LEAVES,
        ...PLATFORM,
        PURE_SCHEDULER,
        LOG_BATCH,
        WEB_ENTRY,
      ],
    },
  },
  {
    name: 'web-imports-only-its-dependencies',
    comment:
      'src/web (the dashboard): reads through src/queries, the session through src/auth, src/actors and src/events, the pure scheduler modules, core and platform. Never src/http (the dashboard talks to the API over HTTP from the browser), src/executor or another worker.',
    severity: 'error',
    from: { path: '^src/web/' },
    to: {
      path: '^src/',
      pathNot: ['^src/(web|queries|auth)/', ...CORE_AND_LEAVES, ...PLATFORM, PURE_SCHEDULER],
    },
  },
  {
    name: 'web-no-sql',
    comment: 'SQL lives in src/queries: src/web imports neither kysely nor pg.',
    severity: 'error',
    from: { path: '^src/web/' },
    to: { path: '^node_modules/(kysely|pg|pg-[^/]+|@types/pg)/' },
  },
  {
    name: 'otel-sdk-only-in-bootstrap',
    comment:
      'Application code uses @opentelemetry/api (and the semantic conventions) only: the SDK, its exporters, instrumentations and the ESM hook are loaded by src/telemetry/sdk.ts, which the --import bootstrap imports only when telemetry is wanted.',
    severity: 'error',
    from: { path: '^(src|migrations)/', pathNot: '^src/telemetry/sdk[.]ts$' },
    to: {
      path: ['^node_modules/@opentelemetry/(?!api/|semantic-conventions/)', '^node_modules/import-in-the-middle/'],
    },
  },
  {
    name: 'http-no-sql',
    comment: 'SQL lives in src/queries (and src/auth): src/http imports neither kysely nor pg.',
    severity: 'error',
    from: { path: '^src/http/' },
    to: { path: '^node_modules/(kysely|pg|pg-[^/]+|@types/pg)/' },
  },
];

/**
 * Each rule, minus the known pairs: the rule no longer applies to the importing file of a pair, and a
 * copy of it that applies to that file alone allows its pair's target too.
 */
function withKnownExceptions(ruleList) {
  const out = [];
  for (const rule of ruleList) {
    const known = KNOWN.filter((k) => k.rule === rule.name);
    const sources = [...new Set(known.map((k) => k.from))];
    out.push(
      sources.length === 0
        ? rule
        : { ...rule, from: { ...rule.from, pathNot: [...(rule.from.pathNot ?? []), ...sources.map(exact)] } },
    );
    for (const source of sources) {
      const targets = known.filter((k) => k.from === source).map((k) => exact(k.to));
      out.push({
        ...rule,
        comment: `${rule.comment} Known exception for ${source}: see KNOWN.`,
        // The room pattern stays (its group is the $1 of to.pathNot); the look-ahead keeps only the source.
        from: { path: rule.from.path, pathNot: [`^(?!${exact(source).slice(1)})`] },
        to: { ...rule.to, pathNot: [...(rule.to.pathNot ?? []), ...targets] },
      });
    }
  }
  return out;
}

module.exports = {
  forbidden: withKnownExceptions(rules),
  options: {
    // TypeScript 7 has no JavaScript API for dependency-cruiser; swc parses the sources.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.](unit|int|e2e)[.]test[.]ts$' },
    moduleSystems: ['es6'],
    reporterOptions: { text: { highlightFocused: true } },
  },
};
