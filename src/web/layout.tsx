// The one layout of the dashboard: header with navigation, the live indicator, the theme toggle and
// log out; the client script (app.js) and the status table it needs, as a data attribute (JSON that
// is escaped like any attribute, never a script).
import type { Child } from 'hono/jsx';
import { assetUrl } from './assets.ts';
import { STATUS_LOOKS } from './status.ts';

export interface LayoutProps {
  readonly title: string;
  /** What the client script does on this page: `auth`, `resume`, `workflows`, `workflow`, `job`, `error`. */
  readonly page: string;
  /** The signed-in user's email; absent on the login pages. */
  readonly email?: string | undefined;
  /** Extra scripts of this page (static files). */
  readonly scripts?: readonly string[];
  readonly children?: Child;
}

export function Layout(props: LayoutProps) {
  const signedIn = props.email !== undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Chronoverse`}</title>
        <link rel="icon" href={assetUrl('favicon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl('style.css')} />
        {/* Before the first paint, so a chosen theme never flashes the other one. */}
        <script src={assetUrl('theme.js')} />
        <script src={assetUrl('app.js')} defer />
        {(props.scripts ?? []).map((s) => (
          <script src={assetUrl(s)} defer />
        ))}
      </head>
      <body data-page={props.page} data-statuses={JSON.stringify(STATUS_LOOKS)}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            <span aria-hidden="true">◷</span> Chronoverse
          </a>
          {signedIn && (
            <nav aria-label="Main">
              <a href="/">Workflows</a>
              <a href="/new">New workflow</a>
              <a href="/docs">API</a>
            </nav>
          )}
          <div class="spacer" />
          {signedIn && (
            <span id="live" class="live" data-state="connecting" role="status">
              <span class="dot" aria-hidden="true" />
              <span class="live-label">Connecting…</span>
            </span>
          )}
          <button type="button" id="theme-toggle" class="ghost" aria-label="Colour theme: system">
            ◐
          </button>
          {signedIn && (
            <>
              <span class="who">{props.email}</span>
              <button type="button" id="logout" class="ghost">
                Log out
              </button>
            </>
          )}
        </header>
        <div id="toasts" class="toasts" role="status" aria-live="polite" />
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
