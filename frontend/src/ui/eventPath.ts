// Where a document-level event happened, as seen from inside a shadow root: the browser retargets
// event.target to the shadow host for listeners outside it (a <workflow-editor> element), so the
// editor reads the event's composed path, which still lists the elements inside.

/** The element the event really happened on (inside a shadow root too). */
export function realTarget(event: Event): EventTarget | null {
  return event.composedPath?.()[0] ?? event.target;
}

/** Whether the event happened on one of `elements` or inside it. */
export function happenedIn(event: Event, ...elements: Array<Element | null | undefined>): boolean {
  const path = event.composedPath?.() ?? [];
  return elements.some((element) => !!element && (path.length ? path.includes(element) : element.contains(event.target as Node)));
}
