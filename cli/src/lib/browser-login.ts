import { spawn } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { unwrap, type SecrApi } from '@secr/sdk';
import { CliFailure, ExitCode } from './errors.js';

export interface BrowserLogin {
  token: string;
  tokenId: string | null;
  email: string;
  hint: string;
}

/**
 * `secr login` without --email: the device flow of RFC 8628. The API gives a secret device code (kept in
 * memory only) and a short user code; the person opens the dashboard (on this machine or any other:
 * nothing listens here, so it works over SSH), checks the code and approves; the CLI polls until the
 * answer, waiting at least the interval the API asks for (longer after a 429 slow_down).
 */
export async function loginThroughBrowser(api: SecrApi, apiUrl: string, say: (line: string) => void): Promise<BrowserLogin> {
  const started = unwrap(await api.POST('/v1/auth/cli-login', { body: { hostname: os.hostname().slice(0, 100) || 'unknown host' } }));
  const url = `${apiUrl.replace(/\/+$/, '')}${started.verificationPath}?code=${started.userCode}`;
  say(`To sign in, open ${url}`);
  say(`and check that it shows the code ${started.userCode}. Waiting for the approval (Ctrl-C to stop)…`);
  openBrowser(url);

  const deadline = new Date(started.expiresAt).getTime();
  let interval = started.interval;
  while (Date.now() < deadline) {
    await sleep(interval * 1000);
    const polled = await api.POST('/v1/auth/cli-login/poll', { body: { deviceCode: started.deviceCode } });
    if (polled.response.status === 429) {
      interval = Math.max(interval + 1, Number(polled.response.headers.get('retry-after')) || interval);
      continue;
    }
    const answer = unwrap(polled);
    if (answer.status === 'pending') continue;
    if (answer.status === 'approved' && answer.token) {
      return { token: answer.token, tokenId: answer.tokenId ?? null, email: answer.email ?? '', hint: answer.hint ?? `${answer.token.slice(0, 13)}…` };
    }
    if (answer.status === 'denied') throw new CliFailure('The sign-in was denied in the browser', 'access_denied', ExitCode.Unauthenticated);
    break;
  }
  throw new CliFailure('The sign-in request expired before it was approved: run `secr login` again', 'expired', ExitCode.Unauthenticated);
}

/** Opens the page when this machine has a browser to show it; over SSH or without a display the URL printed is enough. */
function openBrowser(url: string): void {
  if (process.env.BROWSER === 'none' || process.env.SSH_CONNECTION || process.env.SSH_TTY) return;
  const command =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url]
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? [process.env.BROWSER || 'xdg-open', url]
          : null;
  if (!command) return;
  try {
    const child = spawn(command[0], command.slice(1), { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the URL is printed.
  }
}
