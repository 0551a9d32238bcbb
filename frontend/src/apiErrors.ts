// What the editor says when a call to the editor API fails: the API's own answer (an ApiError with its
// status, code and problems), or, when there is no answer to read, a sentence that says what to do.

import type { Problem } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
    readonly currentVersion?: number,
    readonly path?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The status of an ApiError for a request that got no answer (the network, or CORS, refused it). */
export const UNREACHABLE = 0;

function originOf(url: string, page: string | undefined): string | null {
  try {
    return new URL(url || "/", page).origin;
  } catch {
    return null;
  }
}

/** Why a request got no answer (fetch threw a TypeError: the server is down, or it does not allow this
 * page's origin, which the browser reports the same way) and what to do about it. */
export function unreachableMessage(base: string, pageOrigin: string | undefined): string {
  const where = base || pageOrigin || "this page's server";
  const api = originOf(base, pageOrigin);
  if (pageOrigin && pageOrigin !== "null" && api && api !== pageOrigin) {
    return (
      `The editor could not reach the API at ${where}. Check that the server is running. This page is on ` +
      `another origin (${pageOrigin}), so the server must allow it: workflow-kit serve --cors-origin ` +
      `${pageOrigin} (or WORKFLOW_KIT_CORS_ORIGINS=${pageOrigin}).`
    );
  }
  return `The editor could not reach the API at ${where}: check that the server is running and that this computer is online.`;
}

/** A 401: the token expired, or was never valid for this server. */
export function sessionMessage(detail: string): string {
  const why = detail ? ` (${detail})` : "";
  return `Your editing session has expired or is not valid${why}. Try again in a moment; if it keeps happening, reload the page.`;
}

/** The token provider failed to give a new token. */
export function refreshFailedMessage(error: unknown): string {
  const why = error instanceof Error && error.message ? `: ${error.message}` : "";
  return `Your editing session has expired and a new one could not be started${why}. Reload the page to sign in again.`;
}
