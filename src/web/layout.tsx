// The one layout of the dashboard: header with navigation, the live indicator, the theme toggle and
// log out; the client script (app.js) and the status table it needs, as a data attribute (JSON that
// is escaped like any attribute, never a script).
import { type Child, createContext, useContext } from 'hono/jsx';
import { assetUrl } from './assets.ts';
import { STATUS_LOOKS } from './status.ts';

/** The signed-in user's unread notifications when the page was rendered: how many, and whether there are more. */
export interface UnreadCount {
  readonly count: number;
  readonly more: boolean;
}

/** Set by the dashboard's routes around a signed-in page; the header's badge reads it. */
export const UnreadContext = createContext<UnreadCount | undefined>(undefined);

function unreadText(u: UnreadCount): string {
  return u.more ? `${u.count}+` : String(u.count);
}

export interface LayoutProps {
  readonly title: string;
  /** What the client script does on this page: `auth`, `resume`, `workflows`, `workflow`, `job`, `error`. */
  readonly page: string;
  /** The signed-in user's email; absent on the login pages. */
  readonly email?: string | undefined;
  /** Extra scripts of this page (static files). */
  readonly scripts?: readonly string[];
  /** Extra style sheets of this page (static files), after style.css. */
  readonly styles?: readonly string[];
  readonly children?: Child;
}

export function Layout(props: LayoutProps) {
  const signedIn = props.email !== undefined;
  const unread = useContext(UnreadContext) ?? { count: 0, more: false };
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Chronoverse`}</title>
        <link rel="icon" href={assetUrl('favicon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl('style.css')} />
        {(props.styles ?? []).map((s) => (
          <link rel="stylesheet" href={assetUrl(s)} />
        ))}
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
              <a href="/stats">Analytics</a>
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
          {signedIn && (
            <button
              type="button"
              id="notif-toggle"
              class="ghost notif-toggle"
              aria-controls="notif-drawer"
              aria-expanded="false"
              aria-label={`Notifications: ${unread.count} unread`}
            >
              <svg
                class="bell"
                aria-hidden="true"
                viewBox="0 0 24 24"
                width="18"
                height="18"
                fill="none"
                stroke="currentColor"
                stroke-width="2"
                stroke-linecap="round"
                stroke-linejoin="round"
              >
                <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
                <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
              </svg>
              <span
                id="notif-count"
                class="notif-count"
                data-count={String(unread.count)}
                hidden={unread.count === 0}
              >
                {unreadText(unread)}
              </span>
            </button>
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
        {signedIn && (
          <aside id="notif-drawer" class="notif-drawer" aria-label="Notifications" hidden>
            <div class="notif-head">
              <h2>Notifications</h2>
              <button type="button" id="notif-read-all" class="ghost">
                Mark all read
              </button>
              <button type="button" id="notif-close" class="ghost" aria-label="Close notifications">
                ✕
              </button>
            </div>
            <p id="notif-error" class="error" role="alert" />
            <ul id="notif-list" class="notif-list" />
            <p id="notif-empty" class="muted">
              No unread notifications.
            </p>
          </aside>
        )}
        <div id="toasts" class="toasts" role="status" aria-live="polite" />
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
