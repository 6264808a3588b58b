import type { MarathonErrorDetail } from './types.js';

/** Why a Marathon call failed, in the terms a user can act on. */
export type MarathonErrorKind =
  | 'unreachable' // network error, DNS, refused, timeout
  | 'unauthorized' // 401
  | 'forbidden' // 403 (also "too many deployments")
  | 'not-found' // 404
  | 'locked' // 409 with deployments: app locked by running deployments
  | 'conflict' // 409 otherwise (already exists)
  | 'invalid' // 400 / 422 with details
  | 'server' // 5xx
  | 'protocol'; // an answer Baton could not understand

/**
 * A failed Marathon request, carrying Marathon's own message and `details` so the CLI can print every path.
 * Never holds a credential: the request URL is stored without userinfo and headers are not kept.
 */
export class MarathonError extends Error {
  override readonly name = 'MarathonError';
  constructor(
    readonly kind: MarathonErrorKind,
    message: string,
    readonly request: { method: string; url: string },
    readonly status?: number,
    readonly details: MarathonErrorDetail[] = [],
    readonly deploymentIds: string[] = [],
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.kind,
      message: this.message,
      status: this.status,
      method: this.request.method,
      url: this.request.url,
      details: this.details,
      deployments: this.deploymentIds,
    };
  }
}

export function kindForStatus(status: number, hasDeployments: boolean): MarathonErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return hasDeployments ? 'locked' : 'conflict';
  if (status === 400 || status === 422) return 'invalid';
  if (status >= 500) return 'server';
  return 'protocol';
}
