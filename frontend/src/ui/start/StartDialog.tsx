// "New workflow" as a modal dialog over the list (the browser's own <dialog>: the page behind is inert,
// Escape closes it, except from a text box holding what the user wrote: a description typed for the
// assistant is not lost to a stray Escape; Close still closes). The first field has the focus; closing
// gives it back to what opened the dialog.

import { useEffect, useRef, type ReactNode } from "react";

export interface StartDialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
}

export function StartDialog({ title, onClose, children }: StartDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", ""); // a DOM without modal dialogs (tests): shown in place
    dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    return () => {
      if (typeof dialog.close === "function" && dialog.open) dialog.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className="wk-start-dialog"
      aria-labelledby="wk-start-title"
      onCancel={(e) => {
        e.preventDefault(); // React removes the dialog: the browser does not close it by itself
        if (!typingWords(document.activeElement)) onClose();
      }}
      onKeyDown={(e) => {
        if (e.key !== "Escape") return;
        e.preventDefault();
        if (!typingWords(e.target)) onClose();
      }}
    >
      <header className="wk-start-header">
        <h2 id="wk-start-title">{title}</h2>
        <button type="button" className="wk-button" onClick={onClose}>Close</button>
      </header>
      {children}
    </dialog>
  );
}

/** Escape from here would throw away words: a text box with something written in it. */
function typingWords(target: EventTarget | null): boolean {
  return target instanceof HTMLTextAreaElement && target.value.trim() !== "";
}
