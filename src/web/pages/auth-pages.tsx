// Log in and sign up. The forms post JSON to /auth/login and /auth/register from the client script
// (the API takes JSON only), which then follows `next`.
import { Layout } from '../layout.tsx';

const MESSAGES: Record<string, string> = {
  expired: 'Your session has expired. Log in again.',
  logged_out: 'You are logged out.',
};

export function AuthPage(props: { mode: 'login' | 'signup'; next: string; message?: string | undefined }) {
  const login = props.mode === 'login';
  const message = props.message ? MESSAGES[props.message] : undefined;
  return (
    <Layout title={login ? 'Log in' : 'Sign up'} page="auth">
      <section class="card narrow">
        <h1>{login ? 'Log in' : 'Create an account'}</h1>
        {message && (
          <p class="notice" id="auth-message" role="status">
            {message}
          </p>
        )}
        <form id="auth-form" data-mode={props.mode} data-next={props.next} novalidate>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete={login ? 'current-password' : 'new-password'}
            minlength={login ? undefined : 8}
            required
          />
          <p id="form-error" class="error" role="alert" />
          <button type="submit" class="primary">
            {login ? 'Log in' : 'Sign up'}
          </button>
        </form>
        <p class="muted">
          {login ? (
            <>
              No account yet? <a href={`/signup?next=${encodeURIComponent(props.next)}`}>Sign up</a>
            </>
          ) : (
            <>
              Have an account? <a href={`/login?next=${encodeURIComponent(props.next)}`}>Log in</a>
            </>
          )}
        </p>
      </section>
    </Layout>
  );
}

/** Shown when the access cookie is gone but the session may be refreshed: the script refreshes and reloads. */
export function ResumePage() {
  return (
    <Layout title="Resuming your session" page="resume">
      <section class="card narrow">
        <p role="status">Resuming your session…</p>
      </section>
    </Layout>
  );
}

export function ErrorPage(props: {
  status: number;
  title: string;
  detail: string;
  email?: string | undefined;
}) {
  return (
    <Layout title={props.title} page="error" email={props.email}>
      <section class="card narrow">
        <h1>{props.title}</h1>
        <p>{props.detail}</p>
        <p>
          <a href="/">Back to your workflows</a>
        </p>
      </section>
    </Layout>
  );
}
