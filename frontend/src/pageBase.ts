// Where the standalone page's API is: beside the page, so the editor works wherever the host mounts the
// app (`/` with `workflow-kit serve`, `/automations/` inside a host's ASGI app).

/** The API's base path for a page at `pageUrl`: "" at the root, "/automations" under a prefix. */
export function apiBaseOf(pageUrl: string): string {
  return new URL(".", pageUrl).pathname.replace(/\/+$/, "");
}
